"""The stacks declare the release resources from settings: the endpoint with no deployment, a
registered candidate, then the champion selection and the traffic, which deploys the slots under the
declared serving spec; and the offline plan shows what they would do."""

import pytest

from infra.release.content import content_sha256, version_of
from scripts.offline.stack import run_stack
from scripts.plan.__main__ import main as plan_main
from scripts.plan.config_path import ConfigPathError, parse_assignment, with_assignments
from stacks import parse_settings
from tests.infra.conftest import P, with_candidate
from tests.release.conftest import models  # noqa: F401  (the session fixture)

VERSION = "pulumi-python:dynamic/release:ModelVersion"
SELECTION = "pulumi-python:dynamic/release:ChampionSelection"
TRAFFIC = "pulumi-python:dynamic/release:EndpointTraffic"
SERVING_ENDPOINT = "pulumi-python:dynamic/release:ServingEndpoint"
ML = "azure-native:machinelearningservices"


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_release_settings_without_a_candidate_declare_the_endpoint_and_no_deployment(plans, config_of, stack):
    """A new stack deploys with no model: only the endpoint; its first release creates the deployments."""
    config = config_of(stack)
    release = (
        parse_settings(stack, {k[len(P) :]: v for k, v in config.items() if k.startswith(P)}).workspaces[0].release
    )
    assert release is not None and release.candidate is None, "the stack has release settings, no candidate"
    plan = plans[stack]
    assert [r.name for r in plan.of_type(SERVING_ENDPOINT)] == ["hatespeech-endpoint-online"]
    dynamic = {r.type for r in plan.resources if r.type.startswith("pulumi-python:dynamic")}
    assert dynamic == {SERVING_ENDPOINT, "pulumi-python:dynamic/release:AssetVersion"}, (
        "the endpoint and the serving assets; no model version, selection or traffic without a candidate"
    )
    assert not plan.of_type(f"{ML}:OnlineDeployment") and not plan.of_type(f"{ML}:OnlineEndpoint")
    assert not [r.name for r in plan.resources if "serving" in r.inputs], "no resource runs the serving spec"
    assert all("release" not in ws for ws in plan.outputs["workspaces"].values())


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_a_candidate_is_registered_then_selected_then_given_traffic(config_of, candidate, stack):
    plan = run_stack(stack, config=with_candidate(config_of(stack), candidate))
    version = plan.one(VERSION)
    assert version.parent == "hatespeech", "the candidate belongs to its workspace's registry"
    assert version.checked["version"] == candidate["version"], "the plan shows the content version"
    assert version.input("model_name") == "hate-speech-pt" and version.input("path") == candidate["path"]
    endpoint = plan.one(SERVING_ENDPOINT)
    assert not plan.of_type(f"{ML}:OnlineDeployment"), "the traffic resource creates the deployments itself"
    assert endpoint.name not in version.dependencies, "registering needs only the workspace, not the endpoint"
    for type_ in (SELECTION, TRAFFIC):
        resource = plan.one(type_)
        assert resource.parent == "hatespeech-release"
        assert endpoint.name in resource.dependencies, f"{type_} waits for the endpoint"
        assert version.name in resource.dependencies, f"{type_} waits for the registered candidate"
        assert resource.input("endpoint_name") == endpoint.input("endpoint_name")
        assert resource.input("challenger_version") == candidate["version"]
        assert resource.input("subscription_id") == "00000000-0000-0000-0000-000000000000"
    assert plan.one(SELECTION).input("evaluation_data") == candidate["evaluation"]
    release = plan.outputs["workspaces"]["hatespeech"]["release"]
    assert release["candidate_version"] == candidate["version"]


def test_stack_settings_reach_the_traffic_and_the_comparison(config_of, candidate):
    config = with_candidate(config_of("prod"), candidate)
    config[f"{P}workspaces"][0]["release"]["approvedVersion"] = candidate["version"]
    config[f"{P}workspaces"][0]["release"]["approvedServingVersion"] = "0123456789ab"
    plan = run_stack("prod", config=config)
    traffic = plan.one(TRAFFIC)
    assert traffic.input("require_approval") is True
    assert traffic.input("approved_version") == candidate["version"]
    assert traffic.input("rollout") == [{"mirror": 10}, {"canary": 10}, {"canary": 50}]
    assert traffic.input("hold_seconds") == 300
    assert traffic.input("slots") == ["blue", "green"]
    assert traffic.input("approved_serving_version") == "0123456789ab"
    assert traffic.checked["intent"], "the plan says what the traffic resource would do"
    settings = plan.one(SELECTION).input("compare_settings")
    assert settings == {"alpha": 0.05, "min_delta": 0.01, "max_category_recall_drop": 0.05, "max_latency_factor": 1.5}

    dev = run_stack("dev", config=with_candidate(config_of("dev"), candidate)).one(TRAFFIC)
    assert dev.input("require_approval") is False and dev.input("rollout") == [] and dev.input("hold_seconds") == 0


@pytest.mark.slow
def test_the_plan_command_previews_a_release_with_config(capsys, models):
    """The tree needs a candidate that loads as a model (the release preview checks it, see
    test_plan_release.py), so this one is the tiny trained model of tests/release."""
    code = plan_main(
        [
            "--stack",
            "prod",
            "--config",
            f"workspaces[0].release.candidate={models.good}",
            "--config",
            f"workspaces[0].release.evaluationData={models.evaluation_data}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    version_line = next(line for line in out.splitlines() if VERSION in line)
    assert f"version={version_of(content_sha256(str(models.good)))}" in version_line
    traffic_line = next(line for line in out.splitlines() if TRAFFIC in line)
    assert "require_approval=true" in traffic_line and "staged until approved" in traffic_line
    assert "instance_type=Standard_F4s_v2" in traffic_line and "instance_count=2" in traffic_line, (
        "the slots' size is the traffic resource's, not a deployment resource's"
    )
    assert "serving_version=" in traffic_line, "the plan names the serving version a prod approval must give"
    endpoint_line = next(line for line in out.splitlines() if SERVING_ENDPOINT in line)
    assert "auth_mode=aad_token" in endpoint_line and "public_network_access=disabled" in endpoint_line


def test_the_plan_command_reports_a_bad_candidate_by_its_field(capsys, tmp_path, candidate):
    code = plan_main(
        [
            "--stack",
            "dev",
            "--config",
            f"workspaces[0].release.candidate={tmp_path}",
            "--config",
            f"workspaces[0].release.evaluationData={candidate['evaluation']}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "ModelVersion 'hatespeech-version' failed its provider's check: path:" in err
    assert "artifact.json" in err and "Traceback" not in err


def test_config_paths_follow_pulumi_config_set_path():
    assert parse_assignment("workspaces[0].release.candidate=out/model") == (
        [f"{P}workspaces", 0, "release", "candidate"],
        "out/model",
    )
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
    for bad, message in [
        ("workspaces[0].candidate", "expected PATH=VALUE"),
        ("[0].x=1", "is not a config path"),
        ("workspaces..x=1", "is not a config path"),
        ("workspaces[4].release.candidate=x", "there is no item [4]"),
    ]:
        with pytest.raises(ConfigPathError, match=message.replace("[", r"\[").replace("]", r"\]")):
            with_assignments(config, [bad])
