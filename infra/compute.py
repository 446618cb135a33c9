"""GPU and CPU training clusters of one workspace: scale to zero, no public IP, no SSH by default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from infra.workspace import CPU_CLUSTER_NAME, GPU_CLUSTER_NAME


@dataclass(frozen=True)
class ClusterSize:
    vm_size: str
    min_nodes: int
    max_nodes: int
    idle_seconds: int
    low_priority: bool


@dataclass(frozen=True)
class ComputeClustersArgs:
    """The workspace the clusters belong to, their sizes, and the two loosenings a stack may name."""

    workspace_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    location: str
    tags: Mapping[str, str]
    gpu: ClusterSize
    cpu: ClusterSize
    node_public_ip: bool = False
    ssh_public_key: str | None = None  # an SSH key opens SSH login on the nodes


class ComputeClusters(pulumi.ComponentResource):
    names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ComputeClustersArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:ComputeClusters", name, None, opts)
        self.names = {}
        for cluster_name, cluster in ((GPU_CLUSTER_NAME, args.gpu), (CPU_CLUSTER_NAME, args.cpu)):
            compute = ml.Compute(
                f"{name}-{cluster_name}",
                compute_name=cluster_name,
                workspace_name=args.workspace_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                identity={"type": "SystemAssigned"},
                properties=_aml_compute(cluster, args),
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.names[cluster_name] = compute.name
        self.register_outputs({"names": self.names})


def _aml_compute(cluster: ClusterSize, args: ComputeClustersArgs) -> ml.AmlComputeArgs:
    # A union-typed input: only the Args classes give the engine its wire (camelCase) names.
    ssh = args.ssh_public_key is not None
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
            enable_node_public_ip=args.node_public_ip,
            remote_login_port_public_access="Enabled" if ssh else "Disabled",
            user_account_credentials=ml.UserAccountCredentialsArgs(
                admin_user_name="azureuser", admin_user_ssh_public_key=args.ssh_public_key
            )
            if ssh
            else None,
        ),
    )
