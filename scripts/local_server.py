"""Runs the real Azure ML inference server (azmlinfsrv) on serving/score.py locally, for tests and benchmarks.

Development tooling: not shipped to a deployment. The server runs in its own process group so stop() ends
gunicorn and its workers together.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from infra.endpoint import SERVER_ENVIRONMENT  # the deployment's own server settings, one home

PROJECT_DIR = Path(__file__).resolve().parents[1]
SERVING_DIR = PROJECT_DIR / "serving"
SCORE_PATH = SERVING_DIR / "score.py"
DEFAULT_AZMLINFSRV = PROJECT_DIR / "venv-serving" / "bin" / "azmlinfsrv"
SCORING_VARIABLES = ("SCORING_PRECISION", "SCORING_INTRA_OP_THREADS", "SCORING_INTER_OP_THREADS", "SCORING_MAX_TEXTS",
                     "SCORING_MAX_TEXT_CHARS", "SCORING_MAX_BODY_CHARS", "SCORING_MODEL_VERSION",
                     "SCORING_READ_TIMEOUT_SECONDS", "SCORING_THREADS_PER_WORKER")
# What a deployment sets for the inference server to run serving/gunicorn_config.py (worker class, threads,
# read deadline, request guard, access log format); infra/endpoint.py declares the same on every slot.


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
    """`AML_APP_ROOT=serving azmlinfsrv --entry_script serving/score.py --model_dir MODEL --port PORT`."""

    def __init__(self, model_dir: str | Path, log_path: str | Path, env: dict | None = None,
                 azmlinfsrv: str | Path = DEFAULT_AZMLINFSRV):
        self.port = free_port()
        self.log_path = Path(log_path)
        variables = {key: value for key, value in os.environ.items() if key not in SCORING_VARIABLES}
        variables.update({"AML_APP_ROOT": str(SERVING_DIR), "PYTHONUNBUFFERED": "1", **SERVER_ENVIRONMENT})
        variables.update(env or {})
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(azmlinfsrv), "--entry_script", str(SCORE_PATH), "--model_dir", str(model_dir), "--port", str(self.port)],
            env=variables, stdout=self._log, stderr=subprocess.STDOUT, cwd=PROJECT_DIR, start_new_session=True)

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

    def wait_exit(self, timeout: float = 90) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.stop()

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 60) -> Reply:
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

    def __enter__(self) -> "LocalInferenceServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
