"""Shared helpers for the pipeline tests: where the CI definitions live and YAML loading."""

import json
from pathlib import Path

import pytest
import yaml

from tests.paths import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
AZURE_PIPELINES = REPO_ROOT / ".azure-pipelines"


def load_yaml(path: Path) -> dict:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(document, dict) and True in document:  # YAML 1.1 reads the key `on` as true
        document["on"] = document.pop(True)
    return document


@pytest.fixture(scope="session")
def stacks() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO_ROOT.glob("Pulumi.*.yaml"))


def fake_pulumi(bin_dir: Path, calls: Path, answers: dict[str, tuple[int, str]] | None = None) -> None:
    """A stand-in `pulumi` in bin_dir that appends `pulumi <args>` to `calls`. When its arguments start with a
    key of `answers`, it prints that answer's text (to stdout and stderr, as the CLI splits them) and exits
    with its status; otherwise it prints nothing and exits 0."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    lines = ["#!/bin/sh", f"echo \"pulumi $*\" >> '{calls}'", 'case "$*" in']
    for number, (prefix, (status, text)) in enumerate((answers or {}).items()):
        answer = bin_dir / f"pulumi-answer-{number}"
        answer.write_text(text)
        lines.append(f"  '{prefix}'*) cat '{answer}'; echo 'error: on stderr' >&2; exit {status} ;;")
    lines += ["esac", ""]
    (bin_dir / "pulumi").write_text("\n".join(lines))
    (bin_dir / "pulumi").chmod(0o755)


FIXTURES = Path(__file__).parent / "fixtures"


def audit_answers(message_size: int = 0) -> dict[str, tuple[int, str]]:
    """fake_pulumi answers for `pulumi stack history` and `stack export` from the recorded prod fixtures; with
    message_size, the newest update's message is that many characters, to make a report of any size."""
    history = json.loads((FIXTURES / "prod-history.json").read_text())
    if message_size:
        history[0]["message"] = "y" * message_size
    return {"stack history": (0, json.dumps(history)), "stack export": (0, (FIXTURES / "prod-export.json").read_text())}
