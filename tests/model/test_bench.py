"""The benchmark script's own plumbing (the benchmark itself runs on the real data, not in tests)."""
import pytest

from scripts.bench_model import main


def test_absent_data_is_skipped_with_a_message(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "absent.csv")]) == 0
    assert "skipped: data file" in capsys.readouterr().out


def test_set_rejects_a_boolean_that_is_not_one(tmp_path, synthetic_csv):
    with pytest.raises(SystemExit, match=r"--set class_weighted=ture: 'ture' is not a boolean"):
        main(["--data", str(synthetic_csv), "--set", "class_weighted=ture"])


def test_set_rejects_a_number_that_is_not_one(synthetic_csv):
    with pytest.raises(SystemExit, match=r"--set epochs=ten: .*accepted: a int"):
        main(["--data", str(synthetic_csv), "--set", "epochs=ten"])


def test_an_interrupted_benchmark_leaves_no_training_running(tmp_path, synthetic_csv, monkeypatch):
    import subprocess

    import scripts.bench_model as bench

    started = []

    class Recorded(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    def interrupted(pid, options):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench.subprocess, "Popen", Recorded)
    monkeypatch.setattr(bench.os, "wait4", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bench.train_bert(synthetic_csv, tmp_path / "model", {"preset": "tiny"})
    [process] = started
    assert process.returncode is not None, "the training child was stopped and reaped"
