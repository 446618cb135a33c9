"""Where the audit reads from: the Pulumi CLI, or JSON files recorded from it."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

HISTORY_PAGE_SIZE = 500


class SourceError(RuntimeError):
    """The history or the export could not be read."""


def run_pulumi(arguments: list[str], cwd: str | None, pulumi: str = "pulumi") -> Any:
    command = [pulumi, *arguments, *(["--cwd", cwd] if cwd else []), "--non-interactive"]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SourceError(f"the Pulumi CLI ({pulumi!r}) is not installed or not on PATH; install it, or pass "
                          "--history FILE --export FILE recorded with `pulumi stack history --json "
                          "--show-secrets=false` and `pulumi stack export`") from None
    if completed.returncode != 0:
        raise SourceError(f"`{' '.join(command)}` failed (exit {completed.returncode}): {completed.stderr.strip()}")
    try:
        return json.loads(completed.stdout or "null")
    except json.JSONDecodeError as error:
        raise SourceError(f"`{' '.join(command)}` did not print JSON: {error}") from None


def history_from_cli(stack: str, cwd: str | None, pulumi: str = "pulumi") -> list:
    """Every page of the stack's history (the CLI shows 10 updates unless asked for more)."""
    entries: list = []
    page = 1
    while True:
        batch = run_pulumi(["stack", "history", "--json", "--show-secrets=false", "--stack", stack,
                            "--page-size", str(HISTORY_PAGE_SIZE), "--page", str(page)], cwd, pulumi) or []
        if not isinstance(batch, list):
            raise SourceError(f"pulumi stack history printed {type(batch).__name__}; expected a JSON array")
        entries += batch
        if len(batch) < HISTORY_PAGE_SIZE:
            return entries
        page += 1


def export_from_cli(stack: str, cwd: str | None, pulumi: str = "pulumi") -> dict:
    """The stack's state; secrets stay encrypted (no --show-secrets)."""
    return check_export(run_pulumi(["stack", "export", "--stack", stack], cwd, pulumi), "pulumi stack export")


def load_json(path: str, flag: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise SourceError(f"{flag} {path!r} is not a file; expected JSON recorded from the Pulumi CLI")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SourceError(f"{flag} {path!r} is not valid JSON: {error}") from None


def check_export(value: Any, where: str) -> dict:
    deployment = value.get("deployment") if isinstance(value, dict) else None
    if not isinstance(deployment, dict) or not isinstance(deployment.get("resources", []), list):
        raise SourceError(f"{where} is not a stack export; expected {{\"version\": 3, \"deployment\": "
                          "{\"resources\": [...]}} as `pulumi stack export` prints")
    if value.get("version") not in (1, 2, 3):
        raise SourceError(f"{where} has version {value.get('version')!r}; expected a stack export version 1-3")
    return value
