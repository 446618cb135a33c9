"""The Azure ML gateway against the fake control plane: each method, retries and their bound, errors."""

from __future__ import annotations

import os

import pytest

from infra.azureml import (
    AzureMLError,
    AzureMLGateway,
    Deployment,
    Endpoint,
    ModelVersion,
    NotFound,
    RetryPolicy,
    WorkspaceRef,
)
from infra.azureml.gateway import DeploymentSpec, EndpointSettings, Probe
from tests.fakes.azureml import FakeAzureML, gateway_for


@pytest.fixture
def fake():
    return FakeAzureML()


@pytest.fixture
def gateway(fake):
    return gateway_for(fake)


def serving_endpoint(fake, traffic=None):
    fake.add_model_version("hate-speech-pt", "1", tags={"stage": "production"})
    fake.add_model_version("hate-speech-pt", "2")
    fake.add_endpoint("hs-ep", description="hate speech", tags={"owner": "platform"})
    fake.add_deployment(
        "hs-ep",
        "blue",
        model_id=fake.model_version_id("hate-speech-pt", "1"),
        instance_type="Standard_F4s_v2",
        instance_count=2,
        scorer=lambda payload: {"deployment": "blue", "n": len(payload["texts"])},
    )
    fake.add_deployment(
        "hs-ep",
        "green",
        model_id=fake.model_version_id("hate-speech-pt", "2"),
        scorer=lambda payload: {"deployment": "green", "n": len(payload["texts"])},
    )
    fake.set_traffic("hs-ep", traffic if traffic is not None else {"blue": 100})


# ---------------------------------------------------------------------- construction
def test_workspace_ref_and_retry_policy_reject_bad_values():
    with pytest.raises(ValueError, match="WorkspaceRef.resource_group is ''"):
        WorkspaceRef("sub", "", "ws")
    with pytest.raises(ValueError, match="RetryPolicy.attempts is 0"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="max_delay_s is 1"):
        RetryPolicy(initial_delay_s=2, max_delay_s=1)
    with pytest.raises(TypeError, match="accepted: WorkspaceRef"):
        AzureMLGateway(("sub", "rg", "ws"))


def test_retry_delays_double_up_to_the_cap_and_honour_retry_after():
    policy = RetryPolicy(attempts=6, initial_delay_s=2, max_delay_s=10)
    assert [policy.delay(n) for n in range(1, 6)] == [2, 4, 8, 10, 10]
    assert policy.delay(1, retry_after=17) == 17


def test_default_credential_is_created_lazily_and_never_shown(fake, monkeypatch):
    created = []

    class StandIn:
        def __init__(self):
            created.append(self)

        def get_token(self, *scopes, **kwargs):
            return fake.credential.get_token(*scopes)

    import azure.identity

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", StandIn)
    gateway = AzureMLGateway(
        WorkspaceRef(fake.subscription_id, fake.resource_group, fake.workspace_name),
        transport=fake.transport,
        sleep=fake.gateway_sleeps.append,
    )
    assert created == []  # nothing is built before the first call
    assert gateway.get_model_version("hate-speech-pt", "1") is None
    assert len(created) == 1
    assert "StandIn" not in repr(gateway) and "credential" not in repr(gateway)


# ---------------------------------------------------------------------- model registry
def test_register_then_get_a_model_version_by_azureml_path(fake, gateway):
    assert gateway.get_model_version("hate-speech-pt", "abc123") is None
    path = fake.datastore_uri("models/hate-speech-pt/abc123/")
    registered = gateway.register_model_version(
        "hate-speech-pt",
        "abc123",
        path,
        tags={"commit": "f00d", "macro_f1": 0.81},
        description="run 7",
        properties={"data_rows": 4534},
    )
    assert registered == ModelVersion(
        name="hate-speech-pt",
        version="abc123",
        id=fake.model_version_id("hate-speech-pt", "abc123"),
        path=path,
        tags={"commit": "f00d", "macro_f1": "0.81"},
        properties={"data_rows": "4534"},
        archived=False,
        description="run 7",
    )
    assert gateway.get_model_version("hate-speech-pt", "abc123") == registered
    assert [m for m, _ in fake.writes()] == ["PUT"]
    assert not fake.calls_to("datastores.list_secrets")  # an azureml:// path is never uploaded


def test_versions_are_explicit(gateway, fake):
    for bad in (None, "", True):
        with pytest.raises(ValueError, match="never auto-incremented"):
            gateway.register_model_version("m", bad, fake.datastore_uri("m/"), tags={})
    assert fake.calls == []


def test_registering_a_version_again_with_another_path_is_refused(fake, gateway):
    gateway.register_model_version("m", "1", fake.datastore_uri("a/"), tags={})
    with pytest.raises(AzureMLError) as caught:
        gateway.register_model_version("m", "1", fake.datastore_uri("b/"), tags={})
    assert caught.value.status == 400 and caught.value.attempts == 1
    assert "Asset paths cannot be updated" in str(caught.value)


def test_registering_an_existing_version_again_replaces_it_whole(fake, gateway):
    path = fake.datastore_uri("models/m/1/")
    fake.add_model_version("m", "1", path=path, tags={"stage": "production"}, archived=True)
    again = gateway.register_model_version("m", "1", path, tags={"commit": "c"})
    assert again.tags == {"commit": "c"} and again.archived is False


def test_local_folder_goes_through_the_injected_uploader(fake, tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    uploads = []

    def uploader(local_dir, name, version):
        uploads.append((local_dir, sorted(os.listdir(local_dir)), name, version))
        return fake.datastore_uri(f"LocalUpload/{name}/{version}/")

    gateway = gateway_for(fake, uploader=uploader)
    registered = gateway.register_model_version("m", "7", str(tmp_path), tags={"commit": "c"})
    assert uploads == [(str(tmp_path), ["model.onnx"], "m", "7")]
    assert registered.path == fake.datastore_uri("LocalUpload/m/7/")
    with pytest.raises(ValueError, match="neither an azureml:// URI nor an existing local folder"):
        gateway.register_model_version("m", "8", str(tmp_path / "missing"), tags={})


def test_set_model_tags_replaces_tags_only_and_keeps_the_archive_flag(fake, gateway):
    fake.add_model_version(
        "m",
        "1",
        tags={"stage": "production", "commit": "c1"},
        properties={"p": "1"},
        description="first",
        archived=True,
    )
    updated = gateway.set_model_tags("m", "1", {"stage": "surpassed"})
    assert updated.tags == {"stage": "surpassed"}  # "commit" is gone: tags are replaced, not merged
    assert (updated.archived, updated.properties, updated.description) == (True, {"p": "1"}, "first")
    stored = fake.model_version("m", "1")["properties"]
    assert stored["tags"] == {"stage": "surpassed"} and stored["isArchived"] is True
    assert len(fake.writes()) == 1


def test_archive_sets_the_flag_never_deletes_and_is_idempotent(fake, gateway):
    fake.add_model_version("m", "1", tags={"stage": "surpassed"})
    gateway.archive_model_version("m", "1")
    assert gateway.get_model_version("m", "1").archived is True
    assert fake.model_version("m", "1")["properties"]["tags"] == {"stage": "surpassed"}
    writes = fake.writes()
    gateway.archive_model_version("m", "1")
    assert fake.writes() == writes and all(method == "PUT" for method, _ in writes)
    with pytest.raises(NotFound, match="archive_model_version on model m:9"):
        gateway.archive_model_version("m", "9")


def test_list_model_versions_includes_archived_ones(fake, gateway):
    fake.add_model_version("m", "1", archived=True)
    fake.add_model_version("m", "2", tags={"stage": "production"})
    listed = {m.version: m for m in gateway.list_model_versions("m")}
    assert set(listed) == {"1", "2"}
    assert listed["1"].archived and listed["2"].tags == {"stage": "production"}
    assert gateway.list_model_versions("unknown") == []


# ---------------------------------------------------------------------- endpoints
def test_get_endpoint_reports_only_live_shares_and_every_deployment(fake, gateway):
    serving_endpoint(fake)
    endpoint = gateway.get_endpoint("hs-ep")
    # public_network_access is azure-ai-ml's spelling (the REST enum's value, lowercase), as EndpointSettings takes it
    assert endpoint == Endpoint(
        name="hs-ep",
        traffic={"blue": 100},
        mirror_traffic={},
        provisioning_state="Succeeded",
        scoring_uri="https://hs-ep.westeurope.inference.ml.azure.com/score",
        deployments=("blue", "green"),
        auth_mode="key",
        public_network_access="enabled",
        description="hate speech",
        tags={"owner": "platform"},
        principal_id=fake.endpoint("hs-ep")["identity"]["principalId"],
    )
    assert endpoint.principal_id, "the system-assigned identity's principal, as the service gave it"
    assert gateway.get_endpoint("nope") is None


def test_update_endpoint_puts_the_live_traffic_and_mirror_back_with_the_new_settings(fake, gateway):
    """The REST API documents no default for an omitted `traffic` in an endpoint PUT: the body must carry it."""
    serving_endpoint(fake, traffic={"blue": 90, "green": 10})
    gateway.set_traffic("hs-ep", {"blue": 100}, mirror_traffic={"green": 20})
    fake.calls.clear()
    endpoint = gateway.update_endpoint(
        "hs-ep",
        EndpointSettings(
            auth_mode="aad_token", public_network_access="disabled", description="new", tags={"owner": "ml"}
        ),
    )
    [put] = fake.calls_to("online_endpoints.put")
    assert {k: v for k, v in put.body["properties"]["traffic"].items() if v} == {"blue": 100}
    assert put.body["properties"]["mirrorTraffic"] == {"green": 20}
    assert put.body["properties"]["authMode"] == "AADToken" and put.body["tags"] == {"owner": "ml"}
    ops = [c.operation for c in fake.calls]
    assert ops.index("online_endpoints.get") < ops.index("online_endpoints.put")
    assert (endpoint.traffic, endpoint.mirror_traffic) == ({"blue": 100}, {"green": 20})
    assert (endpoint.auth_mode, endpoint.public_network_access, endpoint.description) == (
        "aad_token",
        "disabled",
        "new",
    )
    live = fake.endpoint("hs-ep")["properties"]
    assert {k: v for k, v in live["traffic"].items() if v} == {"blue": 100} and live["mirrorTraffic"] == {"green": 20}


def test_a_busy_endpoint_makes_update_endpoint_read_again_so_the_put_never_carries_stale_traffic(fake):
    serving_endpoint(fake)
    fake.hold_endpoint_updating("hs-ep", writes=1)
    # the endpoint's traffic moves while the update waits out the 409 (the gateway's back-off sleep)
    gateway = gateway_for(fake, sleep=lambda seconds: fake.set_traffic("hs-ep", {"green": 100}))
    gateway.update_endpoint("hs-ep", EndpointSettings(auth_mode="key", public_network_access="enabled"))
    puts = fake.calls_to("online_endpoints.put")
    assert [c.status for c in puts] == [409, 201]
    assert {k: v for k, v in puts[-1].body["properties"]["traffic"].items() if v} == {"green": 100}


def test_create_endpoint_makes_one_without_traffic_and_refuses_an_existing_one(fake, gateway):
    created = gateway.create_endpoint(
        "hs-new", EndpointSettings(auth_mode="key", public_network_access="disabled", tags={"owner": "platform"})
    )
    assert (created.traffic, created.mirror_traffic, created.deployments) == ({}, {}, ())
    assert (created.auth_mode, created.public_network_access, created.tags) == (
        "key",
        "disabled",
        {"owner": "platform"},
    )
    assert fake.endpoint("hs-new")["identity"]["type"] == "SystemAssigned"
    writes = fake.writes()
    with pytest.raises(AzureMLError, match="exists already") as caught:
        gateway.create_endpoint("hs-new", EndpointSettings(auth_mode="aad_token", public_network_access="enabled"))
    assert caught.value.status == 409 and fake.writes() == writes
    assert fake.endpoint("hs-new")["properties"]["authMode"] == "Key"


def test_set_traffic_is_a_read_modify_write_that_keeps_other_fields(fake, gateway):
    serving_endpoint(fake)
    before = fake.endpoint("hs-ep")
    principal = before["identity"]["principalId"]
    endpoint = gateway.set_traffic("hs-ep", {"blue": 100, "green": 0}, mirror_traffic={"green": 20})
    assert endpoint.traffic == {"blue": 100} and endpoint.mirror_traffic == {"green": 20}
    assert endpoint.deployments == ("blue", "green")
    after = fake.endpoint("hs-ep")
    assert after["tags"] == {"owner": "platform"}
    assert after["properties"]["description"] == "hate speech"
    assert after["properties"]["authMode"] == "Key"
    assert after["identity"]["principalId"] == principal
    ops = [c.operation for c in fake.calls]
    assert ops.index("online_endpoints.get") < ops.index("online_endpoints.put")

    endpoint = gateway.set_traffic("hs-ep", {"green": 100})
    assert endpoint.traffic == {"green": 100} and endpoint.mirror_traffic == {}  # None clears the mirror
    assert fake.endpoint("hs-ep")["properties"]["mirrorTraffic"] == {}


@pytest.mark.parametrize(
    "traffic, mirror, message",
    [
        ({"blue": 70, "green": 20}, None, "sums to 90"),
        ({"blue": 100}, {"green": 51}, "at most 50"),
        ({"blue": 100}, {"green": 10, "red": 10}, "at most one"),
        ({"blue": 50, "green": 50}, {"green": 10}, "takes live traffic"),
        ({"blue": 100.0}, None, "integer from 0 to 100"),
    ],
)
def test_set_traffic_rejects_impossible_rules_before_calling(fake, gateway, traffic, mirror, message):
    with pytest.raises(ValueError, match=message):
        gateway.set_traffic("hs-ep", traffic, mirror)
    assert fake.calls == []


def test_set_traffic_to_a_missing_deployment_is_refused_by_the_service_once(fake, gateway):
    serving_endpoint(fake)
    with pytest.raises(AzureMLError) as caught:
        gateway.set_traffic("hs-ep", {"ghost": 100})
    assert caught.value.status == 400 and "ghost" in caught.value.service_message
    assert len(fake.calls_to("online_endpoints.put")) == 1
    assert fake.endpoint("hs-ep")["properties"]["traffic"] == {"blue": 100}


def test_set_traffic_on_a_missing_endpoint_raises_not_found(fake, gateway):
    with pytest.raises(NotFound) as caught:
        gateway.set_traffic("nope", {"blue": 100})
    assert caught.value.status == 404 and caught.value.resource == "online endpoint nope"


def test_set_traffic_waits_out_an_updating_endpoint_and_rereads_it(fake, gateway):
    serving_endpoint(fake)
    fake.hold_endpoint_updating("hs-ep", writes=2)
    endpoint = gateway.set_traffic("hs-ep", {"blue": 90, "green": 10})
    assert endpoint.traffic == {"blue": 90, "green": 10}
    assert [c.status for c in fake.calls_to("online_endpoints.put")] == [409, 409, 201]
    gets = [c for c in fake.calls_to("online_endpoints.get") if c.api_version == "2022-02-01-preview"]
    assert len(gets) >= 3  # every attempt reads the live endpoint again
    assert fake.gateway_sleeps == [2.0, 4.0]


def test_set_traffic_waits_for_a_slow_long_running_operation(fake, gateway):
    serving_endpoint(fake)
    fake.lro_polls = 4
    endpoint = gateway.set_traffic("hs-ep", {"green": 100})
    assert endpoint.provisioning_state == "Succeeded" and endpoint.traffic == {"green": 100}
    assert len(fake.calls_to("operations.get")) == 5
    assert fake.gateway_sleeps == []  # polling is not retrying


def test_a_failed_traffic_operation_is_reported_and_leaves_traffic_as_it_was(fake, gateway):
    serving_endpoint(fake)
    fake.fail_lro("online_endpoints.put", message="capacity")
    with pytest.raises(AzureMLError, match="capacity"):
        gateway.set_traffic("hs-ep", {"green": 100})
    assert gateway.get_endpoint("hs-ep").traffic == {"blue": 100}


# ---------------------------------------------------------------------- deployments
def test_get_deployment(fake, gateway):
    serving_endpoint(fake)
    assert gateway.get_deployment("hs-ep", "blue") == Deployment(
        name="blue",
        endpoint="hs-ep",
        model_id=fake.model_version_id("hate-speech-pt", "1"),
        provisioning_state="Succeeded",
        instance_type="Standard_F4s_v2",
        instance_count=2,
        code_id=fake.code_version_id("score", "1"),
        environment_id=fake.environment_version_id("onnx-serving", "1"),
        tags={},
    )
    assert gateway.get_deployment("hs-ep", "nope") is None
    assert gateway.get_deployment("nope", "blue") is None


def new_spec(fake, model_id: str, **changes) -> DeploymentSpec:
    """A serving spec unlike add_deployment's in every field, on code and environment versions that exist."""
    fake.add_code_version("hate-speech-scoring", "c2")
    fake.add_environment_version("hate-speech-serving", "e2")
    fields = dict(
        model_id=model_id,
        code_id=fake.code_version_id("hate-speech-scoring", "c2"),
        scoring_script="score.py",
        environment_id=fake.environment_version_id("hate-speech-serving", "e2"),
        instance_type="Standard_DS4_v2",
        instance_count=3,
        environment_variables={"WORKER_COUNT": "4"},
        request_timeout_ms=7000,
        max_concurrent_requests_per_instance=4,
        liveness_probe=Probe(initial_delay=11, period=12, timeout=3, failure_threshold=4, success_threshold=1),
        readiness_probe=Probe(initial_delay=5, period=6, timeout=2, failure_threshold=3, success_threshold=1),
        app_insights_enabled=False,
        tags={"serving-version": "0123456789ab", "slot": "blue"},
    )
    return DeploymentSpec(**{**fields, **changes})


def test_put_deployment_replaces_everything_a_deployment_serves_in_one_put(fake, gateway):
    serving_endpoint(fake)
    new_model = fake.model_version_id("hate-speech-pt", "2")
    spec = new_spec(fake, new_model)
    fake.calls.clear()
    deployment = gateway.put_deployment("hs-ep", "blue", spec)
    assert deployment == Deployment(
        name="blue",
        endpoint="hs-ep",
        model_id=new_model,
        provisioning_state="Succeeded",
        instance_type="Standard_DS4_v2",
        instance_count=3,
        code_id=spec.code_id,
        environment_id=spec.environment_id,
        tags=spec.tags,
    )
    assert fake.writes() == [("PUT", fake.endpoint_id("hs-ep") + "/deployments/blue")]
    ops = [c.operation for c in fake.calls]
    assert "online_deployments.get" not in ops[: ops.index("online_deployments.put")]  # no read: a whole PUT
    stored = fake.deployment("hs-ep", "blue")
    props = stored["properties"]
    assert props["model"] == new_model
    assert props["codeConfiguration"] == {"codeId": spec.code_id, "scoringScript": "score.py"}
    assert props["environmentId"] == spec.environment_id and props["instanceType"] == "Standard_DS4_v2"
    assert props["environmentVariables"] == {"WORKER_COUNT": "4"} and props["appInsightsEnabled"] is False
    assert props["requestSettings"] == {"requestTimeout": "PT7S", "maxConcurrentRequestsPerInstance": 4}
    assert props["livenessProbe"] == {
        "initialDelay": "PT11S",
        "period": "PT12S",
        "timeout": "PT3S",
        "failureThreshold": 4,
        "successThreshold": 1,
    }
    assert props["readinessProbe"]["initialDelay"] == "PT5S" and props["readinessProbe"]["period"] == "PT6S"
    assert "egressPublicNetworkAccess" not in props  # None: not sent (a managed network refuses it)
    assert stored["sku"]["capacity"] == 3 and stored["tags"] == spec.tags


def test_put_deployment_creates_a_missing_slot_and_sends_egress_only_when_set(fake, gateway):
    serving_endpoint(fake)
    fake.add_model_version("hate-speech-pt", "3")
    spec = new_spec(fake, fake.model_version_id("hate-speech-pt", "3"), egress_public_network_access="disabled")
    created = gateway.put_deployment("hs-ep", "red", spec)
    assert created.provisioning_state == "Succeeded" and created.model_id == spec.model_id
    assert fake.deployment("hs-ep", "red")["properties"]["egressPublicNetworkAccess"].lower() == "disabled"


def test_put_deployment_accepts_the_short_asset_form_and_reports_the_arm_id(fake, gateway):
    serving_endpoint(fake)
    deployment = gateway.put_deployment("hs-ep", "green", new_spec(fake, "azureml:hate-speech-pt:1"))
    assert deployment.model_id == fake.model_version_id("hate-speech-pt", "1")
    assert fake.deployment("hs-ep", "green")["properties"]["model"] == deployment.model_id


def test_put_deployment_to_a_missing_model_or_asset_version_is_refused_and_changes_nothing(fake, gateway):
    serving_endpoint(fake)
    before = fake.deployment("hs-ep", "green")
    good = new_spec(fake, fake.model_version_id("hate-speech-pt", "1"))
    missing = {
        "Model": new_spec(fake, fake.model_version_id("hate-speech-pt", "99")),
        "codeConfiguration.codeId": new_spec(
            fake, good.model_id, code_id=fake.code_version_id("hate-speech-scoring", "gone")
        ),
        "environmentId": new_spec(
            fake, good.model_id, environment_id=fake.environment_version_id("hate-speech-serving", "gone")
        ),
    }
    for field_name, spec in missing.items():
        fake.calls.clear()
        with pytest.raises(AzureMLError) as caught:
            gateway.put_deployment("hs-ep", "green", spec)
        assert caught.value.status == 400 and caught.value.attempts == 1, field_name
        assert field_name in caught.value.service_message and "does not exist" in caught.value.service_message
        assert len(fake.calls_to("online_deployments.put")) == 1  # a 400 is not retried
    assert fake.deployment("hs-ep", "green") == before
    with pytest.raises(NotFound):
        gateway.put_deployment("nope", "green", good)
    with pytest.raises(TypeError, match="accepted: DeploymentSpec"):
        gateway.put_deployment("hs-ep", "green", {"model_id": good.model_id})


def test_set_deployment_capacity_changes_only_the_instance_count(fake, gateway):
    serving_endpoint(fake)
    before = fake.deployment("hs-ep", "blue")
    fake.calls.clear()
    deployment = gateway.set_deployment_capacity("hs-ep", "blue", 4)
    assert deployment.instance_count == 4 and deployment.provisioning_state == "Succeeded"
    ops = [c.operation for c in fake.calls]
    assert ops.index("online_deployments.get") < ops.index("online_deployments.put")  # read-modify-write
    after = fake.deployment("hs-ep", "blue")
    assert after["sku"] == {**before["sku"], "capacity": 4}
    assert after["tags"] == before["tags"]
    for key in (
        "model",
        "environmentId",
        "codeConfiguration",
        "instanceType",
        "requestSettings",
        "environmentVariables",
        "livenessProbe",
        "readinessProbe",
        "scaleSettings",
    ):
        assert after["properties"].get(key) == before["properties"].get(key), key
    assert fake.writes() == [("PUT", fake.endpoint_id("hs-ep") + "/deployments/blue")]
    for bad in (0, 1.5, True, "2"):
        with pytest.raises(ValueError, match="instance_count"):
            gateway.set_deployment_capacity("hs-ep", "blue", bad)
    with pytest.raises(NotFound):
        gateway.set_deployment_capacity("hs-ep", "nope", 2)
    assert len(fake.writes()) == 1


@pytest.mark.parametrize("write", ["put_deployment", "set_deployment_capacity"])
def test_a_failed_provisioning_is_final_and_not_retried(fake, gateway, write):
    serving_endpoint(fake)
    fake.fail_lro("online_deployments.put", message="image pull failed")
    with pytest.raises(AzureMLError) as caught:
        if write == "put_deployment":
            gateway.put_deployment("hs-ep", "green", new_spec(fake, fake.model_version_id("hate-speech-pt", "1")))
        else:
            gateway.set_deployment_capacity("hs-ep", "green", 2)
    assert "image pull failed" in str(caught.value) and "provisioning failed" in str(caught.value)
    assert caught.value.operation == write
    assert len(fake.calls_to("online_deployments.put")) == 1
    assert gateway.get_deployment("hs-ep", "green").provisioning_state == "Failed"


# ---------------------------------------------------------------------- scoring
def test_invoke_reaches_the_named_deployment(fake, gateway):
    serving_endpoint(fake)
    assert gateway.invoke("hs-ep", "green", {"texts": ["a", "b"]}) == {"deployment": "green", "n": 2}
    assert gateway.invoke("hs-ep", "blue", {"texts": ["a"]}) == {"deployment": "blue", "n": 1}
    assert [d for _, d, _ in fake.scored] == ["green", "blue"]
    assert fake.writes() == []


def test_invoke_on_an_entra_token_endpoint_as_test_and_prod_use(fake, gateway):
    fake.add_model_version("hate-speech-pt", "1")
    fake.add_endpoint("hs-ep", auth_mode="AADToken")
    fake.add_deployment(
        "hs-ep",
        "blue",
        model_id=fake.model_version_id("hate-speech-pt", "1"),
        scorer=lambda payload: {"n": len(payload["texts"])},
    )
    assert gateway.invoke("hs-ep", "blue", {"texts": ["a", "b"]}) == {"n": 2}
    assert fake.writes() == []


def test_invoke_leaves_no_key_or_deployment_in_azure_ai_ml_shared_headers(fake, gateway):
    from azure.ai.ml.constants._endpoint import EndpointInvokeFields

    serving_endpoint(fake)
    gateway.invoke("hs-ep", "green", {"texts": ["a"]})
    assert EndpointInvokeFields.DEFAULT_HEADER == {"Content-Type": "application/json"}
    fake.mark_unhealthy("hs-ep", "blue")
    with pytest.raises(AzureMLError):
        gateway.invoke("hs-ep", "blue", {"texts": ["a"]})
    assert EndpointInvokeFields.DEFAULT_HEADER == {"Content-Type": "application/json"}


def test_invoke_on_an_unhealthy_deployment_fails_without_retrying(fake, gateway):
    serving_endpoint(fake)
    fake.mark_unhealthy("hs-ep", "green")
    with pytest.raises(AzureMLError) as caught:
        gateway.invoke("hs-ep", "green", {"texts": ["a"]})
    assert caught.value.operation == "invoke" and "not healthy" in caught.value.service_message
    assert len(fake.calls_to("score")) == 1


def test_invoke_retries_when_the_key_listing_is_throttled(fake, gateway):
    serving_endpoint(fake)
    fake.fail("online_endpoints.list_keys", 429, retry_after=3)
    assert gateway.invoke("hs-ep", "blue", {"texts": []}) == {"deployment": "blue", "n": 0}
    assert fake.gateway_sleeps == [3.0]


def test_invoke_names_a_missing_deployment_or_endpoint(fake, gateway):
    serving_endpoint(fake)
    with pytest.raises(AzureMLError, match="Deployment name red not found"):
        gateway.invoke("hs-ep", "red", {"texts": []})
    with pytest.raises(NotFound, match="invoke on deployment nope/blue failed: HTTP 404"):
        gateway.invoke("nope", "blue", {"texts": []})
    assert fake.calls_to("score") == []


def test_invoke_rejects_payloads_that_are_not_json(gateway):
    with pytest.raises(ValueError, match="payload cannot be sent as JSON"):
        gateway.invoke("hs-ep", "blue", {"texts": {1, 2}})


# ---------------------------------------------------------------------- retries and errors
@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_failures_are_retried_with_backoff(fake, gateway, status):
    fake.add_model_version("m", "1")
    fake.fail("model_versions.get", status, times=3, retry_after=0 if status == 429 else None)
    assert gateway.get_model_version("m", "1").version == "1"
    assert len(fake.calls_to("model_versions.get")) == 4
    assert fake.gateway_sleeps == ([0.0, 0.0, 0.0] if status == 429 else [2.0, 4.0, 8.0])


def test_retries_are_bounded(fake):
    gateway = gateway_for(fake, retry=RetryPolicy(attempts=4, initial_delay_s=1, max_delay_s=3))
    fake.add_model_version("m", "1")
    fake.fail("model_versions.put", 503, times=None, message="storage is down")
    with pytest.raises(AzureMLError) as caught:
        gateway.set_model_tags("m", "1", {"stage": "staged"})
    err = caught.value
    assert (err.status, err.attempts, err.code) == (503, 4, "ServiceUnavailable")
    assert str(err) == (
        "Azure ML set_model_tags on model m:1 failed after 4 attempts: HTTP 503 ServiceUnavailable: storage is down"
    )
    assert len(fake.calls_to("model_versions.put")) == 4
    assert fake.gateway_sleeps == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("status", [400, 401, 403])
def test_client_errors_are_not_retried(fake, gateway, status):
    serving_endpoint(fake)
    fake.fail("online_endpoints.get", status, message="no")
    with pytest.raises(AzureMLError) as caught:
        gateway.get_endpoint("hs-ep")
    assert not isinstance(caught.value, NotFound)
    assert caught.value.status == status and caught.value.attempts == 1
    assert fake.gateway_sleeps == []


def test_a_409_on_a_model_write_is_not_mistaken_for_a_busy_endpoint(fake, gateway):
    fake.add_model_version("m", "1")
    fake.fail("model_versions.put", 409, message="conflict")
    with pytest.raises(AzureMLError) as caught:
        gateway.set_model_tags("m", "1", {"a": "b"})
    assert caught.value.status == 409 and fake.gateway_sleeps == []


def test_read_only_calls_make_no_writes(fake, gateway):
    serving_endpoint(fake)
    gateway.get_endpoint("hs-ep")
    gateway.get_deployment("hs-ep", "blue")
    gateway.get_model_version("hate-speech-pt", "1")
    gateway.list_model_versions("hate-speech-pt")
    gateway.invoke("hs-ep", "blue", {"texts": ["x"]})
    assert fake.writes() == []


def test_a_dropped_connection_is_retried(fake, gateway):
    serving_endpoint(fake)
    fake.fail("online_endpoints.get", None, times=2)
    assert gateway.get_endpoint("hs-ep").traffic == {"blue": 100}
    assert [c.status for c in fake.calls_to("online_endpoints.get")][:3] == [None, None, 200]
    assert fake.gateway_sleeps == [2.0, 4.0]


@pytest.mark.parametrize("lro_polls, put_statuses", [(0, [201, 201]), (5, [201, 409, 201])])
def test_a_lost_traffic_response_is_retried_by_reading_the_endpoint_again(fake, gateway, lro_polls, put_statuses):
    serving_endpoint(fake)
    fake.lro_polls = lro_polls
    fake.lose_response("online_endpoints.put")
    endpoint = gateway.set_traffic("hs-ep", {"blue": 80, "green": 20})
    assert endpoint.traffic == {"blue": 80, "green": 20} and endpoint.provisioning_state == "Succeeded"
    puts = fake.calls_to("online_endpoints.put")
    assert puts[0].response_lost and [c.status for c in puts] == put_statuses  # 409 while it still updates
    assert fake.endpoint("hs-ep")["tags"] == {"owner": "platform"}


# ---------------------------------------------------------------------- model files
def artifact_folder(root, marker):
    root.mkdir()
    (root / "model.int8.onnx").write_bytes(b"weights " + marker.encode())
    (root / "artifact.json").write_text('{"name": "hate-speech-pt"}')
    return root


def test_a_local_folder_round_trips_through_the_fake_blob_store(fake, gateway, tmp_path):
    source = artifact_folder(tmp_path / "artifact", "v1")
    registered = gateway.register_model_version("hate-speech-pt", "c0ffee", str(source), tags={})
    assert registered.path.startswith(fake.datastore_uri("LocalUpload/"))
    assert registered.path.endswith("/artifact/")
    target = tmp_path / "cache" / "hate-speech-pt" / "c0ffee"
    assert gateway.download_model_version("hate-speech-pt", "c0ffee", target) == str(target)
    assert sorted(p.name for p in target.iterdir()) == ["artifact.json", "model.int8.onnx"]
    assert (target / "model.int8.onnx").read_bytes() == b"weights v1"
    assert [kind for kind, _ in fake.blob_calls] == ["upload", "download"]


def test_download_replaces_stale_content_and_reports_missing_versions(fake, gateway, tmp_path):
    fake.add_model_version("m", "2", folder=artifact_folder(tmp_path / "two", "v2"))
    target = tmp_path / "cache"
    target.mkdir()
    (target / "stale.bin").write_bytes(b"old")
    gateway.download_model_version("m", "2", target)
    assert sorted(p.name for p in target.iterdir()) == ["artifact.json", "model.int8.onnx"]
    assert not any(p.name.startswith(".download-") for p in tmp_path.iterdir())
    with pytest.raises(NotFound, match="download_model_version on model m:3"):
        gateway.download_model_version("m", "3", tmp_path / "three")


def test_a_failed_download_keeps_the_previous_folder(fake, tmp_path):
    fake.add_model_version("m", "1", path=fake.datastore_uri("models/nothing-here/"))
    gateway = gateway_for(fake)
    target = tmp_path / "cache"
    target.mkdir()
    (target / "kept.bin").write_bytes(b"keep")
    with pytest.raises(AzureMLError, match="no files under"):
        gateway.download_model_version("m", "1", target)
    assert [p.name for p in target.iterdir()] == ["kept.bin"]
