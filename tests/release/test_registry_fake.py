"""The Azure ML fake serves registries the way the service answers azure-ai-ml 1.35.2's registry client.

An MLClient built with registry_name asks registry discovery where the registry lives
(_utils/_registry_utils.py: RegistryDiscovery, GET .../registrymanagement/v1.0/registries/{r}/discovery)
and sends every call to `{primaryRegionResourceProviderUri}mferp/managementfrontend` with api-version
2021-10-01-dataplanepreview. models.share (operations/_model_operations.py: share) reads the
workspace (its GUID and region name the source asset), then create_or_update(WorkspaceAssetReference)
checks the registry for the version and POSTs .../registries/{r}/import, an ARM-polled operation.
share() builds that registry client from the credential alone (no transport), so these tests build
it the way share does, with the fake's transport.
"""

from __future__ import annotations

import pytest
from azure.ai.ml import MLClient
from azure.ai.ml.entities import Model
from azure.ai.ml.entities._assets.workspace_asset_reference import WorkspaceAssetReference
from azure.ai.ml.exceptions import ValidationException
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from tests.fakes.azureml import FakeAzureML

REGISTRY = "mlops-registry"


@pytest.fixture
def fake():
    fake = FakeAzureML()
    fake.add_registry(REGISTRY, resource_group="rg-registry")
    fake.add_model_version(
        "hs", "3f2a", tags={"stage": "candidate"}, properties={"content_sha256": "3f2a99"}, description="tiny"
    )
    return fake


@pytest.fixture
def workspace(fake):
    return MLClient(
        fake.credential,
        fake.subscription_id,
        fake.resource_group,
        fake.workspace_name,
        transport=fake.transport,
        retry_total=0,
    )


@pytest.fixture
def registry(fake):
    return MLClient(fake.credential, registry_name=REGISTRY, transport=fake.transport, retry_total=0)


def reference(workspace, name="hs", version="3f2a", target_version=None):
    ws = workspace.workspaces.get(workspace.workspace_name)
    return WorkspaceAssetReference(
        name=name,
        version=target_version or version,
        asset_id=f"azureml://locations/{ws.location}/workspaces/{ws._workspace_id}/models/{name}/versions/{version}",
    )


def test_registry_discovery_points_the_client_at_the_registry_endpoint(fake, registry):
    discovery = fake.calls_to("registries.discovery")[0]
    assert discovery.path == f"/registrymanagement/v1.0/registries/{REGISTRY}/discovery"
    with pytest.raises(ResourceNotFoundError):
        registry.models.get("hs", "3f2a")
    get = fake.calls_to("registry_model_versions.get")[0]
    assert get.api_version == "2021-10-01-dataplanepreview"
    assert get.path == (
        f"/mferp/managementfrontend/subscriptions/{fake.subscription_id}/resourceGroups/rg-registry"
        f"/providers/Microsoft.MachineLearningServices/registries/{REGISTRY}/models/hs/versions/3f2a"
    )


def test_an_unknown_registry_is_not_found_at_discovery(fake):
    with pytest.raises(ResourceNotFoundError):
        MLClient(fake.credential, registry_name="nowhere", transport=fake.transport, retry_total=0)


def test_sharing_copies_the_workspace_version_into_the_registry(fake, workspace, registry):
    shared = registry.models.create_or_update(reference(workspace))
    assert shared.id == f"azureml://registries/{REGISTRY}/models/hs/versions/3f2a"
    assert shared.tags == {"stage": "candidate"} and shared.properties == {"content_sha256": "3f2a99"}
    assert shared.description == "tiny" and shared.path.startswith("https://")
    imported = fake.calls_to("registry_assets.import")[0]
    assert imported.method == "POST" and imported.path.endswith(f"/registries/{REGISTRY}/import")
    assert imported.body["properties"]["referenceType"] == "Id"
    assert imported.body["properties"]["sourceAssetId"].endswith("/models/hs/versions/3f2a")
    assert fake.calls_to("operations.get"), "the import is polled as a long-running operation"
    assert registry.models.get("hs", "3f2a").id == shared.id


def test_a_slow_import_is_not_visible_until_its_operation_ends(fake, workspace, registry):
    fake.lro_polls = 3
    registry.models.create_or_update(reference(workspace))
    polls = [c.status for c in fake.calls_to("operations.get")]
    assert len(polls) >= 3 and fake.registry_model_version(REGISTRY, "hs", "3f2a") is not None


def test_a_version_the_registry_holds_is_refused(fake, workspace, registry):
    fake.add_registry_model_version(REGISTRY, "hs", "3f2a")
    with pytest.raises(ValidationException, match="already exists in registry"):  # azure-ai-ml checks first
        registry.models.create_or_update(reference(workspace))
    body = {
        "properties": {
            "referenceType": "Id",
            "destinationName": "hs",
            "destinationVersion": "3f2a",
            "sourceAssetId": reference(workspace).asset_id,
        }
    }
    with pytest.raises(HttpResponseError) as caught:  # the service refuses too (a share racing another)
        registry.models._registry_service_client.send_request(_import_request(fake, body)).raise_for_status()
    assert caught.value.status_code == 409


def test_a_deleted_registry_version_cannot_be_created_again(fake, workspace, registry):
    registry.models.create_or_update(reference(workspace))
    fake.delete_registry_model_version(REGISTRY, "hs", "3f2a")
    with pytest.raises(HttpResponseError) as caught:
        registry.models.create_or_update(reference(workspace))
    assert caught.value.status_code == 409 and "cannot be created again" in caught.value.error.message
    assert fake.registry_model_version(REGISTRY, "hs", "3f2a") is None


def test_a_failed_import_copies_nothing(fake, workspace, registry):
    fake.fail_lro("registry_assets.import", message="copy failed")
    with pytest.raises(HttpResponseError):
        registry.models.create_or_update(reference(workspace))
    assert fake.registry_model_version(REGISTRY, "hs", "3f2a") is None


def test_an_import_of_a_missing_workspace_version_is_refused(fake, workspace, registry):
    with pytest.raises(HttpResponseError) as caught:
        registry.models.create_or_update(reference(workspace, version="0000"))
    assert caught.value.status_code == 404


def test_a_registry_model_put_updates_tags_but_never_the_path(fake, registry):
    created = registry.models.create_or_update(
        Model(
            name="direct",
            version="1",
            type="custom_model",
            path="https://example.blob.core.windows.net/c/m/",
            tags={"a": "1"},
        )
    )
    assert fake.calls_to("registry_temp_data_refs.put")[0].status == 200
    assert fake.calls_to("registry_model_versions.put")[0].api_version == "2021-10-01-dataplanepreview"
    assert created.id == f"azureml://registries/{REGISTRY}/models/direct/versions/1"
    registry.models.create_or_update(
        Model(
            name="direct",
            version="1",
            type="custom_model",
            path="https://example.blob.core.windows.net/c/m/",
            tags={"stage": "prod"},
        )
    )
    assert fake.calls_to("registry_temp_data_refs.put")[-1].status == 409  # the asset exists: no upload
    assert fake.registry_model_version(REGISTRY, "direct", "1")["properties"]["tags"] == {"stage": "prod"}
    with pytest.raises(HttpResponseError) as caught:
        registry.models.create_or_update(
            Model(
                name="direct", version="1", type="custom_model", path="https://example.blob.core.windows.net/c/other/"
            )
        )
    assert caught.value.status_code == 400


def _import_request(fake, body):
    return HttpRequest(
        "POST",
        f"/subscriptions/{fake.subscription_id}/resourceGroups/rg-registry/providers/"
        f"Microsoft.MachineLearningServices/registries/{REGISTRY}/import",
        params={"api-version": "2021-10-01-dataplanepreview"},
        json=body,
    )
