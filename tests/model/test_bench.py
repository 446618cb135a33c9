"""The benchmark script's own plumbing (the benchmark itself runs on the real data, not in tests)."""
import csv

from scripts.bench_model import main, write_rows


def test_absent_data_is_skipped_with_a_message(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "absent.csv")]) == 0
    assert "skipped: data file" in capsys.readouterr().out


def test_write_rows_keeps_the_header_and_the_chosen_rows(tmp_path, synthetic_csv):
    target = write_rows(synthetic_csv, [2, 0], tmp_path / "part.csv")
    source_rows = list(csv.reader(synthetic_csv.open(encoding="utf-8")))
    assert list(csv.reader(target.open(encoding="utf-8"))) == [source_rows[0], source_rows[3], source_rows[1]]
