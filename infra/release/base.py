"""What every release provider shares: its workspace coordinates, its gateway, and the lifecycle skeleton.

A provider instance is pickled into the stack state, so it holds no client and no credential:
each method builds its gateway with `gateway_for(workspace_ref(spec))`, which makes an
`AzureMLGateway` with the credential infra.azureml.credentials chooses. Tests (and tools that need another transport)
register a factory for one workspace with `use_gateway_factory`, or for every other workspace with
`use_default_gateway_factory` (the offline engine's raises GatewayUnavailable: it reaches no Azure, so
what a `check` would read there stays unknown in its plan); the registry lives in this module, never
on a provider, so it is not pickled with it.

`ReleaseProvider` is the skeleton the resources fill in: `check_inputs(props)` reads and checks the
inputs (collecting every failure), `check` reports them to the engine, `spec` raises them in the
other methods, and `diff` replaces the resource when a `replace_fields` input changes (creating
the new one first) and updates it when a `compared_fields` input changes; a resource whose diff
needs more overrides `changed`.
"""

from __future__ import annotations

import abc
import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from infra.azureml.gateway import AzureMLGateway, WorkspaceRef
from infra.facts import (
    GUID,
    ML_WORKSPACE_ACCEPTED,
    ML_WORKSPACE_NAME,
    RESOURCE_GROUP_ACCEPTED,
    RESOURCE_GROUP_NAME,
    full,
)

from .fields import FieldReader, InvalidInputs
from .values import is_unknown, plain, without_engine_keys

WORKSPACE_FIELDS = ("subscription_id", "resource_group", "workspace_name")


@dataclass(frozen=True)
class WorkspaceCoordinates:
    """Which Azure ML workspace a release resource works in, as the program knows it (outputs allowed)."""

    subscription_id: pulumi.Input[str]
    resource_group: pulumi.Input[str]
    workspace_name: pulumi.Input[str]

    def as_props(self) -> dict[str, pulumi.Input[str]]:
        """The resource's own inputs: three plain strings in the state, as every provider reads them."""
        return {
            "subscription_id": self.subscription_id,
            "resource_group": self.resource_group,
            "workspace_name": self.workspace_name,
        }


@dataclass(frozen=True)
class RegistryCoordinates:
    """Which Azure ML registry the estate promotes models through, as the program knows it (outputs allowed).

    Declared by the `registry` stack and read by the environment stacks (stacks.registry_reference).
    """

    subscription_id: pulumi.Input[str]
    resource_group: pulumi.Input[str]
    registry_name: pulumi.Input[str]

    def as_props(self) -> dict[str, pulumi.Input[str]]:
        return {
            "registry_subscription_id": self.subscription_id,
            "registry_resource_group": self.resource_group,
            "registry_name": self.registry_name,
        }


def read_workspace(reader: FieldReader) -> dict:
    """Checked workspace fields of a resource's inputs."""
    return {
        "subscription_id": reader.text("subscription_id", pattern=full(GUID), accepted="a subscription GUID"),
        "resource_group": reader.text(
            "resource_group", pattern=full(RESOURCE_GROUP_NAME), accepted=RESOURCE_GROUP_ACCEPTED
        ),
        "workspace_name": reader.text(
            "workspace_name", pattern=full(ML_WORKSPACE_NAME), accepted=ML_WORKSPACE_ACCEPTED
        ),
    }


def workspace_ref(props: dict) -> WorkspaceRef:
    return WorkspaceRef(
        subscription_id=props["subscription_id"],
        resource_group=props["resource_group"],
        workspace_name=props["workspace_name"],
    )


# ---------------------------------------------------------------------------------- gateways
GatewayFactory = Callable[[WorkspaceRef], AzureMLGateway]

_factories: dict[WorkspaceRef, GatewayFactory] = {}
_default: list[GatewayFactory] = []  # at most one: the factory for workspaces without their own
_lock = threading.Lock()


class GatewayUnavailable(RuntimeError):
    """No Azure ML can be reached from here (the offline engine): what only Azure knows is unknown."""


def gateway_for(workspace: WorkspaceRef) -> AzureMLGateway:
    """A gateway to `workspace`: the registered factory's, else the default factory's, else the real one
    (infra.azureml.credentials)."""
    with _lock:
        factory = _factories.get(workspace) or (_default[-1] if _default else None)
    if factory is not None:
        return factory(workspace)
    return AzureMLGateway(workspace)


@contextlib.contextmanager
def use_default_gateway_factory(factory: GatewayFactory) -> Iterator[None]:
    """Within the block, providers reach every workspace without a factory of its own through `factory`."""
    with _lock:
        _default.append(factory)
    try:
        yield
    finally:
        with _lock:
            _default.remove(factory)


@contextlib.contextmanager
def use_gateway_factory(workspace: WorkspaceRef, factory: GatewayFactory) -> Iterator[None]:
    """Within the block, providers reach `workspace` through `factory(workspace)`."""
    with _lock:
        previous = _factories.get(workspace)
        _factories[workspace] = factory
    try:
        yield
    finally:
        with _lock:
            if previous is None:
                _factories.pop(workspace, None)
            else:
                _factories[workspace] = previous


# ---------------------------------------------------------------------------------- lifecycle skeleton
class ReleaseProvider(dynamic.ResourceProvider, abc.ABC):
    """The check and diff every release resource shares. Subclasses hold nothing either."""

    resource = "release resource"
    replace_fields: tuple[str, ...] = WORKSPACE_FIELDS
    compared_fields: tuple[str, ...] = ()

    @abc.abstractmethod
    def check_inputs(self, props: dict, *, previewing: bool = False) -> tuple[dict, list[tuple[str, str]]]:
        """(checked inputs, [(field, reason)]); `previewing` in `check`, which may see values not decided yet."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        checked, failures = self.check_inputs(without_engine_keys(news), previewing=True)
        return dynamic.CheckResult(checked, [dynamic.CheckFailure(f, r) for f, r in failures])

    def spec(self, props: dict) -> dict:
        """The checked inputs, or InvalidInputs naming every failure."""
        checked, failures = self.check_inputs(without_engine_keys(props))
        if failures:
            raise InvalidInputs(self.resource, failures)
        return checked

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        replaces = [k for k in self.replace_fields if is_unknown(news.get(k)) or news.get(k) != olds.get(k)]
        if replaces:
            return dynamic.DiffResult(changes=True, replaces=replaces, delete_before_replace=False)
        return dynamic.DiffResult(changes=self.changed(olds, news), replaces=[])

    def changed(self, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        return any(is_unknown(news.get(k)) or plain(news.get(k)) != plain(olds.get(k)) for k in self.compared_fields)
