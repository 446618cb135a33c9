"""What a stack's release candidate may be (a local artifact folder, a job output, a workspace model, a
registry model), each form checked with its own message, and what the stacks declare for each: dev
registers a job's output, test shares dev's version into the registry and registers the registry's,
prod registers the registry's; each outputs the next environment's candidate."""

from __future__ import annotations

import pytest

from infra.release import RegistryCoordinates
from scripts.offline.stack import run_stack
from stacks import parse_settings
from stacks.validation import SettingsError
from tests.infra.conftest import P

VERSION = "pulumi-python:dynamic/release:ModelVersion"
SHARED = "pulumi-python:dynamic/release:RegistryModelVersion"
TRAFFIC = "pulumi-python:dynamic/release:EndpointTraffic"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
REGISTRY = RegistryCoordinates(
    SUBSCRIPTION, "rg-mlops-registry", "mlreg-mlops-a1"
)  # the registry stack's (Pulumi.registry.yaml), which test and prod reference
JOB_OUTPUT = "azureml://jobs/train-0a1b2c3d-5d41402a4bc4-1234abcd/outputs/artifact"
DEV_MODEL = (
    f"azureml://subscriptions/{SUBSCRIPTION}/resourceGroups/rg-mlops-dev/workspaces/mlw-mlops-hatespeech-dev-a1"
    "/models/hate-speech-pt/versions/0a1b2c3d4e5f"
)
REGISTRY_MODEL = "azureml://registries/mlreg-mlops-a1/models/hate-speech-pt/versions/0a1b2c3d4e5f"
KEY = f"{P}workspaces[0].release.candidate"


def release_config(config_of, stack: str, candidate: str, evaluation: str) -> dict:
    config = config_of(stack)
    config[f"{P}workspaces"][0]["release"].update(candidate=candidate, evaluationData=evaluation)
    return config


def settings_problems(config) -> list[str]:
    with pytest.raises(SettingsError) as refused:
        parse_settings("dev", {k[len(P) :]: v for k, v in config.items() if k.startswith(P)})
    return refused.value.problems


@pytest.mark.parametrize("candidate", ["/work/artifacts/model", JOB_OUTPUT, DEV_MODEL, REGISTRY_MODEL])
def test_each_candidate_form_is_accepted(config_of, candidate):
    config = release_config(config_of, "dev", candidate, "/data/evaluation.csv")
    settings = parse_settings("dev", {k[len(P) :]: v for k, v in config.items() if k.startswith(P)})
    assert settings.workspaces[0].release.candidate == candidate


@pytest.mark.parametrize(
    "candidate, accepted",
    [
        ("azureml://jobs/train 1/outputs/artifact", "a training job's output azureml://jobs/<job>/outputs/<output>"),
        (
            DEV_MODEL.replace(SUBSCRIPTION, "not-a-guid"),
            "a workspace's model version azureml://subscriptions/<subscription GUID>/resourceGroups/<group>",
        ),
        (REGISTRY_MODEL.replace("/versions/", "/"), "a registry's model version azureml://registries/<registry>"),
        (REGISTRY_MODEL.replace("hate-speech-pt", "another-model"), "of model hate-speech-pt (modelName)"),
        (DEV_MODEL.replace("hate-speech-pt", "another-model"), "of model hate-speech-pt (modelName)"),
        ("azureml://datastores/workspaceblobstore/paths/model/", "a local artifact folder holding artifact.json"),
        ("https://example.org/model.zip", "or a registry's model version"),
    ],
)
def test_each_malformed_form_gets_its_own_message(config_of, candidate, accepted):
    [problem] = settings_problems(release_config(config_of, "dev", candidate, "/data/evaluation.csv"))
    # a long value is shown shortened: the key, then what is accepted
    assert problem.startswith(f"{KEY}: '{candidate[:40]}") and " is not valid; accepted: " in problem, problem
    assert accepted in problem.split(" is not valid; accepted: ", 1)[1], problem


def test_the_registry_here_is_the_registry_stacks():
    outputs = run_stack("registry").outputs
    assert RegistryCoordinates(outputs["subscription_id"], outputs["resource_group"], outputs["name"]) == REGISTRY


@pytest.mark.parametrize("candidate", [DEV_MODEL, REGISTRY_MODEL])
def test_a_candidate_released_through_the_registry_needs_the_registry_reference(config_of, candidate, tmp_path):
    """dev references no registry (Pulumi.dev.yaml has no modelRegistry)."""
    evaluation = tmp_path / "evaluation.csv"
    evaluation.write_text("text,hate\nx,1\n")
    with pytest.raises(SettingsError) as refused:
        run_stack("dev", config=release_config(config_of, "dev", candidate, str(evaluation)))
    [problem] = refused.value.problems
    assert problem.startswith(f"{KEY}: {candidate} is not valid here; accepted: ") and "modelRegistry" in problem


def plan_with_registry(config_of, stack: str, candidate: str, evaluation: str):
    """The plan of test or prod, whose modelRegistry reads the registry stack's registry."""
    return run_stack(stack, config=release_config(config_of, stack, candidate, evaluation))


def test_dev_registers_the_job_output_whose_version_only_azure_can_tell(config_of, tmp_path):
    evaluation = tmp_path / "evaluation.csv"
    evaluation.write_text("text,hate\nx,1\n")
    plan = run_stack("dev", config=release_config(config_of, "dev", JOB_OUTPUT, str(evaluation)))
    version = plan.one(VERSION)
    assert version.input("path") == JOB_OUTPUT and plan.of_type(SHARED) == []
    release = plan.outputs["workspaces"]["hatespeech"]["release"]
    assert release["candidate"] == JOB_OUTPUT
    assert release["candidate_version"] is None and release["promote_candidate"] is None, (
        "read from the job's files at a real preview; the offline plan reaches no Azure ML"
    )
    assert plan.one(TRAFFIC).checked["intent"] == "decided when the champion/challenger comparison has run"


def test_test_shares_devs_version_and_releases_the_registry_version(config_of, tmp_path):
    evaluation = tmp_path / "evaluation.csv"
    evaluation.write_text("text,hate\nx,1\n")
    plan = plan_with_registry(config_of, "test", DEV_MODEL, str(evaluation))
    shared = plan.one(SHARED)
    assert shared.input("source") == DEV_MODEL and shared.input("registry_name") == REGISTRY.registry_name
    assert shared.retain_on_delete is False, "the provider keeps the registry version itself (delete is a no-op)"
    version = plan.one(VERSION)
    assert version.input("path") == REGISTRY_MODEL and version.input("registry_name") == REGISTRY.registry_name
    assert version.input("awaiting_share") is True and shared.name in version.dependencies
    assert plan.one(TRAFFIC).input("challenger_version") == "0a1b2c3d4e5f", "the version in the reference"
    release = plan.outputs["workspaces"]["hatespeech"]["release"]
    assert release["candidate"] == DEV_MODEL and release["promote_candidate"] == REGISTRY_MODEL


def test_prod_releases_the_registry_path_directly(config_of, tmp_path):
    evaluation = tmp_path / "evaluation.csv"
    evaluation.write_text("text,hate\nx,1\n")
    plan = plan_with_registry(config_of, "prod", REGISTRY_MODEL, str(evaluation))
    assert plan.of_type(SHARED) == [], "prod shares nothing: test did"
    version = plan.one(VERSION)
    assert version.input("path") == REGISTRY_MODEL and version.input("awaiting_share") is False
    traffic = plan.one(TRAFFIC)
    assert traffic.input("challenger_version") == "0a1b2c3d4e5f" and traffic.input("require_approval") is True
    release = plan.outputs["workspaces"]["hatespeech"]["release"]
    assert release["candidate_version"] == "0a1b2c3d4e5f" and release["promote_candidate"] == REGISTRY_MODEL


def test_the_offline_plan_says_a_job_outputs_version_is_read_at_preview(capsys, tmp_path):
    from scripts.plan.__main__ import main as plan_main

    evaluation = tmp_path / "evaluation.csv"
    evaluation.write_text("text,hate\na b c,1\nd e f,0\n")
    code = plan_main(
        [
            "--stack",
            "dev",
            "--config",
            f"workspaces[0].release.candidate={JOB_OUTPUT}",
            "--config",
            f"workspaces[0].release.evaluationData={evaluation}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    selection = next(line for line in out.splitlines() if "ChampionSelection" in line)
    assert (
        "compares <the version of the job's files, read at `pulumi preview`> with the model in production" in selection
    )
    assert f"path={JOB_OUTPUT}" in next(line for line in out.splitlines() if VERSION in line)
