"""Runs the real Azure ML inference server (azmlinfsrv) on serving/score.py locally, for tests and benchmarks.

Development tooling: not shipped to a deployment. The server runs in its own process group so stop() ends
gunicorn and its workers together.

An artifact folder is served the way Azure ML mounts a model registered from it (azure_ml_mount), so the
server starts, names the model and answers its version as on a deployment. azmlinfsrv 1.5.1 derives the
model ids it reports to Application Insights from AZUREML_MODEL_DIR (server/appinsights_client.py,
AppInsightsClient._get_model_ids): a folder whose name is all digits is read as <name>/<version>;
anything else as a folder of <name>/<number>/ folders, and the artifact's files make that walk fail with
an ERROR and a traceback in the start-up log (NotADirectoryError when --model_dir is the artifact folder
itself, ValueError under a version that is not a number). Serving still works either way.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from infra.endpoint import SERVER_ENVIRONMENT  # the deployment's own server settings, one home
from infra.release.content import content_sha256, version_of  # the version `up` registers a folder under
from serving.artifact_location import ARTIFACT_FILE, REGISTRY_MOUNT_FOLDER

PROJECT_DIR = Path(__file__).resolve().parents[1]
SERVING_DIR = PROJECT_DIR / "serving"
SCORE_PATH = SERVING_DIR / "score.py"
DEFAULT_AZMLINFSRV = PROJECT_DIR / "venv-serving" / "bin" / "azmlinfsrv"
SCORING_VARIABLES = (
    "SCORING_PRECISION",
    "SCORING_INTRA_OP_THREADS",
    "SCORING_INTER_OP_THREADS",
    "SCORING_MAX_TEXTS",
    "SCORING_MAX_TEXT_CHARS",
    "SCORING_MAX_BODY_CHARS",
    "SCORING_MODEL_VERSION",
    "SCORING_READ_TIMEOUT_SECONDS",
    "SCORING_THREADS_PER_WORKER",
)
WORKER_READY = "ready for serving traffic"  # azmlinfsrv's line when a worker's init() has completed
# What a deployment sets for the inference server to run serving/gunicorn_config.py (worker class, threads,
# read deadline, request guard, access log format); infra/endpoint.py declares the same on every slot.


def azure_ml_mount(artifact_dir: str | Path, mount_root: str | Path, version: str) -> Path:
    """The AZUREML_MODEL_DIR Azure ML gives a deployment of `artifact_dir` registered as `version`:
    <mount_root>/azureml-models/<name in artifact.json>/<version>, holding the folder under its own name
    (here a symbolic link to it)."""
    artifact_dir = Path(artifact_dir).resolve()
    try:
        name = json.loads((artifact_dir / ARTIFACT_FILE).read_text(encoding="utf-8"))["name"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{artifact_dir / ARTIFACT_FILE}: no model name ({error!r}); accepted: the artifact.json "
            "`python -m model train` writes"
        ) from None
    if not version or "/" in version or version in (".", ".."):
        raise ValueError(f"version is {version!r}; accepted: a model version, one folder name")
    version_dir = Path(mount_root) / REGISTRY_MOUNT_FOLDER / name / version
    version_dir.mkdir(parents=True, exist_ok=True)
    (version_dir / artifact_dir.name).symlink_to(artifact_dir, target_is_directory=True)
    return version_dir


def served_model_dir(model_dir: str | Path, mount_root: str | Path, version: str | None = None) -> Path:
    """What to pass as --model_dir: an artifact folder mounted as registered under `version` (default: the
    content version `up` would register it under); any other folder (an Azure ML mount already, or one
    without an artifact, to see the server refuse it) as it is."""
    model_dir = Path(model_dir)
    if not (model_dir / ARTIFACT_FILE).is_file():
        if version is not None:
            raise ValueError(
                f"version {version!r} given for {model_dir}, which holds no {ARTIFACT_FILE}; accepted: "
                "a version only with an artifact folder"
            )
        return model_dir
    if version is None:
        version = version_of(content_sha256(str(model_dir)))
    return azure_ml_mount(model_dir, mount_root, version)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


def read_reply(sock: socket.socket, method: str = "POST") -> Reply | None:
    """The HTTP reply read from `sock` (interim 100 Continue skipped), or None if it closes without one."""
    response = http.client.HTTPResponse(sock, method=method)
    try:
        response.begin()
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return None
    return Reply(response.status, dict(response.getheaders()), response.read())


def peak_rss_mib(pid: int) -> float:
    """The most resident memory process `pid` has held so far (VmHWM, Linux), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM line")


class LocalInferenceServer:
    """`AML_APP_ROOT=serving azmlinfsrv --entry_script serving/score.py --model_dir MODEL --port PORT`, MODEL
    being served_model_dir(model_dir, <scratch folder>, version)."""

    def __init__(
        self,
        model_dir: str | Path,
        log_path: str | Path,
        env: dict | None = None,
        azmlinfsrv: str | Path = DEFAULT_AZMLINFSRV,
        version: str | None = None,
    ):
        self._mount = tempfile.TemporaryDirectory(prefix="azureml-mount-")  # removed by stop(), else when collected
        self.model_dir = served_model_dir(model_dir, self._mount.name, version)
        self.port = free_port()
        self.log_path = Path(log_path)
        variables = {key: value for key, value in os.environ.items() if key not in SCORING_VARIABLES}
        variables.update({"AML_APP_ROOT": str(SERVING_DIR), "PYTHONUNBUFFERED": "1", **SERVER_ENVIRONMENT})
        variables.update(env or {})
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                str(azmlinfsrv),
                "--entry_script",
                str(SCORE_PATH),
                "--model_dir",
                str(self.model_dir),
                "--port",
                str(self.port),
            ],
            env=variables,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_DIR,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> None:
        """Return once GET / answers 200; raise with the log tail if the server exits or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"azmlinfsrv exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                if self.request("GET", "/", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"azmlinfsrv not ready after {timeout}s:\n{self.log()[-3000:]}")

    def startup_log(self, workers: int, timeout: float = 90) -> str:
        """The log up to the moment the last of `workers` worker processes said it was ready for traffic."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log()
            ready = [line.end() for line in re.finditer(f".*{WORKER_READY}.*\n", log)]
            if len(ready) >= workers:
                return log[: ready[workers - 1]]
            if self.process.poll() is not None or time.monotonic() > deadline:
                state = "exited" if self.process.poll() is not None else f"not ready after {timeout}s"
                raise RuntimeError(f"{len(ready)} of {workers} azmlinfsrv workers ready, {state}:\n{log[-3000:]}")
            time.sleep(0.2)

    def wait_exit(self, timeout: float = 90) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.stop()

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 60
    ) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()

    def connect(self, timeout: float = 10) -> socket.socket:
        """A raw connection to the server, for requests http.client will not send (slow, malformed, chunked)."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def send_raw(self, data: bytes, method: str = "POST", timeout: float = 10) -> Reply | None:
        """Send `data` as it is on a new connection; the reply, or None if the server closed without one."""
        with self.connect(timeout) as sock:
            sock.sendall(data)
            return read_reply(sock, method)

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: children of the azmlinfsrv process, which is gunicorn's arbiter (Linux /proc)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def score(self, body, content_type: str | None = "application/json") -> Reply:
        data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
        return self.request("POST", "/score", data, {"Content-Type": content_type} if content_type else {})

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if not self._log.closed:
            self._log.close()
        self._mount.cleanup()

    def __enter__(self) -> LocalInferenceServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
