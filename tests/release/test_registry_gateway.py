"""The gateway shares model versions into an Azure ML registry and reads them back, against the fake.

share_model does what ml_client.models.share does (operations/_model_operations.py: share — a
workspace GET for its GUID and region, then create_or_update(WorkspaceAssetReference) in the
registry's scope, which POSTs .../registries/{r}/import) through a registry-scoped MLClient that
carries the gateway's transport, because share() builds its registry client from the credential
alone (_utils/_registry_utils.py: get_registry_client(credential, registry_name)). It reads the
registry first, so a retry or a rerun reuses a version that holds the same content.
"""

from __future__ import annotations

import pytest

from infra.azureml import AzureMLError, NotFound, RetryPolicy
from tests.fakes.azureml import FakeAzureML, gateway_for

REGISTRY = "mlops-registry"
MODEL = "hate-speech-pt"
CONTENT = {"content_sha256": "c0ffee00" * 8, "source_path": "azureml://jobs/train-0a1b2c/outputs/artifact"}


@pytest.fixture
def fake():
    fake = FakeAzureML()
    fake.add_registry(REGISTRY, resource_group="rg-mlops-shared")
    fake.add_model_version(MODEL, "c0ffee", properties=CONTENT, tags={"stage": "candidate"}, description="dev")
    return fake


@pytest.fixture
def gateway(fake):
    return gateway_for(fake, retry=RetryPolicy(attempts=3))


def test_a_model_is_shared_under_the_same_content_version_and_read_back(fake, gateway):
    shared = gateway.share_model(MODEL, "c0ffee", REGISTRY)
    assert shared.id == f"azureml://registries/{REGISTRY}/models/{MODEL}/versions/c0ffee"
    assert (shared.name, shared.version, shared.properties) == (MODEL, "c0ffee", CONTENT)
    assert shared.tags == {"stage": "candidate"} and shared.description == "dev"
    assert gateway.get_registry_model_version(REGISTRY, MODEL, "c0ffee") == shared
    assert fake.registry_model_version(REGISTRY, MODEL, "c0ffee") is not None
    source = fake.calls_to("registry_assets.import")[0].body["properties"]["sourceAssetId"]
    assert source.startswith("azureml://locations/westeurope/workspaces/") and source.endswith("/versions/c0ffee")


def test_share_can_rename_the_version_in_the_registry(fake, gateway):
    shared = gateway.share_model(MODEL, "c0ffee", REGISTRY, share_with_name="hs", share_with_version="2026.1")
    assert shared.id == f"azureml://registries/{REGISTRY}/models/hs/versions/2026.1"
    assert fake.registry_model_version(REGISTRY, MODEL, "c0ffee") is None


def test_sharing_again_reuses_the_registry_version_without_writing(fake, gateway):
    first = gateway.share_model(MODEL, "c0ffee", REGISTRY)
    writes = len(fake.writes())
    assert gateway.share_model(MODEL, "c0ffee", REGISTRY) == first
    assert len(fake.writes()) == writes and len(fake.calls_to("registry_assets.import")) == 1


def test_a_registry_holding_the_version_with_other_content_refuses_it(fake, gateway):
    fake.add_registry_model_version(REGISTRY, MODEL, "c0ffee", properties={"content_sha256": "other"})
    with pytest.raises(AzureMLError) as caught:
        gateway.share_model(MODEL, "c0ffee", REGISTRY)
    err = caught.value
    assert err.status == 409 and err.operation == "share_model" and "immutable" in err.service_message
    assert err.resource == f"registry {REGISTRY} model {MODEL}:c0ffee"
    assert fake.calls_to("registry_assets.import") == []


def test_a_deleted_registry_version_cannot_be_shared_again(fake, gateway):
    gateway.share_model(MODEL, "c0ffee", REGISTRY)
    fake.delete_registry_model_version(REGISTRY, MODEL, "c0ffee")
    with pytest.raises(AzureMLError) as caught:
        gateway.share_model(MODEL, "c0ffee", REGISTRY)
    assert caught.value.status == 409 and "cannot be created again" in caught.value.service_message
    assert caught.value.attempts == 1 and fake.gateway_sleeps == []


def test_the_registry_refusing_the_import_as_a_duplicate_is_not_retried(fake, gateway):
    """A share racing another one: the registry answers the import 409 Conflict; that is final."""
    fake.fail("registry_assets.import", 409, code="Conflict", message="Asset already exists in registry")
    with pytest.raises(AzureMLError) as caught:
        gateway.share_model(MODEL, "c0ffee", REGISTRY)
    assert (caught.value.status, caught.value.code, caught.value.attempts) == (409, "Conflict", 1)
    assert fake.gateway_sleeps == [] and fake.registry_model_version(REGISTRY, MODEL, "c0ffee") is None


def test_missing_sources_and_registries_are_not_found(fake, gateway):
    with pytest.raises(NotFound, match="share_model on model hate-speech-pt:0000"):
        gateway.share_model(MODEL, "0000", REGISTRY)
    with pytest.raises(NotFound, match="find_registry on registry nowhere"):
        gateway.share_model(MODEL, "c0ffee", "nowhere")
    with pytest.raises(NotFound):
        gateway.get_registry_model_version("nowhere", MODEL, "c0ffee")
    assert gateway.get_registry_model_version(REGISTRY, MODEL, "c0ffee") is None


def test_a_failed_copy_is_final_and_leaves_nothing(fake, gateway):
    fake.fail_lro("registry_assets.import", message="copy of the model files failed")
    with pytest.raises(AzureMLError) as caught:
        gateway.share_model(MODEL, "c0ffee", REGISTRY)
    assert "copy of the model files failed" in str(caught.value) and caught.value.attempts == 1
    assert fake.registry_model_version(REGISTRY, MODEL, "c0ffee") is None


@pytest.mark.parametrize(
    "operation, path_contains",
    [
        ("registries.discovery", None),
        ("registry_model_versions.get", None),
        ("workspaces.get", None),
        ("registry_model_versions.list", None),
        ("registry_assets.import", None),
        ("operations.get", "/mferp/"),  # polling the import on the registry's endpoint
    ],
)
def test_throttling_at_each_share_call_waits_as_told_and_copies_once(fake, gateway, operation, path_contains):
    fake.fail(operation, 429, retry_after=13, path_contains=path_contains)
    shared = gateway.share_model(MODEL, "c0ffee", REGISTRY)
    assert shared.version == "c0ffee" and fake.gateway_sleeps == [13.0]
    assert [c.status for c in fake.calls_to(operation)].count(429) == 1
    assert len([c for c in fake.calls_to("registry_assets.import") if c.status == 202]) == 1


@pytest.mark.parametrize("operation", ["registry_model_versions.get", "registry_assets.import"])
def test_server_errors_while_sharing_are_retried_with_backoff(fake, gateway, operation):
    fake.fail(operation, 500, times=2)
    assert gateway.share_model(MODEL, "c0ffee", REGISTRY).version == "c0ffee"
    assert fake.gateway_sleeps == [2.0, 4.0]


def test_a_lost_import_answer_is_retried_by_reading_the_registry(fake, gateway):
    fake.lose_response("registry_assets.import")
    shared = gateway.share_model(MODEL, "c0ffee", REGISTRY)
    assert shared.properties == CONTENT
    imports = fake.calls_to("registry_assets.import")
    assert len(imports) == 1 and imports[0].response_lost


def test_reading_a_registry_version_retries_and_bounds_faults(fake, gateway):
    gateway.share_model(MODEL, "c0ffee", REGISTRY)
    fake.fail("registry_model_versions.get", 503, times=1)
    assert gateway.get_registry_model_version(REGISTRY, MODEL, "c0ffee").version == "c0ffee"
    fake.fail("registry_model_versions.get", 503, times=None, message="registry down")
    with pytest.raises(AzureMLError) as caught:
        gateway.get_registry_model_version(REGISTRY, MODEL, "c0ffee")
    assert (caught.value.status, caught.value.attempts) == (503, 3) and "registry down" in str(caught.value)
