"""Shared helpers for the pipeline tests: where the CI definitions live and YAML loading."""
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
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in REPO_ROOT.glob("Pulumi.*.yaml"))
