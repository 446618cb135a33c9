"""A workspace's managed online endpoint, and the serving spec its two slots, `blue` and `green`, run.

The endpoint itself (auth mode, public access, tags) is a ServingEndpoint: created with no traffic
and no deployment, updated by read-modify-write. What it serves has one owner, the release
(EndpointTraffic): the slots' deployments are created and changed only by it, from the model it
releases and the spec `slot_serving` declares here. A stack without a release candidate declares
no deployment at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from infra.release.base import WorkspaceCoordinates
from infra.release.serving_endpoint import ServingEndpoint

AUTH_MODES = {"key": "key", "aad_token": "aad_token"}
SCORING_SCRIPT = "score.py"
# Requests one instance works on at once; the inference server runs as many workers (WORKER_COUNT),
# so none waits behind another.
CONCURRENT_REQUESTS_PER_INSTANCE = 2
REQUEST_TIMEOUT_MS = 5000
# What the inference server needs besides WORKER_COUNT: gunicorn reads serving/gunicorn_config.py (its
# threaded worker with read deadlines), since azmlinfsrv passes gunicorn only a worker count and timeout.
SERVER_ENVIRONMENT = {"GUNICORN_CMD_ARGS": "--config python:gunicorn_config"}


@dataclass(frozen=True)
class OnlineEndpointArgs:
    """Where the endpoint lives (the workspace's coordinates), its Azure name, auth and exposure.

    `public_network_access` is the stack's: without it the endpoint takes scoring requests only
    through the workspace's private endpoint (Azure docs, "Network isolation with managed online
    endpoints"), so clients score from the stack's network or one peered with it."""

    workspace: WorkspaceCoordinates
    endpoint_name: str
    auth_mode: str
    description: str
    tags: Mapping[str, str]
    public_network_access: bool = False


@dataclass(frozen=True)
class SlotServingArgs:
    """What every slot of a workspace's endpoint runs on, besides the code and environment versions.

    No egress setting: every workspace the platform declares has a managed network, which governs the
    deployments' outbound traffic; Azure ML ignores `egressPublicNetworkAccess` there and refuses to change
    it on an existing deployment (DESIGN §4), so the slots never set it."""

    instance_type: str
    instance_count: int


class OnlineEndpoint(pulumi.ComponentResource):
    name: pulumi.Output[str]
    scoring_uri: pulumi.Output[str | None]  # None until Azure reports the endpoint's URI
    principal_id: pulumi.Output[str | None]  # the endpoint identity the slots' deployments run as
    endpoint: ServingEndpoint

    def __init__(self, name: str, args: OnlineEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:OnlineEndpoint", name, None, opts)
        self.endpoint = ServingEndpoint(
            f"{name}-online",
            workspace=args.workspace,
            endpoint_name=args.endpoint_name,
            auth_mode=AUTH_MODES[args.auth_mode],
            public_network_access="enabled" if args.public_network_access else "disabled",
            description=args.description,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = self.endpoint.endpoint_name
        self.scoring_uri = self.endpoint.scoring_uri
        self.principal_id = self.endpoint.principal_id
        self.register_outputs({"name": self.name, "scoring_uri": self.scoring_uri})


def slot_serving(
    args: SlotServingArgs, code_id: pulumi.Input[str], environment_id: pulumi.Input[str]
) -> pulumi.Output[dict]:
    """The serving spec (infra/release/serving_spec.py) every slot of this workspace's endpoint runs."""
    return pulumi.Output.all(code_id, environment_id).apply(lambda ids: serving_spec_of(args, ids[0], ids[1]))


def serving_spec_of(args: SlotServingArgs, code_id: str, environment_id: str) -> dict:
    probe = {"period": 10, "timeout": 2, "failure_threshold": 3, "success_threshold": 1}
    return {
        "code_id": code_id,
        "environment_id": environment_id,
        "scoring_script": SCORING_SCRIPT,
        "instance_type": args.instance_type,
        "instance_count": args.instance_count,
        "environment_variables": {"WORKER_COUNT": str(CONCURRENT_REQUESTS_PER_INSTANCE), **SERVER_ENVIRONMENT},
        "request_timeout_ms": REQUEST_TIMEOUT_MS,
        "max_concurrent_requests_per_instance": CONCURRENT_REQUESTS_PER_INSTANCE,
        "liveness_probe": {**probe, "initial_delay": 30},
        "readiness_probe": {**probe, "initial_delay": 10},
        "app_insights_enabled": True,
        "egress_public_network_access": None,
    }
