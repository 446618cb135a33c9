"""Where `python -m model submit` trains: the workspace and training cluster that a stack declares.

They are read from the stack's offline plan (scripts.offline.stack.run_stack: the stack's real program
under the mock engine, no Azure), so the names are the ones `pulumi up` gives them (stacks/naming.py)
and the cluster's size and node limit the ones its settings give. The subscription is not part of a
stack (the engine takes it from the signed-in identity), so the caller names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.azureml.gateway import WorkspaceRef
from infra.facts import GUID, full
from infra.workspace import CPU_CLUSTER_NAME, GPU_CLUSTER_NAME

COMPUTE_TYPE = "azure-native:machinelearningservices:Compute"
CLUSTERS = {"gpu": GPU_CLUSTER_NAME, "cpu": CPU_CLUSTER_NAME}


class TargetError(ValueError):
    """The stack, workspace, cluster or subscription asked for does not exist or cannot be used."""


@dataclass(frozen=True)
class TrainingTarget:
    stack: str
    workspace: WorkspaceRef
    compute: str
    vm_size: str
    max_nodes: int

    @property
    def has_gpus(self) -> bool:
        from stacks.settings import GPU_VM_SIZE  # the settings' own rule for a GPU (N-series) size

        return re.fullmatch(GPU_VM_SIZE, self.vm_size) is not None


def training_target(
    stack: str, subscription_id: str | None, cluster: str = "gpu", workspace: str | None = None
) -> TrainingTarget:
    """The workspace (`workspace`, or the stack's only one) and its `cluster` ("gpu" or "cpu") in `stack`."""
    from scripts.offline.stack import run_stack

    if not subscription_id or not full(GUID).match(subscription_id):
        raise TargetError(
            f"--subscription is {subscription_id!r}; accepted: the subscription GUID the stack is "
            "deployed in (or AZURE_SUBSCRIPTION_ID / ARM_SUBSCRIPTION_ID in the environment)"
        )
    if cluster not in CLUSTERS:
        raise TargetError(f"--cluster is {cluster!r}; accepted: {', '.join(CLUSTERS)}")
    try:
        plan = run_stack(stack)
    except FileNotFoundError as error:  # no Pulumi.<stack>.yaml: the message names the known stacks
        raise TargetError(f"--stack: {error}") from None
    declared = plan.outputs.get("workspaces") or {}
    if workspace is None and len(declared) == 1:
        workspace = next(iter(declared))
    if workspace not in declared:
        raise TargetError(
            f"--workspace is {workspace!r}; accepted: one of the workspaces stack {stack} declares "
            f"({', '.join(declared) or 'none'})"
        )
    workspace_name = declared[workspace]["workspace_name"]
    computes = [
        r
        for r in plan.of_type(COMPUTE_TYPE)
        if r.inputs.get("workspaceName") == workspace_name and r.inputs.get("computeName") == CLUSTERS[cluster]
    ]
    if len(computes) != 1:
        raise TargetError(
            f"stack {stack} declares no {CLUSTERS[cluster]} in workspace {workspace_name}; accepted: "
            f"--cluster naming a cluster it declares"
        )
    size = computes[0].inputs["properties"]["properties"]
    return TrainingTarget(
        stack=stack,
        workspace=WorkspaceRef(subscription_id, plan.outputs["resource_group"], workspace_name),
        compute=CLUSTERS[cluster],
        vm_size=size["vmSize"],
        max_nodes=int(size["scaleSettings"]["maxNodeCount"]),  # the engine hands numbers over as floats
    )
