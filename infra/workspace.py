"""An Azure ML workspace linked to the stack's shared services, with its own identity.

Its system datastores (the default blob store, the file store) authenticate by identity, the
workspace's own or the caller's Entra ID, never by the storage account key, which the stack turns
off (Azure ML "Disable shared key access for your workspace's storage account").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import machinelearningservices as ml

CPU_CLUSTER_NAME = "cpu-cluster"
GPU_CLUSTER_NAME = "gpu-cluster"


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


class MachineLearningWorkspace(pulumi.ComponentResource):
    name: pulumi.Output[str]
    id: pulumi.Output[str]
    principal_id: pulumi.Output[str]

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
            sku={"name": "Basic", "tier": "Basic"},
            identity={"type": "SystemAssigned"},
            key_vault=args.key_vault_id,
            application_insights=args.app_insights_id,
            container_registry=args.registry_id,
            storage_account=args.storage_account_id,
            system_datastores_auth_mode=ml.SystemDatastoresAuthMode.IDENTITY,
            public_network_access="Enabled" if public else "Disabled",
            managed_network={"isolation_mode": args.isolation_mode},
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
