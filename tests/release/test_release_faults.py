"""Every fault at every step of a release: the endpoint keeps serving the previous champion, the
stage tags stay true, and running `up` again converges.

The release under test moves `good` (live on blue) to a challenger on green through a mirror step
and a canary step. Each case arms one fault at the n-th request of one operation during that `up`.
"""
from __future__ import annotations

import pytest

from infra.release import EndpointTrafficProvider
from infra.release.traffic_release import ReleaseFailed
from tests.release.conftest import (ENDPOINT, FIRST, RETRY_ATTEMPTS, SECOND, assert_never_zero, release_first,
                                    traffic_inputs)

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
    ("score", 1): "smoke test before any traffic",
    ("score", 2): "smoke test after the mirror step",
    ("score", 3): "smoke test after the canary step",
    ("score", 4): "smoke test after the final step",
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
        azureml, engine, versions, operation, occurrence, status):
    release_first(engine, azureml, versions)
    recorded = engine.outputs("traffic")
    inputs = traffic_inputs(azureml, versions[SECOND], champion=versions[FIRST], rollout=ROLLOUT)
    at_request(azureml.fake, operation, occurrence,
               lambda: azureml.fake.fail(operation, status, times=attempts_for(operation, status)))
    with pytest.raises(Exception) as failure:
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    assert "ROLLBACK INCOMPLETE" not in str(failure.value)
    assert engine.outputs("traffic") == recorded, "a failed update keeps the previous state"
    check_previous_champion_serves(azureml, versions)
    check_rerun_converges(engine, azureml, versions, inputs)


UNHEALTHY_AT = {
    ("online_endpoints.put", 1): "before the mirror step",
    ("online_endpoints.put", 2): "before the canary step",
    ("online_endpoints.put", 3): "before the final step",
    ("score", 1): "before the first smoke test",
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


@pytest.mark.parametrize("operation, occurrence", [("online_deployments.put", 1), ("online_endpoints.put", 1),
                                                   ("online_endpoints.put", 3)])
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


def test_a_failed_first_release_leaves_the_endpoint_without_traffic_and_a_rerun_converges(azureml, engine, versions):
    inputs = traffic_inputs(azureml, versions[FIRST])
    at_request(azureml.fake, "score", 2, lambda: azureml.fake.fail("score", 500, times=RETRY_ATTEMPTS))
    with pytest.raises(ReleaseFailed):
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    assert "traffic" not in engine.state, "a failed create records nothing"
    assert azureml.traffic() == {} and azureml.stage(versions[FIRST]) == "staged"
    assert engine.up("traffic", EndpointTrafficProvider(), inputs) == "create"
    assert azureml.serving() == {versions[FIRST]: 100} and azureml.stage(versions[FIRST]) == "production"


def test_a_rollback_that_cannot_complete_says_so_and_a_rerun_still_converges(azureml, engine, versions):
    release_first(engine, azureml, versions)
    inputs = traffic_inputs(azureml, versions[SECOND], champion=versions[FIRST], rollout=ROLLOUT)

    def canary_fails_and_the_champion_breaks():
        azureml.fake.fail("online_endpoints.put", 500, times=RETRY_ATTEMPTS)
        azureml.fake.mark_unhealthy(ENDPOINT, "blue")

    at_request(azureml.fake, "online_endpoints.put", 2, canary_fails_and_the_champion_breaks)
    with pytest.raises(ReleaseFailed, match="ROLLBACK INCOMPLETE"):
        engine.up("traffic", EndpointTrafficProvider(), inputs)
    assert azureml.traffic() == {"blue": 100}, "traffic is never moved to an unhealthy slot, not even back"
    azureml.fake.mark_healthy(ENDPOINT, "blue")
    check_rerun_converges(engine, azureml, versions, inputs)
