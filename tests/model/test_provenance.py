"""Provenance recorded in artifact.json: the commit (marked dirty when it is not the whole truth) and the run."""

import subprocess

import pytest

from model import provenance


@pytest.mark.parametrize(
    "environ, link",
    [
        (
            {
                "GITHUB_RUN_ID": "812",
                "GITHUB_REPOSITORY": "org/mlops-platform",
                "GITHUB_RUN_ATTEMPT": "2",
                "GITHUB_SERVER_URL": "https://github.example.com/",
            },
            "https://github.example.com/org/mlops-platform/actions/runs/812/attempts/2",
        ),
        (
            {"GITHUB_RUN_ID": "812", "GITHUB_REPOSITORY": "org/mlops-platform"},
            "https://github.com/org/mlops-platform/actions/runs/812/attempts/1",
        ),
        (
            {"BUILD_BUILDID": "77", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/org/", "SYSTEM_TEAMPROJECT": "ml"},
            "https://dev.azure.com/org/ml/_build/results?buildId=77",
        ),
        ({"AZUREML_RUN_ID": "train_hate_1700000000"}, "azureml-job:train_hate_1700000000"),
        ({"BUILD_BUILDID": "77"}, None),
        ({}, None),
    ],
)
def test_training_run_links_the_run_that_trained(environ, link):
    assert provenance.training_run(environ) == link


def test_commit_is_marked_dirty_when_tracked_files_changed(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "code.py").write_text("a = 1\n")
    git("add", "code.py")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "first")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    monkeypatch.setattr(provenance, "_CODE_DIR", tmp_path)
    assert provenance.git_commit() == head
    (tmp_path / "notes.txt").write_text("untracked files do not change what was trained\n")
    assert provenance.git_commit() == head
    (tmp_path / "code.py").write_text("a = 2\n")
    assert provenance.git_commit() == head + "-dirty"


def test_outside_a_checkout_there_is_no_commit(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "_CODE_DIR", tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert provenance.git_commit({}) is None


def test_a_code_snapshot_outside_a_checkout_names_the_commit_it_was_taken_from(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "_CODE_DIR", tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert provenance.git_commit({provenance.SNAPSHOT_COMMIT_VARIABLE: "0a1b2c3d-dirty"}) == "0a1b2c3d-dirty"
