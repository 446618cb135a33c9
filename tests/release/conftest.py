"""Fixtures for the release providers: an engine that drives them the way Pulumi does, the Azure ML
fake behind the gateway, and tiny models trained once per session.

`Engine` mirrors pulumi/dynamic/__main__.py and the engine's step logic: the provider is pickled
with dill and unpickled before use, every property bag crosses a real protobuf Struct (so numbers
come back as floats), `check` gets the old inputs, `diff`/`update`/`read`/`delete` get the old
outputs, a failed create records nothing and a failed update keeps the previous state, and a
replacement creates the new resource before deleting the old one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import dill
import pytest
from azure.ai.ml import Input, MLClient, Output, command
from azure.ai.ml.entities import Environment
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from infra.azureml.gateway import RetryPolicy, WorkspaceRef
from infra.release import EndpointTrafficProvider, ModelVersionProvider
from infra.release.base import use_gateway_factory
from infra.release.content import content_sha256
from infra.release.model_ref import registry_path_of, version_in
from tests.fakes.azureml import FakeAzureML, gateway_for

MODEL_NAME = "hate-speech-pt"
ENDPOINT = "hate-speech"

RETRY_ATTEMPTS = 3


def wire(props: dict) -> dict:
    """A property bag after a trip through the engine (protobuf Struct, as the dynamic provider host does)."""
    loop = asyncio.new_event_loop()
    try:
        struct = loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()
    return rpc.deserialize_properties(struct, keep_unknowns=True)


def serialized(props: dict) -> dict:
    """A property bag as the engine compares it: its wire form (an asset by its path, not its object)."""
    from google.protobuf import json_format

    loop = asyncio.new_event_loop()
    try:
        return json_format.MessageToDict(loop.run_until_complete(rpc.serialize_properties(props, {})))
    finally:
        loop.close()


class CheckFailed(Exception):
    def __init__(self, failures):
        self.failures = [(f.property, f.reason) for f in failures]
        super().__init__(self.failures)


@dataclass
class Record:
    id: str
    inputs: dict
    outputs: dict
    provider_blob: str


@dataclass
class Engine:
    """The engine's lifecycle calls against dynamic providers, with state carried between them."""

    state: dict = field(default_factory=dict)
    steps: list = field(default_factory=list)

    @staticmethod
    def _provider(blob: str):
        return dill.loads(base64.b64decode(blob))

    def check(self, name: str, provider, inputs: dict) -> dict:
        blob = serialize_provider(provider)
        record = self.state.get(name)
        news = wire({**inputs, "__provider": blob})
        olds = record.inputs if record else {}
        result = self._provider(blob).check(olds, news)
        if result.failures:
            raise CheckFailed(result.failures)
        return wire({**result.inputs, "__provider": blob})

    def preview(self, name: str, provider, inputs: dict) -> str:
        """What `pulumi preview` would do: create, same, update or replace (no provider write)."""
        checked = self.check(name, provider, inputs)
        record = self.state.get(name)
        if record is None:
            return "create"
        diff = self._provider(checked["__provider"]).diff(record.id, record.outputs, checked)
        if not diff.changes:
            return "same"
        return "replace" if diff.replaces else "update"

    def up(self, name: str, provider, inputs: dict) -> str:
        checked = self.check(name, provider, inputs)
        blob = checked["__provider"]
        live = self._provider(blob)
        record = self.state.get(name)
        if record is None:
            result = live.create(checked)
            self._store(name, result.id, checked, result.outs, blob)
            self.steps.append((name, "create"))
            return "create"
        diff = live.diff(record.id, record.outputs, checked)
        if not diff.changes:
            self.steps.append((name, "same"))
            return "same"
        if diff.replaces:
            result = live.create(checked)
            live.delete(record.id, record.outputs)
            self._store(name, result.id, checked, result.outs, blob)
            self.steps.append((name, "replace"))
            return "replace"
        result = live.update(record.id, record.outputs, checked)
        self._store(name, record.id, checked, result.outs, blob)
        self.steps.append((name, "update"))
        return "update"

    def refresh(self, name: str) -> str:
        record = self.state[name]
        result = self._provider(record.provider_blob).read(record.id, record.outputs)
        if not result.id:
            del self.state[name]
            return "deleted"
        outputs = wire({**result.outs, "__provider": record.provider_blob})
        changed = serialized(outputs) != serialized(record.outputs)
        self.state[name] = Record(result.id, record.inputs, outputs, record.provider_blob)
        return "changed" if changed else "same"

    def destroy(self, name: str) -> None:
        record = self.state.pop(name)
        self._provider(record.provider_blob).delete(record.id, record.outputs)

    def outputs(self, name: str) -> dict:
        return {k: v for k, v in self.state[name].outputs.items() if not k.startswith("__")}

    def _store(self, name, id_, inputs, outs, blob):
        assert isinstance(id_, str) and id_, f"{name}: create must return a non-empty id"
        self.state[name] = Record(id_, inputs, wire({**(outs or {}), "__provider": blob}), blob)


@pytest.fixture
def engine() -> Engine:
    return Engine()


# ---------------------------------------------------------------------------------- models
def _variant(source: Path, target: Path, threshold: float) -> Path:
    """A copy of a trained artifact whose decision threshold is moved: same network, other behaviour."""
    shutil.copytree(source, target)
    artifact = json.loads((target / "artifact.json").read_text(encoding="utf-8"))
    artifact["threshold"] = threshold
    (target / "artifact.json").write_text(json.dumps(artifact, indent=2) + "\n", encoding="utf-8")
    return target


@dataclass(frozen=True)
class Models:
    good: Path  # the trained tiny model
    always_hate: Path  # same network, threshold 0: calls every text hate (fails the macro-F1 floor)
    never_hate: Path  # same network, threshold 1: calls nothing hate
    evaluation_data: Path


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> Models:
    from model.settings import TrainSettings
    from model.synthetic import write_synthetic_csv
    from model.train import train

    root = tmp_path_factory.mktemp("release-models")
    training = write_synthetic_csv(root / "train.csv", n_rows=400, seed=0)  # as tests/model trains
    evaluation = write_synthetic_csv(root / "evaluation.csv", n_rows=200, seed=12)
    good = root / "good"
    train(training, good, TrainSettings(preset="tiny", seed=0, num_threads=1), quiet=True)
    return Models(
        good=good,
        always_hate=_variant(good, root / "always-hate", 0.0),
        never_hate=_variant(good, root / "never-hate", 1.0),
        evaluation_data=Path(evaluation),
    )


# ---------------------------------------------------------------------------------- Azure ML fake
_classifiers: dict[str, object] = {}  # model folder (or content digest) -> loaded classifier, shared by the session
_mounted = tempfile.mkdtemp(prefix="scored-models-")  # the files of models served from Azure ML, by content


@pytest.fixture(autouse=True)
def _model_cache(tmp_path, monkeypatch):
    """Model files the release downloads (job outputs, registered versions) land in the test's own cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def _served_folder(fake: FakeAzureML, model_id: str) -> str:
    """The folder a deployment of `model_id` loads, as Azure ML mounts it: the version's files, from the
    registry for a registry model; a version registered from a folder on this machine is read there."""
    registry_model = registry_path_of(model_id)
    if registry_model is not None:
        uri = registry_model.uri
    else:
        props = fake.model_version(MODEL_NAME, version_in(model_id, MODEL_NAME))["properties"]
        source = props["properties"].get("source_path", "")
        if source and Path(source).is_dir():
            return source
        uri = props["modelUri"]
    with tempfile.TemporaryDirectory() as scratch:
        fake.download_folder(uri, scratch)
        folder = Path(_mounted) / content_sha256(scratch)
        if not folder.exists():
            shutil.copytree(scratch, folder)
    return str(folder)


class ModelScorer:
    """The scoring route of one deployment: scores with whatever model the deployment serves now."""

    def __init__(self, fake: FakeAzureML, endpoint: str, slot: str):
        self.fake, self.endpoint, self.slot = fake, endpoint, slot

    def __call__(self, payload):
        from serving.classifier import HateSpeechClassifier

        model_id = self.fake.deployment(self.endpoint, self.slot)["properties"].get("model")
        version = version_in(model_id, MODEL_NAME)
        if version is None:
            raise RuntimeError(f"deployment {self.slot} serves no {MODEL_NAME} model ({model_id!r})")
        source = _served_folder(self.fake, model_id)
        if source not in _classifiers:
            _classifiers[source] = HateSpeechClassifier.load(source, intra_op_threads=1)
        predictions = _classifiers[source].predict(payload["texts"])
        return {"predictions": predictions, "model": {"name": MODEL_NAME, "version": version}}


@dataclass
class AzureML:
    """The fake workspace wired behind the providers' gateway seam."""

    fake: FakeAzureML
    workspace: WorkspaceRef
    uploads: list = field(default_factory=list)
    gateway_calls: int = 0

    @property
    def coordinates(self) -> dict:
        return {
            "subscription_id": self.workspace.subscription_id,
            "resource_group": self.workspace.resource_group,
            "workspace_name": self.workspace.workspace_name,
        }

    def traffic(self) -> dict:
        props = self.fake.endpoint(ENDPOINT)["properties"]
        return {k: v for k, v in props["traffic"].items() if v}

    def mirror(self) -> dict:
        props = self.fake.endpoint(ENDPOINT)["properties"]
        return {k: v for k, v in (props.get("mirrorTraffic") or {}).items() if v}

    def slot_version(self, slot: str) -> str | None:
        deployment = self.fake.deployment(ENDPOINT, slot)
        return None if deployment is None else version_in(deployment["properties"].get("model"), MODEL_NAME)

    def serving(self) -> dict:
        """{version: percent} of live traffic."""
        return {self.slot_version(slot): pct for slot, pct in self.traffic().items()}

    def stage(self, version: str) -> str | None:
        return self.fake.model_version(MODEL_NAME, version)["properties"]["tags"].get("stage")

    def archived(self, version: str) -> bool:
        return bool(self.fake.model_version(MODEL_NAME, version)["properties"]["isArchived"])

    def write_count(self) -> int:
        return len(self.fake.writes())


def make_champion(fake: FakeAzureML, version: str, slot: str = "blue") -> None:
    """What a previous release left, set up by hand: `version` deployed on `slot` with all the traffic, and
    tagged `production` in the registry (the champion is the version tagged so, not the busiest slot)."""
    fake.add_deployment(ENDPOINT, slot, model_id=fake.model_version_id(MODEL_NAME, version))
    fake.set_traffic(ENDPOINT, {slot: 100})
    fake.model_version(MODEL_NAME, version)["properties"]["tags"]["stage"] = "production"


def serving_spec(fake: FakeAzureML, code_version: str = "c0de00000001", instance_count: int = 1) -> dict:
    """An EndpointTraffic `serving` input whose code and environment versions exist in the fake."""
    code = fake.code_version_id("hate-speech-scoring", code_version)
    environment = fake.environment_version_id("hate-speech-serving", "e0e000000001")
    fake.add_code_version("hate-speech-scoring", code_version)
    fake.add_environment_version("hate-speech-serving", "e0e000000001")
    probe = {"initial_delay": 10, "period": 10, "timeout": 2, "failure_threshold": 3, "success_threshold": 1}
    return {
        "code_id": code,
        "environment_id": environment,
        "scoring_script": "score.py",
        "instance_type": "Standard_DS3_v2",
        "instance_count": instance_count,
        "environment_variables": {"WORKER_COUNT": "2"},
        "request_timeout_ms": 5000,
        "max_concurrent_requests_per_instance": 2,
        "liveness_probe": probe,
        "readiness_probe": probe,
        "app_insights_enabled": True,
        "egress_public_network_access": "enabled",
    }


@pytest.fixture
def azureml():
    """An empty endpoint, as ServingEndpoint creates it: the release creates the slots' deployments."""
    fake = FakeAzureML()
    fake.add_endpoint(ENDPOINT)
    fake.scorer_factory = lambda endpoint, slot: ModelScorer(fake, endpoint, slot)
    workspace = WorkspaceRef(fake.subscription_id, fake.resource_group, fake.workspace_name)
    env = AzureML(fake, workspace)

    def upload(local_dir: str, name: str, version: str) -> str:
        env.uploads.append((local_dir, name, version))
        return fake.upload_folder(local_dir, name, version)

    built = []

    def factory(ref: WorkspaceRef):
        # Providers call this in every method; one gateway per test keeps azure-ai-ml's slow MLClient
        # construction (about 0.2 s) out of each call. The gateway keeps no Azure ML state of its own.
        assert ref == workspace, f"provider asked for {ref}, the test set up {workspace}"
        if not built:
            built.append(
                gateway_for(
                    fake,
                    retry=RetryPolicy(attempts=RETRY_ATTEMPTS, initial_delay_s=0.0, max_delay_s=0.0),
                    sleep=lambda seconds: None,
                    uploader=upload,
                )
            )
        env.gateway_calls += 1
        return built[0]

    with use_gateway_factory(workspace, factory):
        yield env


# ---------------------------------------------------------------------------------- release helpers
FIRST, SECOND, THIRD = "good", "always_hate", "never_hate"


@pytest.fixture
def versions(models, azureml, engine) -> dict:
    """The three artifacts registered through the ModelVersion provider: {label: version}."""
    found = {}
    for label in (FIRST, SECOND, THIRD):
        engine.up(
            f"mv-{label}",
            ModelVersionProvider(),
            {**azureml.coordinates, "model_name": MODEL_NAME, "path": str(getattr(models, label))},
        )
        found[label] = engine.outputs(f"mv-{label}")["version"]
    return found


def traffic_inputs(azureml, challenger: str, winner: str = "challenger", champion: str | None = None, **extra):
    serving = extra.pop("serving", None) or serving_spec(azureml.fake)
    if extra.get("approved_version") and "approved_serving_version" not in extra:
        from infra.release.traffic.serving_spec import serving_version

        extra["approved_serving_version"] = serving_version(serving)  # approving the candidate as declared
    return {
        **azureml.coordinates,
        "endpoint_name": ENDPOINT,
        "model_name": MODEL_NAME,
        "challenger_version": challenger,
        "winner": winner,
        "champion_version": champion,
        "serving": serving,
        **extra,
    }


def endpoint_puts(azureml) -> list[tuple[dict, dict]]:
    """(traffic, mirror) of every endpoint PUT that reached the fake, in order."""
    found = []
    for call in azureml.fake.calls_to("online_endpoints.put"):
        props = call.body["properties"]
        found.append(
            (
                {k: v for k, v in props.get("traffic", {}).items() if v},
                {k: v for k, v in (props.get("mirrorTraffic") or {}).items() if v},
            )
        )
    return found


def assert_never_zero(azureml) -> None:
    for traffic, _ in endpoint_puts(azureml):
        assert sum(traffic.values()) in (0, 100)
    served = [traffic for traffic, _ in endpoint_puts(azureml)]
    first_live = next((i for i, t in enumerate(served) if t), None)
    if first_live is not None:
        assert all(sum(t.values()) == 100 for t in served[first_live:]), f"traffic dropped to zero: {served}"


def release_first(engine, azureml, versions) -> None:
    engine.up("traffic", EndpointTrafficProvider(), traffic_inputs(azureml, versions[FIRST]))


# ---------------------------------------------------------------------------------- training jobs
TRAINING_JOB = "train-0a1b2c3d-f00dfeed0000-1234abcd"  # as model.training_job names them
TRAINING_IMAGE = "mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04:20250303.v1"


def submit_training_job(fake: FakeAzureML, name: str = TRAINING_JOB) -> None:
    """A command job as `python -m model submit` submits it, held where it is until the test ends it."""
    fake.add_compute("gpu-cluster")
    fake.add_code_version("train-src", "1", code_uri=fake.datastore_uri("LocalUpload/abc/src/"))
    fake.add_data_version("hate-speech-training-data", "5d41402a4bc4", fake.datastore_uri("LocalUpload/d/t.csv"))
    fake.auto_advance_jobs = False
    ml = MLClient(
        fake.credential, fake.subscription_id, fake.resource_group, fake.workspace_name, transport=fake.transport
    )
    ml.jobs.create_or_update(
        command(
            name=name,
            command="python -m model train --data ${{inputs.data}} --out ${{outputs.artifact}} --quiet --json",
            code=fake.code_version_id("train-src", "1"),
            environment=Environment(image=TRAINING_IMAGE, conda_file={"dependencies": ["python=3.11"]}),
            compute="gpu-cluster",
            inputs={"data": Input(type="uri_file", path="azureml:hate-speech-training-data:5d41402a4bc4")},
            outputs={"artifact": Output(type="uri_folder")},
        )
    )
