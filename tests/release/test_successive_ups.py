"""The real `test` stack program, `up` after `up`, state carried between them, against the Azure ML fake.

tests/harness/stack_updates.py applies the engine's semantics (ignored properties keep their old
inputs, azure-native updates are whole-body PUTs, replacements delete first, retain_on_delete,
removed resources deleted at the end); the release providers run for real, the comparison included.
"""

from __future__ import annotations

import copy
import shutil

import pytest

import stacks
from infra.azureml.gateway import RetryPolicy, WorkspaceRef
from infra.release.base import use_gateway_factory
from infra.release.model_ref import version_in
from infra.serving_assets import SERVING_DIR, ServingSource
from scripts.offline.mocks import SUBSCRIPTION_ID
from scripts.offline.stack import run_stack, stack_config
from tests.fakes.azureml import FakeAzureML, gateway_for
from tests.harness.stack_updates import AzureControlPlane, StackUpdates
from tests.release.conftest import MODEL_NAME, ModelScorer

STACK = "test"
P = "mlops-platform:"
SERVING_ENDPOINT = "pulumi-python:dynamic/release:ServingEndpoint"
TRAFFIC = "pulumi-python:dynamic/release:EndpointTraffic"


def _config(candidate=None, evaluation=None, **release) -> dict:
    config = copy.deepcopy(stack_config(STACK))
    workspace = config[f"{P}workspaces"][0]
    if candidate is not None:
        workspace["release"].update(candidate=str(candidate), evaluationData=str(evaluation))
    workspace["release"].update(release)
    return config


class Estate:
    """One stack, its state, and the fake workspace behind it."""

    def __init__(self, serving_dir):
        plan = run_stack(STACK, config=_config())
        endpoint = plan.one(SERVING_ENDPOINT)
        self.endpoint = endpoint.input("endpoint_name")
        self.fake = FakeAzureML(
            subscription_id=SUBSCRIPTION_ID,
            resource_group=endpoint.input("resource_group"),
            workspace_name=endpoint.input("workspace_name"),
        )
        self.fake.scorer_factory = lambda ep, deployment: ModelScorer(self.fake, ep, deployment)
        self.serving_dir = serving_dir
        self.azure = AzureControlPlane(self.fake)
        self.stack = StackUpdates(
            STACK,
            lambda: stacks.build(stacks.selected_settings(), serving=ServingSource.read(self.serving_dir)),
            self.azure,
        )
        self.workspace = WorkspaceRef(
            SUBSCRIPTION_ID, endpoint.input("resource_group"), endpoint.input("workspace_name")
        )
        self.gateway = gateway_for(
            self.fake, retry=RetryPolicy(attempts=2, initial_delay_s=0.0, max_delay_s=0.0), sleep=lambda s: None
        )

    def up(self, **config):
        return self.stack.up(_config(**config))

    # -- what Azure holds --------------------------------------------------------------------
    def traffic(self) -> dict:
        return {k: v for k, v in self.fake.endpoint(self.endpoint)["properties"]["traffic"].items() if v}

    def serving(self) -> dict:
        """{(model version, code id): percent} of live traffic."""
        return {(self.slot_version(slot), self.slot_code(slot)): pct for slot, pct in self.traffic().items()}

    def slot_version(self, slot: str):
        deployment = self.fake.deployment(self.endpoint, slot)
        return None if deployment is None else version_in(deployment["properties"].get("model"), MODEL_NAME)

    def slot_code(self, slot: str):
        deployment = self.fake.deployment(self.endpoint, slot)
        return None if deployment is None else deployment["properties"]["codeConfiguration"]["codeId"].split("/")[-1]

    def stage(self, version: str):
        return self.fake.model_version(MODEL_NAME, version)["properties"]["tags"].get("stage")

    def deployment_puts(self) -> list[str]:
        return [c.path.rsplit("/", 1)[-1] for c in self.fake.calls_to("online_deployments.put")]

    def endpoint_puts(self) -> list[dict]:
        return [
            {k: v for k, v in c.body["properties"].get("traffic", {}).items() if v}
            for c in self.fake.calls_to("online_endpoints.put")
        ]

    def outputs(self, type_: str) -> dict:
        (stored,) = self.stack.resources(type_).values()
        return stored.outputs


@pytest.fixture
def estate(tmp_path, monkeypatch):
    from infra.release.traffic import release as traffic_release

    monkeypatch.setattr(traffic_release.time, "sleep", lambda seconds: None)  # the stack's holds
    serving_dir = tmp_path / "serving"
    shutil.copytree(SERVING_DIR, serving_dir, ignore=shutil.ignore_patterns("__pycache__"))
    estate = Estate(serving_dir)
    with use_gateway_factory(estate.workspace, lambda ref: estate.gateway):
        yield estate


def _writes(estate) -> int:
    return len(estate.fake.writes()) + len(estate.azure.puts) + len(estate.azure.deleted)


def _assert_no_op(estate, **config) -> None:
    """(e) an `up` with nothing new makes no write call anywhere."""
    before = _writes(estate)
    update = estate.up(**config)
    assert update.changed() == [], update.changed()
    assert _writes(estate) == before


def _edit_scoring_code(estate) -> str:
    score = estate.serving_dir / "score.py"
    score.write_text(score.read_text(encoding="utf-8") + "\n# a scoring-code change\n", encoding="utf-8")
    return ServingSource.read(estate.serving_dir).code_version


def test_a_empty_stack_deploys_then_a_first_release(estate, models):
    first = estate.up()
    assert estate.fake.endpoint(estate.endpoint) is not None
    assert estate.traffic() == {} and estate.fake.calls_to("online_deployments.put") == []
    assert not any(step[0].endswith("-traffic") for step in first.steps), "no release without a candidate"
    _assert_no_op(estate)

    estate.up(candidate=models.good, evaluation=models.evaluation_data)
    good = estate.outputs(TRAFFIC)["challenger_version"]
    assert estate.serving() == {(good, ServingSource.read(estate.serving_dir).code_version): 100}
    assert estate.stage(good) == "production"
    _assert_no_op(estate, candidate=models.good, evaluation=models.evaluation_data)


def test_a2_the_endpoint_identity_gets_read_access_to_what_the_slots_load(estate):
    """The endpoint's role assignments name the principal Azure gave the endpoint's system-assigned identity
    (unknown until the ServingEndpoint creates it), as ServicePrincipal, on the containers it reads from."""
    estate.up()
    principal = estate.fake.endpoint(estate.endpoint)["identity"]["principalId"]
    grants = {
        name: stored.inputs
        for name, stored in estate.stack.resources("azure-native:authorization:RoleAssignment").items()
        if "-endpoint-" in name
    }
    assert len(grants) == 2
    for inputs in grants.values():
        assert (inputs["principalId"], inputs["principalType"]) == (principal, "ServicePrincipal")
    assert sorted(inputs["scope"].rsplit("/", 1)[-1].split("-")[0] for inputs in grants.values()) == [
        "azureml",
        "serving",
    ], "the default datastore's container and the old code container"
    _assert_no_op(estate)


def test_b_a_scoring_code_change_goes_out_through_the_idle_slot(estate, models):
    release = {"candidate": models.good, "evaluation": models.evaluation_data}
    estate.up(**release)
    good = estate.outputs(TRAFFIC)["challenger_version"]
    old_code = ServingSource.read(estate.serving_dir).code_version
    (live_slot,) = estate.traffic()
    new_code = _edit_scoring_code(estate)
    puts_before, traffic_before = len(estate.deployment_puts()), len(estate.endpoint_puts())

    estate.up(**release)
    assert estate.deployment_puts()[puts_before:] == ["green" if live_slot == "blue" else "blue"], (
        "only the idle slot is written"
    )
    assert estate.slot_code(live_slot) == old_code and estate.slot_version(live_slot) == good, (
        "the live slot keeps serving v1 with the old code until traffic leaves it"
    )
    steps = estate.endpoint_puts()[traffic_before:]
    assert len(steps) == 3, f"the test stack's rollout: mirror 20, canary 50, full: {steps}"
    assert estate.serving() == {(good, new_code): 100}
    assert estate.stage(good) == "production"
    _assert_no_op(estate, **release)


def test_c_a_losing_challenger_then_an_instance_count_change_keep_v1_live(estate, models):
    estate.up(candidate=models.good, evaluation=models.evaluation_data)
    good = estate.outputs(TRAFFIC)["challenger_version"]
    code = ServingSource.read(estate.serving_dir).code_version
    estate.up(candidate=models.always_hate, evaluation=models.evaluation_data)
    assert estate.outputs(TRAFFIC)["winner"] == "champion"
    assert estate.serving() == {(good, code): 100}

    config = _config(candidate=models.always_hate, evaluation=models.evaluation_data)
    config[f"{P}workspaces"][0]["endpoint"]["instanceCount"] = 3
    (live_slot,) = estate.traffic()
    puts = len(estate.fake.calls_to("online_deployments.put"))
    estate.stack.up(config)
    (capacity,) = estate.fake.calls_to("online_deployments.put")[puts:]
    assert capacity.path.endswith(f"/deployments/{live_slot}") and capacity.body["sku"]["capacity"] == 3
    assert version_in(capacity.body["properties"]["model"], MODEL_NAME) == good, "the live slot keeps v1"
    assert estate.serving() == {(good, code): 100}
    before = _writes(estate)
    assert estate.stack.up(config).changed() == [] and _writes(estate) == before


def _slot_assets(estate) -> dict[str, tuple[str, str]]:
    found = {}
    for slot in ("blue", "green"):
        props = estate.fake.deployment(estate.endpoint, slot)["properties"]
        found[slot] = (props["codeConfiguration"]["codeId"], props["environmentId"])
    return found


def _code_files_in_datastore(estate, asset_id: str) -> dict[str, bytes]:
    """The files under a code version's registered path on the workspace's default datastore."""
    prefix = estate.fake.asset_version(asset_id)["properties"]["codeUri"].split("/paths/", 1)[1]
    return {path[len(prefix) :]: data for path, data in estate.fake.blobs.items() if path.startswith(prefix)}


def test_d_a_serving_change_never_deletes_an_asset_a_slot_references(estate, models):
    release = {"candidate": models.good, "evaluation": models.evaluation_data}
    estate.up(**release)
    (live_slot,) = estate.traffic()
    old_code = estate.fake.deployment(estate.endpoint, live_slot)["properties"]["codeConfiguration"]["codeId"]
    old_files = _code_files_in_datastore(estate, old_code)
    assert old_files["score.py"] == (SERVING_DIR / "score.py").read_bytes()
    _edit_scoring_code(estate)
    update = estate.up(**release)
    assert ("hatespeech-serving-code", "replace") in update.steps
    assert not estate.stack.resources("azure-native:storage:Blob"), "the code goes up with its version, by identity"
    for slot, assets in _slot_assets(estate).items():
        for asset in assets:
            assert estate.fake.asset_version(asset) is not None, f"{slot} references a deleted asset {asset}"
    assert _code_files_in_datastore(estate, old_code) == old_files, "the old version's files stay where it points"


def test_d2_reverting_a_serving_change_brings_the_kept_version_back(estate, models):
    """The version a revert declares again is still registered (nothing deletes it): the release adopts it,
    without uploading its files again, and moves the endpoint back onto it through the idle slot."""
    release = {"candidate": models.good, "evaluation": models.evaluation_data}
    estate.up(**release)
    original = ServingSource.read(estate.serving_dir).code_version
    score = estate.serving_dir / "score.py"
    before = score.read_text(encoding="utf-8")
    _edit_scoring_code(estate)
    estate.up(**release)
    uploads = len(estate.fake.blob_calls)
    score.write_text(before, encoding="utf-8")
    assert ServingSource.read(estate.serving_dir).code_version == original
    estate.up(**release)
    (live_slot,) = estate.traffic()
    assert estate.slot_code(live_slot) == original
    assert [call for call in estate.fake.blob_calls[uploads:] if call[0] == "upload"] == [], (
        "the kept version is adopted, its files are not uploaded again"
    )
    _assert_no_op(estate, **release)


def test_f_the_idle_slot_fails_during_a_hold_and_no_traffic_reaches_it(estate, models, monkeypatch):
    from infra.release.traffic import release as traffic_release

    estate.up(candidate=models.good, evaluation=models.evaluation_data)
    good = estate.outputs(TRAFFIC)["challenger_version"]
    (live_slot,) = estate.traffic()
    idle = "green" if live_slot == "blue" else "blue"
    _edit_scoring_code(estate)
    monkeypatch.setattr(
        traffic_release.time, "sleep", lambda seconds: estate.fake.mark_unhealthy(estate.endpoint, idle)
    )
    traffic_before = len(estate.endpoint_puts())
    with pytest.raises(Exception, match="not Succeeded"):
        estate.up(candidate=models.good, evaluation=models.evaluation_data)
    written = estate.endpoint_puts()[traffic_before:]
    assert written[0] == {live_slot: 100}, "the mirror step (no live traffic moved) came first"
    assert all(not traffic.get(idle) for traffic in written), f"traffic reached the failed slot: {written}"
    assert estate.traffic() == {live_slot: 100} and estate.slot_version(live_slot) == good
    assert estate.fake.endpoint(estate.endpoint)["properties"]["mirrorTraffic"] in ({}, {idle: 0})


def test_g_a_rollback_restores_a_champion_serving_from_a_hand_made_deployment(estate, models):
    release = {"candidate": models.good, "evaluation": models.evaluation_data}
    estate.up(**release)
    good = estate.outputs(TRAFFIC)["challenger_version"]
    (live_slot,) = estate.traffic()
    # someone moved production onto a deployment of their own, and the stack accepted it with a refresh
    estate.fake.add_deployment(estate.endpoint, "handmade", model_id=estate.fake.model_version_id(MODEL_NAME, good))
    estate.fake.set_traffic(estate.endpoint, {"handmade": 100})
    assert "hatespeech-release-traffic" in estate.stack.refresh()
    _edit_scoring_code(estate)
    estate.fake.fail("score", 500, times=None, path_contains="")  # every smoke test of the new slot fails
    with pytest.raises(Exception, match="smoke test"):
        estate.up(**release)
    assert estate.traffic() == {"handmade": 100}, "the traffic found at the start, exactly"
    assert estate.stage(good) == "production"


def test_h_a_traffic_change_between_two_steps_stops_the_release_without_writing(estate, models, monkeypatch):
    from infra.release.traffic import release as traffic_release
    from infra.release.traffic.release import ForeignChange

    estate.up(candidate=models.good, evaluation=models.evaluation_data)
    (live_slot,) = estate.traffic()
    idle = "green" if live_slot == "blue" else "blue"
    _edit_scoring_code(estate)
    monkeypatch.setattr(
        traffic_release.time,
        "sleep",
        lambda seconds: estate.fake.set_traffic(estate.endpoint, {live_slot: 70, idle: 30}),
    )
    puts = len(estate.endpoint_puts())
    with pytest.raises(ForeignChange, match="someone else changed it"):
        estate.up(candidate=models.good, evaluation=models.evaluation_data)
    assert len(estate.endpoint_puts()) == puts + 1, "the mirror step only; nothing after the change"
    assert estate.traffic() == {live_slot: 70, idle: 30}, "left as the other writer made it"


def test_i_an_endpoint_tag_or_auth_change_keeps_the_live_traffic(estate, models):
    release = {"candidate": models.good, "evaluation": models.evaluation_data}
    estate.up(**release)
    traffic = estate.traffic()
    config = _config(**{k: v for k, v in release.items()})
    config[f"{P}tags"] = {**config[f"{P}tags"], "owner": "platform"}
    config[f"{P}workspaces"][0]["endpoint"]["authMode"] = "key"
    update = estate.stack.up(config)
    assert ("hatespeech-endpoint-online", "update") in update.steps
    endpoint = estate.fake.endpoint(estate.endpoint)
    assert endpoint["tags"]["owner"] == "platform" and endpoint["properties"]["authMode"] == "Key"
    assert estate.traffic() == traffic, "the endpoint PUT carried the live traffic"
    (last,) = estate.fake.calls_to("online_endpoints.put")[-1:]
    assert {k: v for k, v in last.body["properties"]["traffic"].items() if v} == traffic


def test_a_hand_made_even_split_converges_to_the_production_version_not_a_slot_name(estate, models, tmp_path):
    """The champion is the registry's `production` version: an even split between it and the surpassed
    model (accepted with a refresh) goes back to production, whichever slot name sorts first."""
    import json

    estate.up(candidate=models.good, evaluation=models.evaluation_data)
    first = estate.outputs(TRAFFIC)["challenger_version"]
    better = shutil.copytree(models.good, tmp_path / "better")  # same network, a threshold that wins with min_delta 0
    artifact = json.loads((better / "artifact.json").read_text(encoding="utf-8"))
    artifact["threshold"] = round(artifact["threshold"] - 0.01, 4)
    (better / "artifact.json").write_text(json.dumps(artifact), encoding="utf-8")
    estate.up(candidate=better, evaluation=models.evaluation_data, minDelta=0.0, alpha=0.5)
    second = estate.outputs(TRAFFIC)["challenger_version"]
    assert estate.outputs(TRAFFIC)["winner"] == "challenger", estate.outputs(TRAFFIC)["note"]
    assert estate.stage(second) == "production" and estate.stage(first) == "surpassed"
    slots = {estate.slot_version(s): s for s in ("blue", "green")}
    estate.fake.set_traffic(estate.endpoint, {"blue": 50, "green": 50})
    estate.stack.refresh()
    estate.up(candidate=better, evaluation=models.evaluation_data, minDelta=0.0, alpha=0.5)
    assert estate.traffic() == {slots[second]: 100}
    assert estate.stage(second) == "production"
