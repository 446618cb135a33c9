"""The one writer of the model commands: outputs appear whole or not at all (model/staging.py)."""

import os

import pytest

from model.staging import OutputError, staged_files, staged_folder


def entries(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_staged_folder_appears_only_when_the_block_ends(tmp_path):
    target = tmp_path / "a" / "b" / "model"
    with staged_folder(target) as staging:
        (staging / "weights.bin").write_bytes(b"1234")
        assert not target.exists() and staging.parent == target.parent
        assert staging.name.startswith(".model.partial-")
    assert entries(tmp_path) == ["a", "a/b", "a/b/model", "a/b/model/weights.bin"]
    assert (target.stat().st_mode & 0o777) == 0o777 & ~_umask()


def test_a_staged_folder_replaces_an_empty_folder(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    with staged_folder(target) as staging:
        (staging / "f").write_text("x")
    assert entries(tmp_path) == ["model", "model/f"]


def test_a_failed_block_leaves_no_folder_and_removes_the_parents_it_made(tmp_path):
    (tmp_path / "kept").mkdir()
    with pytest.raises(RuntimeError, match="midway"):
        with staged_folder(tmp_path / "kept" / "new" / "deeper" / "model") as staging:
            (staging / "half.bin").write_bytes(b"12")
            raise RuntimeError("midway")
    assert entries(tmp_path) == ["kept"]


def test_an_interrupt_cleans_up_too(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    with pytest.raises(KeyboardInterrupt):
        with staged_folder(target) as staging:
            (staging / "half.bin").write_bytes(b"12")
            raise KeyboardInterrupt
    assert entries(tmp_path) == ["model"]


def test_a_folder_filled_meanwhile_is_not_overwritten(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    with pytest.raises(OutputError, match=r"--out .*model was filled while this command ran"):
        with staged_folder(target) as staging:
            (staging / "new").write_text("new")
            (target / "theirs").write_text("theirs")
    assert entries(tmp_path) == ["model", "model/theirs"]


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda root: (root / "f").write_text("x") and root / "f",
            r"--out .*/f is a file; accepted: a new or empty folder",
        ),
        (
            lambda root: (root / "f").write_text("x") and root / "f" / "model",
            r"--out .*/f/model: .*/f is a file, not a folder",
        ),
    ],
)
def test_a_target_that_cannot_be_a_folder_is_refused_before_anything_is_made(tmp_path, make, message):
    target = make(tmp_path)
    with pytest.raises(OutputError, match=message):
        with staged_folder(target):
            pytest.fail("the block must not run")
    assert entries(tmp_path) == ["f"]


def test_staged_files_appear_together(tmp_path):
    targets = {"--one": tmp_path / "one.csv", "--two": tmp_path / "sub" / "two.csv"}
    with staged_files(targets) as partials:
        for option, path in partials.items():
            path.write_text(option)
        assert not any(t.exists() for t in targets.values())
    assert entries(tmp_path) == ["one.csv", "sub", "sub/two.csv"]
    assert (tmp_path / "sub" / "two.csv").read_text() == "--two"


def test_when_the_second_file_fails_neither_appears(tmp_path):
    targets = {"--one": tmp_path / "one.csv", "--two": tmp_path / "sub" / "two.csv"}
    with pytest.raises(OSError):
        with staged_files(targets) as partials:
            partials["--one"].write_text("written")
            raise OSError("disk full")
    assert entries(tmp_path) == []


def test_when_publishing_the_second_file_fails_the_first_is_taken_back(tmp_path):
    targets = {"--one": tmp_path / "one.csv", "--two": tmp_path / "two.csv"}
    with pytest.raises(OutputError, match=r"--two .*two.csv appeared while this command ran"):
        with staged_files(targets) as partials:
            for path in partials.values():
                path.write_text("mine")
            (tmp_path / "two.csv").write_text("theirs")  # someone else's file, made meanwhile
    assert entries(tmp_path) == ["two.csv"] and (tmp_path / "two.csv").read_text() == "theirs"


def test_staged_files_refuse_existing_and_repeated_targets(tmp_path):
    (tmp_path / "old.csv").write_text("keep")
    with pytest.raises(OutputError, match=r"--two .*old.csv exists; accepted: a path that does not exist yet"):
        with staged_files({"--one": tmp_path / "new.csv", "--two": tmp_path / "old.csv"}):
            pytest.fail("the block must not run")
    with pytest.raises(OutputError, match=r"--one and --two are both .*x/../new.csv; accepted: different paths"):
        with staged_files({"--one": tmp_path / "new.csv", "--two": tmp_path / "x" / ".." / "new.csv"}):
            pytest.fail("the block must not run")
    assert entries(tmp_path) == ["old.csv"]


def _umask():
    current = os.umask(0)
    os.umask(current)
    return current
