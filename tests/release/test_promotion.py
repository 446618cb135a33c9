"""One model version from dev to prod: registered from the training job's output in dev, shared into the
estate's registry by test, and released from the registry in test and prod, each environment keeping
its own stage tags. The providers run through the engine against three fake workspaces that reach one
fake registry (FakeAzureML.join_registries).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from infra.azureml.gateway import RetryPolicy, WorkspaceRef
from infra.release import (
    ChampionSelectionProvider,
    EndpointTrafficProvider,
    ModelVersionProvider,
    RegistryModelVersionProvider,
)
from infra.release.base import use_gateway_factory
from infra.release.content import content_sha256, version_of
from infra.release.model_ref import registry_model_uri, version_in, workspace_model_uri
from infra.release.registry_model_version import RegistryVersionConflict
from tests.fakes.azureml import FakeAzureML, gateway_for
from tests.release.conftest import (
    ENDPOINT,
    MODEL_NAME,
    CheckFailed,
    ModelScorer,
    serving_spec,
    submit_training_job,
)
from tests.release.conftest import (
    TRAINING_JOB as JOB,
)

REGISTRY = "mlops-registry"
REGISTRY_GROUP = "rg-mlops-registry"


@dataclass
class Workspace:
    fake: FakeAzureML
    ref: WorkspaceRef

    @property
    def coordinates(self) -> dict:
        return {
            "subscription_id": self.ref.subscription_id,
            "resource_group": self.ref.resource_group,
            "workspace_name": self.ref.workspace_name,
        }

    def stage(self, version: str) -> str | None:
        model = self.fake.model_version(MODEL_NAME, version)
        return None if model is None else model["properties"]["tags"].get("stage")

    def serving(self) -> dict:
        """{version: percent} of live traffic, and what each live slot deploys."""
        props = self.fake.endpoint(ENDPOINT)["properties"]
        live = {slot: pct for slot, pct in props["traffic"].items() if pct}
        return {
            version_in(self.fake.deployment(ENDPOINT, slot)["properties"]["model"], MODEL_NAME): pct
            for slot, pct in live.items()
        }


@dataclass
class Estate:
    dev: Workspace
    test: Workspace
    prod: Workspace

    @property
    def registry(self) -> dict:
        return {
            "registry_subscription_id": self.dev.ref.subscription_id,
            "registry_resource_group": REGISTRY_GROUP,
            "registry_name": REGISTRY,
        }

    def registry_version(self, version: str) -> dict | None:
        return self.dev.fake.registry_model_version(REGISTRY, MODEL_NAME, version)


def _workspace(name: str, group: str) -> Workspace:
    fake = FakeAzureML(resource_group=group, workspace_name=name)
    fake.add_endpoint(ENDPOINT)
    fake.scorer_factory = lambda endpoint, slot: ModelScorer(fake, endpoint, slot)
    return Workspace(fake, fake.workspace_ref())


@pytest.fixture
def estate():
    dev, test, prod = (_workspace(f"mlw-{env}", f"rg-{env}") for env in ("dev", "test", "prod"))
    dev.fake.add_registry(REGISTRY, resource_group=REGISTRY_GROUP)
    test.fake.join_registries(dev.fake)
    prod.fake.join_registries(dev.fake)
    built = {}

    def factory(ref: WorkspaceRef):
        fake = next(w.fake for w in (dev, test, prod) if w.ref == ref)
        if ref not in built:
            built[ref] = gateway_for(fake, retry=RetryPolicy(attempts=3, initial_delay_s=0, max_delay_s=0))
        return built[ref]

    with use_gateway_factory(dev.ref, factory), use_gateway_factory(test.ref, factory):
        with use_gateway_factory(prod.ref, factory):
            yield Estate(dev, test, prod)


def job_output(name: str = JOB) -> str:
    return f"azureml://jobs/{name}/outputs/artifact"


def register_in_dev(engine, estate, candidate: str):
    return engine.up(
        "dev-version", ModelVersionProvider(), {**estate.dev.coordinates, "model_name": MODEL_NAME, "path": candidate}
    )


def model_writes(fake: FakeAzureML) -> list:
    return [w for w in fake.writes() if "/models/" in w[1]]


# ---------------------------------------------------------------------------------- dev: the job's output
def test_dev_registers_the_job_output_with_the_job_as_lineage_under_the_trainings_content_version(
    estate, engine, models
):
    dev = estate.dev.fake
    submit_training_job(dev)
    dev.finish_job(JOB, "Completed", outputs={"artifact": models.good})
    trained = version_of(content_sha256(str(models.good)))  # what `model train` gives the folder locally

    # a preview reads the job's files through the gateway: the version is known before `up`
    assert (
        engine.preview(
            "dev-version",
            ModelVersionProvider(),
            {**estate.dev.coordinates, "model_name": MODEL_NAME, "path": job_output()},
        )
        == "create"
    )
    assert register_in_dev(engine, estate, job_output()) == "create"
    out = engine.outputs("dev-version")
    assert out["version"] == trained and out["content_sha256"] == content_sha256(str(models.good))
    stored = dev.model_version(MODEL_NAME, trained)["properties"]
    assert stored["modelUri"] == job_output() and stored["jobName"] == JOB, "registered as is, the job its lineage"
    assert out["job_name"] == JOB
    assert [c for c in dev.blob_calls if c[0] == "upload"] == [], "nothing is uploaded: the job's files are the model"
    assert stored["properties"]["content_sha256"] == content_sha256(str(models.good))
    assert stored["tags"]["metric.macro_f1"] and stored["tags"]["data_version"], (
        "tags from artifact.json and metrics.json"
    )
    assert out["asset_uri"] == workspace_model_uri(estate.dev.ref, MODEL_NAME, trained)

    # the output is read once: the job's files never change once it has ended
    downloads = [c for c in dev.blob_calls if c[0] == "download"]
    writes = len(dev.writes())
    assert register_in_dev(engine, estate, job_output()) == "same"
    assert len(dev.writes()) == writes and [c for c in dev.blob_calls if c[0] == "download"] == downloads == [
        ("download", job_output())
    ]


@pytest.mark.parametrize(
    "status, error, expected",
    [
        (
            "Failed",
            "CUDA out of memory",
            f"job {JOB} ended Failed: UserError CUDA out of memory; nothing is registered",
        ),
        ("Canceled", None, f"job {JOB} ended Canceled; nothing is registered"),
        ("NotResponding", None, f"job {JOB} ended NotResponding: UserError fake: the job ended NotResponding"),
        (None, None, f"job {JOB} is NotStarted: its output is released once the job Completed"),
    ],
)
def test_a_job_that_did_not_complete_is_refused_with_its_status_and_nothing_is_registered(
    estate, engine, status, error, expected
):
    dev = estate.dev.fake
    submit_training_job(dev)
    if status is not None:
        dev.finish_job(JOB, status, error=error)
    with pytest.raises(CheckFailed) as refused:
        register_in_dev(engine, estate, job_output())
    [(field, reason)] = refused.value.failures
    assert field == "path" and expected in reason, reason
    assert model_writes(dev) == [] and "dev-version" not in engine.state


def test_a_job_output_that_is_no_model_artifact_is_refused(estate, engine, tmp_path):
    dev = estate.dev.fake
    submit_training_job(dev)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "log.txt").write_text("no model here")
    dev.finish_job(JOB, "Completed", outputs={"artifact": tmp_path / "out"})
    with pytest.raises(CheckFailed, match="holds no artifact.json"):
        register_in_dev(engine, estate, job_output())
    with pytest.raises(CheckFailed, match="does not exist in workspace mlw-dev"):
        register_in_dev(engine, estate, job_output("train-never-submitted"))
    assert model_writes(dev) == []


# ---------------------------------------------------------------------------------- test: into the registry
@pytest.fixture
def dev_version(estate, engine, models) -> str:
    """The dev workspace's version of the job's output, as the dev stack releases it."""
    submit_training_job(estate.dev.fake)
    estate.dev.fake.finish_job(JOB, "Completed", outputs={"artifact": models.good})
    register_in_dev(engine, estate, job_output())
    return engine.outputs("dev-version")["version"]


def share_inputs(estate, version: str) -> dict:
    return {
        **estate.registry,
        "model_name": MODEL_NAME,
        "source": workspace_model_uri(estate.dev.ref, MODEL_NAME, version),
    }


def test_test_shares_the_dev_version_into_the_registry_under_the_same_name_and_version(estate, engine, dev_version):
    provider = RegistryModelVersionProvider()
    assert engine.up("shared", provider, share_inputs(estate, dev_version)) == "create"
    out = engine.outputs("shared")
    assert out["registry_model_id"] == registry_model_uri(REGISTRY, MODEL_NAME, dev_version)
    shared = estate.registry_version(dev_version)["properties"]
    source = estate.dev.fake.model_version(MODEL_NAME, dev_version)["properties"]
    assert shared["properties"] == source["properties"], "the same content: the dev version's properties"
    assert shared["jobName"] == JOB and out["job_name"] == JOB, "the training job stays its lineage"
    assert len(estate.dev.fake.calls_to("registry_assets.import")) == 1

    writes = len(estate.dev.fake.writes())
    assert engine.up("shared", provider, share_inputs(estate, dev_version)) == "same"
    assert engine.refresh("shared") == "same"
    engine.destroy("shared")
    assert len(estate.dev.fake.writes()) == writes, "a registry version is never deleted"
    assert estate.registry_version(dev_version) is not None


def test_a_share_whose_answer_was_lost_is_retried_and_finds_the_version(estate, engine, dev_version):
    estate.dev.fake.lose_response("registry_assets.import")
    engine.up("shared", RegistryModelVersionProvider(), share_inputs(estate, dev_version))
    assert [c.response_lost for c in estate.dev.fake.calls_to("registry_assets.import")] == [True]
    assert engine.outputs("shared")["registry_model_id"] == registry_model_uri(REGISTRY, MODEL_NAME, dev_version)
    # and an update run again from scratch (its state lost) adopts the version: nothing is imported again
    engine.state.clear()
    engine.up("shared", RegistryModelVersionProvider(), share_inputs(estate, dev_version))
    assert len(estate.dev.fake.calls_to("registry_assets.import")) == 1


def test_the_registry_refuses_the_version_with_other_content_and_nothing_changes(estate, engine, dev_version):
    estate.dev.fake.add_registry_model_version(
        REGISTRY, MODEL_NAME, dev_version, properties={"content_sha256": "e" * 64, "source_path": "elsewhere"}
    )
    with pytest.raises(RegistryVersionConflict, match="other content") as refused:
        engine.up("shared", RegistryModelVersionProvider(), share_inputs(estate, dev_version))
    assert "release another version" in str(refused.value)
    assert estate.registry_version(dev_version)["properties"]["properties"]["content_sha256"] == "e" * 64
    assert estate.dev.fake.calls_to("registry_assets.import") == [] and "shared" not in engine.state


def test_a_version_deleted_from_the_registry_is_never_shared_again(estate, engine, dev_version):
    engine.up("shared", RegistryModelVersionProvider(), share_inputs(estate, dev_version))
    estate.dev.fake.delete_registry_model_version(REGISTRY, MODEL_NAME, dev_version)
    assert engine.refresh("shared") == "deleted"
    with pytest.raises(RegistryVersionConflict, match="cannot be created again"):
        engine.up("shared", RegistryModelVersionProvider(), share_inputs(estate, dev_version))


def test_the_share_names_a_dev_workspace_model_of_the_released_model(estate, engine):
    with pytest.raises(CheckFailed, match="azureml://subscriptions/<subscription GUID>"):
        engine.up(
            "shared", RegistryModelVersionProvider(), {**share_inputs(estate, "0a1b2c3d4e5f"), "source": job_output()}
        )
    other = workspace_model_uri(estate.dev.ref, "another-model", "0a1b2c3d4e5f")
    with pytest.raises(CheckFailed, match=f"a version of model {MODEL_NAME}"):
        engine.up("shared", RegistryModelVersionProvider(), {**share_inputs(estate, "0a1b2c3d4e5f"), "source": other})


# ---------------------------------------------------------------------------------- test and prod: from the registry
def env_inputs(workspace: Workspace, estate, version: str, **extra) -> dict:
    return {
        **workspace.coordinates,
        "model_name": MODEL_NAME,
        "path": registry_model_uri(REGISTRY, MODEL_NAME, version),
        "registry_name": REGISTRY,
        **extra,
    }


def release(engine, workspace: Workspace, estate, version: str, models, name: str, **traffic) -> dict:
    """ModelVersion (from the registry), ChampionSelection and EndpointTraffic of one environment."""
    engine.up(f"{name}-version", ModelVersionProvider(), env_inputs(workspace, estate, version))
    registered = engine.outputs(f"{name}-version")
    engine.up(
        f"{name}-selection",
        ChampionSelectionProvider(),
        {
            **workspace.coordinates,
            "endpoint_name": ENDPOINT,
            "model_name": MODEL_NAME,
            "challenger_version": registered["version"],
            "challenger_path": registered["path"],
            "evaluation_data": str(models.evaluation_data),
        },
    )
    decision = engine.outputs(f"{name}-selection")
    engine.up(
        f"{name}-traffic",
        EndpointTrafficProvider(),
        {
            **workspace.coordinates,
            "endpoint_name": ENDPOINT,
            "model_name": MODEL_NAME,
            "challenger_version": registered["version"],
            "winner": decision["winner"],
            "champion_version": decision.get("champion_version"),
            "serving": serving_spec(workspace.fake),
            **traffic,
        },
    )
    return engine.outputs(f"{name}-traffic")


def test_test_and_prod_release_the_registry_version_and_keep_their_own_stage_tags(estate, engine, dev_version, models):
    engine.up("shared", RegistryModelVersionProvider(), share_inputs(estate, dev_version))
    registry_id = registry_model_uri(REGISTRY, MODEL_NAME, dev_version)
    shared_tags = dict(estate.registry_version(dev_version)["properties"]["tags"])

    release(engine, estate.test, estate, dev_version, models, "test")
    record = estate.test.fake.model_version(MODEL_NAME, dev_version)["properties"]
    assert record["modelUri"] == registry_id, "test's version is the registry's, registered in test's workspace"
    assert record["properties"]["content_sha256"] == content_sha256(str(models.good))
    assert record["tags"]["metric.macro_f1"], "the provenance and metrics travel with the registry version"
    live = [d for d in ("blue", "green") if estate.test.fake.deployment(ENDPOINT, d)]
    assert [estate.test.fake.deployment(ENDPOINT, d)["properties"]["model"] for d in live] == [registry_id], (
        "the slot serves the registry version itself"
    )
    assert estate.test.serving() == {dev_version: 100} and estate.test.stage(dev_version) == "production"
    assert estate.prod.fake.model_version(MODEL_NAME, dev_version) is None, "nothing in prod yet"

    # prod requires approval: the winner is staged in prod while test's stage stays production
    test_writes = len(estate.test.fake.writes())
    release(engine, estate.prod, estate, dev_version, models, "prod", require_approval=True)
    assert estate.prod.stage(dev_version) == "staged" and estate.test.stage(dev_version) == "production"
    approved = {
        "require_approval": True,
        "approved_version": dev_version,
        "approved_serving_version": engine.outputs("prod-traffic")["serving_version"],
    }
    release(engine, estate.prod, estate, dev_version, models, "prod", **approved)
    assert estate.prod.serving() == {dev_version: 100} and estate.prod.stage(dev_version) == "production"
    assert len(estate.test.fake.writes()) == test_writes, "prod's releases wrote nothing in test"
    assert estate.test.serving() == {dev_version: 100} and estate.test.stage(dev_version) == "production"
    assert estate.registry_version(dev_version)["properties"]["tags"] == shared_tags, (
        "no release writes the registry version: each stage lives in its environment's workspace"
    )
    assert estate.dev.fake.calls_to("registry_model_versions.put") == []


def test_a_release_in_test_leaves_prods_stages_and_its_champion_alone(estate, engine, dev_version, models, tmp_path):
    """Each environment's champion is the version its own workspace tags production."""
    import json
    import shutil

    engine.up("shared", RegistryModelVersionProvider(), share_inputs(estate, dev_version))
    release(engine, estate.test, estate, dev_version, models, "test")
    release(engine, estate.prod, estate, dev_version, models, "prod")
    # a second model: trained again (a lower threshold that wins with min_delta 0), through dev and the registry
    better = shutil.copytree(models.good, tmp_path / "better")
    artifact = json.loads((better / "artifact.json").read_text(encoding="utf-8"))
    artifact["threshold"] = round(artifact["threshold"] - 0.01, 4)
    (better / "artifact.json").write_text(json.dumps(artifact), encoding="utf-8")
    submit_training_job(estate.dev.fake, "train-second")
    estate.dev.fake.finish_job("train-second", "Completed", outputs={"artifact": better})
    engine.up(
        "dev-second",
        ModelVersionProvider(),
        {**estate.dev.coordinates, "model_name": MODEL_NAME, "path": job_output("train-second")},
    )
    second = engine.outputs("dev-second")["version"]
    engine.up("shared-second", RegistryModelVersionProvider(), share_inputs(estate, second))
    prod_before = {v: estate.prod.stage(v) for v in (dev_version, second)}
    prod_writes = len(estate.prod.fake.writes())

    engine.up("test-version", ModelVersionProvider(), env_inputs(estate.test, estate, second))
    engine.up(
        "test-selection",
        ChampionSelectionProvider(),
        {
            **estate.test.coordinates,
            "endpoint_name": ENDPOINT,
            "model_name": MODEL_NAME,
            "challenger_version": second,
            "challenger_path": registry_model_uri(REGISTRY, MODEL_NAME, second),
            "evaluation_data": str(models.evaluation_data),
            "compare_settings": {"min_delta": 0.0, "alpha": 0.5},
        },
    )
    decision = engine.outputs("test-selection")
    assert decision.get("champion_version") == dev_version and decision["winner"] == "challenger", decision["reason"]
    assert decision["decision"]["compared"] is True, "champion and challenger both downloaded from the registry"
    engine.up(
        "test-traffic",
        EndpointTrafficProvider(),
        {
            **estate.test.coordinates,
            "endpoint_name": ENDPOINT,
            "model_name": MODEL_NAME,
            "challenger_version": second,
            "winner": "challenger",
            "champion_version": dev_version,
            "serving": serving_spec(estate.test.fake),
        },
    )
    assert estate.test.stage(second) == "production" and estate.test.stage(dev_version) == "surpassed"
    assert (
        {v: estate.prod.stage(v) for v in (dev_version, second)}
        == prod_before
        == {dev_version: "production", second: None}
    )
    assert len(estate.prod.fake.writes()) == prod_writes, "nothing in prod was written"
    assert estate.prod.serving() == {dev_version: 100}


def test_an_environment_refuses_a_registry_path_of_another_registry_or_without_the_stacks_registry(estate, engine):
    inputs = env_inputs(estate.test, estate, "0a1b2c3d4e5f")
    with pytest.raises(CheckFailed, match="in the stack's registry mlops-registry"):
        engine.up(
            "v", ModelVersionProvider(), {**inputs, "path": registry_model_uri("elsewhere", MODEL_NAME, "0a1b2c3d4e5f")}
        )
    with pytest.raises(CheckFailed, match="registry_name, the stack's registry"):
        engine.up("v", ModelVersionProvider(), {**inputs, "registry_name": None})
    with pytest.raises(CheckFailed, match="does not exist"):
        engine.up("v", ModelVersionProvider(), inputs)  # prod's candidate must be in the registry already
    dev_model = workspace_model_uri(estate.dev.ref, MODEL_NAME, "0a1b2c3d4e5f")
    with pytest.raises(CheckFailed, match="released through the registry"):
        engine.up("v", ModelVersionProvider(), {**inputs, "path": dev_model})
    assert model_writes(estate.test.fake) == []
