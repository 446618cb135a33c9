"""An Azure ML workspace linked to the stack's shared services, with its own identity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import machinelearningservices as ml

CPU_CLUSTER_NAME = "cpu-cluster"
GPU_CLUSTER_NAME = "gpu-cluster"


@dataclass(frozen=True)
class OutboundPrivateEndpoint:
    """A private-endpoint outbound rule of the workspace's managed network: a service outside the
    workspace's own (its storage, vault and registry get theirs from Azure) that its jobs and
    deployments reach through a private endpoint Azure ML creates in the managed network."""

    rule_name: str
    service_resource_id: pulumi.Input[str]
    subresource_target: str  # the private endpoint's group id, e.g. amlregistry


def outbound_rules(endpoints: tuple[OutboundPrivateEndpoint, ...]) -> dict[str, ml.PrivateEndpointOutboundRuleArgsDict]:
    """The managed network's user-defined outbound rules, by name (Azure docs, "Workspace Managed
    Virtual Network Isolation": private endpoint outbound rules)."""
    return {
        endpoint.rule_name: {
            "type": "PrivateEndpoint",
            "category": ml.RuleCategory.USER_DEFINED,
            "destination": {
                "service_resource_id": endpoint.service_resource_id,
                "subresource_target": endpoint.subresource_target,
                "spark_enabled": False,
            },
        }
        for endpoint in endpoints
    }


@dataclass(frozen=True)
class MachineLearningWorkspaceArgs:
    """The workspace's Azure name and description, its network, and the shared services it links to."""

    workspace_name: str
    friendly_name: str
    description: str
    location: str
    tags: Mapping[str, str]
    resource_group_name: pulumi.Input[str]
    key_vault_id: pulumi.Input[str]
    app_insights_id: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    storage_account_id: pulumi.Input[str]
    high_business_impact: bool
    public_network_access: bool = False
    isolation_mode: str = "AllowOnlyApprovedOutbound"
    outbound_private_endpoints: tuple[OutboundPrivateEndpoint, ...] = ()


def _managed_network(args: MachineLearningWorkspaceArgs) -> ml.ManagedNetworkSettingsArgsDict:
    network: ml.ManagedNetworkSettingsArgsDict = {"isolation_mode": args.isolation_mode}
    if args.outbound_private_endpoints:
        # in the workspace's own body, not as ManagedNetworkSettingsRule resources beside it: azure-native
        # updates a workspace with a whole-body PUT of its inputs, which could drop rules kept elsewhere
        network["outbound_rules"] = outbound_rules(args.outbound_private_endpoints)
    return network


class MachineLearningWorkspace(pulumi.ComponentResource):
    name: pulumi.Output[str]
    id: pulumi.Output[str]
    principal_id: pulumi.Output[str | None]  # None when Azure returns no identity

    def __init__(self, name: str, args: MachineLearningWorkspaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:MachineLearningWorkspace", name, None, opts)
        public = args.public_network_access
        resource = ml.Workspace(
            f"{name}-workspace",
            workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            friendly_name=args.friendly_name,
            description=args.description,
            sku={"name": "Basic", "tier": ml.SkuTier.BASIC},
            identity={"type": "SystemAssigned"},
            key_vault=args.key_vault_id,
            application_insights=args.app_insights_id,
            container_registry=args.registry_id,
            storage_account=args.storage_account_id,
            public_network_access="Enabled" if public else "Disabled",
            managed_network=_managed_network(args),
            hbi_workspace=args.high_business_impact,
            # With the registry closed to the internet, images are built on the workspace's cluster.
            image_build_compute=None if public else CPU_CLUSTER_NAME,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = resource.name
        self.id = resource.id
        self.principal_id = resource.identity.apply(lambda identity: identity.principal_id if identity else None)
        self.register_outputs({"name": self.name, "id": self.id})
