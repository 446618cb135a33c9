"""Runs a program function as a stack's Pulumi program under the offline engine's mocks.

The program declares its resources exactly as under `pulumi up`; the result is a `Plan`: every
resource as the engine saw it and the resolved stack outputs. No Pulumi CLI, credentials or Azure:
a release provider's `check` that would read Azure ML (a job output's files, a registry version)
meets `offline_gateway`, and what it would have read stays unknown in the plan.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as runtime_mocks

from infra.azureml.gateway import WorkspaceRef
from infra.release.base import GatewayUnavailable, use_default_gateway_factory
from scripts.offline.mocks import DeclaredResource, ReadResource, RecordingMocks, RecordingMonitor, _redact


@dataclass
class Plan:
    stack: str
    resources: list[DeclaredResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    reads: list[ReadResource] = field(default_factory=list)  # StackReferences: read, not declared

    def of_type(self, type_: str) -> list[DeclaredResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def one(self, type_: str, name: str | None = None) -> DeclaredResource:
        matches = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_}{f' named {name}' if name else ''}, found {len(matches)}")
        return matches[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "resources": [
                {
                    "type": r.type,
                    "name": r.name,
                    "parent": r.parent,
                    "inputs": r.inputs,
                    "ignoreChanges": list(r.ignore_changes),
                    **({"checked": r.checked} if r.checked else {}),
                    **({"unknown": list(r.unknown)} if r.unknown else {}),
                }
                for r in self.resources
            ],
            "outputs": self.outputs,
            **({"reads": [{"type": r.type, "name": r.name, "id": r.id} for r in self.reads]} if self.reads else {}),
        }


def _as_engine_config(config: Mapping[str, Any]) -> dict[str, str]:
    """What the engine hands the program: every value a string, objects JSON encoded."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


def run_program(
    stack: str,
    program: Callable[[], Mapping[str, Any]],
    config: Mapping[str, Any],
    project: str = "mlops-platform",
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Plan:
    """Run `program` as the stack's Pulumi program under mocks, with `config` as its stack config and
    `stack_outputs` (fully qualified stack name -> outputs) as what its StackReferences read."""
    pulumi.runtime.reset_options(project=project, stack=stack)
    pulumi.runtime.set_all_config(_as_engine_config(config))
    mocks = RecordingMocks(stack_outputs)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)

    outputs_holder: dict[str, Any] = {}

    def body():
        return _resolve_known(program(), outputs_holder)

    try:
        with use_default_gateway_factory(offline_gateway):
            _run(body)
    except Exception:
        if mocks.check_failures:
            raise mocks.check_failures[0] from None
        raise
    names = [resource.name for resource in monitor.declared]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f"logical resource names must be unique in a stack so that plans and parents are "
            f"unambiguous; repeated: {', '.join(repeated)}"
        )
    return Plan(
        stack=stack,
        resources=list(monitor.declared),
        outputs=_redact(_plain(outputs_holder)),
        reads=list(monitor.reads),
    )


def offline_gateway(workspace: WorkspaceRef):
    raise GatewayUnavailable(
        f"the offline engine reaches no Azure ML (workspace {workspace.workspace_name}): known at `pulumi preview`"
    )


def _resolve_known(outputs: Mapping[str, Any], holder: dict[str, Any]) -> pulumi.Output:
    """Fill `holder` with the outputs' values, leaf by leaf: a leaf not known offline (a version only Azure
    can tell) stays None, and the others resolve all the same."""
    waits: list[pulumi.Output] = []

    def walk(value: Any, parent: dict, key: str) -> None:
        if isinstance(value, Mapping):
            parent[key] = {}
            for name, item in value.items():
                walk(item, parent[key], name)
            return
        parent[key] = None
        waits.append(pulumi.Output.from_input(value).apply(lambda known: parent.__setitem__(key, _plain(known))))

    for name, item in outputs.items():
        walk(item, holder, name)
    return pulumi.Output.all(*waits)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _run(body: Callable[[], pulumi.Output]) -> None:
    """Run the program and wait for every registration, as `pulumi.runtime.test` does."""
    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.stack import run_pulumi_func

    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    runtime_mocks._sync_await(run_pulumi_func(lambda: runtime_mocks._sync_await(body().future())))
