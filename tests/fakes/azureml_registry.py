"""Azure ML registries as the fake serves them: the registry discovery document and the registry's
model versions on its data-plane (MFE) endpoint, as azure-ai-ml 1.35's registry client reaches them.

azure-ai-ml (`_utils/_registry_utils.py`) finds a registry through
`GET https://eastus.api.azureml.ms/registrymanagement/v1.0/registries/{r}/discovery` and then sends
every registry call to `{primaryRegionResourceProviderUri}mferp/managementfrontend/subscriptions/...
/registries/{r}/...` with api-version 2021-10-01-dataplanepreview. Asset ids in a registry are
`azureml://registries/{r}/models/{m}/versions/{v}`.

A registry refuses what the service refuses: a version that exists cannot be imported again (409),
a version's path cannot change (400), and a version that was deleted cannot be created again (409).
An import copies the workspace version's files into the registry's own storage (`files`), where a
download of `azureml://registries/{r}/models/{m}/versions/{v}` finds them, and keeps the job the
workspace version was registered from as its lineage (the Azure ML docs, "Share models, components
and environments across workspaces with registries": a model created from a job output and copied
to a registry "has a link to the job that trained the model").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from tests.fakes.azureml_arm import model_version_properties
from tests.fakes.azureml_rules import check_asset_name_and_version, refuse

PROVIDER = "Microsoft.MachineLearningServices"
REGISTRY_API_VERSION = "2021-10-01-dataplanepreview"
DISCOVERY_HOST = "eastus.api.azureml.ms"  # azure-ai-ml's registry discovery endpoint for the public cloud
MFE_PREFIX = "/mferp/managementfrontend"


def mfe_host(region: str) -> str:
    return f"cert-{region}.experiments.azureml.net"


class Registry:
    def __init__(
        self,
        name: str,
        subscription_id: str,
        resource_group: str,
        regions: tuple,
        system_data: Callable[[dict | None], dict],
    ):
        self.name = name
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.regions = tuple(regions)
        self._system_data = system_data
        self._models: dict[str, dict[str, dict]] = {}  # name -> version -> resource
        self._deleted: set[tuple[str, str]] = set()
        self._files: dict[tuple[str, str], dict[str, bytes]] = {}  # (name, version) -> {relative path: bytes}
        self._storage = "st" + hashlib.sha256(name.encode()).hexdigest()[:20]

    # ------------------------------------------------------------------ documents
    def discovery(self) -> dict:
        primary = self.regions[0]
        return {
            "registryName": self.name,
            "tenantId": "00000000-0000-0000-0000-000000000002",
            "primaryRegion": primary,
            "regions": list(self.regions),
            "subscriptionId": self.subscription_id,
            "resourceGroup": self.resource_group,
            "workspaceName": None,
            "primaryRegionResourceProviderUri": f"https://{mfe_host(primary)}/",
            "registryFqdns": {r: {"api": f"https://{r}.api.azureml.ms"} for r in self.regions},
        }

    def model_id(self, name: str, version: str) -> str:
        return f"azureml://registries/{self.name}/models/{name}/versions/{version}"

    def storage_uri(self, name: str, version: str) -> str:
        """Where the registry keeps a model version's files (its own storage account, not a workspace's)."""
        return f"https://{self._storage}.blob.core.windows.net/registry/models/{name}/{version}/"

    # ------------------------------------------------------------------ service side
    def get_version(self, name: str, version: str) -> dict:
        resource = self.version(name, version)
        if resource is None:
            refuse(404, "ResourceNotFound", f"Could not find asset with ID: {self.model_id(name, version)}")
        return resource

    def list_versions(self, name: str, order_by: str, top: int | None) -> list[dict]:
        items = list(self._models.get(name, {}).values())
        if order_by.lower().startswith("createdtime"):
            items.sort(key=lambda i: i["systemData"]["createdAt"], reverse=order_by.lower().endswith("desc"))
        return items[:top] if top is not None else items

    def put_version(self, name: str, version: str, body: dict) -> tuple[dict, bool]:
        """A whole-version PUT: creates a version or replaces an existing one's description, tags and
        properties (its path cannot change)."""
        check_asset_name_and_version(name, version)
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict) or not props.get("modelUri"):
            refuse(400, "UserError", "Model version requires 'properties.modelUri'.")
        self._refuse_deleted(name, version)
        previous = self.version(name, version)
        if previous is not None and previous["properties"]["modelUri"] != props["modelUri"]:
            refuse(400, "UserError", "Asset paths cannot be updated.")
        return self._store(name, version, props, previous), previous is None

    def temporary_reference(self, name: str, version: str) -> dict:
        """PUT .../tempdatarefs/{name}/versions/{version}: a write SAS for a new version's files; an asset
        that exists answers 409 (azure-ai-ml's get_sas_uri_for_registry_asset skips the upload then)."""
        self._refuse_deleted(name, version)
        if self.version(name, version) is not None:
            refuse(409, "Conflict", f"Asset {self.model_id(name, version)} already exists.")
        uri = self.storage_uri(name, version)
        return {
            "blobReferenceForConsumption": {
                "blobUri": uri,
                "storageAccountArmId": None,
                "credential": {"credentialType": "SAS", "sasUri": uri + "?sv=fake&sig=fake"},
            }
        }

    def check_import(self, name: str, version: str) -> None:
        """Refusals of an import (POST .../registries/{r}/import) before it is accepted."""
        check_asset_name_and_version(name, version)
        self._refuse_deleted(name, version)
        if self.version(name, version) is not None:
            refuse(
                409,
                "Conflict",
                f"Asset {self.model_id(name, version)} already exists in registry "
                f"'{self.name}'; registry versions are immutable.",
            )

    def import_model(self, name: str, version: str, source: dict, files: dict[str, bytes]) -> dict:
        """Copy a workspace model version (its ARM resource) into the registry: same description, tags,
        properties, type, flavors and job lineage; its files are copied to the registry's storage."""
        props = dict(source["properties"])
        props["modelUri"] = self.storage_uri(name, version)
        self._files[(name, str(version))] = dict(files)
        return self._store(name, version, props, None)

    def store_files(self, name: str, version: str, files: dict[str, bytes]) -> None:
        self._files[(name, str(version))] = dict(files)

    def files_of(self, name: str, version: str) -> dict[str, bytes]:
        """The files of a version in the registry's storage ({} when it holds none)."""
        return dict(self._files.get((name, str(version)), {}))

    def delete_version(self, name: str, version: str) -> None:
        if self.version(name, version) is None:
            raise KeyError(f"registry {self.name!r} has no model {name}:{version}")
        del self._models[name][version]
        self._files.pop((name, version), None)
        self._deleted.add((name, version))

    def version(self, name: str, version: str) -> dict | None:
        return self._models.get(name, {}).get(str(version))

    # ------------------------------------------------------------------ helpers
    def _refuse_deleted(self, name: str, version: str) -> None:
        if (name, version) in self._deleted:
            refuse(
                409,
                "Conflict",
                f"Model {name}:{version} was deleted from registry '{self.name}'; a deleted "
                "registry version cannot be created again. Use another version.",
            )

    def _store(self, name: str, version: str, props: dict, previous: dict | None) -> dict:
        resource = {
            "id": self.model_id(name, version),
            "name": version,
            "type": f"{PROVIDER}/registries/models/versions",
            "properties": model_version_properties(props, props["modelUri"], props.get("jobName")),
            "systemData": self._system_data(previous["systemData"] if previous else None),
        }
        self._models.setdefault(name, {})[version] = resource
        return resource
