"""EndpointTraffic through the engine lifecycle against the Azure ML fake.

Decisions are injected through the resource's comparison inputs (winner, champion_version); the
models behind the versions are real tiny artifacts, so every smoke test scores through the fake
endpoint with the serving classifier.
"""

from __future__ import annotations

import pytest

from infra.release import EndpointTrafficProvider
from infra.release.base import gateway_for
from infra.release.traffic.release import ForeignChange
from infra.release.traffic.serving_spec import deployment_spec
from tests.release.conftest import (
    ENDPOINT,
    FIRST,
    MODEL_NAME,
    SECOND,
    THIRD,
    CheckFailed,
    assert_never_zero,
    endpoint_puts,
    release_first,
    serving_spec,
    traffic_inputs,
)


def test_first_release_to_an_empty_endpoint(azureml, engine, versions):
    good = versions[FIRST]
    provider = EndpointTrafficProvider()
    assert engine.preview("traffic", provider, traffic_inputs(azureml, good)) == "create"
    assert engine.up("traffic", provider, traffic_inputs(azureml, good)) == "create"
    assert azureml.serving() == {good: 100} and azureml.mirror() == {}
    assert azureml.stage(good) == "production"
    assert azureml.stage(versions[SECOND]) is None
    out = engine.outputs("traffic")
    assert out["live_version"] == good and out["traffic"] == {"blue": 100}
    assert out["stages"] == {good: "production"}
    assert any(deployment == "blue" for _, deployment, _ in azureml.fake.scored), "no smoke test on the slot"

    writes = azureml.write_count()
    assert engine.preview("traffic", provider, traffic_inputs(azureml, good)) == "same"
    assert engine.up("traffic", provider, traffic_inputs(azureml, good)) == "same"
    assert engine.refresh("traffic") == "same"
    assert azureml.write_count() == writes, "a no-op up and a refresh must not write"


def test_challenger_wins_and_moves_in_steps_with_a_smoke_test_after_each(azureml, engine, versions):
    release_first(engine, azureml, versions)
    champion, challenger = versions[FIRST], versions[SECOND]
    before = len(endpoint_puts(azureml))
    rollout = [{"mirror": 20}, {"canary": 10}, {"canary": 50}]
    assert (
        engine.up(
            "traffic",
            EndpointTrafficProvider(),
            traffic_inputs(azureml, challenger, champion=champion, rollout=rollout),
        )
        == "update"
    )
    assert endpoint_puts(azureml)[before:] == [
        ({"blue": 100}, {"green": 20}),
        ({"blue": 90, "green": 10}, {}),
        ({"blue": 50, "green": 50}, {}),
        ({"green": 100}, {}),
    ]
    assert azureml.serving() == {challenger: 100}
    assert azureml.stage(challenger) == "production" and azureml.stage(champion) == "surpassed"
    assert sum(1 for _, deployment, _ in azureml.fake.scored if deployment == "green") >= 4
    assert engine.outputs("traffic")["last_run"][-1].startswith("traffic {'blue': 0, 'green': 100}")
    assert_never_zero(azureml)


def test_endpoint_changes_are_read_modify_write_of_the_live_endpoint(azureml, engine, versions):
    release_first(engine, azureml, versions)
    engine.up(
        "traffic",
        EndpointTrafficProvider(),
        traffic_inputs(azureml, versions[SECOND], champion=versions[FIRST], rollout=[{"canary": 10}]),
    )
    operations = [c.operation for c in azureml.fake.calls if c.operation.startswith("online_endpoints.")]
    for index, operation in enumerate(operations):
        if operation == "online_endpoints.put":
            assert operations[index - 1] == "online_endpoints.get", operations


def test_a_losing_challenger_leaves_traffic_and_tags_as_they_were(azureml, engine, versions):
    release_first(engine, azureml, versions)
    champion, loser = versions[FIRST], versions[SECOND]
    writes = azureml.write_count()
    assert (
        engine.up(
            "traffic", EndpointTrafficProvider(), traffic_inputs(azureml, loser, winner="champion", champion=champion)
        )
        == "update"
    )
    assert azureml.write_count() == writes
    assert azureml.serving() == {champion: 100}
    assert azureml.stage(loser) is None and azureml.stage(champion) == "production"
    assert azureml.slot_version("green") is None, "a loser is not deployed"


def test_prod_waits_for_approval_of_that_exact_version(azureml, engine, versions):
    release_first(engine, azureml, versions)
    champion, second, third = versions[FIRST], versions[SECOND], versions[THIRD]
    provider = EndpointTrafficProvider()
    prod = {"require_approval": True}
    engine.up("traffic", provider, traffic_inputs(azureml, second, champion=champion, **prod))
    assert azureml.serving() == {champion: 100}
    assert azureml.slot_version("green") == second, "the staged winner waits, smoke-tested, in the idle slot"
    assert azureml.stage(second) == "staged" and azureml.stage(champion) == "production"
    assert engine.outputs("traffic")["staged_version"] == second

    engine.up("traffic", provider, traffic_inputs(azureml, second, champion=champion, approved_version=third, **prod))
    assert azureml.serving() == {champion: 100}, "approving another version approves nothing"

    engine.up("traffic", provider, traffic_inputs(azureml, third, champion=champion, **prod))
    assert azureml.stage(third) == "staged" and azureml.stage(second) == "unstaged"
    assert azureml.slot_version("green") == third and azureml.serving() == {champion: 100}

    engine.up("traffic", provider, traffic_inputs(azureml, third, champion=champion, approved_version=third, **prod))
    assert azureml.serving() == {third: 100}
    assert azureml.stage(third) == "production" and azureml.stage(champion) == "surpassed"
    assert azureml.stage(second) == "unstaged"
    assert_never_zero(azureml)
    writes = azureml.write_count()
    assert (
        engine.up(
            "traffic", provider, traffic_inputs(azureml, third, champion=champion, approved_version=third, **prod)
        )
        == "same"
    )
    assert azureml.write_count() == writes


def test_a_staged_winner_is_unstaged_when_a_later_candidate_loses(azureml, engine, versions):
    """Only the winner the stack still declares waits as `staged`: a staged version left behind by
    a newer candidate that lost becomes `unstaged`, and the endpoint is not touched."""
    release_first(engine, azureml, versions)
    champion, second, third = versions[FIRST], versions[SECOND], versions[THIRD]
    provider = EndpointTrafficProvider()
    engine.up("traffic", provider, traffic_inputs(azureml, second, champion=champion, require_approval=True))
    assert azureml.stage(second) == "staged"
    puts = len(endpoint_puts(azureml))
    engine.up(
        "traffic", provider, traffic_inputs(azureml, third, winner="champion", champion=champion, require_approval=True)
    )
    assert azureml.stage(second) == "unstaged" and azureml.stage(third) is None
    assert azureml.stage(champion) == "production" and azureml.serving() == {champion: 100}
    assert len(endpoint_puts(azureml)) == puts, "un-staging is a registry change only"
    writes = azureml.write_count()
    assert (
        engine.up(
            "traffic",
            provider,
            traffic_inputs(azureml, third, winner="champion", champion=champion, require_approval=True),
        )
        == "same"
    )
    assert azureml.write_count() == writes


def test_first_prod_release_without_approval_stages_without_traffic(azureml, engine, versions):
    good = versions[FIRST]
    engine.up("traffic", EndpointTrafficProvider(), traffic_inputs(azureml, good, require_approval=True))
    assert azureml.traffic() == {} and azureml.stage(good) == "staged"
    engine.up(
        "traffic",
        EndpointTrafficProvider(),
        traffic_inputs(azureml, good, require_approval=True, approved_version=good),
    )
    assert azureml.serving() == {good: 100} and azureml.stage(good) == "production"


def test_manual_traffic_change_shows_on_refresh_and_up_restores_it(azureml, engine, versions):
    release_first(engine, azureml, versions)
    champion, challenger = versions[FIRST], versions[SECOND]
    provider = EndpointTrafficProvider()
    inputs = traffic_inputs(azureml, challenger, champion=champion)
    engine.up("traffic", provider, inputs)
    azureml.fake.set_traffic(ENDPOINT, {"blue": 70, "green": 30})
    assert engine.preview("traffic", provider, inputs) == "same", "without a refresh the engine sees no change"
    assert engine.refresh("traffic") == "changed"
    assert engine.outputs("traffic")["traffic"] == {"blue": 70, "green": 30}
    assert engine.preview("traffic", provider, inputs) == "update"
    puts, deploys = len(endpoint_puts(azureml)), len(azureml.fake.calls_to("online_deployments.put"))
    assert engine.up("traffic", provider, inputs) == "update"
    assert azureml.serving() == {challenger: 100}
    assert endpoint_puts(azureml)[puts:] == [({"green": 100}, {})], "drift is undone in one write"
    assert azureml.slot_version("blue") == champion, "the idle slot keeps the fallback: nothing is redeployed"
    assert not azureml.fake.calls_to("online_deployments.put")[deploys:]
    assert engine.refresh("traffic") == "same"


def test_manual_stage_tag_change_is_drift_too(azureml, engine, versions):
    release_first(engine, azureml, versions)
    good = versions[FIRST]
    azureml.fake.model_version(MODEL_NAME, good)["properties"]["tags"]["stage"] = "surpassed"
    assert engine.refresh("traffic") == "changed"
    assert engine.up("traffic", EndpointTrafficProvider(), traffic_inputs(azureml, good)) == "update"
    assert azureml.stage(good) == "production"


def test_deleting_the_resource_leaves_traffic_as_it_is(azureml, engine, versions):
    release_first(engine, azureml, versions)
    writes = azureml.write_count()
    engine.destroy("traffic")
    assert azureml.write_count() == writes and azureml.serving() == {versions[FIRST]: 100}


def test_endpoint_gone_means_the_resource_is_gone(azureml, engine, versions):
    release_first(engine, azureml, versions)
    azureml.fake._endpoints.pop(ENDPOINT)
    assert engine.refresh("traffic") == "deleted"


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("rollout", [{"mirror": 60}], "mirror 1-50 %"),
        ("rollout", [{"canary": 50}, {"canary": 10}], "canary 1-99 % rising"),
        ("rollout", [{"canary": 10}, {"mirror": 10}], "mirror steps first"),
        ("winner", "draw", "one of ['challenger', 'champion']"),
        ("slots", ["blue", "blue"], "2 different deployment names (lowercase letters"),
        ("smoke_payload", {"data": [1]}, '{"texts": ["a text", ...]}'),
        ("hold_seconds", -1, "a number from 0 to 3600"),
    ],
)
def test_check_names_the_field_the_value_and_what_is_accepted(azureml, engine, field, value, fragment):
    with pytest.raises(CheckFailed) as failed:
        engine.up("traffic", EndpointTrafficProvider(), {**traffic_inputs(azureml, "0123456789ab"), field: value})
    ((name, reason),) = failed.value.failures
    assert name == field and repr(value) in reason and fragment in reason


def test_a_slot_already_running_the_candidate_under_the_spec_is_not_rewritten(azureml, engine, versions):
    """A slot that serves the candidate under the declared serving spec (an earlier run deployed it and failed
    later, or someone deployed it) only gets the traffic: no deployment PUT."""
    good = versions[FIRST]
    inputs = traffic_inputs(azureml, good)
    gateway = gateway_for(azureml.workspace)
    gateway.put_deployment(
        ENDPOINT, "blue", deployment_spec(inputs["serving"], azureml.fake.model_version_id(MODEL_NAME, good), "blue")
    )
    deploys = len(azureml.fake.calls_to("online_deployments.put"))
    provider = EndpointTrafficProvider()
    assert engine.up("traffic", provider, inputs) == "create"
    assert len(azureml.fake.calls_to("online_deployments.put")) == deploys, "the running slot is not written again"
    assert azureml.serving() == {good: 100} and azureml.traffic() == {"blue": 100}
    assert azureml.fake.deployment(ENDPOINT, "green") is None, "no second slot is created for nothing"
    writes = azureml.write_count()
    assert engine.refresh("traffic") == "same"
    assert engine.up("traffic", provider, inputs) == "same"
    assert azureml.write_count() == writes


def test_a_slot_running_the_candidate_under_another_spec_is_rewritten_whole(azureml, engine, versions):
    from infra.release.traffic.serving_spec import SERVING_VERSION_TAG, serving_version

    good = versions[FIRST]
    old_spec = serving_spec(azureml.fake, code_version="c0de0000000f")
    gateway_for(azureml.workspace).put_deployment(
        ENDPOINT, "blue", deployment_spec(old_spec, azureml.fake.model_version_id(MODEL_NAME, good), "blue")
    )
    inputs = traffic_inputs(azureml, good)
    puts = len(azureml.fake.calls_to("online_deployments.put"))
    engine.up("traffic", EndpointTrafficProvider(), inputs)
    [put] = azureml.fake.calls_to("online_deployments.put")[puts:]
    assert put.path.endswith("/deployments/blue")
    blue = azureml.fake.deployment(ENDPOINT, "blue")
    assert blue["properties"]["codeConfiguration"]["codeId"] == inputs["serving"]["code_id"]
    assert blue["tags"][SERVING_VERSION_TAG] == serving_version(inputs["serving"]) != serving_version(old_spec)
    assert azureml.traffic() == {"blue": 100} and azureml.serving() == {good: 100}


def test_preview_with_values_not_known_yet_plans_an_update_without_calling_azure(azureml, engine, versions):
    from pulumi.runtime.rpc import UNKNOWN

    release_first(engine, azureml, versions)
    calls = len(azureml.fake.calls)
    unknown = traffic_inputs(azureml, UNKNOWN, winner=UNKNOWN, champion=UNKNOWN)
    assert engine.preview("traffic", EndpointTrafficProvider(), unknown) == "update"
    assert len(azureml.fake.calls) == calls


def test_hold_seconds_waits_after_each_partial_step_only(azureml, engine, versions, monkeypatch):
    from infra.release.traffic import release as traffic_release

    waits = []
    monkeypatch.setattr(traffic_release.time, "sleep", waits.append)
    release_first(engine, azureml, versions)
    engine.up(
        "traffic",
        EndpointTrafficProvider(),
        traffic_inputs(
            azureml,
            versions[SECOND],
            champion=versions[FIRST],
            rollout=[{"mirror": 10}, {"canary": 25}],
            hold_seconds=30,
        ),
    )
    assert waits == [30, 30] and azureml.serving() == {versions[SECOND]: 100}


def test_a_missing_decision_passes_a_preview_but_never_an_update(azureml, engine, versions):
    release_first(engine, azureml, versions)
    undecided = {k: v for k, v in traffic_inputs(azureml, versions[SECOND]).items() if k != "winner"}
    assert engine.preview("traffic", EndpointTrafficProvider(), undecided) == "update"
    with pytest.raises(Exception, match="winner is None; accepted: one of"):
        engine.up("traffic", EndpointTrafficProvider(), undecided)
    assert azureml.serving() == {versions[FIRST]: 100}


def test_a_new_model_never_goes_to_a_slot_that_carries_traffic(azureml, engine, versions):
    release_first(engine, azureml, versions)
    champion = versions[FIRST]
    # by hand: a second deployment of the champion on green, and some traffic on it
    azureml.fake.add_deployment(ENDPOINT, "green", model_id=azureml.fake.model_version_id(MODEL_NAME, champion))
    azureml.fake.set_traffic(ENDPOINT, {"blue": 80, "green": 20})
    inputs = traffic_inputs(azureml, versions[SECOND], champion=champion)
    writes = azureml.write_count()
    with pytest.raises(ForeignChange, match="pulumi refresh"):
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    assert azureml.write_count() == writes and azureml.traffic() == {"blue": 80, "green": 20}, (
        "someone else's traffic change is not acted on before a refresh accepts it"
    )

    assert engine.refresh("traffic") == "changed"
    before = len(azureml.fake.calls)
    engine.up("traffic", EndpointTrafficProvider(), inputs)
    writes = [
        (
            c.operation,
            {k: v for k, v in c.body["properties"]["traffic"].items() if v}
            if c.operation == "online_endpoints.put"
            else None,
        )
        for c in azureml.fake.calls[before:]
        if c.operation in ("online_endpoints.put", "online_deployments.put")
    ]
    deploy = writes.index(("online_deployments.put", None))
    assert writes[deploy - 1] == ("online_endpoints.put", {"blue": 100}), writes
    assert azureml.serving() == {versions[SECOND]: 100} and azureml.traffic() == {"green": 100}


@pytest.mark.parametrize(
    "extra, expected",
    [
        ({"winner": "champion"}, "lost: traffic stays on 111111111111"),
        (
            {"rollout": [{"mirror": 10}, {"canary": 50}]},
            "won: it takes all traffic, in steps: mirror 10% -> canary 50% -> full 100%",
        ),
        ({"require_approval": True}, "waiting for approved_version=222222222222"),
        ({"require_approval": True, "approved_version": "222222222222"}, "in steps: full 100%"),
        (
            {"require_approval": True, "approved_version": "222222222222", "approved_serving_version": "0123456789ab"},
            "won and is approved; waiting for approved_serving_version=",
        ),
        ({"winner": None}, "decided when the champion/challenger comparison has run"),
        (
            {"winner": "champion", "champion_version": None},
            "challenger 222222222222 lost and no model is live: the endpoint stays as it is",
        ),
    ],
)
def test_check_says_what_an_up_will_do(azureml, engine, extra, expected):
    inputs = traffic_inputs(azureml, "222222222222", champion="111111111111", **extra)
    if inputs["winner"] is None:
        del inputs["winner"]
    assert expected in engine.check("traffic", EndpointTrafficProvider(), inputs)["intent"]


def test_an_approval_after_production_changed_is_refused_as_a_stale_decision(azureml, engine, versions):
    from infra.release.traffic.release import StaleDecision

    release_first(engine, azureml, versions)
    champion, challenger, other = versions[FIRST], versions[SECOND], versions[THIRD]
    prod = {"require_approval": True}
    engine.up("traffic", EndpointTrafficProvider(), traffic_inputs(azureml, challenger, champion=champion, **prod))
    # meanwhile someone put another model live by hand, on the slot the champion held, and tagged it production
    azureml.fake.deployment(ENDPOINT, "blue")["properties"]["model"] = azureml.fake.model_version_id(MODEL_NAME, other)
    azureml.fake.model_version(MODEL_NAME, champion)["properties"]["tags"]["stage"] = "surpassed"
    azureml.fake.model_version(MODEL_NAME, other)["properties"]["tags"]["stage"] = "production"
    writes = azureml.write_count()
    with pytest.raises(StaleDecision, match="Decide again"):
        engine.up(
            "traffic",
            EndpointTrafficProvider(),
            traffic_inputs(azureml, challenger, champion=champion, approved_version=challenger, **prod),
        )
    assert azureml.write_count() == writes and azureml.serving() == {other: 100}


def test_an_approved_winner_waiting_for_its_serving_approval_stays_staged_and_a_rerun_writes_nothing(
    azureml, engine, versions
):
    """prod: approvedVersion names the winner, approvedServingVersion another spec (serving/ changed after the
    approval): the winner waits on the idle slot tagged `staged`, and the next `up` is a no-op."""
    release_first(engine, azureml, versions)
    inputs = traffic_inputs(
        azureml,
        versions[SECOND],
        champion=versions[FIRST],
        require_approval=True,
        approved_version=versions[SECOND],
        approved_serving_version="000000000000",
    )
    engine.up("traffic", EndpointTrafficProvider(), inputs)
    assert azureml.slot_version("green") == versions[SECOND] and azureml.serving() == {versions[FIRST]: 100}
    assert azureml.stage(versions[SECOND]) == "staged"
    assert "waiting for approved_serving_version=" in engine.outputs("traffic")["note"]
    writes = azureml.write_count()
    assert engine.up("traffic", EndpointTrafficProvider(), inputs) == "same"
    assert azureml.write_count() == writes
