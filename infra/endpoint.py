"""A managed online endpoint with two deployment slots, `blue` and `green`.

Traffic has one owner: the release provider. The endpoint resource never sets `traffic` or
`mirrorTraffic` and ignores changes to them, and the slots ignore changes to their `model`, which
the release provider moves. The slots' size, environment and code stay declared here.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from infra.release.model_ref import SHORT_REFERENCE
from stacks.settings import StackSettings, WorkspaceSettings

SLOTS = ("blue", "green")
TRAFFIC_OWNED_BY_RELEASE = ["properties.traffic", "properties.mirrorTraffic"]
MODEL_OWNED_BY_RELEASE = ["properties.model"]
AUTH_MODES = {"key": "Key", "aad_token": "AADToken"}
# Requests one instance works on at once; the inference server runs as many workers (WORKER_COUNT),
# so none waits behind another. The model version each slot reports comes from its model folder,
# which the release provider moves, so it is not pinned here.
CONCURRENT_REQUESTS_PER_INSTANCE = 2


class OnlineEndpoint(pulumi.ComponentResource):
    name: pulumi.Output[str]
    scoring_uri: pulumi.Output[str]
    slots: dict[str, ml.OnlineDeployment]

    def __init__(self, name: str, settings: StackSettings, workspace: WorkspaceSettings,
                 workspace_name: pulumi.Input[str], resource_group_name: pulumi.Input[str],
                 model: pulumi.Input[str], environment_id: pulumi.Input[str], code_id: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:OnlineEndpoint", name, None, opts)
        public = settings.network.public_network_access
        endpoint = ml.OnlineEndpoint(
            f"{name}-online",
            endpoint_name=settings.names.endpoint(workspace.name),
            workspace_name=workspace_name,
            resource_group_name=resource_group_name,
            location=settings.location,
            identity={"type": "SystemAssigned"},
            properties={
                "auth_mode": AUTH_MODES[workspace.endpoint.auth_mode],
                "description": f"{workspace.name} scoring ({settings.stack})",
                "public_network_access": "Enabled" if public else "Disabled",
            },
            tags=dict(settings.tags),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=TRAFFIC_OWNED_BY_RELEASE),
        )
        self.slots = {
            slot: ml.OnlineDeployment(
                f"{name}-{slot}",
                deployment_name=slot,
                endpoint_name=endpoint.name,
                workspace_name=workspace_name,
                resource_group_name=resource_group_name,
                location=settings.location,
                sku={"name": "Default", "capacity": workspace.endpoint.instance_count},
                # A union-typed input: only the Args class gives the engine its wire (camelCase) names.
                properties=ml.ManagedOnlineDeploymentArgs(
                    endpoint_compute_type="Managed",
                    instance_type=workspace.endpoint.instance_type,
                    model=model,
                    environment_id=environment_id,
                    code_configuration=ml.CodeConfigurationArgs(code_id=code_id, scoring_script="score.py"),
                    app_insights_enabled=True,
                    egress_public_network_access="Enabled" if public else "Disabled",
                    scale_settings=ml.DefaultScaleSettingsArgs(scale_type="Default"),
                    environment_variables={"WORKER_COUNT": str(CONCURRENT_REQUESTS_PER_INSTANCE)},
                    request_settings=ml.OnlineRequestSettingsArgs(
                        request_timeout="PT5S",
                        max_concurrent_requests_per_instance=CONCURRENT_REQUESTS_PER_INSTANCE),
                    liveness_probe=_probe(initial_delay="PT30S"),
                    readiness_probe=_probe(initial_delay="PT10S"),
                ),
                tags={**settings.tags, "slot": slot},
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=MODEL_OWNED_BY_RELEASE),
            )
            for slot in SLOTS
        }
        self.name = endpoint.name
        self.scoring_uri = endpoint.properties.scoring_uri
        self.register_outputs({"name": self.name, "scoring_uri": self.scoring_uri})


def slot_model_id(workspace_id: pulumi.Input[str], reference: pulumi.Input[str]) -> pulumi.Output[str]:
    """The ARM id a deployment's `model` takes for `azureml:<name>:<version>` in this workspace;
    an ARM id or an `azureml://` registry path is already one and passes through."""
    def resolve(args: list[str]) -> str:
        workspace, ref = args
        short = SHORT_REFERENCE.match(ref)
        if short is None:
            return ref
        return f"{workspace}/models/{short.group('name')}/versions/{short.group('version')}"
    return pulumi.Output.all(workspace_id, reference).apply(resolve)


def _probe(initial_delay: str) -> ml.ProbeSettingsArgs:
    return ml.ProbeSettingsArgs(initial_delay=initial_delay, period="PT10S", timeout="PT2S",
                                failure_threshold=3, success_threshold=1)
