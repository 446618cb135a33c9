"""Runs the real program of a stack offline, with the config of its `Pulumi.<stack>.yaml`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from scripts.offline import PROJECT_DIR
from scripts.offline.program import Plan, run_program
from stacks.validation import SettingsError


class StackFileError(SettingsError):
    """A stack file that cannot be read as a stack's config: one line naming the file (and, for a
    YAML syntax error, the line and column)."""

    def __init__(self, stack: str, problem: str):
        super().__init__(stack, [problem])

    def __str__(self) -> str:
        return self.problems[0]


def yaml_problem(error: yaml.YAMLError) -> tuple[tuple[int, int] | None, str]:
    """Where a YAML error is ((line, column), counted from 1; None if PyYAML does not say) and what
    it is, on one line."""
    mark, context_mark = getattr(error, "problem_mark", None), getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    if context and context_mark is not None and context_mark != mark:
        context += f" that starts at line {context_mark.line + 1}, column {context_mark.column + 1}"
    text = f"{problem} ({context})" if context else problem
    return ((mark.line + 1, mark.column + 1) if mark is not None else None), " ".join(text.split())


def stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The `config:` map of `Pulumi.<stack>.yaml`, keys as written (`project:key`)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack '{stack}': {path} does not exist; known stacks: {', '.join(known)}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        place, problem = yaml_problem(error)
        where = f"{path}:{place[0]}:{place[1]}" if place else str(path)
        raise StackFileError(stack, f"{where}: not valid YAML: {problem}") from None
    except UnicodeDecodeError as error:
        raise StackFileError(stack, f"{path}: not UTF-8 text (byte {error.start})") from None
    config = (document or {}).get("config") if isinstance(document, Mapping | None) else document
    if not isinstance(config, Mapping | None):
        raise StackFileError(
            stack, f"{path}: accepted: a mapping with a `config:` mapping of settings (`<namespace>:<key>: value`)"
        )
    return dict(config or {})


def run_stack(stack: str, project_dir: Path = PROJECT_DIR, config: Mapping[str, Any] | None = None) -> Plan:
    """Run the real program of `stack` with its YAML config (or `config`, keys `project:key`)."""
    import stacks

    config = stack_config(stack, project_dir) if config is None else config
    return run_program(stack, stacks.program, config)
