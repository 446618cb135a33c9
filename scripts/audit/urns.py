"""Which stack a state belongs to, read from its URNs.

A URN is `urn:pulumi:<stack>::<project>::<qualified type>::<name>` (the Pulumi SDK's mock runtime,
pulumi/runtime/mocks.py, builds them as "urn:pulumi:" + "::".join([stack, project, type, name]), as
the engine does). Its stack is the stack's short name, also when --stack is `org/project/stack`.
"""

from __future__ import annotations

from collections.abc import Iterator

from .bounded_json import json_path
from .shapes import URN, ShapeError, StackExport


def _urns(export: StackExport) -> Iterator[tuple[str, str]]:
    """(JSON path, URN) of every resource in the state, pending operations included."""
    for index, resource in enumerate(export.deployment.resources or []):
        yield json_path("", ["deployment", "resources", index, "urn"]), resource.urn
    for index, operation in enumerate(export.deployment.pending_operations or []):
        yield json_path("", ["deployment", "pending_operations", index, "resource", "urn"]), operation.resource.urn


def check_stack(export: StackExport, stack: str) -> StackExport:
    """`export`, if every URN in it is of `stack` (and of its project, when --stack names one), else
    ShapeError naming the stack found: the report would otherwise describe another stack's state."""
    parts = stack.split("/")
    short_name, project = parts[-1], parts[1] if len(parts) == 3 else None
    for path, urn in _urns(export):
        match = URN.match(urn)
        assert match is not None  # the export's shape admits only URNs that URN matches
        found_stack, found_project = match.group("stack", "project")
        if found_stack != short_name:
            raise ShapeError(f"state of stack {found_stack!r} ({path}), not of --stack {stack!r}")
        if project is not None and found_project != project:
            raise ShapeError(f"state of project {found_project!r} ({path}), not of --stack {stack!r}")
    return export
