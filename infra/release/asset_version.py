"""AssetVersion: a code or environment version the serving slots run, registered once and never deleted.

A version is content-derived (infra/serving_assets.py), so the same content is the same version. An
azure-native CodeVersion or EnvironmentVersion is the wrong owner for it: kept in Azure when the
stack moves on (the slots may still run it), it cannot come back, because azure-native's create
refuses a resource that exists, and reverting a change under `serving/` declares it again. Here
create registers the version when it is absent and adopts it when it is registered alike (another
definition under the same version is refused: versions are never overwritten), and delete keeps
it: the registry is the audit trail, and an idle or live slot may reference it.

Its id is the version's ARM id, which a slot's deployment references.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from infra.facts import ASSET_NAME, full

from .base import WORKSPACE_FIELDS, ReleaseProvider, WorkspaceCoordinates, gateway_for, read_workspace, workspace_ref
from .fields import FieldReader
from .values import UNKNOWN, is_unknown

RESOURCE = "AssetVersion"
KINDS = ("code", "environment")
DEFINITION_FIELDS = {"code": ("code_uri",), "environment": ("image", "conda_file")}


def _check_inputs(props: dict) -> tuple[dict, list[tuple[str, str]]]:
    reader = FieldReader(RESOURCE, props)
    checked = read_workspace(reader)
    kind = reader.choice("kind", KINDS)
    checked["kind"] = kind
    checked["name"] = reader.name("name")
    checked["version"] = reader.text("version", pattern=full(ASSET_NAME), accepted="a content version")
    for kind_of, fields in DEFINITION_FIELDS.items():
        for field in fields:
            checked[field] = reader.text(field, required=kind == kind_of)
    parts = [checked[k] for k in (*WORKSPACE_FIELDS, "kind", "name", "version")]
    known = not reader.failures and not any(is_unknown(p) for p in parts)
    checked["asset_id"] = asset_id(checked) if known else UNKNOWN
    return checked, reader.failures


def asset_id(spec: dict) -> str:
    """The ARM id the version has once registered: known at preview, so what a slot will run is too."""
    return (
        f"/subscriptions/{spec['subscription_id']}/resourceGroups/{spec['resource_group']}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/{spec['workspace_name']}/{spec['kind']}s/"
        f"{spec['name']}/versions/{spec['version']}"
    )


def _register(spec: dict) -> str:
    gateway = gateway_for(workspace_ref(spec))
    if spec["kind"] == "code":
        return gateway.ensure_code_version(spec["name"], spec["version"], spec["code_uri"])
    return gateway.ensure_environment_version(spec["name"], spec["version"], spec["image"], spec["conda_file"])


class AssetVersionProvider(ReleaseProvider):
    """Engine lifecycle of a serving asset version. Holds nothing: every method builds its gateway."""

    resource = RESOURCE
    replace_fields = (*WORKSPACE_FIELDS, "kind", "name", "version")
    compared_fields = ("code_uri", "image", "conda_file")

    def check_inputs(self, props: dict, *, previewing: bool = False) -> tuple[dict, list[tuple[str, str]]]:
        return _check_inputs(props)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        spec = self.spec(props)
        return dynamic.CreateResult(_register(spec), spec)  # the registered id is asset_id

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        """Same version, another definition: the registry refuses it, and so does this."""
        spec = self.spec(news)
        _register(spec)
        return dynamic.UpdateResult(spec)

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        spec = self.spec(props)
        gateway = gateway_for(workspace_ref(spec))
        get = gateway.get_code_version if spec["kind"] == "code" else gateway.get_environment_version
        return dynamic.ReadResult(id_ if get(spec["name"], spec["version"]) else "", spec)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Kept: a slot may run it, and the registry is the audit trail."""


class AssetVersion(dynamic.Resource, module="release", name="AssetVersion"):
    """Version `version` of code or environment `name`, registered from its definition, kept for good."""

    asset_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        workspace: WorkspaceCoordinates,
        kind: str,
        name: str,
        version: str,
        code_uri: pulumi.Input[str] | None = None,
        image: str | None = None,
        conda_file: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            **workspace.as_props(),
            "kind": kind,
            "name": name,
            "version": version,
            "code_uri": code_uri,
            "image": image,
            "conda_file": conda_file,
            "asset_id": None,
        }
        super().__init__(AssetVersionProvider(), resource_name, props, opts)
