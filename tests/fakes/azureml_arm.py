"""ARM resource documents the fake serves as they are: the workspace, its datastores, systemData."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta

PROVIDER = "Microsoft.MachineLearningServices"
CREATED = {
    "createdAt": "2026-01-01T00:00:00.000Z",
    "createdBy": "fake@example.com",
    "createdByType": "User",
    "lastModifiedAt": "2026-01-01T00:00:00.000Z",
    "lastModifiedBy": "fake@example.com",
    "lastModifiedByType": "User",
}


class Clock:
    """A logical clock: one second per tick, so creation order is stable and timestamps are exact."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)):
        self._now = start

    def tick(self) -> str:
        self._now += timedelta(seconds=1)
        return self._now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def system_data(self, previous: dict | None = None) -> dict:
        now = self.tick()
        created = previous or {"createdAt": now, "createdBy": "fake@example.com", "createdByType": "User"}
        return {
            "createdAt": created["createdAt"],
            "createdBy": created["createdBy"],
            "createdByType": created["createdByType"],
            "lastModifiedAt": now,
            "lastModifiedBy": "fake@example.com",
            "lastModifiedByType": "User",
        }


def workspace_resource(
    workspace_id: str, subscription_id: str, resource_group: str, workspace_name: str, region: str, workspace_guid: str
) -> dict:
    rg_id = f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers"
    compact = workspace_name.replace("-", "")
    return {
        "id": workspace_id,
        "name": workspace_name,
        "type": f"{PROVIDER}/workspaces",
        "location": region,
        "kind": "Default",
        "tags": {},
        "identity": {"type": "SystemAssigned", "principalId": str(uuid.UUID(int=1)), "tenantId": str(uuid.UUID(int=2))},
        "sku": {"name": "Basic", "tier": "Basic"},
        "properties": {
            "friendlyName": workspace_name,
            "workspaceId": workspace_guid,
            "storageAccount": f"{rg_id}/Microsoft.Storage/storageAccounts/st{compact}",
            "keyVault": f"{rg_id}/Microsoft.KeyVault/vaults/kv-{workspace_name}",
            "applicationInsights": f"{rg_id}/Microsoft.Insights/components/appi-{workspace_name}",
            "containerRegistry": f"{rg_id}/Microsoft.ContainerRegistry/registries/cr{compact}",
            "discoveryUrl": f"https://{region}.api.azureml.ms/discovery",
            "mlFlowTrackingUri": f"azureml://{region}.api.azureml.ms/mlflow/v1.0{workspace_id}",
            "provisioningState": "Succeeded",
            "hbiWorkspace": False,
            "publicNetworkAccess": "Enabled",
            "v1LegacyMode": False,
        },
        "systemData": dict(CREATED),
    }


def datastore_resource(workspace_id: str, workspace_name: str, workspace_guid: str, name: str, default: bool) -> dict:
    blob = name == "workspaceblobstore"
    properties = {
        "datastoreType": "AzureBlob" if blob else "AzureFile",
        "accountName": f"st{workspace_name.replace('-', '')}",
        "endpoint": "core.windows.net",
        "protocol": "https",
        "credentials": {"credentialsType": "AccountKey"},
        "isDefault": default,
        "serviceDataAccessAuthIdentity": "WorkspaceSystemAssignedIdentity",
        "description": None,
        "properties": {},
        "tags": {},
    }
    if blob:
        properties["containerName"] = f"azureml-blobstore-{workspace_guid}"
    else:
        properties["fileShareName"] = f"code-{workspace_guid}"
    return {
        "id": f"{workspace_id}/datastores/{name}",
        "name": name,
        "type": f"{PROVIDER}/workspaces/datastores",
        "properties": properties,
        "systemData": dict(CREATED),
    }


def model_version_properties(props: dict, model_uri: str, job_name: str | None) -> dict:
    """The properties of a stored model version (a workspace's or a registry's), from a PUT's properties."""
    return {
        "description": props.get("description"),
        "tags": dict(props.get("tags") or {}),
        "properties": dict(props.get("properties") or {}),
        "isAnonymous": bool(props.get("isAnonymous", False)),
        "isArchived": bool(props.get("isArchived", False)),
        "flavors": copy.deepcopy(props.get("flavors") or {}),
        "jobName": job_name,
        "modelType": props.get("modelType") or "custom_model",
        "modelUri": model_uri,
        "stage": props.get("stage"),
        "provisioningState": "Succeeded",
    }
