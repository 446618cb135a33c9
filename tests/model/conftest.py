"""Fixtures for the model tests: synthetic data only, and one tiny trained model per session.

Tiny models train with one torch thread: faster than two on a busy machine, and deterministic.
"""

import os
import shutil

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from model.synthetic import write_synthetic_csv  # noqa: E402


@pytest.fixture(scope="session")
def synthetic_csv(tmp_path_factory):
    return write_synthetic_csv(tmp_path_factory.mktemp("data") / "train.csv", n_rows=400, seed=0)


@pytest.fixture(scope="session")
def fresh_synthetic_csv(tmp_path_factory):
    """Different rows from the same generator, unseen by the trained models."""
    return write_synthetic_csv(tmp_path_factory.mktemp("fresh") / "test.csv", n_rows=300, seed=1)


@pytest.fixture(scope="session")
def tiny_training(tmp_path_factory, synthetic_csv):
    """(artifact folder, train outcome) of the one tiny model the session trains."""
    from model.data import load_dataset
    from model.train import TrainSettings, train_on

    out = tmp_path_factory.mktemp("tiny-model")
    outcome = train_on(load_dataset(synthetic_csv), out, TrainSettings(preset="tiny", num_threads=1), quiet=True)
    return out, outcome


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_training):
    return tiny_training[0]


@pytest.fixture(scope="session")
def weak_model_dir(tmp_path_factory):
    """A second tiny model trained on fewer rows (160), so it is weaker, for the end-to-end compare."""
    from model.train import TrainSettings, train

    data = write_synthetic_csv(tmp_path_factory.mktemp("weak-data") / "train.csv", n_rows=160, seed=7)
    out = tmp_path_factory.mktemp("weak-model")
    train(data, out, TrainSettings(preset="tiny", num_threads=1), quiet=True)
    return out


@pytest.fixture
def model_copy(tmp_path, tiny_model_dir):
    """A throw-away copy of the tiny model folder that a test may damage."""
    target = tmp_path / "model"
    shutil.copytree(tiny_model_dir, target)
    return target
