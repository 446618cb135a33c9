"""GPU and CPU training clusters of one workspace: scale to zero, no public IP, no SSH by default."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from infra.workspace import CPU_CLUSTER_NAME, GPU_CLUSTER_NAME, MachineLearningWorkspace
from stacks.settings import ClusterSettings, ComputeAccessSettings, StackSettings, WorkspaceSettings


class ComputeClusters(pulumi.ComponentResource):
    names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, settings: StackSettings, workspace: WorkspaceSettings,
                 ml_workspace: MachineLearningWorkspace, resource_group_name: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:ComputeClusters", name, None, opts)
        self.names = {}
        for cluster_name, cluster in ((GPU_CLUSTER_NAME, workspace.gpu_cluster), (CPU_CLUSTER_NAME, workspace.cpu_cluster)):
            compute = ml.Compute(
                f"{name}-{cluster_name}",
                compute_name=cluster_name,
                workspace_name=ml_workspace.name,
                resource_group_name=resource_group_name,
                location=settings.location,
                identity={"type": "SystemAssigned"},
                properties=_aml_compute(cluster, settings.compute_access),
                tags=dict(settings.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.names[cluster_name] = compute.name
        self.register_outputs({"names": self.names})


def _aml_compute(cluster: ClusterSettings, access: ComputeAccessSettings) -> ml.AmlComputeArgs:
    # A union-typed input: only the Args classes give the engine its wire (camelCase) names.
    return ml.AmlComputeArgs(
        compute_type="AmlCompute",
        disable_local_auth=True,
        properties=ml.AmlComputePropertiesArgs(
            vm_size=cluster.vm_size,
            vm_priority="LowPriority" if cluster.low_priority else "Dedicated",
            os_type="Linux",
            scale_settings=ml.ScaleSettingsArgs(
                min_node_count=cluster.min_nodes,
                max_node_count=cluster.max_nodes,
                node_idle_time_before_scale_down=f"PT{cluster.idle_seconds}S",
            ),
            enable_node_public_ip=access.node_public_ip,
            remote_login_port_public_access="Enabled" if access.ssh else "Disabled",
            user_account_credentials=ml.UserAccountCredentialsArgs(
                admin_user_name="azureuser", admin_user_ssh_public_key=access.ssh_public_key)
            if access.ssh else None,
        ),
    )
