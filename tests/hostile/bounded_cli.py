"""Running a command of the project as a user would, in a subprocess with a wall-clock timeout and an
address-space ceiling, so a hang or a memory bomb fails the test instead of the machine."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO_ROOT

TIMEOUT_SECONDS = 30
MEMORY_BYTES = 512 * 1024 * 1024  # the audit of the recorded prod stack needs under 300 MiB of address space


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_module(module: str, *args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    """`python -m module args...`; raises subprocess.TimeoutExpired past TIMEOUT_SECONDS."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        preexec_fn=_limit_memory,
        check=False,
    )


def one_error_line(stderr: str) -> str:
    """The single line a refused input prints; fails on a traceback or on more than one line."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]
