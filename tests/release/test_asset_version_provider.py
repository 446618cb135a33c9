"""AssetVersion through the engine lifecycle against the Azure ML fake: register, adopt, refuse, keep.

A code version's files go to the workspace's default datastore through the gateway's `uploader` (the
fake's blob store, standing in for azure-ai-ml's upload with the caller's Entra identity), then the
version is registered at the uploaded path: no storage Blob resource, no shared key."""

from __future__ import annotations

import shutil

import pulumi
import pytest

from infra.release.asset_version import AssetVersionProvider
from infra.release.content import files_version
from infra.serving_assets import SCORING_FILES, SERVING_DIR

CONDA = "name: serving\ndependencies:\n  - python=3.11\n  - pip:\n    - onnxruntime==1.31.1\n"
IMAGE = "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py311-cpu-inference:latest"


@pytest.fixture
def scoring(tmp_path):
    """A copy of the scoring runtime's files: {name inside the code asset: local path}."""
    folder = tmp_path / "serving"
    folder.mkdir()
    for name in SCORING_FILES:
        shutil.copyfile(SERVING_DIR / name, folder / name)
    return {name: str(folder / name) for name in SCORING_FILES}


def code_inputs(azureml, files, version=None):
    return {
        **azureml.coordinates,
        "kind": "code",
        "name": "hate-speech-scoring",
        "version": version or files_version(files),
        "code_files": {name: pulumi.FileAsset(path) for name, path in files.items()},
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


def test_a_code_version_uploads_exactly_its_files_and_registers_them_once(azureml, engine, scoring):
    inputs = code_inputs(azureml, scoring)
    assert engine.up("asset", AssetVersionProvider(), inputs) == "create"
    record = engine.state["asset"]
    assert record.id == f"{azureml.fake.workspace_id}/codes/hate-speech-scoring/versions/{inputs['version']}"
    registered = azureml.fake.asset_version(record.id)
    (upload,) = azureml.fake.blob_calls
    assert upload == ("upload", registered["properties"]["codeUri"]), "registered at the uploaded path"
    prefix = registered["properties"]["codeUri"].split("/paths/", 1)[1]
    stored = {path[len(prefix) :]: data for path, data in azureml.fake.blobs.items() if path.startswith(prefix)}
    assert stored == {name: (SERVING_DIR / name).read_bytes() for name in SCORING_FILES}, (
        "the asset holds the scoring files under their names, nothing else"
    )
    writes = azureml.write_count()
    assert engine.up("asset", AssetVersionProvider(), inputs) == "same" and azureml.write_count() == writes
    assert engine.refresh("asset") == "same"
    assert len(azureml.fake.blob_calls) == 1


def test_an_environment_version_is_registered_once_and_its_id_is_its_arm_id(azureml, engine):
    assert engine.up("asset", AssetVersionProvider(), environment_inputs(azureml)) == "create"
    record = engine.state["asset"]
    assert azureml.fake.asset_version(record.id) is not None
    assert record.id.startswith(azureml.fake.workspace_id + "/environments/")
    writes = azureml.write_count()
    assert engine.up("asset", AssetVersionProvider(), environment_inputs(azureml)) == "same"
    assert azureml.write_count() == writes and engine.refresh("asset") == "same"


def test_a_code_version_the_registry_holds_is_adopted_without_upload_or_write(azureml, engine, scoring):
    """What a revert under serving/ does: the older version is declared again, and it is still registered
    (here as a stack registered it before uploads moved to identity: from the code blob container)."""
    version = files_version(scoring)
    azureml.fake.add_code_version(
        "hate-speech-scoring", version, code_uri=f"https://st.blob.core.windows.net/serving-code/ws-serving/{version}"
    )
    writes = azureml.write_count()
    assert engine.up("asset", AssetVersionProvider(), code_inputs(azureml, scoring)) == "create"
    assert azureml.write_count() == writes and azureml.fake.blob_calls == []


def test_files_that_are_not_the_declared_version_are_refused_before_anything_is_written(azureml, engine, scoring):
    version = files_version(scoring)
    with open(scoring["score.py"], "a", encoding="utf-8") as handle:
        handle.write("\n# edited after the version was taken\n")
    with pytest.raises(Exception, match=rf"version is '{version}', but the content version of code_files is"):
        engine.up("asset", AssetVersionProvider(), code_inputs(azureml, scoring, version=version))
    assert azureml.fake.writes() == [] and azureml.fake.blob_calls == []


def test_missing_code_files_are_named(azureml, engine, scoring, tmp_path):
    files = {**scoring, "score.py": str(tmp_path / "gone.py")}
    with pytest.raises(Exception, match=r"code_files names files that do not exist on this machine: score\.py"):
        engine.up("asset", AssetVersionProvider(), code_inputs(azureml, files, version="c0de00000001"))
    assert azureml.fake.writes() == []


def test_another_environment_definition_under_a_registered_version_is_refused(azureml, engine):
    engine.up("first", AssetVersionProvider(), environment_inputs(azureml))
    with pytest.raises(Exception, match="a version is never overwritten"):
        engine.up("second", AssetVersionProvider(), environment_inputs(azureml, image="other/image:1"))


def test_deleting_the_resource_keeps_the_version_and_its_files(azureml, engine, scoring):
    engine.up("asset", AssetVersionProvider(), code_inputs(azureml, scoring))
    asset_id = engine.state["asset"].id
    blobs, writes = dict(azureml.fake.blobs), azureml.write_count()
    engine.destroy("asset")
    assert azureml.fake.asset_version(asset_id) is not None and azureml.write_count() == writes
    assert azureml.fake.blobs == blobs


def test_a_state_from_before_identity_uploads_refreshes_and_stays_the_same(azureml, engine, scoring):
    """A stack deployed when the code went up as storage Blobs holds `code_uri` and no `code_files`: its
    refresh reads the version alone, and the next up (same version) changes nothing."""
    version = files_version(scoring)
    uri = f"https://st.blob.core.windows.net/serving-code/ws-serving/{version}"
    azureml.fake.add_code_version("hate-speech-scoring", version, code_uri=uri)
    engine.up("asset", AssetVersionProvider(), code_inputs(azureml, scoring))
    record = engine.state["asset"]
    legacy = {k: v for k, v in record.outputs.items() if k != "code_files"}
    engine.state["asset"] = type(record)(record.id, record.inputs, {**legacy, "code_uri": uri}, record.provider_blob)
    assert engine.refresh("asset") == "same"
    writes = azureml.write_count()
    assert engine.up("asset", AssetVersionProvider(), code_inputs(azureml, scoring)) == "same"
    assert azureml.write_count() == writes


@pytest.mark.parametrize(
    "files",
    [
        None,
        {},
        {"../score.py": pulumi.FileAsset("/tmp/x")},
        {"/abs.py": pulumi.FileAsset("/tmp/x")},
        {"score.py": "/tmp/score.py"},
    ],
)
def test_check_names_a_bad_code_files_mapping(azureml, engine, files):
    from tests.release.conftest import CheckFailed

    with pytest.raises(CheckFailed) as failed:
        engine.up(
            "asset",
            AssetVersionProvider(),
            {**code_inputs(azureml, {"score.py": "/x"}, version="c0de00000001"), "code_files": files},
        )
    assert [field for field, _ in failed.value.failures] == ["code_files"]
