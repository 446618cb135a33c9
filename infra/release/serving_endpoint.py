"""ServingEndpoint: a managed online endpoint whose own settings the stack declares, and nothing it serves.

Created with no traffic and no deployment (a new stack deploys with no model at all); the first
release (EndpointTraffic) creates the deployments it needs. Every update is a read-modify-write of
the live endpoint that changes only the auth mode, description, public network access and tags:
the REST API documents no default for an omitted `traffic` in a PUT, so an azure-native endpoint,
whose update is a whole-body PUT of its stored inputs, could drop the live traffic; here the
traffic always travels in the body it was read in.

Its outputs carry the principal id of the endpoint's system-assigned identity, which the slots'
deployments run as (the stack grants it read access to what they load). Deleting it deletes the
endpoint only when it carries no traffic: nothing that serves is deleted
by a stack. Its id is the endpoint's ARM id. A dynamic resource cannot be `pulumi import`ed (the
engine's import Read carries no `__provider` for the host to unpickle, pulumi/pulumi#16175), so
`create` adopts an endpoint of its name instead.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from infra.azureml.gateway import EndpointSettings
from infra.facts import ENDPOINT_ACCEPTED, ENDPOINT_NAME, full

from .base import WORKSPACE_FIELDS, ReleaseProvider, WorkspaceCoordinates, gateway_for, read_workspace, workspace_ref
from .fields import FieldReader
from .values import without_engine_keys

RESOURCE = "ServingEndpoint"
AUTH_MODES = ("key", "aad_token")
NETWORK_ACCESS = ("enabled", "disabled")
REPLACE_FIELDS = (*WORKSPACE_FIELDS, "endpoint_name")
SETTING_FIELDS = ("auth_mode", "public_network_access", "description", "tags")


class EndpointInUse(RuntimeError):
    """The endpoint carries traffic, so the stack does not delete it."""


def _check_inputs(props: dict) -> tuple[dict, list[tuple[str, str]]]:
    reader = FieldReader(RESOURCE, props)
    checked = read_workspace(reader)
    checked["endpoint_name"] = reader.text("endpoint_name", pattern=full(ENDPOINT_NAME), accepted=ENDPOINT_ACCEPTED)
    checked["auth_mode"] = reader.choice("auth_mode", AUTH_MODES)
    checked["public_network_access"] = reader.choice("public_network_access", NETWORK_ACCESS)
    checked["description"] = reader.text("description", required=False) or ""
    checked["tags"] = reader.string_map("tags")
    return checked, reader.failures


def _settings(spec: dict) -> EndpointSettings:
    return EndpointSettings(
        auth_mode=spec["auth_mode"],
        public_network_access=spec["public_network_access"],
        description=spec["description"],
        tags=dict(spec["tags"]),
    )


def endpoint_id(spec: dict) -> str:
    return (
        f"/subscriptions/{spec['subscription_id']}/resourceGroups/{spec['resource_group']}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/{spec['workspace_name']}/onlineEndpoints/"
        f"{spec['endpoint_name']}"
    )


def _state(coordinates: dict, live) -> dict:
    """Inputs and outputs as Azure has them, so a refresh shows drift and an import reads the settings."""
    return {
        **{k: coordinates[k] for k in REPLACE_FIELDS},
        "auth_mode": live.auth_mode,
        "public_network_access": live.public_network_access,
        "description": live.description,
        "tags": dict(live.tags),
        "scoring_uri": live.scoring_uri,
        "traffic": dict(live.traffic),
        "mirror_traffic": dict(live.mirror_traffic),
        "principal_id": live.principal_id,
    }


class ServingEndpointProvider(ReleaseProvider):
    """Engine lifecycle of an endpoint's own settings. Holds nothing: every method builds its gateway."""

    resource = RESOURCE
    replace_fields = REPLACE_FIELDS
    compared_fields = SETTING_FIELDS

    def check_inputs(self, props: dict, *, previewing: bool = False) -> tuple[dict, list[tuple[str, str]]]:
        return _check_inputs(props)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        """A new endpoint, or the one of this name already there (a create whose answer was lost, or the
        endpoint of a stack upgraded from azure-native's): adopted by a read-modify-write of its settings,
        its traffic and deployments kept. Endpoint names are unique per stack (stacks/naming.py)."""
        spec = self.spec(props)
        gateway = gateway_for(workspace_ref(spec))
        if gateway.get_endpoint(spec["endpoint_name"]) is None:
            live = gateway.create_endpoint(spec["endpoint_name"], _settings(spec))
        else:
            live = gateway.update_endpoint(spec["endpoint_name"], _settings(spec))
        return dynamic.CreateResult(endpoint_id(spec), _state(spec, live))

    def changed(self, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        """Also true for a state written before the principal id was an output: the update records it."""
        return super().changed(olds, news) or "principal_id" not in olds

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        spec = self.spec(news)
        gateway = gateway_for(workspace_ref(spec))
        # Settings unchanged (the update only records the principal id): a read, not a write.
        live = None if super().changed(olds, news) else gateway.get_endpoint(spec["endpoint_name"])
        if live is None:
            live = gateway.update_endpoint(spec["endpoint_name"], _settings(spec))
        return dynamic.UpdateResult(_state(spec, live))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        state = without_engine_keys(props)
        live = gateway_for(workspace_ref(state)).get_endpoint(state["endpoint_name"])
        if live is None:
            return dynamic.ReadResult("", {})
        state = _state(state, live)
        # The live settings as inputs too: a refresh then diffs the program against Azure, not the last up.
        return dynamic.ReadResult(
            endpoint_id(state), state, inputs={k: state[k] for k in (*REPLACE_FIELDS, *SETTING_FIELDS)}
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        state = without_engine_keys(props)
        gateway = gateway_for(workspace_ref(state))
        live = gateway.get_endpoint(state["endpoint_name"])
        if live is None:
            return
        if live.traffic or live.mirror_traffic:
            raise EndpointInUse(
                f"endpoint {state['endpoint_name']!r} serves traffic {live.traffic} mirror {live.mirror_traffic}; "
                f"a stack does not delete what serves. Set its traffic to 0 first (`az ml online-endpoint update "
                f'--name {state["endpoint_name"]} --traffic "<deployment>=0"`), or keep it and drop it from the '
                f"stack with `pulumi state delete <urn>`"
            )
        gateway.delete_endpoint(state["endpoint_name"])


class ServingEndpoint(dynamic.Resource, module="release", name="ServingEndpoint"):
    """An online endpoint's own settings; what it serves belongs to EndpointTraffic."""

    endpoint_name: pulumi.Output[str]
    scoring_uri: pulumi.Output[str | None]
    traffic: pulumi.Output[dict]
    principal_id: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        *,
        workspace: WorkspaceCoordinates,
        endpoint_name: pulumi.Input[str],
        auth_mode: str,
        public_network_access: str,
        description: str = "",
        tags: dict | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            **workspace.as_props(),
            "endpoint_name": endpoint_name,
            "auth_mode": auth_mode,
            "public_network_access": public_network_access,
            "description": description,
            "tags": dict(tags or {}),
            "scoring_uri": None,
            "traffic": None,
            "mirror_traffic": None,
            "principal_id": None,
        }
        super().__init__(ServingEndpointProvider(), resource_name, props, opts)
