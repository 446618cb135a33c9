"""`python -m scripts.release_version PATH`: the version CI prints and approves is the one the provider registers,
and what that version covers (the rule: infra/release/content.py)."""

import json
import shutil
import subprocess
import sys

import pytest

from infra.release.content import VERSIONED_FIELDS, VERSIONED_FILES, content_sha256, version_of
from scripts.release_version import main
from tests.paths import REPO_ROOT


def artifact(folder):
    folder.mkdir()
    (folder / "artifact.json").write_text('{"name": "hate-speech-pt"}')
    (folder / "model.int8.onnx").write_bytes(b"int8 bytes")
    return folder


def test_prints_the_content_version_of_an_artifact_folder(tmp_path, capsys):
    folder = artifact(tmp_path / "model")
    assert main([str(folder)]) == 0
    assert capsys.readouterr().out == version_of(content_sha256(str(folder))) + "\n"
    (folder / "model.int8.onnx").write_bytes(b"other bytes")
    assert main([str(folder)]) == 0
    assert capsys.readouterr().out.strip() == version_of(content_sha256(str(folder))), "new content, new version"


REGISTRY = "azureml://registries/mlops-registry/models/hate-speech-pt/versions/0a1b2c3d4e5f"
WORKSPACE_MODEL = (
    "azureml://subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-mlops-dev/workspaces/"
    "mlw-dev/models/hate-speech-pt/versions/0a1b2c3d4e5f"
)


@pytest.mark.parametrize("reference", [REGISTRY, WORKSPACE_MODEL])
def test_a_registered_models_reference_gets_the_version_in_it(reference, capsys):
    """What prod approves for its registry candidate is the version it names: nothing is hashed again."""
    assert main([reference]) == 0
    assert capsys.readouterr().out == "0a1b2c3d4e5f\n"


def test_a_job_output_is_refused_with_where_its_version_is_read(capsys):
    assert main(["azureml://jobs/train-0a1b2c3d-f00dfeed0000-1234abcd/outputs/artifact"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: azureml://jobs/train-0a1b2c3d-f00dfeed0000-1234abcd/outputs/artifact is a job's")
    assert "release.candidate_version" in error and "\n" == error[-1] and error.count("\n") == 1


def test_a_url_of_no_known_form_is_refused_with_every_accepted_form(capsys):
    assert main(["azureml://datastores/workspaceblobstore/paths/model/"]) == 2
    error = capsys.readouterr().err
    for form in ("azureml://jobs/<job>/outputs/<output>", "azureml://registries/<registry>/models/"):
        assert form in error


def test_a_folder_without_an_artifact_is_refused_by_name(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a model")
    assert main([str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {tmp_path} holds no artifact.json; accepted: a local artifact folder "
        "holding artifact.json (as `python -m model train` writes it)"
    )
    assert main([]) == 2 and "usage:" in capsys.readouterr().err


def test_runs_as_a_module_without_warnings(tmp_path):
    folder = artifact(tmp_path / "model")
    result = subprocess.run(
        [sys.executable, "-m", "scripts.release_version", str(folder)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip() == version_of(content_sha256(str(folder)))


TRAINED_ARTIFACT = {
    "name": "hate-speech-pt",
    "labels": ["no-hate", "hate"],
    "max_length": 32,
    "threshold": 0.42,
    "commit": "0123abcd",
    "training_run": None,
    "data_sha256": "f" * 64,
    "data_rows": 400,
    "data_source": "/data/train.csv",
    "settings": {"seed": 0, "num_threads": 1},
    "created_utc": "2026-01-01T00:00:00Z",
}


def trained_folder(folder):
    """Every file `python -m model train` writes, with stand-in bytes."""
    folder.mkdir()
    for name in VERSIONED_FILES:
        (folder / name).write_bytes(f"{name} bytes".encode())
    (folder / "artifact.json").write_text(json.dumps(TRAINED_ARTIFACT, indent=2), encoding="utf-8")
    (folder / "metrics.json").write_text(json.dumps({"macro_f1": 0.9, "training": {"seconds": 1.61}}), encoding="utf-8")
    (folder / "MODEL_CARD.md").write_text(
        "- created (UTC): 2026-01-01T00:00:00Z\n- training time: 2 s\n", encoding="utf-8"
    )
    (folder / "evaluation.png").write_bytes(b"png bytes")
    return folder


def version(folder) -> str:
    return version_of(content_sha256(str(folder)))


def rewrite_artifact(folder, **changes):
    """Set fields of artifact.json; a None value removes the field."""
    artifact = json.loads((folder / "artifact.json").read_text(encoding="utf-8"))
    artifact.update(changes)
    for name in [k for k, v in changes.items() if v is None]:
        del artifact[name]
    (folder / "artifact.json").write_text(json.dumps(artifact), encoding="utf-8")


def test_what_a_training_run_records_around_the_model_does_not_move_the_version(tmp_path):
    first = trained_folder(tmp_path / "first")
    again = shutil.copytree(first, tmp_path / "elsewhere" / "again")
    rewrite_artifact(
        again,
        created_utc="2026-06-30T12:34:56Z",
        commit="4567cdef-dirty",
        training_run="https://ci/run/2",
        data_source="/mnt/azureml/data/train.csv",
        data_rows=401,
        data_sha256="e" * 64,
        settings={"seed": 0, "num_threads": 2},
    )
    (again / "metrics.json").write_text(json.dumps({"macro_f1": 0.9, "training": {"seconds": 7.3}}), encoding="utf-8")
    (again / "MODEL_CARD.md").write_text(
        "- created (UTC): 2026-06-30T12:34:56Z\n- training time: 7 s\n", encoding="utf-8"
    )
    (again / "evaluation.png").write_bytes(b"other png bytes")
    (again / "notes.txt").write_text("added after training", encoding="utf-8")
    (again / ".DS_Store").write_bytes(b"finder noise")
    assert version(again) == version(first)
    assert main([str(again)]) == 0


@pytest.mark.parametrize("name", VERSIONED_FILES)
def test_each_file_a_prediction_is_made_from_moves_the_version(tmp_path, name):
    folder = trained_folder(tmp_path / "model")
    before = version(folder)
    (folder / name).write_bytes(b"retrained bytes")
    changed = version(folder)
    (folder / name).unlink()
    assert len({before, changed, version(folder)}) == 3, f"{name}: changing or removing it must give a new version"


@pytest.mark.parametrize(
    "field, value",
    [
        ("threshold", 0.43),
        ("labels", ["hate", "no-hate"]),
        ("max_length", 64),
        ("name", "other-model"),
        ("version", "v7"),
        ("threshold", None),
    ],
)
def test_each_artifact_field_serving_reads_moves_the_version(tmp_path, field, value):
    assert field in VERSIONED_FIELDS
    folder = trained_folder(tmp_path / "model")
    before = version(folder)
    rewrite_artifact(folder, **{field: value})
    assert version(folder) != before


def test_the_version_covers_every_file_serving_loads():
    from serving.classifier import MODEL_FILES, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE

    assert {*MODEL_FILES.values(), TOKENIZER_FILE, TOKENIZER_CONFIG_FILE} <= set(VERSIONED_FILES)


@pytest.mark.parametrize("text, problem", [("{not json", "is not valid JSON"), ("[1, 2]", "holds a JSON list")])
def test_an_unreadable_artifact_json_is_refused_by_name(tmp_path, capsys, text, problem):
    folder = artifact(tmp_path / "model")
    (folder / "artifact.json").write_text(text, encoding="utf-8")
    assert main([str(folder)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {folder / 'artifact.json'} {problem}")
    assert captured.err.rstrip().endswith("accepted: a JSON object, as `python -m model train` writes it")
