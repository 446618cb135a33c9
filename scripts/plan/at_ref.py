"""The base side of `--diff <ref>`: a stack's plan as the program at a git commit declares it.

The text after `--diff` is only ever a revision, never an option of git: `git rev-parse --verify
--end-of-options <ref>^{commit}` resolves it (git >= 2.30 reads everything after `--end-of-options`
as a revision, so `--output=README.md` is a ref that does not exist, not git archive's --output),
and git archive is handed the resolved commit id, not the text that was typed.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # sha-1 or sha-256 repositories


class RefError(ValueError):
    """`--diff` names no stack and no commit, or the plan at that commit could not be made."""


def _one_line(text: str, limit: int = 500) -> str:
    """A command's stderr as one line: a traceback by its last line (the exception), else all of it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "no message"
    joined = lines[-1] if lines[0].startswith("Traceback") else " ".join(lines)
    return joined if len(joined) <= limit else joined[: limit - 3] + "..."


def resolve_commit(ref: str, project_dir: Path, stacks: list[str]) -> str:
    """The full commit id `ref` names in the repository of `project_dir`."""
    accepted = f"expected another stack ({', '.join(stacks)}) or a git commit such as HEAD~1, a branch or a tag"
    if not ref.strip():
        raise RefError(f"--diff is empty; {accepted}")
    try:
        resolved = subprocess.run(
            [
                "git",
                "-C",
                str(project_dir),
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                f"{ref}^{{commit}}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise RefError(
            f"--diff {ref!r} is not a stack ({', '.join(stacks)}) and git, needed for a ref, is not installed"
        ) from None
    commit = resolved.stdout.strip()
    if resolved.returncode != 0 or not _COMMIT_ID.fullmatch(commit):
        detail = f" ({_one_line(resolved.stderr)})" if resolved.stderr.strip() else ""
        raise RefError(f"--diff {ref!r} is neither another stack nor a commit in {project_dir}{detail}; {accepted}")
    return commit


def plan_at_commit(stack: str, commit: str, project_dir: Path) -> dict:
    """The stack's plan at `commit` (an empty plan if the stack did not exist there), from the
    program's own `scripts.plan --json` run in a copy of that commit's files."""
    archive = subprocess.run(
        ["git", "-C", str(project_dir), "archive", "--format=tar", commit], capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise RefError(
            f"--diff: git archive of commit {commit[:12]} failed: {_one_line(archive.stderr.decode(errors='replace'))}"
        )
    with tempfile.TemporaryDirectory(prefix="plan-base-") as tmp:
        try:
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(tmp, filter="data")  # no absolute paths, links out of tmp, devices
        except tarfile.TarError as error:
            raise RefError(f"--diff: the files of commit {commit[:12]} could not be unpacked: {error}") from None
        if not (Path(tmp) / f"Pulumi.{stack}.yaml").is_file():
            return {"stack": stack, "resources": [], "outputs": {}}
        result = subprocess.run(
            [sys.executable, "-m", "scripts.plan", "--stack", stack, "--json"],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RefError(f"--diff: the plan of {stack!r} at commit {commit[:12]} failed: {_one_line(result.stderr)}")
    try:
        plan = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise RefError(
            f"--diff: the plan of {stack!r} at commit {commit[:12]} printed no JSON plan ({error})"
        ) from None
    if not isinstance(plan, dict) or not isinstance(plan.get("resources"), list):
        raise RefError(f"--diff: the plan of {stack!r} at commit {commit[:12]} has no resource list")
    return plan
