"""The registry stack's program: the estate's Azure ML registry, its resource group and its roles.

`build_registry(settings)` declares them and returns the stack outputs (`RegistryStackOutputs`),
which the environment stacks read through a StackReference (stacks/registry_reference.py).

RBAC: two custom roles, assignable only at the registry's resource group and assigned at the
registry itself (infra/role_permissions.py): the deployer groups publish (read and write assets),
the data-scientist groups read.
"""

from __future__ import annotations

from typing import TypedDict

import pulumi
from pulumi_azure_native import authorization

from infra.ml_registry import ModelRegistry
from infra.rbac import AccessControl
from stacks.component_args import model_registry_args, registry_access_args
from stacks.registry_settings import RegistrySettings


class RegistryStackOutputs(TypedDict):
    """What the registry stack exports, the contract of every StackReference to it."""

    name: pulumi.Input[str]
    id: pulumi.Input[str]
    resource_group: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    location: str  # the primary region
    regions: list[str]  # every region; an environment stack must be in one of them
    discovery_url: pulumi.Input[str | None]
    public_network_access: bool  # false: only private endpoints reach the registry


def build_registry(settings: RegistrySettings) -> RegistryStackOutputs:
    registry = ModelRegistry("model-registry", model_registry_args(settings))
    AccessControl("registry-access", registry_access_args(settings, registry.resource_group_id, registry.id))
    return {
        "name": registry.name,
        "id": registry.id,
        "resource_group": registry.resource_group_name,
        "subscription_id": authorization.get_client_config_output().subscription_id,
        "location": settings.location,
        "regions": list(settings.regions),
        "discovery_url": registry.discovery_url,
        "public_network_access": settings.public_network_access,
    }
