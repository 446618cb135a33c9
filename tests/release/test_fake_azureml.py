"""The Azure ML fake answers azure-ai-ml 1.35.2 the way the service does (paths, api-versions, rules)."""

from __future__ import annotations

import json
import tempfile
from collections import Counter

import pytest
from azure.ai.ml import MLClient
from azure.ai.ml.constants import ListViewType
from azure.ai.ml.entities import ManagedOnlineEndpoint, Model
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from tests.fakes.azureml import OPERATIONS, FakeAzureML

WS_PATH = (
    "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-mlops-test/providers/"
    "Microsoft.MachineLearningServices/workspaces/mlw-test"
)


@pytest.fixture
def fake():
    return FakeAzureML()


@pytest.fixture
def ml(fake):
    return MLClient(
        fake.credential,
        fake.subscription_id,
        fake.resource_group,
        fake.workspace_name,
        transport=fake.transport,
        retry_total=0,
    )


def raw(fake, method, path, body=None, api_version="2023-08-01-preview", headers=None, host="management.azure.com"):
    query = f"?api-version={api_version}" if api_version else ""
    request = HttpRequest(method, f"https://{host}{path}{query}", json=body, headers=headers or {})
    response = fake.transport.send(request)
    response.read()
    return response


def endpoint_with(fake, *deployments, traffic=None, scorers=None):
    fake.add_endpoint("ep1", description="serves hate speech", tags={"team": "ml"})
    for name in deployments:
        fake.add_deployment("ep1", name, scorer=(scorers or {}).get(name, lambda p, n=name: {"from": n}))
    if traffic is not None:
        fake.set_traffic("ep1", traffic)


def test_sdk_calls_use_the_documented_paths_and_api_versions(fake, ml):
    ml.models.create_or_update(
        Model(name="m", version="1", path="azureml://datastores/workspaceblobstore/paths/m/1", type="custom_model")
    )
    endpoint_with(fake, "blue", traffic={"blue": 100})
    entity = ml.online_endpoints.get("ep1")
    ml.online_endpoints.begin_create_or_update(entity).result()
    ml.online_deployments.get(name="blue", endpoint_name="ep1")

    versions = {(c.operation, c.method): c.api_version for c in fake.calls}
    assert versions[("model_versions.put", "PUT")] == "2023-08-01-preview"
    assert versions[("online_endpoints.put", "PUT")] == "2022-02-01-preview"
    assert versions[("online_deployments.get", "GET")] == "2023-04-01-preview"
    assert versions[("workspaces.get", "GET")] == "2024-10-01-preview"
    put = fake.calls_to("model_versions.put")[0]
    assert put.path == f"{WS_PATH}/models/m/versions/1"
    assert set(fake.credential.scopes) == {("https://management.azure.com/.default",)}


def test_unknown_or_missing_api_version_is_refused(fake):
    wrong = raw(fake, "GET", f"{WS_PATH}/models/m/versions/1", api_version="2019-01-01")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "NoRegisteredProviderFound"
    missing = raw(fake, "GET", f"{WS_PATH}/models/m/versions/1", api_version=None)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "MissingApiVersionParameter"


def test_missing_resources_answer_404_in_the_arm_error_shape(fake, ml):
    with pytest.raises(ResourceNotFoundError) as caught:
        ml.online_endpoints.get("nope")
    assert caught.value.error.code == "ResourceNotFound"
    body = raw(fake, "GET", f"{WS_PATH}/models/m/versions/9").json()
    assert set(body["error"]) >= {"code", "message", "details", "additionalInfo"}
    assert raw(fake, "GET", f"{WS_PATH}/nothingHere").json()["error"]["code"] == "NoRoute"
    assert fake.calls[-1].operation == "unknown"


def test_workspace_and_default_datastore_look_like_arm_resources(fake):
    workspace = raw(fake, "GET", WS_PATH, api_version="2024-10-01-preview").json()
    assert workspace["type"] == "Microsoft.MachineLearningServices/workspaces"
    assert workspace["location"] == "westeurope" and workspace["properties"]["provisioningState"] == "Succeeded"
    stores = raw(fake, "GET", f"{WS_PATH}/datastores", api_version="2024-10-01-preview").json()["value"]
    default = [s for s in stores if s["properties"]["isDefault"]]
    assert [s["name"] for s in default] == ["workspaceblobstore"]
    assert default[0]["properties"]["datastoreType"] == "AzureBlob"


def test_model_put_replaces_the_whole_version_and_sdk_sends_is_archived_false(fake, ml):
    path = "azureml://datastores/workspaceblobstore/paths/m/1"
    ml.models.create_or_update(Model(name="m", version="1", path=path, tags={"a": "1", "b": "2"}, type="custom_model"))
    ml.models.archive("m", version="1")
    assert fake.model_version("m", "1")["properties"]["isArchived"] is True

    ml.models.create_or_update(Model(name="m", version="1", path=path, tags={"c": "3"}, type="custom_model"))
    stored = fake.model_version("m", "1")["properties"]
    assert stored["tags"] == {"c": "3"}  # replaced, not merged
    assert stored["isArchived"] is False  # the entity always sends false: the gateway must not use it for tags


def test_model_path_cannot_change_once_registered(fake, ml):
    ml.models.create_or_update(
        Model(name="m", version="1", path="azureml://datastores/workspaceblobstore/paths/a", type="custom_model")
    )
    with pytest.raises(HttpResponseError) as caught:
        ml.models.create_or_update(
            Model(name="m", version="1", path="azureml://datastores/workspaceblobstore/paths/b", type="custom_model")
        )
    assert caught.value.status_code == 400
    assert "Asset paths cannot be updated" in caught.value.error.message


def test_model_registration_needs_an_existing_datastore(fake, ml):
    with pytest.raises(HttpResponseError) as caught:
        ml.models.create_or_update(
            Model(name="m", version="1", path="azureml://datastores/nostore/paths/a", type="custom_model")
        )
    assert caught.value.status_code == 400 and "nostore" in caught.value.error.message


def test_listing_versions_filters_archived_and_follows_next_links(fake, ml):
    for version in range(1, 106):
        fake.add_model_version("m", str(version), archived=version % 2 == 0)
    active = [m.version for m in ml.models.list("m")]
    every = [m.version for m in ml.models.list("m", list_view_type=ListViewType.ALL)]
    archived = [m.version for m in ml.models.list("m", list_view_type=ListViewType.ARCHIVED_ONLY)]
    assert len(active) == 53 and len(archived) == 52 and len(every) == 105
    assert len([c for c in fake.calls_to("model_versions.list") if c.query.get("listViewType") == "All"]) == 2
    assert fake.model_version("m", "105")["properties"]["isArchived"] is False


@pytest.mark.parametrize(
    "traffic, mirror, message",
    [
        ({"blue": 60, "green": 30}, {}, "sum to 100"),
        ({"blue": 100, "ghost": 0, "red": 0}, {"ghost": 10}, "does not exist"),
        ({"blue": 100}, {"green": 60}, "at most 50"),
        ({"blue": 50, "green": 50}, {"green": 10}, "both live traffic and mirror"),
    ],
)
def test_endpoint_traffic_rules_are_enforced(fake, ml, traffic, mirror, message):
    endpoint_with(fake, "blue", "green", traffic={"blue": 100})
    entity = ml.online_endpoints.get("ep1")
    entity.traffic, entity.mirror_traffic = traffic, mirror
    with pytest.raises(HttpResponseError) as caught:
        ml.online_endpoints.begin_create_or_update(entity).result()
    assert caught.value.status_code == 400 and message in caught.value.error.message
    assert fake.endpoint("ep1")["properties"]["traffic"] == {"blue": 100}


def test_mirror_traffic_goes_to_one_deployment_only(fake):
    endpoint_with(fake, "blue", "green", "red", traffic={"blue": 100})
    with pytest.raises(Exception, match="one deployment only"):
        fake.set_traffic("ep1", {"blue": 100}, {"green": 10, "red": 10})


def test_endpoint_put_sends_and_stores_the_whole_body(fake, ml):
    endpoint_with(fake, "blue", "green", traffic={"blue": 100})
    fake.set_traffic("ep1", {"blue": 100}, {"green": 20})
    fresh = ManagedOnlineEndpoint(name="ep1", auth_mode="key", traffic={"green": 100})
    ml.online_endpoints.begin_create_or_update(fresh).result()
    stored = fake.endpoint("ep1")
    assert stored["properties"]["traffic"] == {"green": 100}
    assert stored["properties"]["mirrorTraffic"] == {}  # omitted field: cleared, not kept
    assert stored["tags"] == {} and not stored["properties"]["description"]


def put_endpoint_raw(fake, traffic):
    body = {
        "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "properties": {"authMode": "Key", "traffic": traffic},
    }
    return raw(fake, "PUT", f"{WS_PATH}/onlineEndpoints/ep1", body, api_version="2022-02-01-preview")


def test_writes_while_an_endpoint_updates_answer_409_until_the_operation_ends(fake, ml):
    endpoint_with(fake, "blue", "green", traffic={"blue": 100})
    fake.lro_polls = 20  # requests until it ends; nobody polls it
    assert put_endpoint_raw(fake, {"blue": 50, "green": 50}).status_code == 201
    assert fake.endpoint("ep1")["properties"]["provisioningState"] == "Updating"
    entity = ml.online_endpoints.get("ep1")
    with pytest.raises(ResourceExistsError) as caught:
        ml.online_endpoints.begin_create_or_update(entity)
    assert caught.value.status_code == 409
    with pytest.raises(ResourceExistsError):
        ml.online_deployments.begin_create_or_update(ml.online_deployments.get(name="green", endpoint_name="ep1"))
    fake.complete_operations()
    assert fake.endpoint("ep1")["properties"]["provisioningState"] == "Succeeded"
    ml.online_endpoints.begin_create_or_update(entity).result()


def test_sdk_pollers_poll_until_the_operation_succeeds_without_real_sleeps(fake, ml):
    endpoint_with(fake, "blue", "green", traffic={"blue": 100})
    fake.lro_polls = 3
    entity = ml.online_endpoints.get("ep1")
    entity.traffic = {"blue": 50, "green": 50}
    done = ml.online_endpoints.begin_create_or_update(entity).result()
    assert done.traffic == {"blue": 50, "green": 50}
    assert done.provisioning_state.value == "Succeeded"
    assert [c.operation for c in fake.calls[-5:]] == ["operations.get"] * 4 + ["online_endpoints.get"]
    assert len(fake.transport.sleeps) >= 3  # azure-core asked to wait between polls; the fake did not


def test_lro_status_uses_azure_async_operation(fake):
    endpoint_with(fake, "blue")
    response = put_endpoint_raw(fake, {"blue": 100})
    assert response.status_code == 201
    status_url = response.headers["Azure-AsyncOperation"]
    assert "/locations/westeurope/mfeOperationsStatus/" in status_url
    status = fake.transport.send(HttpRequest("GET", status_url))
    status.read()
    assert status.json()["status"] == "Succeeded"


def test_hold_endpoint_updating_refuses_the_given_number_of_writes(fake, ml):
    endpoint_with(fake, "blue", traffic={"blue": 100})
    fake.hold_endpoint_updating("ep1", writes=2)
    entity = ml.online_endpoints.get("ep1")
    assert entity.provisioning_state.value == "Updating"
    for _ in range(2):
        with pytest.raises(ResourceExistsError):
            ml.online_endpoints.begin_create_or_update(entity)
    ml.online_endpoints.begin_create_or_update(entity).result()
    assert [c.status for c in fake.calls_to("online_endpoints.put")] == [409, 409, 201]


def test_a_deployment_with_traffic_cannot_be_deleted(fake, ml):
    endpoint_with(fake, "blue", "green", traffic={"blue": 100})
    fake.set_traffic("ep1", {"blue": 100}, {"green": 10})
    for name in ("blue", "green"):
        with pytest.raises(HttpResponseError) as caught:
            ml.online_deployments.begin_delete(name=name, endpoint_name="ep1").result()
        assert caught.value.status_code == 400 and "receives traffic" in caught.value.error.message
    fake.set_traffic("ep1", {"blue": 100})
    ml.online_deployments.begin_delete(name="green", endpoint_name="ep1").result()
    assert fake.deployment("ep1", "green") is None and fake.deployment("ep1", "blue") is not None


def test_deployment_names_must_be_lowercase(fake):
    endpoint_with(fake)
    body = {
        "location": "westeurope",
        "sku": {"name": "Default", "capacity": 1},
        "properties": {"endpointComputeType": "Managed", "instanceType": "Standard_DS3_v2"},
    }
    response = raw(
        fake, "PUT", f"{WS_PATH}/onlineEndpoints/ep1/deployments/Blue", body, api_version="2023-04-01-preview"
    )
    assert response.status_code == 400 and "lowercase" in response.json()["error"]["message"]
    assert fake.deployment("ep1", "Blue") is None


def test_deployment_must_reference_an_existing_model_version(fake):
    endpoint_with(fake)
    with pytest.raises(Exception, match="does not exist"):
        fake.add_deployment("ep1", "blue", model_id=fake.model_version_id("m", "7"))


def test_injected_faults_fail_the_given_number_of_matching_calls(fake, ml):
    fake.add_model_version("m", "1")
    fake.fail("model_versions.get", 503, times=2)
    for _ in range(2):
        with pytest.raises(HttpResponseError) as caught:
            ml.models.get("m", "1")
        assert caught.value.status_code == 503 and caught.value.error.code == "ServiceUnavailable"
    assert ml.models.get("m", "1").version == "1"

    fake.fail("model_versions.get", 500, times=None, path_contains="/versions/2", message="boom")
    fake.add_model_version("m", "2")
    for _ in range(3):
        with pytest.raises(HttpResponseError, match="boom"):
            ml.models.get("m", "2")
    assert ml.models.get("m", "1").version == "1"


def test_a_429_carries_retry_after(fake, ml):
    fake.fail("online_endpoints.get", 429, retry_after=7)
    with pytest.raises(HttpResponseError) as caught:
        ml.online_endpoints.get("ep1")
    assert caught.value.status_code == 429 and caught.value.response.headers["Retry-After"] == "7"


def test_a_faulted_write_changes_nothing(fake, ml):
    endpoint_with(fake, "blue", "green", traffic={"blue": 100})
    fake.fail("online_endpoints.put", 500)
    entity = ml.online_endpoints.get("ep1")
    entity.traffic = {"green": 100}
    with pytest.raises(HttpResponseError):
        ml.online_endpoints.begin_create_or_update(entity).result()
    assert fake.endpoint("ep1")["properties"]["traffic"] == {"blue": 100}


def test_fault_names_are_checked():
    with pytest.raises(ValueError, match="unknown operation 'models.get'"):
        FakeAzureML().fail("models.get", 500)
    with pytest.raises(ValueError, match="not long-running"):
        FakeAzureML().fail_lro("model_versions.put")
    assert "online_endpoints.put" in OPERATIONS


def test_failed_endpoint_operation_keeps_previous_traffic(fake, ml):
    endpoint_with(fake, "blue", "green", traffic={"blue": 100})
    fake.fail_lro("online_endpoints.put", message="quota exceeded")
    entity = ml.online_endpoints.get("ep1")
    entity.traffic = {"green": 100}
    with pytest.raises(HttpResponseError, match="quota exceeded"):
        ml.online_endpoints.begin_create_or_update(entity).result()
    stored = fake.endpoint("ep1")["properties"]
    assert stored["traffic"] == {"blue": 100} and stored["provisioningState"] == "Failed"


def test_failed_deployment_operation_leaves_it_unhealthy(fake, ml):
    endpoint_with(fake, "blue", "green", traffic={"blue": 100})
    fake.fail_lro("online_deployments.put")
    with pytest.raises(HttpResponseError):
        ml.online_deployments.begin_create_or_update(
            ml.online_deployments.get(name="green", endpoint_name="ep1")
        ).result()
    assert fake.deployment("ep1", "green")["properties"]["provisioningState"] == "Failed"
    response = score(fake, "ep1", {"x": 1}, deployment="green")
    assert response.status_code == 503


def score(fake, endpoint, payload, deployment=None, key=None):
    headers = {"Authorization": f"Bearer {key or fake.keys(endpoint)['primaryKey']}"}
    if deployment:
        headers["azureml-model-deployment"] = deployment
    return raw(
        fake,
        "POST",
        "/score",
        payload,
        api_version=None,
        headers=headers,
        host=f"{endpoint}.westeurope.inference.ml.azure.com",
    )


def test_scoring_needs_the_endpoint_key(fake):
    endpoint_with(fake, "blue", traffic={"blue": 100})
    assert score(fake, "ep1", {"x": 1}, key="wrong").status_code == 401
    ok = score(fake, "ep1", {"x": 1})
    assert ok.status_code == 200 and ok.json() == {"from": "blue"}
    assert score(fake, "ep1", {"x": 1}, key=fake.keys("ep1")["secondaryKey"]).status_code == 200


def test_scoring_routes_by_header_then_by_traffic_and_mirrors(fake):
    endpoint_with(fake, "blue", "green", "red")
    fake.set_traffic("ep1", {"blue": 80, "green": 20}, {"red": 50})
    assert score(fake, "ep1", {}, deployment="red").json() == {"from": "red"}
    served = Counter(score(fake, "ep1", {"i": i}).json()["from"] for i in range(400))
    assert set(served) == {"blue", "green"}
    assert 0.7 < served["blue"] / 400 < 0.9
    assert 140 < len(fake.mirrored) < 260 and {d for _, d, _ in fake.mirrored} == {"red"}


def test_unhealthy_deployments_and_failing_scorers_answer_errors(fake):
    def broken(payload):
        raise RuntimeError("model file missing")

    endpoint_with(fake, "blue", "green", traffic={"blue": 100}, scorers={"green": broken})
    fake.mark_unhealthy("ep1", "blue", scoring_status=502)
    assert score(fake, "ep1", {}).status_code == 502
    assert fake.deployment("ep1", "blue")["properties"]["provisioningState"] == "Failed"
    failing = score(fake, "ep1", {}, deployment="green")
    assert failing.status_code == 500 and "model file missing" in failing.text()
    fake.mark_healthy("ep1", "blue")
    assert score(fake, "ep1", {}).status_code == 200


def test_invoke_through_the_sdk_fetches_keys_and_reaches_the_scorer(fake, ml):
    endpoint_with(fake, "blue", "green", traffic={"blue": 100})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"texts": ["olá"]}, handle)
    reply = ml.online_endpoints.invoke("ep1", request_file=handle.name, deployment_name="green")
    assert json.loads(reply) == {"from": "green"}
    assert fake.scored == [("ep1", "green", {"texts": ["olá"]})]
    assert [c.operation for c in fake.calls][-2:] == ["online_endpoints.list_keys", "score"]


def test_reads_and_key_listing_are_not_writes(fake, ml):
    endpoint_with(fake, "blue", traffic={"blue": 100})
    fake.add_model_version("m", "1")
    ml.online_endpoints.get("ep1")
    ml.online_endpoints.get_keys("ep1")
    ml.models.get("m", "1")
    list(ml.models.list("m"))
    assert fake.writes() == []
    fake.set_traffic("ep1", {"blue": 100})  # test-side setup is not a request
    assert fake.writes() == []
    ml.models.archive("m", version="1")
    assert fake.writes() == [("PUT", f"{WS_PATH}/models/m/versions/1")]


def test_async_operation_urls_echo_the_request_api_version_and_land_in_the_endpoint(fake):
    endpoint_with(fake, "blue")
    response = put_endpoint_raw(fake, {"blue": 100})
    assert response.headers["Azure-AsyncOperation"].endswith("?api-version=2022-02-01-preview")
    props = fake.endpoint("ep1")["properties"]["properties"]
    assert props["AzureAsyncOperationUri"] == response.headers["Azure-AsyncOperation"]
    assert props["azureml.onlineendpointid"] == fake.endpoint_id("ep1").lower()


def test_deployment_writes_on_an_updating_endpoint_use_the_service_wording(fake, ml):
    endpoint_with(fake, "blue")
    fake.hold_endpoint_updating("ep1")
    with pytest.raises(ResourceExistsError) as caught:
        ml.online_deployments.begin_create_or_update(ml.online_deployments.get(name="blue", endpoint_name="ep1"))
    assert caught.value.error.message == (
        "Cannot create a deployment in endpoint ep1 because it is in Updating provisioning state."
    )


def test_invoke_on_an_aml_token_endpoint_uses_the_token_route(fake, ml):
    fake.add_endpoint("ep1", auth_mode="AMLToken")
    fake.add_deployment("ep1", "blue", scorer=lambda payload: payload)
    fake.set_traffic("ep1", {"blue": 100})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"texts": ["a"]}, handle)
    # always name the deployment: azure-ai-ml keeps the last azureml-model-deployment header in a
    # module-level dict, so an unnamed invoke can reach the deployment a previous call named
    reply = ml.online_endpoints.invoke("ep1", request_file=handle.name, deployment_name="blue")
    assert json.loads(reply) == {"texts": ["a"]}
    assert fake.calls_to("online_endpoints.get_token") and not fake.calls_to("online_endpoints.list_keys")


def test_invoke_on_an_entra_token_endpoint_sends_an_azure_ml_token_not_the_arm_one(fake, ml):
    """test and prod endpoints use aad_token: azure-ai-ml asks the credential for an ml.azure.com token."""
    fake.add_endpoint("ep1", auth_mode="AADToken")
    fake.add_deployment("ep1", "blue", scorer=lambda payload: payload)
    fake.set_traffic("ep1", {"blue": 100})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"texts": ["a"]}, handle)
    reply = ml.online_endpoints.invoke("ep1", request_file=handle.name, deployment_name="blue")
    assert json.loads(reply) == {"texts": ["a"]}
    assert not fake.calls_to("online_endpoints.list_keys") and not fake.calls_to("online_endpoints.get_token")


def test_an_entra_token_endpoint_refuses_an_arm_token(fake):
    from tests.fakes.azureml import ENTRA_ML_SCOPE, FakeCredential

    fake.add_endpoint("ep1", auth_mode="AADToken")
    fake.add_deployment("ep1", "blue", scorer=lambda payload: payload)
    fake.set_traffic("ep1", {"blue": 100})
    arm = FakeCredential.token_for(("https://management.azure.com/.default",))
    assert score(fake, "ep1", {"x": 1}, key=arm).status_code == 401
    assert score(fake, "ep1", {"x": 1}, key=FakeCredential.token_for((ENTRA_ML_SCOPE,))).status_code == 200


def test_deleting_an_endpoint_through_the_sdk_removes_its_deployments(fake, ml):
    endpoint_with(fake, "blue", traffic={"blue": 100})
    ml.online_endpoints.begin_delete(name="ep1").result()
    assert fake.endpoint("ep1") is None and fake.deployment("ep1", "blue") is None
    assert ("DELETE", f"{WS_PATH}/onlineEndpoints/ep1") in fake.writes()
    with pytest.raises(ResourceNotFoundError):
        ml.online_endpoints.get("ep1")


def test_remove_deployment_out_of_band_follows_the_traffic_rule(fake, ml):
    endpoint_with(fake, "blue", "green", traffic={"blue": 100})
    with pytest.raises(Exception, match="receives traffic"):
        fake.remove_deployment("ep1", "blue")
    fake.remove_deployment("ep1", "green")
    assert fake.deployment("ep1", "green") is None
    with pytest.raises(ResourceNotFoundError):
        ml.online_deployments.get(name="green", endpoint_name="ep1")
    assert fake.writes() == []


def test_operations_nobody_polls_end_as_requests_come_in(fake):
    endpoint_with(fake, "blue", "green", traffic={"blue": 100})
    fake.lro_polls = 2
    put_endpoint_raw(fake, {"green": 100})
    states = [
        raw(fake, "GET", f"{WS_PATH}/onlineEndpoints/ep1", api_version="2022-02-01-preview").json()["properties"][
            "provisioningState"
        ]
        for _ in range(4)
    ]
    assert states == ["Updating", "Updating", "Succeeded", "Succeeded"]


def test_a_lost_response_was_applied_and_surfaces_as_a_service_response_error(fake, ml):
    from azure.core.exceptions import ServiceResponseError

    fake.lose_response("model_versions.put")
    with pytest.raises(ServiceResponseError):
        ml.models.create_or_update(
            Model(
                name="m",
                version="1",
                path="azureml://datastores/workspaceblobstore/paths/a",
                type="custom_model",
                tags={"t": "1"},
            )
        )
    assert fake.model_version("m", "1")["properties"]["tags"] == {"t": "1"}
    assert fake.calls_to("model_versions.put")[0].response_lost


def test_a_dropped_connection_never_reaches_the_service(fake, ml):
    from azure.core.exceptions import ServiceRequestError

    fake.fail("model_versions.put", None)
    with pytest.raises(ServiceRequestError):
        ml.models.create_or_update(
            Model(name="m", version="1", path="azureml://datastores/workspaceblobstore/paths/a", type="custom_model")
        )
    assert fake.model_version("m", "1") is None
