"""The providers travel the way Pulumi carries them (dill, by reference, holding nothing), and the
resources can be declared under the SDK's mocks, as the stacks and the offline plan do."""

from __future__ import annotations

import base64

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from infra.release import (
    ChampionSelectionProvider,
    EndpointTrafficProvider,
    ModelVersionProvider,
    RegistryCoordinates,
    RegistryModelVersionProvider,
)
from infra.release.base import WorkspaceCoordinates, gateway_for, use_gateway_factory
from infra.release.content import content_sha256, version_of
from infra.release.model_release import ModelRelease, ModelReleaseArgs, register_candidate, rollout_steps
from infra.release.serving_endpoint import ServingEndpointProvider
from infra.release.traffic.serving_spec import serving_version
from model.synthetic import write_synthetic_csv
from scripts.offline.program import run_program
from tests.fakes.azureml import FakeAzureML
from tests.paths import REPO_ROOT
from tests.release.conftest import ENDPOINT, FIRST, MODEL_NAME, serving_spec, traffic_inputs

PROVIDERS = (
    ModelVersionProvider,
    RegistryModelVersionProvider,
    ChampionSelectionProvider,
    EndpointTrafficProvider,
    ServingEndpointProvider,
)
FORBIDDEN = (
    b"credential",
    b"Credential",
    b"transport",
    b"MLClient",
    b"AzureMLGateway",
    b"token",
    b"Fake",
    b"scripts",
)  # the offline engine is tooling: no provider may need it where Pulumi unpickles it


@pytest.mark.parametrize("provider_class", PROVIDERS)
def test_providers_pickle_by_reference_and_hold_nothing(provider_class, azureml):
    blob = serialize_provider(provider_class())
    raw = base64.b64decode(blob)
    assert provider_class.__module__.encode() in raw and provider_class.__name__.encode() in raw
    assert len(raw) < 200, "the class is pickled by reference, not by value"
    assert not any(word in raw for word in FORBIDDEN)
    loaded = dill.loads(raw)
    assert type(loaded) is provider_class and vars(loaded) == {}
    # a registered gateway factory lives in infra.release.base, never in the pickle
    assert serialize_provider(provider_class()) == blob


def test_providers_build_their_gateway_per_call_and_keep_no_client_after_a_release(azureml, engine, versions):
    provider = EndpointTrafficProvider()
    before = serialize_provider(provider)
    calls = azureml.gateway_calls
    checked = engine.check("traffic", provider, traffic_inputs(azureml, versions[FIRST]))
    assert azureml.gateway_calls == calls, "check must not reach Azure"
    result = provider.create(checked)
    provider.read(result.id, result.outs)
    assert azureml.gateway_calls == calls + 2, "each method builds its own gateway"
    assert vars(provider) == {} and serialize_provider(provider) == before


def test_without_a_registered_factory_the_gateway_is_the_real_one_with_its_own_credential(azureml):
    from infra.azureml.gateway import AzureMLGateway, WorkspaceRef

    other = WorkspaceRef("99999999-1111-2222-3333-444444444444", "rg-other", "mlw-other")
    gateway = gateway_for(other)
    assert type(gateway) is AzureMLGateway and gateway.workspace == other
    assert gateway._credential is None and gateway._transport is None, (
        "the credential (infra.azureml.credentials) is made on first use"
    )
    with use_gateway_factory(other, lambda ref: "stand-in"):
        assert gateway_for(other) == "stand-in"
    assert type(gateway_for(other)) is AzureMLGateway


def test_rollout_steps_from_stack_settings():
    assert rollout_steps(0, ()) == []
    assert rollout_steps(10, (10, 50)) == [{"mirror": 10}, {"canary": 10}, {"canary": 50}]


def test_model_release_declares_the_three_resources_under_mocks(tmp_path):
    candidate = tmp_path / "candidate"
    candidate.mkdir()
    (candidate / "artifact.json").write_text('{"name": "hate-speech-pt", "commit": "abc"}', encoding="utf-8")
    (candidate / "model.int8.onnx").write_bytes(b"weights")
    write_synthetic_csv(tmp_path / "evaluation.csv", n_rows=20, seed=1)
    serving = serving_spec(FakeAzureML())

    def program():
        workspace = WorkspaceCoordinates("00000000-0000-0000-0000-000000000000", "rg-dev", "mlw-dev")
        candidate = register_candidate(
            "hate-speech", workspace=workspace, model_name=MODEL_NAME, candidate=str(tmp_path / "candidate")
        )
        release = ModelRelease(
            "hate-speech",
            ModelReleaseArgs(
                workspace=workspace,
                model_version=candidate.model_version,
                endpoint_name=ENDPOINT,
                model_name=MODEL_NAME,
                evaluation_data=str(tmp_path / "evaluation.csv"),
                serving=serving,
                rollout=rollout_steps(10, (50,)),
                require_approval=True,
                approved_version="0123456789ab",
                approved_serving_version=serving_version(serving),
                compare_settings={"alpha": 0.01},
            ),
        )
        return {"winner": release.selection.winner}

    plan = run_program("dev", program, {})
    by_type = {r.type: r for r in plan.resources}
    assert set(by_type) == {
        "mlops:release:ModelRelease",
        "pulumi-python:dynamic/release:ModelVersion",
        "pulumi-python:dynamic/release:ChampionSelection",
        "pulumi-python:dynamic/release:EndpointTraffic",
    }
    for type_ in ("pulumi-python:dynamic/release:ChampionSelection", "pulumi-python:dynamic/release:EndpointTraffic"):
        assert by_type[type_].parent and by_type[type_].parent.endswith("hate-speech")
    version = by_type["pulumi-python:dynamic/release:ModelVersion"]
    assert version.checked["version"] == version_of(content_sha256(str(tmp_path / "candidate"))), (
        "the offline plan runs the provider's check, which derives the content version"
    )
    traffic = by_type["pulumi-python:dynamic/release:EndpointTraffic"].inputs
    assert traffic["rollout"] == [{"mirror": 10}, {"canary": 50}]
    assert traffic["require_approval"] is True and traffic["approved_version"] == "0123456789ab"
    assert traffic["slots"] == ["blue", "green"] and traffic["endpoint_name"] == ENDPOINT
    assert traffic["serving"] == serving and traffic["approved_serving_version"] == serving_version(serving)
    assert by_type["pulumi-python:dynamic/release:EndpointTraffic"].checked["serving_version"] == serving_version(
        serving
    ), "the provider's check derives the serving version the approval names"
    selection = by_type["pulumi-python:dynamic/release:ChampionSelection"].inputs
    assert selection["compare_settings"] == {"alpha": 0.01}
    assert by_type["pulumi-python:dynamic/release:ModelVersion"].inputs["path"] == str(tmp_path / "candidate")


DEV_MODEL = (
    "azureml://subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-dev/workspaces/mlw-dev"
    f"/models/{MODEL_NAME}/versions/0a1b2c3d4e5f"
)


@pytest.mark.parametrize(
    "candidate, version, promote",
    [
        # a job output's version is its files': only Azure ML can read them, so the offline plan leaves it unknown
        ("azureml://jobs/train-0a1b2c3d-f00dfeed0000-1234abcd/outputs/artifact", None, None),
        # a workspace model is shared into the registry, whose version the workspace then registers
        (DEV_MODEL, "0a1b2c3d4e5f", f"azureml://registries/mlops-registry/models/{MODEL_NAME}/versions/0a1b2c3d4e5f"),
        # a registry reference's version is the one in it, known offline
        (
            f"azureml://registries/mlops-registry/models/{MODEL_NAME}/versions/0a1b2c3d4e5f",
            "0a1b2c3d4e5f",
            f"azureml://registries/mlops-registry/models/{MODEL_NAME}/versions/0a1b2c3d4e5f",
        ),
    ],
)
def test_the_offline_plan_knows_a_remote_candidates_version_where_its_reference_names_it(
    tmp_path, candidate, version, promote
):
    write_synthetic_csv(tmp_path / "evaluation.csv", n_rows=20, seed=1)
    serving = serving_spec(FakeAzureML())
    registry = RegistryCoordinates("00000000-0000-0000-0000-000000000000", "rg-registry", "mlops-registry")
    workspace = WorkspaceCoordinates("00000000-0000-0000-0000-000000000000", "rg-test", "mlw-test")

    def program():
        registered = register_candidate(
            "hate-speech", workspace=workspace, model_name=MODEL_NAME, candidate=candidate, registry=registry
        )
        release = ModelRelease(
            "hate-speech",
            ModelReleaseArgs(
                workspace=workspace,
                model_version=registered.model_version,
                endpoint_name=ENDPOINT,
                model_name=MODEL_NAME,
                evaluation_data=str(tmp_path / "evaluation.csv"),
                serving=serving,
            ),
        )
        return {"version": release.model_version.version, "promote": registered.promote_candidate}

    plan = run_program("test", program, {})
    assert plan.outputs == {"version": version, "promote": promote}
    traffic = plan.one("pulumi-python:dynamic/release:EndpointTraffic")
    assert traffic.inputs["challenger_version"] == version
    if version is None:
        assert traffic.checked["intent"] == "decided when the champion/challenger comparison has run"
    shared = plan.of_type("pulumi-python:dynamic/release:RegistryModelVersion")
    assert [r.inputs["source"] for r in shared] == ([DEV_MODEL] if candidate == DEV_MODEL else [])


def test_the_providers_and_the_comparison_import_without_the_training_stack():
    """`pulumi up` runs the providers from the infra environment (requirements/infra.txt): no torch."""
    import subprocess
    import sys

    code = (
        "import sys, infra.release, infra.release.champion_selection, model.compare; "
        "print(sorted(m for m in ('torch', 'transformers', 'sklearn', 'matplotlib') if m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert found.stdout.strip() == "[]"


def test_constructing_the_resources_under_set_mocks_pickles_each_provider():
    """The SDK's own mocks, no engine of ours: each resource is registered with its pickled provider."""
    import pulumi
    from pulumi.runtime import rpc

    from infra.release import ChampionSelection, EndpointTraffic, ModelVersion

    registered = {}

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            registered[args.typ] = args.inputs
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args):
            return {}

    pulumi.runtime.reset_options(project="mlops-platform", stack="mocks")
    pulumi.runtime.set_mocks(Mocks(), project="mlops-platform", stack="mocks", preview=False)
    workspace = WorkspaceCoordinates("00000000-0000-0000-0000-000000000000", "rg", "mlw")

    @pulumi.runtime.test
    def declare():
        version = ModelVersion("mv", workspace=workspace, model_name=MODEL_NAME, path="/models/candidate")
        selection = ChampionSelection(
            "pick",
            workspace=workspace,
            endpoint_name=ENDPOINT,
            model_name=MODEL_NAME,
            challenger_version="0123456789ab",
            challenger_path="/models/candidate",
            evaluation_data="/data/evaluation.csv",
        )
        traffic = EndpointTraffic(
            "traffic",
            workspace=workspace,
            endpoint_name=ENDPOINT,
            model_name=MODEL_NAME,
            challenger_version="0123456789ab",
            winner="challenger",
            champion_version=None,
            serving=serving_spec(FakeAzureML()),
        )
        return pulumi.Output.all(version.urn, selection.urn, traffic.urn)

    declare()
    expected = {
        "ModelVersion": ModelVersionProvider,
        "ChampionSelection": ChampionSelectionProvider,
        "EndpointTraffic": EndpointTrafficProvider,
    }
    assert set(registered) == {f"pulumi-python:dynamic/release:{name}" for name in expected}
    for name, provider_class in expected.items():
        blob = registered[f"pulumi-python:dynamic/release:{name}"]["__provider"]
        blob = rpc.unwrap_rpc_secret(blob) if rpc.is_rpc_secret(blob) else blob
        assert type(dill.loads(base64.b64decode(blob))) is provider_class
