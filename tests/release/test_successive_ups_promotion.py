"""The real dev, test and prod stack programs, `up` after `up` (tests/harness/stack_updates.py), promoting one
model version: dev registers the training job's output, test shares dev's version into the registry and
releases it from there, prod releases the registry version behind its approval. Each stack has its own fake
workspace; the three reach one fake registry. Then a fault at every step of test's release of a second
version, each ending with the previous champion serving and the stage tags true, and a re-run converging.
"""

from __future__ import annotations

import copy
import json
import shutil

import pytest

import stacks
from infra.azureml.gateway import RetryPolicy, WorkspaceRef
from infra.release import RegistryCoordinates
from infra.release.base import use_gateway_factory
from infra.release.model_ref import registry_model_uri, version_in, workspace_model_uri
from infra.serving_assets import SERVING_DIR, ServingSource
from scripts.offline.mocks import SUBSCRIPTION_ID
from scripts.offline.stack import run_stack, stack_config
from tests.fakes.azureml import FakeAzureML, gateway_for
from tests.harness.stack_updates import AzureControlPlane, StackUpdates
from tests.release.conftest import MODEL_NAME, TRAINING_JOB, ModelScorer, submit_training_job

P = "mlops-platform:"
SERVING_ENDPOINT = "pulumi-python:dynamic/release:ServingEndpoint"
TRAFFIC = "pulumi-python:dynamic/release:EndpointTraffic"
REGISTRY = RegistryCoordinates(
    SUBSCRIPTION_ID, "rg-mlops-registry", "mlreg-mlops-a1"
)  # the registry stack's (Pulumi.registry.yaml), which test and prod reference
ATTEMPTS = 2  # the gateways' retry bound here: a fault armed for every request outlasts it


class Environment:
    """One stack, its state, and the fake workspace behind it."""

    def __init__(self, stack: str, serving_dir, registry_fake: FakeAzureML | None):
        plan = run_stack(stack)
        endpoint = plan.one(SERVING_ENDPOINT)
        self.stack_name = stack
        self.endpoint = endpoint.input("endpoint_name")
        self.fake = FakeAzureML(
            subscription_id=SUBSCRIPTION_ID,
            resource_group=endpoint.input("resource_group"),
            workspace_name=endpoint.input("workspace_name"),
        )
        if registry_fake is None:
            self.fake.add_registry(REGISTRY.registry_name, resource_group=REGISTRY.resource_group)
        else:
            self.fake.join_registries(registry_fake)
        self.fake.scorer_factory = lambda ep, deployment: ModelScorer(self.fake, ep, deployment)
        self.azure = AzureControlPlane(self.fake)
        self.stack = StackUpdates(
            stack,
            lambda: stacks.build(stacks.selected_settings(), serving=ServingSource.read(serving_dir)),
            self.azure,
        )
        self.workspace = WorkspaceRef(
            SUBSCRIPTION_ID, endpoint.input("resource_group"), endpoint.input("workspace_name")
        )
        self.gateway = gateway_for(
            self.fake, retry=RetryPolicy(attempts=ATTEMPTS, initial_delay_s=0.0, max_delay_s=0.0), sleep=lambda s: None
        )

    def config(self, candidate=None, evaluation=None, **release) -> dict:
        config = copy.deepcopy(stack_config(self.stack_name))
        workspace = config[f"{P}workspaces"][0]
        if candidate is not None:
            workspace["release"].update(candidate=str(candidate), evaluationData=str(evaluation))
        workspace["release"].update(release)
        return config

    def up(self, candidate=None, evaluation=None, **release):
        return self.stack.up(self.config(candidate, evaluation, **release))

    def release_outputs(self, update) -> dict:
        return update.outputs["workspaces"]["hatespeech"]["release"]

    def traffic(self) -> dict:
        return {k: v for k, v in self.fake.endpoint(self.endpoint)["properties"]["traffic"].items() if v}

    def serving(self) -> dict:
        """{model version: percent} of live traffic."""
        return {
            version_in(self.fake.deployment(self.endpoint, slot)["properties"]["model"], MODEL_NAME): pct
            for slot, pct in self.traffic().items()
        }

    def stage(self, version: str):
        model = self.fake.model_version(MODEL_NAME, version)
        return None if model is None else model["properties"]["tags"].get("stage")

    def writes(self) -> int:
        return len(self.fake.writes()) + len(self.azure.puts) + len(self.azure.deleted)


class Estate:
    def __init__(self, tmp_path):
        serving_dir = tmp_path / "serving"
        shutil.copytree(SERVING_DIR, serving_dir, ignore=shutil.ignore_patterns("__pycache__"))
        self.dev = Environment("dev", serving_dir, None)
        self.test = Environment("test", serving_dir, self.dev.fake)
        self.prod = Environment("prod", serving_dir, self.dev.fake)

    def environments(self):
        return (self.dev, self.test, self.prod)

    def registry_version(self, version: str):
        return self.dev.fake.registry_model_version(REGISTRY.registry_name, MODEL_NAME, version)


@pytest.fixture
def estate(tmp_path, monkeypatch):
    from infra.release.traffic import release as traffic_release

    monkeypatch.setattr(traffic_release.time, "sleep", lambda seconds: None)  # the stacks' holds
    estate = Estate(tmp_path)
    gateways = {env.workspace: env.gateway for env in estate.environments()}
    with (
        use_gateway_factory(estate.dev.workspace, gateways.get),
        use_gateway_factory(estate.test.workspace, gateways.get),
        use_gateway_factory(estate.prod.workspace, gateways.get),
    ):
        yield estate


def trained(estate, folder, job: str = TRAINING_JOB) -> str:
    """What `python -m model submit` leaves in dev: a completed job whose output holds `folder`."""
    submit_training_job(estate.dev.fake, job)
    estate.dev.fake.finish_job(job, "Completed", outputs={"artifact": folder})
    return f"azureml://jobs/{job}/outputs/artifact"


def assert_no_op(env: Environment, **config) -> None:
    before = env.writes()
    update = env.up(**config)
    assert update.changed() == [], update.changed()
    assert env.writes() == before


def test_one_version_goes_from_the_job_through_dev_test_and_the_registry_to_prod(estate, models):
    evaluation = models.evaluation_data
    job_output = trained(estate, models.good)

    dev = estate.dev.release_outputs(estate.dev.up(candidate=job_output, evaluation=evaluation))
    version = dev["candidate_version"]
    assert dev["promote_candidate"] == workspace_model_uri(estate.dev.workspace, MODEL_NAME, version)
    assert estate.dev.fake.model_version(MODEL_NAME, version)["properties"]["jobName"] == TRAINING_JOB
    assert estate.dev.serving() == {version: 100} and estate.dev.stage(version) == "production"
    assert_no_op(estate.dev, candidate=job_output, evaluation=evaluation)

    test = estate.test.release_outputs(estate.test.up(candidate=dev["promote_candidate"], evaluation=evaluation))
    registry_path = registry_model_uri(REGISTRY.registry_name, MODEL_NAME, version)
    assert test["candidate_version"] == version and test["promote_candidate"] == registry_path
    assert estate.registry_version(version) is not None, "test's up shared it into the registry"
    assert estate.test.serving() == {version: 100} and estate.test.stage(version) == "production"
    assert_no_op(estate.test, candidate=dev["promote_candidate"], evaluation=evaluation)

    staged = estate.prod.up(candidate=registry_path, evaluation=evaluation)
    prod = estate.prod.release_outputs(staged)
    assert prod["candidate_version"] == version and prod["staged_version"] == version
    assert estate.prod.stage(version) == "staged" and estate.prod.traffic() == {}, "waits for prod's approval"
    approval = {
        "approvedVersion": version,
        "approvedServingVersion": estate.prod.stack.resources(TRAFFIC)["hatespeech-release-traffic"].outputs[
            "serving_version"
        ],
    }
    estate.prod.up(candidate=registry_path, evaluation=evaluation, **approval)
    assert estate.prod.serving() == {version: 100} and estate.prod.stage(version) == "production"
    for env in estate.environments():
        assert env.stage(version) == "production", env.stack_name
    assert_no_op(estate.prod, candidate=registry_path, evaluation=evaluation, **approval)
    assert_no_op(estate.test, candidate=dev["promote_candidate"], evaluation=evaluation)


# ---------------------------------------------------------------------------------- faults at every step
def _better(models, tmp_path):
    """Same network, a lower threshold that wins the comparison with min_delta 0 and alpha 0.5."""
    better = shutil.copytree(models.good, tmp_path / "better")
    artifact = json.loads((better / "artifact.json").read_text(encoding="utf-8"))
    artifact["threshold"] = round(artifact["threshold"] - 0.01, 4)
    (better / "artifact.json").write_text(json.dumps(artifact), encoding="utf-8")
    return better


WINNING = {"minDelta": 0.0, "alpha": 0.5}


def _failing_download(env: Environment, monkeypatch, tmp_path):
    """Storage that answers nothing, on a CI agent of test's own (its model cache empty: dev's agent
    downloaded the versions it compared into another one)."""

    def download(uri, target):
        raise OSError(f"storage unreachable for {uri}")

    env.gateway._downloader = download
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "test-agent-cache"))


# step -> (the stack whose release of the second version it breaks, the fake it is armed on, operation, how)
STEPS = {
    "dev: read the training job": ("dev", "dev", "jobs.get", 500),
    "dev: download the job's output": ("dev", "dev", "download", None),
    "dev: register the job's output": ("dev", "dev", "model_versions.put", 429),
    "test: registry discovery": ("test", "dev", "registries.discovery", 500),
    "test: read the registry before sharing": ("test", "dev", "registry_model_versions.get", 503),
    "test: the import into the registry": ("test", "dev", "registry_assets.import", 429),
    "test: the import's operation fails": ("test", "dev", "registry_assets.import", "lro"),
    "test: register the registry version": ("test", "test", "model_versions.put", 500),
    "test: download champion and challenger from the registry": ("test", "test", "download", None),
    "test: deploy to the idle slot": ("test", "test", "online_deployments.put", 500),
    "test: move traffic": ("test", "test", "online_endpoints.put", 503),
    "test: smoke test": ("test", "test", "score", 500),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_a_fault_at_every_step_of_a_promotion_leaves_the_previous_champion_serving(
    estate, models, tmp_path, monkeypatch, step
):
    evaluation = models.evaluation_data
    first = estate.dev.release_outputs(estate.dev.up(candidate=trained(estate, models.good), evaluation=evaluation))
    estate.test.up(candidate=first["promote_candidate"], evaluation=evaluation, **WINNING)
    champion = first["candidate_version"]
    second_job = trained(estate, _better(models, tmp_path), "train-second")
    stack, where, operation, how = STEPS[step]
    released = estate.dev if stack == "dev" else estate.test
    if stack == "dev":
        candidate = second_job
    else:
        candidate = estate.dev.release_outputs(estate.dev.up(candidate=second_job, evaluation=evaluation, **WINNING))[
            "promote_candidate"
        ]
    assert released.serving() == {champion: 100}

    env = estate.dev if where == "dev" else estate.test
    if how == "lro":
        env.fake.fail_lro(operation, times=None)
    elif operation == "download":
        _failing_download(env, monkeypatch, tmp_path)
    else:
        env.fake.fail(operation, how, times=None)
    # each provider method builds its own gateway, whose registry client asks the registry's discovery
    # again; the gateways here are kept for speed, so they forget the registry client they built
    env.gateway._registry_clients.clear()
    with pytest.raises(Exception):  # noqa: B017 - the step's own error; what matters is what serves after it
        released.up(candidate=candidate, evaluation=evaluation, **WINNING)
    assert released.serving() == {champion: 100}, f"{step}: the previous champion keeps serving"
    assert released.stage(champion) == "production", step
    production = [
        v.version for v in released.gateway.list_model_versions(MODEL_NAME) if v.tags.get("stage") == "production"
    ]
    assert production == [champion], f"{step}: one production version, the champion"
    assert estate.prod.fake.calls == [], "prod is another environment: nothing reached it"

    env.fake.clear_faults()
    env.gateway._downloader = env.fake.download_folder
    outputs = released.release_outputs(released.up(candidate=candidate, evaluation=evaluation, **WINNING))
    challenger = outputs["candidate_version"]
    assert challenger != champion and released.serving() == {challenger: 100}, f"{step}: a re-run converges"
    assert released.stage(challenger) == "production" and released.stage(champion) == "surpassed"
    if stack == "test":
        assert estate.registry_version(challenger) is not None
