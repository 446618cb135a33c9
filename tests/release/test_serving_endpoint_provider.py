"""ServingEndpoint through the engine lifecycle against the Azure ML fake: an endpoint's own settings,
never what it serves (its traffic belongs to EndpointTraffic)."""

from __future__ import annotations

import pytest

from infra.release.serving_endpoint import EndpointInUse, ServingEndpointProvider, endpoint_id
from tests.release.conftest import MODEL_NAME, CheckFailed

NEW = "hate-speech-new"


def endpoint_inputs(azureml, name: str = NEW, **settings) -> dict:
    return {
        **azureml.coordinates,
        "endpoint_name": name,
        "auth_mode": "aad_token",
        "public_network_access": "disabled",
        "description": "hate speech scoring",
        "tags": {"owner": "platform"},
        **settings,
    }


def live_traffic(azureml, name: str) -> tuple[dict, dict]:
    props = azureml.fake.endpoint(name)["properties"]
    return (
        {k: v for k, v in props["traffic"].items() if v},
        {k: v for k, v in (props.get("mirrorTraffic") or {}).items() if v},
    )


def serve(azureml, name: str, traffic: dict, mirror: dict | None = None) -> None:
    """What a release leaves on the endpoint: deployments and their traffic."""
    model = azureml.fake.add_model_version(MODEL_NAME, "1")["id"]
    for slot in sorted(set(traffic) | set(mirror or {})):
        azureml.fake.add_deployment(name, slot, model_id=model)
    azureml.fake.set_traffic(name, traffic, mirror_traffic=mirror)


def test_create_makes_an_endpoint_with_no_traffic_and_no_deployment(azureml, engine):
    assert engine.up("endpoint", ServingEndpointProvider(), endpoint_inputs(azureml)) == "create"
    created = azureml.fake.endpoint(NEW)
    assert created["properties"]["authMode"] == "AADToken"
    assert created["properties"]["publicNetworkAccess"].lower() == "disabled"
    assert created["tags"] == {"owner": "platform"} and created["identity"]["type"] == "SystemAssigned"
    assert live_traffic(azureml, NEW) == ({}, {})
    [put] = azureml.fake.calls_to("online_endpoints.put")
    assert not any((put.body["properties"].get(key) or {}).values() for key in ("traffic", "mirrorTraffic"))
    assert not azureml.fake.calls_to("online_deployments.put"), "the release creates the deployments"
    out = engine.outputs("endpoint")
    assert engine.state["endpoint"].id == endpoint_id(out)
    assert (out["traffic"], out["mirror_traffic"]) == ({}, {})
    assert out["scoring_uri"] == azureml.fake.scoring_uri(NEW)

    writes = azureml.write_count()
    assert engine.up("endpoint", ServingEndpointProvider(), endpoint_inputs(azureml)) == "same"
    assert engine.refresh("endpoint") == "same" and azureml.write_count() == writes


def test_the_endpoint_identity_is_an_output(azureml, engine):
    """The principal id of the endpoint's system-assigned identity, as Azure gave it: the stack grants
    that identity read access to what the slots load (infra/data_access.py)."""
    engine.up("endpoint", ServingEndpointProvider(), endpoint_inputs(azureml))
    principal = azureml.fake.endpoint(NEW)["identity"]["principalId"]
    assert principal and engine.outputs("endpoint")["principal_id"] == principal
    assert engine.refresh("endpoint") == "same"


def test_a_state_without_the_principal_id_records_it_by_a_read_not_a_write(azureml, engine):
    """A stack deployed before the principal id was an output: the next up reads it from the live
    endpoint (an update with unchanged settings), writes nothing, and the up after is a no-op."""
    provider = ServingEndpointProvider()
    engine.up("endpoint", provider, endpoint_inputs(azureml))
    record = engine.state["endpoint"]
    old = {k: v for k, v in record.outputs.items() if k != "principal_id"}
    engine.state["endpoint"] = type(record)(record.id, record.inputs, old, record.provider_blob)
    writes = azureml.write_count()
    assert engine.up("endpoint", provider, endpoint_inputs(azureml)) == "update"
    assert azureml.write_count() == writes, "no PUT: the settings did not change"
    assert engine.outputs("endpoint")["principal_id"] == azureml.fake.endpoint(NEW)["identity"]["principalId"]
    assert engine.up("endpoint", provider, endpoint_inputs(azureml)) == "same"


def test_update_is_a_read_modify_write_that_keeps_the_live_traffic(azureml, engine):
    provider = ServingEndpointProvider()
    engine.up("endpoint", provider, endpoint_inputs(azureml))
    serve(azureml, NEW, {"blue": 90, "green": 10})
    azureml.fake.set_traffic(NEW, {"blue": 100}, mirror_traffic={"green": 20})
    azureml.fake.calls.clear()
    changed = endpoint_inputs(
        azureml,
        auth_mode="key",
        public_network_access="enabled",
        description="moved",
        tags={"owner": "ml", "cost-center": "42"},
    )
    assert engine.preview("endpoint", provider, changed) == "update"
    assert engine.up("endpoint", provider, changed) == "update"
    operations = [c.operation for c in azureml.fake.calls if c.operation.startswith("online_endpoints.")]
    assert operations.index("online_endpoints.get") < operations.index("online_endpoints.put")
    [put] = azureml.fake.calls_to("online_endpoints.put")
    assert {k: v for k, v in put.body["properties"]["traffic"].items() if v} == {"blue": 100}
    assert put.body["properties"]["mirrorTraffic"] == {"green": 20}
    assert live_traffic(azureml, NEW) == ({"blue": 100}, {"green": 20})
    endpoint = azureml.fake.endpoint(NEW)
    assert endpoint["properties"]["authMode"] == "Key" and endpoint["properties"]["description"] == "moved"
    assert endpoint["tags"] == {"owner": "ml", "cost-center": "42"}
    assert not azureml.fake.calls_to("online_deployments.put"), "what the endpoint serves is not touched"
    out = engine.outputs("endpoint")
    assert (out["traffic"], out["mirror_traffic"]) == ({"blue": 100}, {"green": 20})


def test_another_workspace_or_name_replaces_and_a_bad_setting_is_refused_by_name(azureml, engine):
    provider = ServingEndpointProvider()
    engine.up("endpoint", provider, endpoint_inputs(azureml))
    assert engine.preview("endpoint", provider, endpoint_inputs(azureml, name="hate-speech-other")) == "replace"
    with pytest.raises(CheckFailed) as failed:
        engine.up("endpoint", provider, endpoint_inputs(azureml, auth_mode="aml_token"))
    ((field, reason),) = failed.value.failures
    assert field == "auth_mode" and "'aml_token'" in reason and "key" in reason and "aad_token" in reason


def test_create_adopts_an_endpoint_of_its_name_and_keeps_what_it_serves(azureml, engine):
    """A create whose answer was lost, or a stack upgraded from the azure-native endpoint: the endpoint is
    there already, with traffic; create changes its settings by read-modify-write and keeps the traffic."""
    azureml.fake.add_endpoint(NEW, auth_mode="AADToken", description="made by hand", tags={"owner": "ops"})
    serve(azureml, NEW, {"blue": 100})
    provider = ServingEndpointProvider()
    assert engine.up("endpoint", provider, endpoint_inputs(azureml)) == "create"
    assert live_traffic(azureml, NEW) == ({"blue": 100}, {})
    (put,) = azureml.fake.calls_to("online_endpoints.put")
    assert {k: v for k, v in put.body["properties"]["traffic"].items() if v} == {"blue": 100}
    assert engine.outputs("endpoint")["traffic"] == {"blue": 100}
    writes = azureml.write_count()
    assert engine.up("endpoint", provider, endpoint_inputs(azureml)) == "same" and azureml.write_count() == writes


def test_refresh_reads_the_live_settings_back_as_inputs_and_reports_a_gone_endpoint_as_gone(azureml, engine):
    provider = ServingEndpointProvider()
    engine.up("endpoint", provider, endpoint_inputs(azureml))
    azureml.fake.endpoint(NEW)["tags"] = {"owner": "someone"}
    assert engine.refresh("endpoint") == "changed"
    assert engine.outputs("endpoint")["tags"] == {"owner": "someone"}
    assert engine.preview("endpoint", provider, endpoint_inputs(azureml)) == "update", "the drift shows in a preview"
    azureml.fake._endpoints.pop(NEW)
    assert engine.refresh("endpoint") == "deleted"


@pytest.mark.parametrize("traffic, mirror", [({"blue": 100}, None), ({"blue": 100}, {"green": 10})])
def test_delete_refuses_while_traffic_is_live(azureml, engine, traffic, mirror):
    provider = ServingEndpointProvider()
    engine.up("endpoint", provider, endpoint_inputs(azureml))
    serve(azureml, NEW, traffic, mirror)
    record = engine.state["endpoint"]
    writes = azureml.write_count()
    with pytest.raises(EndpointInUse, match="does not delete what serves"):
        engine.destroy("endpoint")
    assert azureml.write_count() == writes and not azureml.fake.calls_to("online_endpoints.delete")
    assert live_traffic(azureml, NEW) == (traffic, mirror or {})

    azureml.fake.set_traffic(NEW, {slot: 0 for slot in traffic})  # traffic taken off first
    engine.state["endpoint"] = record
    engine.destroy("endpoint")
    assert len(azureml.fake.calls_to("online_endpoints.delete")) == 1 and azureml.fake.endpoint(NEW) is None


def test_delete_of_an_endpoint_already_gone_writes_nothing(azureml, engine):
    provider = ServingEndpointProvider()
    engine.up("endpoint", provider, endpoint_inputs(azureml))
    azureml.fake._endpoints.pop(NEW)
    writes = azureml.write_count()
    engine.destroy("endpoint")
    assert azureml.write_count() == writes
