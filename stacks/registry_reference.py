"""The estate's Azure ML registry as an environment stack knows it: the registry stack's outputs.

An environment stack with `modelRegistry.stack` reads that stack's outputs (stacks/registry_stack.py,
`RegistryStackOutputs`) through a `pulumi.StackReference` and checks them before anything uses them:

- the stack's `location` must be one of the registry's regions: a workspace uses a registry's assets
  only in the regions the registry replicates to (Azure docs, "Manage Azure Machine Learning
  registries", Choose Azure regions);
- a registry whose public access is off is reached only through private endpoints (Azure docs,
  "Network isolation with Azure Machine Learning registries"), so only a locked-down stack, which
  declares one in its network, can use it.

A failed check is one `RegistryReferenceError` line naming the key and what is accepted. It is a
`pulumi.RunError`, which the Python language host reports without a traceback
(pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec), and not a ValueError, which the SDK
would wrap in "While processing resource ..." on its way out of a registration
(pulumi/runtime/resource.py, do_register). The check runs where the outputs arrive (in an apply), so
the stack's outputs carry the registry (`model_registry`): they are always awaited.

`RegistryReference.coordinates` (infra.release.base.RegistryCoordinates) is what the release
resources take to address the registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from infra.release.base import RegistryCoordinates
from stacks.settings import StackSettings
from stacks.validation import Problem, settings_message

REFERENCE_NAME = "model-registry-stack"  # the StackReference's logical name in an environment stack
REGISTRY_KEY = "modelRegistry.stack"
# what this module reads of the outputs (stacks/registry_stack.py RegistryStackOutputs), and the type of each
READ: dict[str, type] = {
    "name": str,
    "id": str,
    "resource_group": str,
    "subscription_id": str,
    "regions": list,
    "public_network_access": bool,
}


class RegistryReferenceError(pulumi.RunError):
    """The referenced registry cannot serve this stack; the message says why and what to change."""

    def __init__(self, stack: str, problem: str):
        self.stack = stack
        self.problems = [problem]
        super().__init__(settings_message(stack, self.problems))


@dataclass(frozen=True)
class RegistryReference:
    """The registry a stack promotes models through, as checked outputs of the stack that declares it."""

    stack: str  # the registry stack's fully qualified name
    coordinates: RegistryCoordinates
    registry_id: pulumi.Output[str]

    def stack_output(self) -> dict[str, pulumi.Input[Any]]:
        """What the environment stack exports of its registry (no secret among it)."""
        return {
            "stack": self.stack,
            "name": self.coordinates.registry_name,
            "resource_group": self.coordinates.resource_group,
            "subscription_id": self.coordinates.subscription_id,
            "id": self.registry_id,
        }


def reference_registry(settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> RegistryReference | None:
    """The registry of `settings.model_registry`, or None for a stack that uses no registry."""
    if settings.model_registry is None:
        return None
    registry_stack = settings.model_registry.stack
    reference = pulumi.StackReference(REFERENCE_NAME, stack_name=registry_stack, opts=opts)

    def check(outputs: Mapping[str, Any]) -> dict[str, Any]:
        return checked_outputs(
            outputs,
            stack=settings.stack,
            registry_stack=registry_stack,
            location=settings.location,
            private=settings.network.private,
            project=settings.project,
        )

    checked = reference.outputs.apply(check)

    def read(key: str) -> pulumi.Output[Any]:
        return checked.apply(lambda outputs: outputs[key])

    return RegistryReference(
        stack=registry_stack,
        coordinates=RegistryCoordinates(read("subscription_id"), read("resource_group"), read("name")),
        registry_id=read("id"),
    )


def checked_outputs(
    outputs: Mapping[str, Any], *, stack: str, registry_stack: str, location: str, private: bool, project: str
) -> dict[str, Any]:
    """The registry stack's outputs if `stack` can use its registry; else RegistryReferenceError."""
    problem = _problem(outputs, registry_stack, location, private, project)
    if problem is not None:
        raise RegistryReferenceError(stack, problem.line())
    return dict(outputs)


def _problem(
    outputs: Mapping[str, Any], registry_stack: str, location: str, private: bool, project: str
) -> Problem | None:
    unread = sorted(key for key, kind in READ.items() if not isinstance((outputs or {}).get(key), kind))
    if unread:
        return Problem(
            f"{project}:{REGISTRY_KEY}",
            f"a registry stack (kind: registry) that exports {', '.join(sorted(READ))}; stack {registry_stack} "
            f"has no valid {', '.join(unread)} (is it a registry stack, and has its `pulumi up` run?)",
            registry_stack,
        )
    regions = outputs["regions"]
    if location not in regions:
        return Problem(
            f"{project}:location",
            f"one of the regions of the registry of stack {registry_stack} ({', '.join(map(str, regions))}); "
            f"or add {location} to that stack's regions and `pulumi up` it first",
            location,
        )
    if outputs["public_network_access"] is False and not private:
        return Problem(
            f"{project}:network.publicNetworkAccess",
            f"false (with network.subnets.privateEndpoints): the registry {outputs['name']} of stack "
            f"{registry_stack} has public access off, so only a stack with a private endpoint to it reaches it",
            True,
        )
    return None
