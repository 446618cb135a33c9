"""Data assets of a workspace as the fake serves them: data containers and versions
(`.../workspaces/{w}/data/{name}` and `.../data/{name}/versions/{version}`), as azure-ai-ml 1.35's
DataOperations reaches them (api-version 2023-04-01-preview).

A data version PUT creates its container. A version's path cannot change once created (400
"Asset paths cannot be updated.", the same words as for models); a PUT with the same path replaces
the version's description, tags and properties.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from tests.fakes.azureml_rules import check_asset_name_and_version, check_asset_uri, filter_archived, refuse

PROVIDER = "Microsoft.MachineLearningServices"
DATA_TYPES = ("uri_file", "uri_folder", "mltable")


class DataAssets:
    def __init__(self, workspace_id: str, workspace_name: str, datastores, system_data: Callable):
        self._workspace_id = workspace_id
        self._workspace_name = workspace_name
        self._datastores = datastores
        self._system_data = system_data
        self._assets: dict[str, dict] = {}  # name -> {"container": resource, "versions": {version: resource}}

    def version_id(self, name: str, version: str) -> str:
        return f"{self._workspace_id}/data/{name}/versions/{version}"

    # ------------------------------------------------------------------ service side
    def get_container(self, name: str) -> dict:
        entry = self._assets.get(name)
        if entry is None:
            refuse(
                404,
                "ResourceNotFound",
                f"Could not find data asset with name '{name}' in workspace '{self._workspace_name}'.",
            )
        return entry["container"]

    def list_containers(self, view: str | None) -> list[dict]:
        return filter_archived([e["container"] for e in self._assets.values()], view)

    def get_version(self, name: str, version: str) -> dict:
        resource = self.version(name, version)
        if resource is None:
            refuse(
                404,
                "ResourceNotFound",
                f"Could not find data asset {name}:{version} in workspace '{self._workspace_name}'.",
            )
        return resource

    def list_versions(self, name: str, view: str | None) -> list[dict]:
        entry = self._assets.get(name)
        return filter_archived(list(entry["versions"].values()) if entry else [], view)

    def put_version(self, name: str, version: str, body: dict) -> tuple[dict, bool]:
        check_asset_name_and_version(name, version)
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict):
            refuse(400, "UserError", "The request body must contain 'properties'.")
        data_type = props.get("dataType")
        if data_type not in DATA_TYPES:
            refuse(400, "UserError", f"dataType '{data_type}' is invalid; accepted: {', '.join(DATA_TYPES)}.")
        uri = props.get("dataUri")
        check_asset_uri(uri, "dataUri", "Data", self._datastores)
        entry = self._assets.setdefault(name, {"container": self._new_container(name), "versions": {}})
        previous = entry["versions"].get(version)
        if previous is not None and previous["properties"]["dataUri"] != uri:
            refuse(400, "UserError", "Asset paths cannot be updated.")
        if previous is not None and previous["properties"]["dataType"] != data_type:
            refuse(
                400,
                "UserError",
                f"dataType of {name}:{version} is {previous['properties']['dataType']}; it cannot be changed.",
            )
        resource = {
            "id": self.version_id(name, version),
            "name": version,
            "type": f"{PROVIDER}/workspaces/data/versions",
            "properties": {
                "dataType": data_type,
                "dataUri": uri,
                "description": props.get("description"),
                "tags": dict(props.get("tags") or {}),
                "properties": dict(props.get("properties") or {}),
                "isAnonymous": bool(props.get("isAnonymous", False)),
                "isArchived": bool(props.get("isArchived", False)),
                "provisioningState": "Succeeded",
            },
            "systemData": self._system_data(previous["systemData"] if previous else None),
        }
        entry["versions"][version] = resource
        container = entry["container"]["properties"]
        container["latestVersion"] = version
        container["dataType"] = data_type
        numeric = [int(v) for v in entry["versions"] if v.isdigit()]
        container["nextVersion"] = str(max(numeric) + 1) if numeric else "1"
        return copy.deepcopy(resource), previous is None

    def version(self, name: str, version: str) -> dict | None:
        return self._assets.get(name, {}).get("versions", {}).get(str(version))

    def _new_container(self, name: str) -> dict:
        return {
            "id": f"{self._workspace_id}/data/{name}",
            "name": name,
            "type": f"{PROVIDER}/workspaces/data",
            "properties": {
                "description": None,
                "tags": {},
                "properties": {},
                "isArchived": False,
                "dataType": None,
                "latestVersion": None,
                "nextVersion": "1",
            },
            "systemData": self._system_data(None),
        }
