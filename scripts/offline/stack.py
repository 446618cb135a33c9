"""Runs the real program of a stack offline, with the config of its `Pulumi.<stack>.yaml`.

A stack whose settings reference other stacks (a StackReference: an environment stack's
`modelRegistry.stack`) reads their outputs as their own offline plans compute them: each referenced
stack of this project (`<organization>/<project>/<stack>` with this project's name and a
`Pulumi.<stack>.yaml` beside it) is planned first, from its YAML, and its outputs are what the
mocks answer the reference with.
"""

from __future__ import annotations

import copy
import functools
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


def project_name(project_dir: Path = PROJECT_DIR) -> str:
    """The `name:` of the project's Pulumi.yaml."""
    path = project_dir / "Pulumi.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as error:
        raise StackFileError("", f"{path}: the project file cannot be read ({type(error).__name__})") from None
    name = document.get("name") if isinstance(document, Mapping) else None
    if not isinstance(name, str) or not name:
        raise StackFileError("", f"{path}: accepted: a project file with a `name:`")
    return name


def run_stack(stack: str, project_dir: Path = PROJECT_DIR, config: Mapping[str, Any] | None = None) -> Plan:
    """Run the real program of `stack` with its YAML config (or `config`, keys `project:key`), its
    StackReferences answered with the referenced stacks' offline outputs."""
    import stacks

    config = stack_config(stack, project_dir) if config is None else config
    project = project_name(project_dir)
    return run_program(
        stack, stacks.program, config, project, stack_outputs=referenced_outputs(stack, config, project_dir)
    )


def referenced_outputs(
    stack: str, config: Mapping[str, Any], project_dir: Path = PROJECT_DIR, planning: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """Fully qualified name -> outputs of each stack that `stack`'s settings reference, from the
    referenced stack's own offline plan. Raises `StackFileError` for a reference this project cannot
    plan (another project's stack, a stack without a file, a cycle). Settings that do not parse
    reference nothing here: the program reports their problems itself, with the secret keys the
    engine hands it."""
    import stacks

    project = project_name(project_dir)
    try:
        names = stacks.referenced_stacks(stack, config, project)
    except SettingsError:
        names = []
    outputs = {}
    for name in names:
        _, referenced_project, referenced = name.split("/")
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        if referenced_project != project or referenced not in known:
            raise StackFileError(
                stack,
                f"stack {stack!r} references {name!r}, which the offline engine cannot plan; accepted: a stack of "
                f"this project, <organization>/{project}/<stack> with <stack> one of {', '.join(known)}",
            )
        if referenced in (*planning, stack):
            raise StackFileError(stack, f"stack references form a cycle: {' -> '.join((*planning, stack, referenced))}")
        outputs[name] = _planned_outputs(referenced, project_dir, (*planning, stack))
    return outputs


def _planned_outputs(stack: str, project_dir: Path, planning: tuple[str, ...]) -> dict[str, Any]:
    """The outputs of `stack`'s offline plan from its YAML (its own references planned first); the
    same file gives the same plan, so a plan is reused while its file is unchanged."""
    text = (project_dir / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
    return copy.deepcopy(_outputs_of(stack, str(project_dir), text, planning))


@functools.lru_cache(maxsize=16)
def _outputs_of(stack: str, project_dir: str, text: str, planning: tuple[str, ...]) -> dict[str, Any]:
    directory = Path(project_dir)
    config = stack_config(stack, directory)
    import stacks

    plan = run_program(
        stack,
        stacks.program,
        config,
        project_name(directory),
        stack_outputs=referenced_outputs(stack, config, directory, planning),
    )
    return plan.outputs
