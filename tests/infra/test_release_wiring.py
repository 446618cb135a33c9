"""The stacks declare the release resources from settings: a registered candidate before the
endpoint's slots, the champion selection and the traffic after them, and the offline plan shows
what they would do."""

import json

import pytest

from infra.mock_engine import run_stack
from infra.release.content import content_sha256, version_of
from model.synthetic import write_synthetic_csv
from scripts.plan.__main__ import main as plan_main
from scripts.plan.config_path import ConfigPathError, parse_assignment, with_assignments

P = "mlops-platform:"
VERSION = "pulumi-python:dynamic/release:ModelVersion"
SELECTION = "pulumi-python:dynamic/release:ChampionSelection"
TRAFFIC = "pulumi-python:dynamic/release:EndpointTraffic"
DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment"


@pytest.fixture(scope="module")
def candidate(tmp_path_factory):
    """A folder shaped like `python -m model train` output, as far as registration reads it."""
    folder = tmp_path_factory.mktemp("candidate")
    (folder / "artifact.json").write_text(json.dumps({"name": "hate-speech-pt", "commit": "c0ffee"}), encoding="utf-8")
    (folder / "model.int8.onnx").write_bytes(b"int8 weights")
    evaluation = folder.parent / "evaluation.csv"
    write_synthetic_csv(evaluation, n_rows=40, seed=3)
    return {"path": str(folder), "evaluation": str(evaluation), "version": version_of(content_sha256(str(folder)))}


def with_candidate(config, candidate, index=0):
    release = config[f"{P}workspaces"][index]["release"]
    release.update(candidate=candidate["path"], evaluationData=candidate["evaluation"])
    return config


def test_without_a_candidate_no_release_resource_is_declared(plans):
    for stack, plan in plans.items():
        assert not [r for r in plan.resources if r.type.startswith("pulumi-python:dynamic")], stack
        assert all("release" not in ws for ws in plan.outputs["workspaces"].values())


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_a_candidate_is_registered_then_selected_then_given_traffic(config_of, candidate, stack):
    plan = run_stack(stack, config=with_candidate(config_of(stack), candidate))
    version = plan.one(VERSION)
    assert version.parent == "hatespeech", "the candidate belongs to its workspace's registry"
    assert version.checked["version"] == candidate["version"], "the plan shows the content version"
    assert version.input("model_name") == "hate-speech-pt" and version.input("path") == candidate["path"]
    slots = [r.name for r in plan.of_type(DEPLOYMENT)]
    assert len(slots) == 2
    assert not set(slots) & set(version.dependencies), "registering needs only the workspace, not the slots"
    for type_ in (SELECTION, TRAFFIC):
        resource = plan.one(type_)
        assert resource.parent == "hatespeech-release"
        assert set(slots) <= set(resource.dependencies), f"{type_} waits for both slots"
        assert resource.input("challenger_version") == candidate["version"]
        assert resource.input("subscription_id") == "00000000-0000-0000-0000-000000000000"
    assert plan.one(SELECTION).input("evaluation_data") == candidate["evaluation"]
    release = plan.outputs["workspaces"]["hatespeech"]["release"]
    assert release["candidate_version"] == candidate["version"]


def test_stack_settings_reach_the_traffic_and_the_comparison(config_of, candidate):
    config = with_candidate(config_of("prod"), candidate)
    config[f"{P}workspaces"][0]["release"]["approvedVersion"] = candidate["version"]
    plan = run_stack("prod", config=config)
    traffic = plan.one(TRAFFIC)
    assert traffic.input("require_approval") is True
    assert traffic.input("approved_version") == candidate["version"]
    assert traffic.input("rollout") == [{"mirror": 10}, {"canary": 10}, {"canary": 50}]
    assert traffic.input("hold_seconds") == 300
    assert traffic.input("slots") == ["blue", "green"]
    assert traffic.checked["intent"], "the plan says what the traffic resource would do"
    settings = plan.one(SELECTION).input("compare_settings")
    assert settings == {"alpha": 0.05, "min_delta": 0.01, "max_category_recall_drop": 0.05, "max_latency_factor": 1.5}

    dev = run_stack("dev", config=with_candidate(config_of("dev"), candidate)).one(TRAFFIC)
    assert dev.input("require_approval") is False and dev.input("rollout") == [] and dev.input("hold_seconds") == 0


def test_without_a_candidate_slots_start_on_the_bootstrap_model_as_an_arm_id(plans):
    plan = plans["dev"]
    workspace_id = plan.outputs["workspaces"]["hatespeech"]["workspace_id"]
    for slot in plan.of_type(DEPLOYMENT):
        assert slot.input("properties.model") == f"{workspace_id}/models/hate-speech-pt/versions/bootstrap"
        assert "properties.model" in slot.ignore_changes


@pytest.mark.parametrize("bootstrap", [True, False])
def test_with_a_candidate_new_slots_start_on_it(config_of, candidate, bootstrap):
    """A new stack comes up with its first release: the candidate is registered in the same update,
    before the slots; a bootstrap version could not exist yet in a workspace that update creates."""
    config = with_candidate(config_of("test"), candidate)
    if not bootstrap:
        config[f"{P}workspaces"][0]["endpoint"].pop("bootstrapModel")
    plan = run_stack("test", config=config)
    workspace_id = plan.outputs["workspaces"]["hatespeech"]["workspace_id"]
    for slot in plan.of_type(DEPLOYMENT):
        assert slot.input("properties.model") == f"{workspace_id}/models/hate-speech-pt/versions/{candidate['version']}"
        assert "hatespeech-version" in slot.dependencies, "the version is registered before a slot serves it"
        assert "properties.model" in slot.ignore_changes, "later candidates move through the release, not the slot"


def test_the_plan_command_previews_a_release_with_config(capsys, candidate):
    code = plan_main(["--stack", "prod", "--config", f"workspaces[0].release.candidate={candidate['path']}",
                      "--config", f"workspaces[0].release.evaluationData={candidate['evaluation']}"])
    out = capsys.readouterr().out
    assert code == 0
    version_line = next(line for line in out.splitlines() if VERSION in line)
    assert f"version={candidate['version']}" in version_line
    traffic_line = next(line for line in out.splitlines() if TRAFFIC in line)
    assert 'rollout=[{"kind":"mirror","percent":10},{"kind":"canary","percent":10},{"kind":"canary","percent":50}]' \
        in traffic_line, "the rollout as the provider's check normalised it"
    assert "intent=" in traffic_line and "require_approval=true" in traffic_line and "hold_seconds=300" in traffic_line


def test_the_plan_command_reports_a_bad_candidate_by_its_field(capsys, tmp_path, candidate):
    code = plan_main(["--stack", "dev", "--config", f"workspaces[0].release.candidate={tmp_path}",
                      "--config", f"workspaces[0].release.evaluationData={candidate['evaluation']}"])
    err = capsys.readouterr().err
    assert code == 2
    assert "ModelVersion 'hatespeech-version' failed its provider's check: path:" in err
    assert "artifact.json" in err and "Traceback" not in err


def test_config_paths_follow_pulumi_config_set_path():
    assert parse_assignment("workspaces[0].release.candidate=out/model") == (
        [f"{P}workspaces", 0, "release", "candidate"], "out/model")
    assert parse_assignment("other:flag=true") == (["other:flag"], True)
    # values as `pulumi config set --path` stores them: base-10 digits are numbers, never octal
    assert parse_assignment("workspaces[0].release.approvedVersion=000000000012")[1] == 12
    assert parse_assignment("workspaces[0].release.approvedVersion=0b0101010101")[1] == "0b0101010101"
    assert parse_assignment("workspaces[0].release.approvedVersion=1e3")[1] == "1e3"
    assert parse_assignment("workspaces[0].release.rollout.canaryPercents=[5, 25]")[1] == [5, 25]
    assert parse_assignment("workspaces[0].release.candidate=")[1] == ""
    config = {f"{P}workspaces": [{"name": "a"}]}
    changed = with_assignments(config, ["workspaces[0].release.rollout.mirrorPercent=20"])
    assert changed[f"{P}workspaces"][0]["release"] == {"rollout": {"mirrorPercent": 20}}
    assert config == {f"{P}workspaces": [{"name": "a"}]}, "the stack's own config is left as it was"
    for bad, message in [("workspaces[0].candidate", "expected PATH=VALUE"),
                         ("[0].x=1", "is not a config path"),
                         ("workspaces..x=1", "is not a config path"),
                         ("workspaces[4].release.candidate=x", "there is no item [4]")]:
        with pytest.raises(ConfigPathError, match=message.replace("[", r"\[").replace("]", r"\]")):
            with_assignments(config, [bad])
