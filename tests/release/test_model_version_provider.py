"""ModelVersion through the engine lifecycle against the Azure ML fake."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from infra.release.content import VERSION_PATTERN, content_sha256, version_of
from infra.release.model_version import ModelVersionProvider, VersionCollision
from tests.fakes.azureml import ASSET_VERSION
from tests.release.conftest import MODEL_NAME, CheckFailed

ARTIFACT = {
    "name": MODEL_NAME,
    "labels": ["no-hate", "hate"],
    "max_length": 32,
    "threshold": 0.42,
    "commit": "0123abcd",
    "data_sha256": "f" * 64,
    "data_rows": 300,
    "settings": {},
    "created_utc": "x",
}
METRICS = {
    "macro_f1": 0.8125,
    "f1_hate": 0.7,
    "precision_hate": 0.75,
    "recall_hate": 0.65625,
    "roc_auc": 0.9,
    "accuracy": 0.85,
    "n": 200,
    "confusion_matrix": [[1, 2], [3, 4]],
    "recall_hate_by_category": {},
}


def artifact_folder(path, weights: bytes = b"weights-1", artifact=None):
    path.mkdir(parents=True)
    (path / "artifact.json").write_text(json.dumps(artifact or ARTIFACT), encoding="utf-8")
    (path / "metrics.json").write_text(json.dumps(METRICS), encoding="utf-8")
    (path / "model.int8.onnx").write_bytes(weights)
    return path


def inputs(azureml, path, **extra):
    return {**azureml.coordinates, "model_name": MODEL_NAME, "path": str(path), **extra}


def model_puts(azureml) -> list:
    return [w for w in azureml.fake.writes() if "/models/" in w[1] and "/versions/" in w[1]]


def test_content_version_is_stable_explicit_and_accepted_by_azure_ml(tmp_path):
    first = artifact_folder(tmp_path / "a")
    copy = shutil.copytree(first, tmp_path / "elsewhere" / "b")
    (copy / ".DS_Store").write_bytes(b"finder noise")
    version = version_of(content_sha256(str(first)))
    assert VERSION_PATTERN.match(version) and ASSET_VERSION.match(version)
    assert version_of(content_sha256(str(copy))) == version
    (copy / "model.int8.onnx").rename(copy / "model.onnx")
    assert version_of(content_sha256(str(copy))) != version
    # a reference to files in Azure ML is never hashed as text: its version is its files' or the one in it
    with pytest.raises(ValueError, match="a reference to files in Azure ML"):
        content_sha256("azureml://jobs/train-123/outputs/model")


def test_lifecycle_registers_once_updates_tags_reads_registry_and_archives_on_delete(tmp_path, azureml, engine):
    folder = artifact_folder(tmp_path / "model")
    provider = ModelVersionProvider()
    assert engine.preview("mv", provider, inputs(azureml, folder)) == "create"
    assert engine.up("mv", provider, inputs(azureml, folder, training_run="run-1")) == "create"
    out = engine.outputs("mv")
    version = version_of(content_sha256(str(folder)))
    assert out["version"] == version and out["archived"] is False
    assert out["model_id"].endswith(f"/models/{MODEL_NAME}/versions/{version}")
    stored = azureml.fake.model_version(MODEL_NAME, version)["properties"]
    assert stored["tags"] == {
        "commit": "0123abcd",
        "training_run": "run-1",
        "data_version": "f" * 12,
        "data_rows": "300",
        "threshold": "0.4200",
        "metric.macro_f1": "0.8125",
        "metric.f1_hate": "0.7000",
        "metric.precision_hate": "0.7500",
        "metric.recall_hate": "0.6562",
        "metric.roc_auc": "0.9000",
        "metric.accuracy": "0.8500",
        "metric.n": "200",
    }
    assert stored["properties"]["content_sha256"] == content_sha256(str(folder))
    assert stored["properties"]["source_path"] == str(folder.resolve())
    assert azureml.uploads == [(str(folder.resolve()), MODEL_NAME, version)]

    writes = azureml.write_count()
    assert engine.up("mv", provider, inputs(azureml, folder, training_run="run-1")) == "same"
    assert azureml.write_count() == writes, "an up with nothing to change must not write"

    assert engine.preview("mv", provider, inputs(azureml, folder, training_run="run-2")) == "update"
    assert engine.up("mv", provider, inputs(azureml, folder, training_run="run-2")) == "update"
    assert azureml.fake.model_version(MODEL_NAME, version)["properties"]["tags"]["training_run"] == "run-2"
    assert len(azureml.uploads) == 1, "a tag change must not register or upload again"

    assert engine.refresh("mv") == "same"
    engine.destroy("mv")
    assert azureml.archived(version)
    assert not [w for w in azureml.fake.writes() if w[0] == "DELETE"], "a model version is never deleted"


def test_same_content_elsewhere_is_the_same_version_and_is_not_registered_again(tmp_path, azureml, engine):
    first = artifact_folder(tmp_path / "first")
    second = shutil.copytree(first, tmp_path / "second")
    provider = ModelVersionProvider()
    engine.up("a", provider, inputs(azureml, first))
    puts = len(model_puts(azureml))
    engine.up("b", provider, inputs(azureml, second))
    assert engine.outputs("a")["version"] == engine.outputs("b")["version"]
    assert len(model_puts(azureml)) == puts and len(azureml.uploads) == 1
    # moving the folder changes nothing in the registry: an update of the recorded path only
    assert engine.up("a", provider, inputs(azureml, second)) == "update"
    assert len(model_puts(azureml)) == puts


def test_new_content_replaces_the_resource_and_archives_the_previous_version(tmp_path, azureml, engine):
    folder = artifact_folder(tmp_path / "model")
    provider = ModelVersionProvider()
    engine.up("mv", provider, inputs(azureml, folder))
    old = engine.outputs("mv")["version"]
    (folder / "model.int8.onnx").write_bytes(b"weights-2")
    assert engine.preview("mv", provider, inputs(azureml, folder)) == "replace"
    checked = engine.check("mv", provider, inputs(azureml, folder))
    diff = ModelVersionProvider().diff(engine.state["mv"].id, engine.state["mv"].outputs, checked)
    assert diff.replaces == ["version"] and diff.delete_before_replace is False
    assert engine.up("mv", provider, inputs(azureml, folder)) == "replace"
    new = engine.outputs("mv")["version"]
    assert new != old and not azureml.archived(new) and azureml.archived(old)


def test_stage_tag_belongs_to_the_traffic_resource_and_survives_tag_updates(tmp_path, azureml, engine):
    folder = artifact_folder(tmp_path / "model")
    provider = ModelVersionProvider()
    engine.up("mv", provider, inputs(azureml, folder))
    version = engine.outputs("mv")["version"]
    stored = azureml.fake.model_version(MODEL_NAME, version)["properties"]
    stored["tags"]["stage"] = "production"
    assert engine.refresh("mv") == "changed"
    assert engine.outputs("mv")["stage"] == "production"
    assert engine.up("mv", provider, inputs(azureml, folder)) == "same", "the stage tag is not drift"
    engine.up("mv", provider, inputs(azureml, folder, commit="feedbeef"))
    tags = azureml.fake.model_version(MODEL_NAME, version)["properties"]["tags"]
    assert tags["stage"] == "production" and tags["commit"] == "feedbeef"
    with pytest.raises(CheckFailed) as failed:
        engine.up("mv", provider, inputs(azureml, folder, tags={"stage": "production"}))
    assert failed.value.failures[0][0] == "tags"


def test_manual_tag_change_shows_on_refresh_and_the_next_up_restores_it(tmp_path, azureml, engine):
    folder = artifact_folder(tmp_path / "model")
    provider = ModelVersionProvider()
    engine.up("mv", provider, inputs(azureml, folder))
    version = engine.outputs("mv")["version"]
    azureml.fake.model_version(MODEL_NAME, version)["properties"]["tags"]["metric.macro_f1"] = "0.9999"
    assert engine.refresh("mv") == "changed"
    assert engine.up("mv", provider, inputs(azureml, folder)) == "update"
    assert azureml.fake.model_version(MODEL_NAME, version)["properties"]["tags"]["metric.macro_f1"] == "0.8125"


def test_archived_outside_the_stack_shows_on_refresh_and_up_restores_it(tmp_path, azureml, engine):
    folder = artifact_folder(tmp_path / "model")
    provider = ModelVersionProvider()
    engine.up("mv", provider, inputs(azureml, folder))
    version = engine.outputs("mv")["version"]
    azureml.fake.model_version(MODEL_NAME, version)["properties"]["isArchived"] = True
    assert engine.refresh("mv") == "changed" and engine.outputs("mv")["archived"] is True
    assert engine.up("mv", provider, inputs(azureml, folder)) == "update"
    assert not azureml.archived(version) and engine.outputs("mv")["archived"] is False
    assert len(azureml.uploads) == 1


def test_version_gone_from_the_registry_leaves_the_state_and_the_next_up_registers_it(tmp_path, azureml, engine):
    folder = artifact_folder(tmp_path / "model")
    provider = ModelVersionProvider()
    engine.up("mv", provider, inputs(azureml, folder))
    version = engine.outputs("mv")["version"]
    azureml.fake._models[MODEL_NAME]["versions"].pop(version)
    assert engine.refresh("mv") == "deleted"
    assert engine.up("mv", provider, inputs(azureml, folder)) == "create"
    assert azureml.fake.model_version(MODEL_NAME, version) is not None


def test_a_version_with_other_content_is_never_overwritten(tmp_path, azureml, engine):
    folder = artifact_folder(tmp_path / "model")
    version = version_of(content_sha256(str(folder)))
    azureml.fake.add_model_version(MODEL_NAME, version, properties={"content_sha256": "0" * 64})
    with pytest.raises(VersionCollision, match="never overwritten"):
        engine.up("mv", ModelVersionProvider(), inputs(azureml, folder))
    assert azureml.fake.model_version(MODEL_NAME, version)["properties"]["properties"]["content_sha256"] == "0" * 64


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("path", "/does/not/exist", "artifact folder holding artifact.json"),
        # a datastore path is no candidate: what is released is a job's output or a registered version
        ("path", "azureml://datastores/workspaceblobstore/paths/model/", "azureml://jobs/<job>/outputs/<output>"),
        ("subscription_id", "not-a-guid", "subscription GUID"),
        ("model_name", "bad name!", "letters, digits"),
        ("tags", {"owner": 7}, "strings to strings"),
    ],
)
def test_check_names_the_field_the_value_and_what_is_accepted(tmp_path, azureml, engine, field, value, fragment):
    folder = artifact_folder(tmp_path / "model")
    with pytest.raises(CheckFailed) as failed:
        engine.up("mv", ModelVersionProvider(), {**inputs(azureml, folder), field: value})
    ((name, reason),) = failed.value.failures
    assert name == field and repr(value) in reason and fragment in reason
    assert re.search(r"accepted: ", reason)


@pytest.mark.parametrize(
    "stage, archived", [("production", False), ("staged", False), ("surpassed", True), ("unstaged", True), (None, True)]
)
def test_delete_archives_unless_the_version_is_in_use(tmp_path, azureml, engine, stage, archived):
    folder = artifact_folder(tmp_path / "model")
    engine.up("mv", ModelVersionProvider(), inputs(azureml, folder))
    version = engine.outputs("mv")["version"]
    if stage:
        azureml.fake.model_version(MODEL_NAME, version)["properties"]["tags"]["stage"] = stage
    engine.destroy("mv")
    assert azureml.archived(version) is archived
    assert azureml.fake.model_version(MODEL_NAME, version) is not None


def test_preview_with_a_path_not_known_yet_plans_a_replacement_without_calling_azure(tmp_path, azureml, engine):
    from pulumi.runtime.rpc import UNKNOWN

    folder = artifact_folder(tmp_path / "model")
    engine.up("mv", ModelVersionProvider(), inputs(azureml, folder))
    calls = len(azureml.fake.calls)
    assert engine.preview("mv", ModelVersionProvider(), inputs(azureml, UNKNOWN)) == "replace"
    assert engine.preview("mv", ModelVersionProvider(), inputs(azureml, folder, commit=UNKNOWN)) == "update"
    assert len(azureml.fake.calls) == calls
