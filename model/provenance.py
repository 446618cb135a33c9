"""Where an artifact comes from: the commit of the code and the CI or Azure ML run that trained it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

_CODE_DIR = Path(__file__).resolve().parent
# A code snapshot (an Azure ML job's) has no .git: `python -m model submit` passes the commit it was taken from.
SNAPSHOT_COMMIT_VARIABLE = "MODEL_SOURCE_COMMIT"


def _git(*args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=_CODE_DIR, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None


def git_commit(environ: Mapping[str, str] = os.environ) -> str | None:
    """HEAD of the git checkout this code runs from, with `-dirty` when tracked files differ from it;
    outside a checkout, the commit a code snapshot was taken from (SNAPSHOT_COMMIT_VARIABLE), else None."""
    head = _git("rev-parse", "HEAD")
    if head is None or head.returncode != 0 or not head.stdout.strip():
        return environ.get(SNAPSHOT_COMMIT_VARIABLE) or None
    changed = _git("diff", "--quiet", "HEAD", "--")
    return head.stdout.strip() + ("-dirty" if changed is not None and changed.returncode == 1 else "")


def training_run(environ: Mapping[str, str] = os.environ) -> str | None:
    """A link to the run that trains: GitHub Actions, Azure Pipelines or an Azure ML job; None elsewhere."""
    if environ.get("GITHUB_RUN_ID") and environ.get("GITHUB_REPOSITORY"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        attempt = environ.get("GITHUB_RUN_ATTEMPT", "1")
        return f"{server}/{environ['GITHUB_REPOSITORY']}/actions/runs/{environ['GITHUB_RUN_ID']}/attempts/{attempt}"
    if environ.get("BUILD_BUILDID") and environ.get("SYSTEM_COLLECTIONURI") and environ.get("SYSTEM_TEAMPROJECT"):
        collection = environ["SYSTEM_COLLECTIONURI"].rstrip("/")
        return f"{collection}/{environ['SYSTEM_TEAMPROJECT']}/_build/results?buildId={environ['BUILD_BUILDID']}"
    if environ.get("AZUREML_RUN_ID"):
        return f"azureml-job:{environ['AZUREML_RUN_ID']}"
    return None
