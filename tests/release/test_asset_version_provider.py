"""AssetVersion through the engine lifecycle against the Azure ML fake: register, adopt, refuse, keep."""

from __future__ import annotations

import pytest

from infra.release.asset_version import AssetVersionProvider

CONDA = "name: serving\ndependencies:\n  - python=3.11\n  - pip:\n    - onnxruntime==1.31.1\n"
IMAGE = "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py311-cpu-inference:latest"


def code_inputs(azureml, version="c0de00000001", uri=None):
    return {
        **azureml.coordinates,
        "kind": "code",
        "name": "hate-speech-scoring",
        "version": version,
        "code_uri": uri or f"https://st.blob.core.windows.net/code/serving/{version}",
    }


def environment_inputs(azureml, version="e0e000000001", image=IMAGE):
    return {
        **azureml.coordinates,
        "kind": "environment",
        "name": "hate-speech-serving",
        "version": version,
        "image": image,
        "conda_file": CONDA,
    }


@pytest.mark.parametrize("inputs", [code_inputs, environment_inputs])
def test_a_version_is_registered_once_and_its_id_is_its_arm_id(azureml, engine, inputs):
    assert engine.up("asset", AssetVersionProvider(), inputs(azureml)) == "create"
    record = engine.state["asset"]
    assert azureml.fake.asset_version(record.id) is not None
    kind = "codes" if inputs is code_inputs else "environments"
    assert record.id.startswith(azureml.fake.workspace_id + f"/{kind}/")
    writes = azureml.write_count()
    assert engine.up("asset", AssetVersionProvider(), inputs(azureml)) == "same" and azureml.write_count() == writes
    assert engine.refresh("asset") == "same"


def test_a_version_the_registry_holds_alike_is_adopted_without_a_write(azureml, engine):
    """What a revert under serving/ does: the older version is declared again, and it is still registered."""
    uri = "https://st.blob.core.windows.net/code/serving/c0de00000001"
    azureml.fake.add_code_version("hate-speech-scoring", "c0de00000001", code_uri=uri)
    writes = azureml.write_count()
    assert engine.up("asset", AssetVersionProvider(), code_inputs(azureml, uri=uri)) == "create"
    assert azureml.write_count() == writes


@pytest.mark.parametrize(
    "registered, declared",
    [
        (code_inputs, lambda azureml: code_inputs(azureml, uri="https://st.blob.core.windows.net/code/other")),
        (environment_inputs, lambda azureml: environment_inputs(azureml, image="other/image:1")),
    ],
)
def test_another_definition_under_a_registered_version_is_refused(azureml, engine, registered, declared):
    engine.up("first", AssetVersionProvider(), registered(azureml))
    with pytest.raises(Exception, match="a version is never overwritten"):
        engine.up("second", AssetVersionProvider(), declared(azureml))


def test_deleting_the_resource_keeps_the_version(azureml, engine):
    engine.up("asset", AssetVersionProvider(), code_inputs(azureml))
    asset_id = engine.state["asset"].id
    writes = azureml.write_count()
    engine.destroy("asset")
    assert azureml.fake.asset_version(asset_id) is not None and azureml.write_count() == writes


def test_check_names_a_missing_definition(azureml, engine):
    from tests.release.conftest import CheckFailed

    with pytest.raises(CheckFailed) as failed:
        engine.up("asset", AssetVersionProvider(), {**code_inputs(azureml), "code_uri": None})
    assert [field for field, _ in failed.value.failures] == ["code_uri"]
