"""Runs the real program of a stack offline, with the config of its `Pulumi.<stack>.yaml`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from scripts.offline import PROJECT_DIR
from scripts.offline.program import Plan, run_program


def stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The `config:` map of `Pulumi.<stack>.yaml`, keys as written (`project:key`)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack '{stack}': {path} does not exist; known stacks: {', '.join(known)}")
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(document.get("config") or {})


def run_stack(stack: str, project_dir: Path = PROJECT_DIR, config: Mapping[str, Any] | None = None) -> Plan:
    """Run the real program of `stack` with its YAML config (or `config`, keys `project:key`)."""
    import stacks

    config = stack_config(stack, project_dir) if config is None else config
    return run_program(stack, stacks.program, config)
