"""`pulumi import` and `pulumi refresh` of the release resources: `read` with the documented id and no state."""
from __future__ import annotations

import pytest

from infra.release import ChampionSelectionProvider, ModelVersionProvider
from infra.release.fields import InvalidInputs
from tests.release.conftest import MODEL_NAME


def test_a_model_version_is_imported_by_its_arm_id(azureml, engine, models):
    engine.up("mv", ModelVersionProvider(), {**azureml.coordinates, "model_name": MODEL_NAME, "path": str(models.good)})
    registered = engine.outputs("mv")
    imported = ModelVersionProvider().read(registered["model_id"], {})
    assert imported.id == registered["model_id"]
    for key in ("subscription_id", "resource_group", "workspace_name", "model_name", "version", "path",
                "content_sha256"):
        assert imported.outs[key] == registered[key], key


def test_a_model_version_import_id_that_is_no_arm_id_is_refused_by_name():
    with pytest.raises(InvalidInputs, match=r"id is 'hate-speech-pt:1'; accepted: the model version's ARM id"):
        ModelVersionProvider().read("hate-speech-pt:1", {})


def test_a_decision_cannot_be_imported_and_says_why():
    with pytest.raises(InvalidInputs, match="Azure holds none to import"):
        ChampionSelectionProvider().read("hate-speech-pt:0123456789ab", {})
