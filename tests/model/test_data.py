import csv

import numpy as np
import pytest

from model.data import DataError, load_dataset, resolve_csv, stratified_folds, stratified_split
from model.synthetic import write_synthetic_csv


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_loads_the_dataset_format(tmp_path):
    csv_path = write(tmp_path / "d.csv", ',text,hate,Sexism\n7,"olá, mundo",0,0\n8,texto mau,1,1\n')
    dataset = load_dataset(csv_path)
    assert dataset.texts == ["olá, mundo", "texto mau"]
    assert dataset.labels.tolist() == [0, 1]
    assert list(dataset.categories) == ["Sexism"]
    assert dataset.categories["Sexism"].tolist() == [0, 1]
    assert len(dataset.sha256) == 64


def test_folder_with_one_csv_is_a_data_asset(tmp_path):
    write_synthetic_csv(tmp_path / "asset" / "part.csv", n_rows=20)
    (tmp_path / "asset" / "notes.txt").write_text("not data")
    assert resolve_csv(tmp_path / "asset").name == "part.csv"
    assert len(load_dataset(tmp_path / "asset")) == 20


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv does not exist; accepted: a \.csv file or a folder"):
        load_dataset(tmp_path / "nope.csv")


@pytest.mark.parametrize("names", [[], ["a.csv", "b.csv"]])
def test_folder_needs_exactly_one_csv(tmp_path, names):
    for name in names:
        write_synthetic_csv(tmp_path / name, n_rows=10)
    with pytest.raises(DataError, match="exactly one .csv file"):
        load_dataset(tmp_path)


def test_missing_column_is_named(tmp_path):
    csv_path = write(tmp_path / "d.csv", ",text,label\n1,abc,0\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['hate'\]; found \['', 'text', 'label'\]"):
        load_dataset(csv_path)


def test_label_other_than_0_1_names_line_and_value(tmp_path):
    csv_path = write(tmp_path / "d.csv", ",text,hate\n1,abc,0\n2,def,2\n")
    with pytest.raises(DataError, match=r"line 3, column 'hate' has value '2'; accepted values are 0 and 1"):
        load_dataset(csv_path)


def test_category_value_is_checked(tmp_path):
    csv_path = write(tmp_path / "d.csv", ",text,hate,Racism\n1,abc,1,yes\n")
    with pytest.raises(DataError, match=r"line 2, column 'Racism' has value 'yes'"):
        load_dataset(csv_path)


def test_empty_text_names_the_line(tmp_path):
    csv_path = write(tmp_path / "d.csv", ',text,hate\n1,abc,0\n2,"  ",1\n')
    with pytest.raises(DataError, match=r"line 3, column 'text' is empty"):
        load_dataset(csv_path)


def test_bad_encoding_names_byte_and_line(tmp_path):
    csv_path = write(tmp_path / "d.csv", ",text,hate\n1,abc,0\n2,não,1\n", encoding="latin-1")
    with pytest.raises(DataError, match=r"byte 22 \(line 3\) is not valid UTF-8.*accepted: a UTF-8 encoded CSV"):
        load_dataset(csv_path)


def test_ragged_row_and_empty_file(tmp_path):
    with pytest.raises(DataError, match="line 2 has 2 fields, the header has 3"):
        load_dataset(write(tmp_path / "r.csv", ",text,hate\n1,abc\n"))
    with pytest.raises(DataError, match="the file is empty"):
        load_dataset(write(tmp_path / "e.csv", ""))
    with pytest.raises(DataError, match="no data rows"):
        load_dataset(write(tmp_path / "h.csv", ",text,hate\n"))


def test_split_is_stratified_seeded_and_disjoint():
    labels = np.array([1] * 50 + [0] * 150)
    rest, part = stratified_split(labels, 0.2, seed=3)
    assert len(part) == 40 and labels[part].sum() == 10
    assert sorted(np.concatenate([rest, part]).tolist()) == list(range(200))
    again_rest, again_part = stratified_split(labels, 0.2, seed=3)
    assert np.array_equal(part, again_part) and np.array_equal(rest, again_rest)
    assert not np.array_equal(part, stratified_split(labels, 0.2, seed=4)[1])


def test_split_keeps_one_row_of_a_rare_class_on_each_side():
    labels = np.array([1, 1] + [0] * 30)
    rest, part = stratified_split(labels, 0.1, seed=0)
    assert labels[part].sum() == 1 and labels[rest].sum() == 1


def test_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="split fraction must be strictly between 0 and 1, got 1.5"):
        stratified_split([0, 1], 1.5, seed=0)


def test_folds_cover_every_row_once_with_the_class_mix():
    labels = np.array([1] * 20 + [0] * 80)
    folds = stratified_folds(labels, 5, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(100))
    assert [int(labels[f].sum()) for f in folds] == [4] * 5


def test_write_rows_keeps_the_header_and_the_chosen_rows(tmp_path, synthetic_csv):
    from model.data import write_rows

    target = write_rows(synthetic_csv, [2, 0], tmp_path / "part.csv")
    source_rows = list(csv.reader(synthetic_csv.open(encoding="utf-8")))
    assert list(csv.reader(target.open(encoding="utf-8"))) == [source_rows[0], source_rows[3], source_rows[1]]


def test_split_file_writes_two_disjoint_stratified_parts_that_load(tmp_path):
    from model.data import split_file

    rows = [
        f"{i},texto numero {i} {'odio' if i % 4 == 0 else 'paz'},{int(i % 4 == 0)},{int(i % 8 == 0)}" for i in range(40)
    ]
    source = tmp_path / "all.csv"
    source.write_text(",text,hate,Sexism\n" + "\n\n".join(rows) + "\n", encoding="utf-8")  # blank lines between rows
    result = split_file(source, tmp_path / "train.csv", tmp_path / "evaluation.csv", 0.25, seed=3)
    train, evaluation = load_dataset(tmp_path / "train.csv"), load_dataset(tmp_path / "evaluation.csv")
    assert (result["train"]["rows"], result["evaluation"]["rows"]) == (len(train), len(evaluation)) == (30, 10)
    assert (
        (result["train"]["hate"], result["evaluation"]["hate"])
        == (int(train.labels.sum()), int(evaluation.labels.sum()))
        == (8, 2)
    )
    assert sorted(train.texts + evaluation.texts) == sorted(load_dataset(source).texts)
    assert set(train.categories) == set(evaluation.categories) == {"Sexism"}
    assert result["sha256"] == load_dataset(source).sha256


def test_split_file_overwrites_nothing(tmp_path, synthetic_csv):
    from model.data import split_file

    existing = tmp_path / "evaluation.csv"
    existing.write_text("keep me", encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"--evaluation-out .*evaluation.csv exists; accepted: a path that does not exist yet"
    ):
        split_file(synthetic_csv, tmp_path / "train.csv", existing, 0.2, 0)
    assert existing.read_text(encoding="utf-8") == "keep me" and not (tmp_path / "train.csv").exists()
    with pytest.raises(ValueError, match="are both"):
        split_file(synthetic_csv, tmp_path / "same.csv", tmp_path / "same.csv", 0.2, 0)


def test_a_field_over_the_csv_limit_names_file_and_line(tmp_path):
    limit = csv.field_size_limit()
    csv_path = write(tmp_path / "d.csv", f',text,hate\n1,abc,0\n2,"{"x" * (limit + 1)}",1\n')
    with pytest.raises(
        DataError,
        match=rf"d\.csv: line 3 is not valid CSV \(field larger than field limit \({limit}\)\); "
        rf"accepted: a CSV file whose fields hold at most {limit} characters",
    ):
        load_dataset(csv_path)


def test_lines_are_counted_where_a_record_starts(tmp_path):
    csv_path = write(tmp_path / "d.csv", ',text,hate\n1,"two\nlines",0\n2,abc,2\n')
    with pytest.raises(DataError, match=r"line 4, column 'hate' has value '2'"):
        load_dataset(csv_path)


def test_split_file_writes_both_files_or_neither(tmp_path, synthetic_csv, monkeypatch):
    import model.data
    from model.data import split_file

    real_write_rows, targets = model.data.write_rows, []

    def second_write_fails(source, indices, target):
        targets.append(target)
        if len(targets) == 2:
            raise OSError(28, "No space left on device")
        return real_write_rows(source, indices, target)

    monkeypatch.setattr(model.data, "write_rows", second_write_fails)
    with pytest.raises(OSError, match="No space left"):
        split_file(synthetic_csv, tmp_path / "out" / "train.csv", tmp_path / "evaluation.csv", 0.2, 0)
    assert len(targets) == 2 and not targets[0].exists()  # the first file was written under a temporary name
    assert list(tmp_path.iterdir()) == []  # and removed, with the folder made for it


def test_split_file_refuses_data_whose_parts_would_miss_a_class(tmp_path):
    from model.data import split_file

    source = write(tmp_path / "d.csv", ",text,hate\n1,a,0\n2,b,0\n3,c,1\n")
    with pytest.raises(
        DataError,
        match=r"the evaluation part would hold 1 rows, 0 of them hate; accepted: data with at "
        r"least 2 rows of each class",
    ):
        split_file(source, tmp_path / "t.csv", tmp_path / "e.csv", 0.2, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]
