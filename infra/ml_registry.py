"""The estate's Azure ML registry, replicated to the region of every workspace that uses it.

A registry keeps models, environments and components for workspaces in any of its regions (Azure
docs, "Manage Azure Machine Learning registries"): Azure creates a storage account in each region and
one Container Registry replicated to each, in a managed resource group `azureml-rg-<name>_<guid>`.
The primary region is listed among the regions and can never change; other regions can be added
later. The system-created storage allows no anonymous blob access, and its Container Registry is
Premium, which geo-replication and private endpoints need.

With public access off the registry answers only through private endpoints (group id
`amlregistry`), which the stacks that use it declare in their own networks; this component declares
none. The registry is protected: deleting it deletes every version it holds, none of which can be
created again, while endpoints serve from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import machinelearningservices as ml
from pulumi_azure_native import resources

REGISTRY_ACR_SKU = "Premium"


@dataclass(frozen=True)
class ModelRegistryArgs:
    """The registry's Azure name, its resource group, its regions (the primary first) and its network exposure."""

    registry_name: str
    resource_group_name: str
    location: str  # the primary region
    regions: tuple[str, ...]  # every region the registry replicates to, the primary among them
    storage_sku: str  # the system-created storage account of each region
    public_network_access: bool
    tags: Mapping[str, str]


def region_details(regions: tuple[str, ...], storage_sku: str) -> list[ml.RegistryRegionArmDetailsArgsDict]:
    """One entry per region, with the system-created storage and Container Registry Azure makes there
    (REST spec 2024-10-01, examples/Registries/createOrUpdate-SystemCreated.json)."""
    return [
        {
            "location": region,
            "storage_account_details": [
                {
                    "system_created_storage_account": {
                        "storage_account_type": storage_sku,
                        "storage_account_hns_enabled": False,
                        "allow_blob_public_access": False,
                    }
                }
            ],
            "acr_details": [{"system_created_acr_account": {"acr_account_sku": REGISTRY_ACR_SKU}}],
        }
        for region in regions
    ]


class ModelRegistry(pulumi.ComponentResource):
    resource_group_name: pulumi.Output[str]
    resource_group_id: pulumi.Output[str]
    id: pulumi.Output[str]
    name: pulumi.Output[str]
    discovery_url: pulumi.Output[str | None]

    def __init__(self, name: str, args: ModelRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:ModelRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        group = resources.ResourceGroup(
            "resource-group",
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=tags,
            opts=child,
        )
        registry = ml.Registry(
            "registry",
            registry_name=args.registry_name,
            resource_group_name=group.name,
            location=args.location,
            identity={"type": ml.ManagedServiceIdentityType.SYSTEM_ASSIGNED},
            region_details=region_details(args.regions, args.storage_sku),
            public_network_access="Enabled" if args.public_network_access else "Disabled",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.resource_group_name = group.name
        self.resource_group_id = group.id
        self.id = registry.id
        self.name = registry.name
        self.discovery_url = registry.discovery_url
        self.register_outputs({"id": self.id, "name": self.name, "discovery_url": self.discovery_url})
