"""An Azure ML workspace linked to the stack's shared services, with its own identity."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from infra.shared import SharedServices
from stacks.settings import StackSettings, WorkspaceSettings

CPU_CLUSTER_NAME = "cpu-cluster"
GPU_CLUSTER_NAME = "gpu-cluster"


class MachineLearningWorkspace(pulumi.ComponentResource):
    name: pulumi.Output[str]
    id: pulumi.Output[str]
    principal_id: pulumi.Output[str]

    def __init__(self, name: str, settings: StackSettings, workspace: WorkspaceSettings,
                 shared: SharedServices, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:MachineLearningWorkspace", name, None, opts)
        network = settings.network
        resource = ml.Workspace(
            f"{name}-workspace",
            workspace_name=settings.names.workspace(workspace.name),
            resource_group_name=shared.resource_group_name,
            location=settings.location,
            friendly_name=f"{workspace.name} ({settings.stack})",
            description=workspace.description,
            sku={"name": "Basic", "tier": "Basic"},
            identity={"type": "SystemAssigned"},
            key_vault=shared.key_vault_id,
            application_insights=shared.app_insights_id,
            container_registry=shared.registry_id,
            storage_account=shared.storage_account_id,
            public_network_access="Enabled" if network.public_network_access else "Disabled",
            managed_network={"isolation_mode": network.isolation_mode},
            hbi_workspace=settings.high_business_impact,
            # With the registry closed to the internet, images are built on the workspace's cluster.
            image_build_compute=None if network.public_network_access else CPU_CLUSTER_NAME,
            tags=dict(settings.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = resource.name
        self.id = resource.id
        self.principal_id = resource.identity.apply(lambda identity: identity.principal_id if identity else None)
        self.register_outputs({"name": self.name, "id": self.id})
