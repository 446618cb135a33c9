"""AssetVersion: a code or environment version the serving slots run, registered once and never deleted.

A version is content-derived (infra/serving_assets.py), so the same content is the same version. An
azure-native CodeVersion or EnvironmentVersion is the wrong owner for it: kept in Azure when the
stack moves on (the slots may still run it), it cannot come back, because azure-native's create
refuses a resource that exists, and reverting a change under `serving/` declares it again. Here
create registers the version when it is absent and adopts it when it is registered already, and
delete keeps it: the registry is the audit trail, and an idle or live slot may reference it.

A code version is defined by its files (`code_files`, {name inside the asset: pulumi.FileAsset}):
create checks that they have the declared content version, then the gateway uploads them with the
deploying identity and registers them (AzureMLGateway.ensure_code_version). The files are read
only then: a refresh or a destroy on a machine without them works from the version alone, and the
paths, which differ between checkouts, are not compared (the version names the content). As
assets they are what Pulumi hands a resource files as: the engine records each one's hash, and the
offline plan shows their paths relative to the project. An
environment version is defined by its image and conda file; another definition under a
registered version is refused (versions are never overwritten).

Its id is the version's ARM id, which a slot's deployment references.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from infra.facts import ASSET_NAME, full

from .base import WORKSPACE_FIELDS, ReleaseProvider, WorkspaceCoordinates, gateway_for, read_workspace, workspace_ref
from .content import files_version
from .fields import FieldReader, InvalidInputs
from .values import UNKNOWN, is_unknown, without_engine_keys

RESOURCE = "AssetVersion"
KINDS = ("code", "environment")
ENVIRONMENT_FIELDS = ("image", "conda_file")
CODE_FILES_ACCEPTED = (
    "a non-empty mapping of relative file names (inside the code asset) to file assets, "
    "e.g. {'score.py': pulumi.FileAsset('serving/score.py')}"
)


def _is_relative_name(name: Any) -> bool:
    parts = PurePosixPath(name).parts if isinstance(name, str) and name else ()
    return bool(parts) and not PurePosixPath(name).is_absolute() and ".." not in parts and "\\" not in name


def _code_files(reader: FieldReader, required: bool) -> dict | None:
    files = reader.mapping("code_files", required=required)
    if files is None or is_unknown(files):
        return files
    if not files or not all(
        _is_relative_name(k) and isinstance(v, pulumi.FileAsset) and isinstance(v.path, str) and v.path
        for k, v in files.items()
    ):
        shown = {k: f"FileAsset({v.path!r})" if isinstance(v, pulumi.FileAsset) else v for k, v in files.items()}
        reader.fail("code_files", shown, CODE_FILES_ACCEPTED)
        return None
    return dict(files)


def _check_inputs(props: dict) -> tuple[dict, list[tuple[str, str]]]:
    reader = FieldReader(RESOURCE, props)
    checked = read_workspace(reader)
    kind = reader.choice("kind", KINDS)
    checked["kind"] = kind
    checked["name"] = reader.name("name")
    checked["version"] = reader.text("version", pattern=full(ASSET_NAME), accepted="a content version")
    checked["code_files"] = _code_files(reader, required=kind == "code")
    for field in ENVIRONMENT_FIELDS:
        checked[field] = reader.text(field, required=kind == "environment")
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


def _checked_files(spec: dict) -> Mapping[str, str]:
    """The code files' paths, once they are known to exist and to have the declared content version."""
    files = {name: asset.path for name, asset in spec["code_files"].items()}
    missing = sorted(name for name, path in files.items() if not Path(path).is_file())
    if missing:
        raise InvalidInputs(
            RESOURCE,
            [
                (
                    "code_files",
                    f"code_files names files that do not exist on this machine: "
                    f"{', '.join(f'{n} ({files[n]})' for n in missing)}; accepted: "
                    f"{CODE_FILES_ACCEPTED}",
                )
            ],
        )
    actual = files_version(files)
    if actual != spec["version"]:
        raise InvalidInputs(
            RESOURCE,
            [
                (
                    "version",
                    f"version is {spec['version']!r}, but the content version of "
                    f"code_files is {actual!r}; accepted: the content version of the "
                    "files (a version names its content and is never overwritten)",
                )
            ],
        )
    return files


def _register(spec: dict) -> str:
    gateway = gateway_for(workspace_ref(spec))
    if spec["kind"] == "code":
        return gateway.ensure_code_version(spec["name"], spec["version"], _checked_files(spec))
    return gateway.ensure_environment_version(spec["name"], spec["version"], spec["image"], spec["conda_file"])


class AssetVersionProvider(ReleaseProvider):
    """Engine lifecycle of a serving asset version. Holds nothing: every method builds its gateway."""

    resource = RESOURCE
    replace_fields = (*WORKSPACE_FIELDS, "kind", "name", "version")
    compared_fields = ENVIRONMENT_FIELDS  # a code version's definition is its version (the files' content)

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
        """From the stored state alone (a state written before code uploads moved here holds `code_uri`)."""
        state = without_engine_keys(props)
        gateway = gateway_for(workspace_ref(state))
        get = gateway.get_code_version if state["kind"] == "code" else gateway.get_environment_version
        return dynamic.ReadResult(id_ if get(state["name"], state["version"]) else "", state)

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
        code_files: Mapping[str, pulumi.FileAsset] | None = None,
        image: str | None = None,
        conda_file: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            **workspace.as_props(),
            "kind": kind,
            "name": name,
            "version": version,
            "code_files": dict(code_files) if code_files is not None else None,
            "image": image,
            "conda_file": conda_file,
            "asset_id": None,
        }
        super().__init__(AssetVersionProvider(), resource_name, props, opts)
