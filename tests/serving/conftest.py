"""Fixtures of the serving tests: one tiny trained model, score.py driven in venv-serving, a real azmlinfsrv."""

from __future__ import annotations

import json
import selectors
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.local_server import SCORING_VARIABLES, LocalInferenceServer
from tests.paths import REPO_ROOT

SERVING_VENV = REPO_ROOT / "venv-serving"
SERVING_PYTHON = SERVING_VENV / "bin" / "python"
SERVING_DIR = REPO_ROOT / "serving"
SCORE_PATH = SERVING_DIR / "score.py"
WORKER_PATH = Path(__file__).resolve().parent / "score_worker.py"
ANSWER_TIMEOUT_SECONDS = 120
SERVER_WORKERS = 2  # WORKER_COUNT of the platform's slots (infra/endpoint.py)
SERVER_MODEL_VERSION = "5"


def default_scoring_env(model_dir) -> dict:
    """Every SCORING_* variable unset (defaults whatever the caller's shell exports), the model folder set."""
    return {**{name: None for name in SCORING_VARIABLES}, "AZUREML_MODEL_DIR": str(model_dir)}


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """One model artifact folder trained by model/ on synthetic data, shared by every serving test."""
    from model.synthetic import write_synthetic_csv
    from model.train import TrainSettings, train

    root = tmp_path_factory.mktemp("serving-model")
    data = write_synthetic_csv(root / "synthetic.csv", n_rows=400, seed=0)
    train(data, root / "artifact", TrainSettings(preset="tiny"), quiet=True)
    return root / "artifact"


def copy_model(
    model_dir: Path, destination: Path, artifact_changes: dict | None = None, drop: tuple[str, ...] = ()
) -> Path:
    """A copy of the artifact folder with some artifact.json keys changed and some files left out."""
    shutil.copytree(model_dir, destination, ignore=shutil.ignore_patterns(*drop) if drop else None)
    if artifact_changes:
        artifact = json.loads((destination / "artifact.json").read_text())
        artifact.update(artifact_changes)
        (destination / "artifact.json").write_text(json.dumps(artifact))
    return destination


class ScoreWorker:
    """score.py imported in a venv-serving process; init()/run() are called directly, not over HTTP."""

    def __init__(self, log_path: Path):
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [str(SERVING_PYTHON), str(WORKER_PATH), str(SCORE_PATH)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            encoding="utf-8",
            cwd=REPO_ROOT,
        )
        self._log_path = log_path
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.process.stdout, selectors.EVENT_READ)

    def call(self, request: dict) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        if not self._selector.select(ANSWER_TIMEOUT_SECONDS):
            raise TimeoutError(
                f"score worker did not answer {request['op']} within {ANSWER_TIMEOUT_SECONDS}s; "
                f"log: {self._log_path.read_text()[-2000:]}"
            )
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"score worker exited ({self.process.poll()}): {self._log_path.read_text()[-2000:]}")
        return json.loads(line)

    def log(self) -> str:
        """What score.py wrote on stderr (its logging) since the worker started."""
        self._log.flush()
        return self._log_path.read_text()

    def load(self) -> dict:
        return self.call({"op": "load"})

    def init(self, env: dict) -> dict:
        return self.call({"op": "init", "env": env})

    def start(self, env: dict) -> None:
        """Fresh import of score.py, then init(); fails the test if init() raises."""
        assert self.load()["ok"]
        answer = self.init(env)
        assert answer["ok"], answer

    def run(self, raw_data: str, headers: dict | None = None) -> dict:
        answer = self.call({"op": "run", "raw_data": raw_data, "headers": headers})
        assert answer["ok"], f"run() raised: {answer['error']}\n{answer.get('traceback', '')}"
        return answer

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def _require_serving_venv() -> None:
    if not SERVING_PYTHON.exists():
        pytest.fail(f"{SERVING_PYTHON} is missing: create venv-serving from requirements/serving.txt")


@pytest.fixture(scope="session")
def scorer(tiny_model_dir, tmp_path_factory) -> ScoreWorker:
    """score.py after init() on the tiny model with the default settings."""
    _require_serving_venv()
    worker = ScoreWorker(tmp_path_factory.mktemp("score-worker") / "worker.log")
    worker.start(default_scoring_env(tiny_model_dir))
    yield worker
    worker.close()


@pytest.fixture(scope="session")
def spare_worker(tmp_path_factory) -> ScoreWorker:
    """A second worker for tests that reload score.py and init() it with other settings."""
    _require_serving_venv()
    worker = ScoreWorker(tmp_path_factory.mktemp("spare-worker") / "worker.log")
    yield worker
    worker.close()


@pytest.fixture(scope="session")
def server(tiny_model_dir, tmp_path_factory) -> LocalInferenceServer:
    """The real inference server on the tiny model, default settings, two workers, the model mounted as Azure ML
    mounts a folder registered as version 5 (AZUREML_MODEL_DIR=<root>/azureml-models/hate-speech-pt/5)."""
    _require_serving_venv()
    running = LocalInferenceServer(
        tiny_model_dir,
        tmp_path_factory.mktemp("azmlinfsrv") / "server.log",
        env={"WORKER_COUNT": str(SERVER_WORKERS)},
        version=SERVER_MODEL_VERSION,
    )
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()
