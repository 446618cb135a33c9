"""Every fault at every step of a release: the endpoint keeps serving the previous champion, the
stage tags stay true, and running `up` again converges.

The release under test moves `good` (live on blue) to a challenger on green through a mirror step
and a canary step. Each case arms one fault at the n-th request of one operation during that `up`.
The slot gaining traffic is smoke-tested before each of the three traffic writes, so the smoke
tests are the first three scoring requests.
"""

from __future__ import annotations

import pytest

from infra.release import EndpointTrafficProvider
from infra.release.traffic.release import ForeignChange, ReleaseFailed
from tests.release.conftest import (
    ENDPOINT,
    FIRST,
    MODEL_NAME,
    RETRY_ATTEMPTS,
    SECOND,
    assert_never_zero,
    endpoint_puts,
    release_first,
    traffic_inputs,
)

ROLLOUT = [{"mirror": 20}, {"canary": 50}]
RETRIED_CONFLICTS = ("online_endpoints.put", "online_deployments.put")


def attempts_for(operation: str, status: int | None) -> int:
    """How many requests the gateway makes before giving up on this fault (its RetryPolicy)."""
    retried = status is None or status == 429 or status >= 500 or (status == 409 and operation in RETRIED_CONFLICTS)
    return RETRY_ATTEMPTS if retried else 1


def at_request(fake, operation: str, occurrence: int, action) -> None:
    """Run `action` just before the `occurrence`-th request of `operation` reaches the fake."""
    seen = {"count": 0}
    original = fake._inject_fault

    def hooked(op, path):
        if op == operation:
            seen["count"] += 1
            if seen["count"] == occurrence:
                action()
        return original(op, path)

    fake._inject_fault = hooked


# (operation, occurrence within the release) -> the step it is
STEPS = {
    ("online_deployments.put", 1): "deploy the challenger to the idle slot",
    ("online_endpoints.put", 1): "mirror step",
    ("online_endpoints.put", 2): "canary step",
    ("online_endpoints.put", 3): "final 100 % step",
    ("model_versions.put", 1): "tag the challenger staged",
    ("model_versions.put", 2): "tag the challenger production",
    ("model_versions.put", 3): "tag the old champion surpassed",
    ("score", 1): "smoke test before the mirror step",
    ("score", 2): "smoke test before the canary step",
    ("score", 3): "smoke test before the final step",
    ("online_endpoints.get", 1): "read the live endpoint",
    ("online_deployments.get", 1): "read a slot",
    ("model_versions.list", 1): "read the stage tags",
}
STATUSES = (404, 409, 429, 500)
SCORE_STATUSES = (500, 503)
READ_STATUSES = (500,)
CASES = [
    pytest.param(op, n, status, id=f"{STEPS[(op, n)]}-{status}")
    for (op, n) in STEPS
    for status in (SCORE_STATUSES if op == "score" else READ_STATUSES if op.endswith((".get", ".list")) else STATUSES)
] + [pytest.param("online_endpoints.put", 2, None, id="canary step-connection dropped")]


def check_previous_champion_serves(azureml, versions) -> None:
    assert azureml.serving() == {versions[FIRST]: 100} and azureml.mirror() == {}
    assert azureml.stage(versions[FIRST]) == "production"
    assert azureml.stage(versions[SECOND]) in ("staged", None), "a challenger that is not live is never production"
    assert_never_zero(azureml)


def check_rerun_converges(engine, azureml, versions, inputs) -> None:
    assert engine.up("traffic", EndpointTrafficProvider(), inputs) == "update"
    assert azureml.serving() == {versions[SECOND]: 100} and azureml.mirror() == {}
    assert azureml.stage(versions[SECOND]) == "production" and azureml.stage(versions[FIRST]) == "surpassed"
    writes = azureml.write_count()
    assert engine.up("traffic", EndpointTrafficProvider(), inputs) == "same"
    assert azureml.write_count() == writes
    assert_never_zero(azureml)


@pytest.mark.parametrize("operation, occurrence, status", CASES)
def test_fault_at_every_step_keeps_the_champion_serving_and_a_rerun_converges(
    azureml, engine, versions, operation, occurrence, status
):
    release_first(engine, azureml, versions)
    recorded = engine.outputs("traffic")
    inputs = traffic_inputs(azureml, versions[SECOND], champion=versions[FIRST], rollout=ROLLOUT)
    at_request(
        azureml.fake,
        operation,
        occurrence,
        lambda: azureml.fake.fail(operation, status, times=attempts_for(operation, status)),
    )
    with pytest.raises(Exception) as failure:
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    assert "ROLLBACK INCOMPLETE" not in str(failure.value)
    assert engine.outputs("traffic") == recorded, "a failed update keeps the previous state"
    check_previous_champion_serves(azureml, versions)
    check_rerun_converges(engine, azureml, versions, inputs)


UNHEALTHY_AT = {  # each is caught by the check before the next traffic write
    ("score", 1): "during the smoke test before the mirror step",
    ("online_endpoints.put", 1): "as the mirror step is written",
    ("online_endpoints.put", 2): "as the canary step is written",
    ("score", 3): "during the smoke test before the final step",
}


@pytest.mark.parametrize("operation, occurrence", [pytest.param(*k, id=v) for k, v in UNHEALTHY_AT.items()])
def test_challenger_turning_unhealthy_at_any_step_rolls_back(azureml, engine, versions, operation, occurrence):
    release_first(engine, azureml, versions)
    inputs = traffic_inputs(azureml, versions[SECOND], champion=versions[FIRST], rollout=ROLLOUT)
    at_request(azureml.fake, operation, occurrence, lambda: azureml.fake.mark_unhealthy(ENDPOINT, "green"))
    with pytest.raises(ReleaseFailed, match="green"):
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    check_previous_champion_serves(azureml, versions)
    azureml.fake.mark_healthy(ENDPOINT, "green")
    check_rerun_converges(engine, azureml, versions, inputs)


@pytest.mark.parametrize(
    "operation, occurrence", [("online_deployments.put", 1), ("online_endpoints.put", 1), ("online_endpoints.put", 3)]
)
def test_long_running_operation_ending_failed_rolls_back(azureml, engine, versions, operation, occurrence):
    release_first(engine, azureml, versions)
    inputs = traffic_inputs(azureml, versions[SECOND], champion=versions[FIRST], rollout=ROLLOUT)
    at_request(azureml.fake, operation, occurrence, lambda: azureml.fake.fail_lro(operation))
    with pytest.raises(ReleaseFailed):
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    check_previous_champion_serves(azureml, versions)
    check_rerun_converges(engine, azureml, versions, inputs)


def test_an_endpoint_busy_updating_beyond_the_retries_changes_nothing(azureml, engine, versions):
    release_first(engine, azureml, versions)
    inputs = traffic_inputs(azureml, versions[SECOND], champion=versions[FIRST], rollout=ROLLOUT)
    azureml.fake.hold_endpoint_updating(ENDPOINT, writes=RETRY_ATTEMPTS)
    with pytest.raises(ReleaseFailed, match="409"):
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    check_previous_champion_serves(azureml, versions)
    check_rerun_converges(engine, azureml, versions, inputs)


def test_transient_faults_within_the_retry_budget_do_not_fail_the_release(azureml, engine, versions):
    release_first(engine, azureml, versions)
    inputs = traffic_inputs(azureml, versions[SECOND], champion=versions[FIRST], rollout=ROLLOUT)
    for operation in ("online_endpoints.put", "online_deployments.put", "model_versions.put", "score"):
        azureml.fake.fail(operation, 503, times=RETRY_ATTEMPTS - 1)
    assert engine.up("traffic", EndpointTrafficProvider(), inputs) == "update"
    assert azureml.serving() == {versions[SECOND]: 100}


FIRST_RELEASE_FAULTS = {  # a first release has one traffic write, smoke-tested before it; then the tag
    ("score", 1): "smoke test before the traffic",
    ("model_versions.put", 2): "tag it production after the traffic moved",
}


@pytest.mark.parametrize("operation, occurrence", [pytest.param(*k, id=v) for k, v in FIRST_RELEASE_FAULTS.items()])
def test_a_failed_first_release_leaves_the_endpoint_without_traffic_and_a_rerun_converges(
    azureml, engine, versions, operation, occurrence
):
    inputs = traffic_inputs(azureml, versions[FIRST])
    at_request(azureml.fake, operation, occurrence, lambda: azureml.fake.fail(operation, 500, times=RETRY_ATTEMPTS))
    with pytest.raises(ReleaseFailed) as failure:
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    assert "ROLLBACK INCOMPLETE" not in str(failure.value)
    assert "traffic" not in engine.state, "a failed create records nothing"
    assert azureml.traffic() == {} and azureml.mirror() == {} and azureml.stage(versions[FIRST]) == "staged"
    assert engine.up("traffic", EndpointTrafficProvider(), inputs) == "create"
    assert azureml.serving() == {versions[FIRST]: 100} and azureml.stage(versions[FIRST]) == "production"


def test_a_rollback_that_cannot_complete_says_so_and_a_rerun_after_a_refresh_converges(azureml, engine, versions):
    release_first(engine, azureml, versions)
    inputs = traffic_inputs(azureml, versions[SECOND], champion=versions[FIRST], rollout=ROLLOUT)
    # the canary write fails, and so does the rollback's write of the traffic found at the start
    at_request(
        azureml.fake,
        "online_endpoints.put",
        2,
        lambda: azureml.fake.fail("online_endpoints.put", 500, times=2 * RETRY_ATTEMPTS),
    )
    with pytest.raises(ReleaseFailed, match="ROLLBACK INCOMPLETE.*pulumi refresh"):
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    assert azureml.traffic() == {"blue": 100} and azureml.mirror() == {"green": 20}, (
        "the champion keeps all live traffic; only the mirror step stays"
    )
    assert azureml.stage(versions[FIRST]) == "production"

    writes = azureml.write_count()
    with pytest.raises(ForeignChange):  # the state still records the traffic before the mirror step
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    assert azureml.write_count() == writes
    assert engine.refresh("traffic") == "changed"
    check_rerun_converges(engine, azureml, versions, inputs)


def test_a_rollback_restores_the_maps_found_at_the_start_exactly(azureml, engine, versions):
    """Even when the champion was serving with a mirror someone set (and a refresh accepted)."""
    release_first(engine, azureml, versions)
    azureml.fake.add_deployment(ENDPOINT, "red", model_id=azureml.fake.model_version_id(MODEL_NAME, versions[FIRST]))
    azureml.fake.set_traffic(ENDPOINT, {"blue": 100}, mirror_traffic={"red": 10})
    engine.refresh("traffic")
    inputs = traffic_inputs(azureml, versions[SECOND], champion=versions[FIRST], rollout=[{"canary": 50}])
    at_request(azureml.fake, "score", 2, lambda: azureml.fake.mark_unhealthy(ENDPOINT, "green"))
    with pytest.raises(ReleaseFailed, match="green"):
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    assert endpoint_puts(azureml)[-2:] == [({"blue": 50, "green": 50}, {}), ({"blue": 100}, {"red": 10})]
    assert azureml.traffic() == {"blue": 100} and azureml.mirror() == {"red": 10}


def test_a_rollback_never_gives_traffic_back_to_a_slot_this_release_rewrote(azureml, engine, versions):
    """Both slots served the champion (a hand split a refresh accepted); the release moves all traffic to
    blue, puts the challenger on green, and green fails its smoke test: the rollback may not restore the
    50/50 map, since green now serves the failed challenger. Green's share goes to the champion's slot."""
    release_first(engine, azureml, versions)
    fake = azureml.fake
    fake.add_deployment(ENDPOINT, "green", model_id=fake.model_version_id(MODEL_NAME, versions[FIRST]))
    fake.set_traffic(ENDPOINT, {"blue": 50, "green": 50})
    engine.refresh("traffic")
    at_request(fake, "score", 2, lambda: fake.fail("score", 500, times=10))  # the smoke test of green
    with pytest.raises(ReleaseFailed, match=r"traffic is back to \{'blue': 100\}"):
        engine.up(
            "traffic", EndpointTrafficProvider(), traffic_inputs(azureml, versions[SECOND], champion=versions[FIRST])
        )
    assert azureml.serving() == {versions[FIRST]: 100} and azureml.traffic() == {"blue": 100}
    assert azureml.stage(versions[FIRST]) == "production"
