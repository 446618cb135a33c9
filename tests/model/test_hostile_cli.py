"""The hostile-input corpus of the model command line (tests/hostile/model_cli.py), and what the
one writer (model/staging.py) guarantees when a command fails midway or is interrupted."""

import hashlib
import subprocess
import sys

import pytest

from model.__main__ import main
from tests.hostile.model_cli import CASES, Inputs
from tests.paths import REPO_ROOT


def snapshot(root):
    """Every path under `root` with the sha256 of each file: what "nothing written" compares."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        for path in sorted(root.rglob("*"))
    }


def run(capsys, argv):
    try:
        status = main(argv)
    except SystemExit as exited:  # argparse
        status = exited.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_error_line(err, names):
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert names in lines[0], lines[0]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else []) for c in CASES])
def test_hostile_input_gets_one_error_line_and_writes_nothing(case, tmp_path, capsys, request):
    root = tmp_path / "scratch"
    root.mkdir()
    inputs = Inputs(root, trained_model=lambda: request.getfixturevalue("tiny_model_dir"))
    argv = case.argv(inputs)
    before = snapshot(root)

    status, out, err = run(capsys, argv)

    assert status == case.status, err
    assert_one_error_line(err, case.names.format(root=root))
    assert out == ""
    assert snapshot(root) == before


def test_the_corpus_covers_each_command_and_has_unique_ids():
    assert len({case.id for case in CASES}) == len(CASES)
    assert {case.id.split("-")[0] for case in CASES} == {"train", "split", "evaluate", "compare", "submit"}


@pytest.mark.slow
def test_a_real_process_prints_one_line_and_no_traceback(tmp_path):
    """The in-process runs above share the interpreter; this one is `python -m model` as users run it."""
    inputs = Inputs(tmp_path, trained_model=None)
    data = inputs.rows("long.csv", "um texto,0", "a" * 131_073 + ",1")
    done = subprocess.run(
        [sys.executable, "-m", "model", "train", "--data", data, "--out", str(tmp_path / "out")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert_one_error_line(done.stderr, f"{data}: line 3 is not valid CSV (field larger than field limit (131072))")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.csv"]


@pytest.mark.slow
def test_an_interrupted_training_leaves_nothing_behind(tmp_path, capsys, synthetic_csv, monkeypatch):
    import model.train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(model.train, "finetune", interrupted)
    out = tmp_path / "new" / "model"
    status, _, err = run(
        capsys, ["train", "--data", str(synthetic_csv), "--out", str(out), "--preset", "tiny", "--quiet"]
    )
    assert status == 130
    assert_one_error_line(err, "interrupted; nothing was written")
    assert list(tmp_path.iterdir()) == []  # not even the parent folder made for --out


@pytest.mark.slow
def test_a_failed_check_leaves_an_empty_out_folder_empty_and_the_rerun_succeeds(tmp_path, capsys, synthetic_csv):
    out = tmp_path / "model"
    out.mkdir()
    argv = [
        "train",
        "--data",
        str(synthetic_csv),
        "--out",
        str(out),
        "--preset",
        "tiny",
        "--quiet",
        "--num-threads",
        "1",
    ]
    status, _, err = run(capsys, [*argv, "--epochs", "1"])
    assert status == 1 and "int8 labels agree with fp32" in err
    assert list(tmp_path.iterdir()) == [out] and list(out.iterdir()) == []
    status, _, _ = run(capsys, argv)  # the same folder is taken again: nothing was left in it
    assert status == 0
    assert (out / "model.int8.onnx").is_file() and list(tmp_path.iterdir()) == [out]


def test_an_error_that_nobody_foresaw_is_still_one_line(tmp_path, capsys, monkeypatch):
    import model.__main__

    def broken(args):
        raise KeyError("column")

    monkeypatch.setattr(model.__main__, "run_split", broken)
    status, _, err = run(capsys, ["split", "--data", "x.csv", "--train-out", "t.csv", "--evaluation-out", "e.csv"])
    assert status == 1
    assert_one_error_line(err, "split failed unexpectedly (KeyError: 'column')")
