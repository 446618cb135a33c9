"""Shared helpers for the pipeline tests: the repository root and YAML loading."""
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
AZURE_PIPELINES = ROOT / ".azure-pipelines"


def load_yaml(path: Path) -> dict:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(document, dict) and True in document:  # YAML 1.1 reads the key `on` as true
        document["on"] = document.pop(True)
    return document


@pytest.fixture(scope="session")
def stacks() -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
