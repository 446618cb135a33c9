"""The same training gives the same content version (issue 13): retraining is byte-for-byte
reproducible where a prediction is made, and what a run adds around it (times, timings) stays
outside the version (the rule: infra/release/content.py)."""

import json
import os
import subprocess
import sys

import pytest

from infra.release.content import VERSIONED_FIELDS, VERSIONED_FILES, content_sha256, version_of
from tests.paths import REPO_ROOT

pytestmark = pytest.mark.slow


def version(folder) -> str:
    return version_of(content_sha256(str(folder)))


def test_retraining_with_the_same_data_settings_and_seed_gives_the_same_version(
    tmp_path, tiny_model_dir, synthetic_csv
):
    """The session's tiny model is trained again by the command line in a new process with another
    hash seed, so neither process state nor set and dict order can make the two agree by chance."""
    again = tmp_path / "again"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "model",
            "train",
            "--data",
            str(synthetic_csv),
            "--out",
            str(again),
            "--preset",
            "tiny",
            "--num-threads",
            "1",
            "--quiet",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONHASHSEED": "4242"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in VERSIONED_FILES:
        assert (again / name).read_bytes() == (tiny_model_dir / name).read_bytes(), f"{name} differs between trainings"
    assert version(again) == version(tiny_model_dir)


def test_another_seed_gives_another_version(tmp_path, tiny_model_dir, synthetic_csv):
    from model.data import load_dataset
    from model.train import TrainSettings, train_on

    other = tmp_path / "seed-1"
    train_on(load_dataset(synthetic_csv), other, TrainSettings(preset="tiny", seed=1, num_threads=1), quiet=True)
    assert (other / "model.int8.onnx").read_bytes() != (tiny_model_dir / "model.int8.onnx").read_bytes()
    assert version(other) != version(tiny_model_dir)


def test_serving_answers_alike_without_the_artifact_fields_outside_the_version(
    model_copy, tiny_model_dir, fresh_synthetic_csv
):
    """Evidence that the fields left out of the version (commit, data, settings, time...) do not
    change what the served model predicts."""
    from model.data import load_dataset
    from serving.classifier import HateSpeechClassifier

    artifact = json.loads((tiny_model_dir / "artifact.json").read_text(encoding="utf-8"))
    kept = {name: artifact[name] for name in VERSIONED_FIELDS if name in artifact}
    assert set(artifact) - set(kept) >= {"commit", "data_sha256", "settings", "created_utc", "distribution"}
    (model_copy / "artifact.json").write_text(json.dumps(kept), encoding="utf-8")
    texts = load_dataset(fresh_synthetic_csv).texts[:100]
    for precision in ("int8", "fp32"):
        full = HateSpeechClassifier.load(tiny_model_dir, precision=precision).predict(texts)
        assert HateSpeechClassifier.load(model_copy, precision=precision).predict(texts) == full
    assert version(model_copy) == version(tiny_model_dir)
