"""ChampionSelection through the engine lifecycle, with the real model.compare on tiny models."""

from __future__ import annotations

import shutil

import pytest

from infra.release import ChampionSelectionProvider, ModelVersionProvider
from model.synthetic import write_synthetic_csv
from tests.release.conftest import ENDPOINT, MODEL_NAME, CheckFailed, make_champion


def register(engine, azureml, folder, key: str) -> str:
    engine.up(key, ModelVersionProvider(), {**azureml.coordinates, "model_name": MODEL_NAME, "path": str(folder)})
    return engine.outputs(key)["version"]


def selection_inputs(azureml, version: str, folder, data, **extra) -> dict:
    return {
        **azureml.coordinates,
        "endpoint_name": ENDPOINT,
        "model_name": MODEL_NAME,
        "challenger_version": version,
        "challenger_path": str(folder),
        "evaluation_data": str(data),
        **extra,
    }


def test_first_release_is_decided_on_the_floor_guardrail_alone(models, azureml, engine):
    good = register(engine, azureml, models.good, "mv")
    assert (
        engine.up(
            "pick", ChampionSelectionProvider(), selection_inputs(azureml, good, models.good, models.evaluation_data)
        )
        == "create"
    )
    out = engine.outputs("pick")
    assert out["winner"] == "challenger" and out["winner_version"] == good and out.get("champion_version") is None
    assert out.get("p_value") is None and "no champion" in out["reason"]
    assert out["decision"]["guardrails"]["primary_metric_floor"]["passed"] is True
    assert out["decision"]["challenger"]["n"] == 200
    assert out["evaluation_data_sha256"] == out["decision"]["data_sha256"]


def test_challenger_beats_a_worse_production_model_with_evidence(models, azureml, engine):
    production = register(engine, azureml, models.always_hate, "mv-prod")
    challenger = register(engine, azureml, models.good, "mv")
    make_champion(azureml.fake, production)
    engine.up(
        "pick", ChampionSelectionProvider(), selection_inputs(azureml, challenger, models.good, models.evaluation_data)
    )
    out = engine.outputs("pick")
    assert out["champion_version"] == production and out["winner"] == "challenger"
    assert out["winner_version"] == challenger
    assert out["p_value"] < 0.05 and out["decision"]["mcnemar"]["c"] > out["decision"]["mcnemar"]["b"]
    assert out["decision"]["champion"]["macro_f1"] < out["decision"]["challenger"]["macro_f1"]
    assert set(out["decision"]["guardrails"]) >= {"primary_metric_floor", "latency"}


def test_a_worse_challenger_loses_and_production_stays_the_winner(models, azureml, engine):
    production = register(engine, azureml, models.good, "mv-prod")
    challenger = register(engine, azureml, models.never_hate, "mv")
    make_champion(azureml.fake, production)
    engine.up(
        "pick",
        ChampionSelectionProvider(),
        selection_inputs(azureml, challenger, models.never_hate, models.evaluation_data),
    )
    out = engine.outputs("pick")
    assert out["winner"] == "champion" and out["winner_version"] == production
    assert out["reason"] == out["decision"]["reason"] and out["reason"].startswith("challenger is")


def test_production_artifacts_come_from_the_registry_when_the_source_folder_is_gone(models, azureml, engine, tmp_path):
    moved = shutil.copytree(models.always_hate, tmp_path / "trained-elsewhere")
    production = register(engine, azureml, moved, "mv-prod")
    shutil.rmtree(moved)
    challenger = register(engine, azureml, models.good, "mv")
    make_champion(azureml.fake, production)
    cache = tmp_path / "cache"
    engine.up(
        "pick",
        ChampionSelectionProvider(),
        selection_inputs(azureml, challenger, models.good, models.evaluation_data, cache_dir=str(cache)),
    )
    out = engine.outputs("pick")
    assert out["decision"]["champion_dir"] == str(cache / MODEL_NAME / production)
    assert [kind for kind, _ in azureml.fake.blob_calls].count("download") == 1
    assert out["winner"] == "challenger"


def test_decision_is_kept_until_its_inputs_change(models, azureml, engine, tmp_path):
    good = register(engine, azureml, models.good, "mv")
    data = write_synthetic_csv(tmp_path / "evaluation.csv", n_rows=120, seed=5)
    provider = ChampionSelectionProvider()
    engine.up("pick", provider, selection_inputs(azureml, good, models.good, data))
    decided = engine.outputs("pick")["decided_utc"]
    writes, scored = azureml.write_count(), engine.outputs("pick")["decision"]["n"]
    assert engine.up("pick", provider, selection_inputs(azureml, good, models.good, data)) == "same"
    assert engine.refresh("pick") == "same" and azureml.write_count() == writes

    copy = shutil.copytree(models.good, tmp_path / "same-model-elsewhere")
    assert engine.up("pick", provider, selection_inputs(azureml, good, copy, data)) == "update"
    assert engine.outputs("pick")["decided_utc"] == decided, "a moved folder with the same version is not re-decided"

    write_synthetic_csv(data, n_rows=150, seed=6)
    assert engine.preview("pick", provider, selection_inputs(azureml, good, copy, data)) == "update"
    engine.up("pick", provider, selection_inputs(azureml, good, copy, data))
    assert engine.outputs("pick")["decision"]["n"] == 150 != scored
    engine.destroy("pick")
    assert azureml.write_count() == writes


def test_a_challenger_already_in_production_is_not_compared_again(models, azureml, engine):
    good = register(engine, azureml, models.good, "mv")
    make_champion(azureml.fake, good)
    engine.up("pick", ChampionSelectionProvider(), selection_inputs(azureml, good, models.good, models.evaluation_data))
    out = engine.outputs("pick")
    assert out["winner"] == "challenger" and out["winner_version"] == good == out["champion_version"]
    assert out["decision"]["compared"] is False and "already the production model" in out["reason"]


def test_the_champion_is_the_version_tagged_production_not_the_slot_with_the_traffic(models, azureml, engine):
    good = register(engine, azureml, models.good, "mv")
    other = register(engine, azureml, models.always_hate, "mv-other")
    make_champion(azureml.fake, good, slot="blue")
    # by hand: all traffic on a slot serving another version, which the registry does not tag production
    azureml.fake.add_deployment(ENDPOINT, "green", model_id=azureml.fake.model_version_id(MODEL_NAME, other))
    azureml.fake.set_traffic(ENDPOINT, {"green": 100})
    engine.up("pick", ChampionSelectionProvider(), selection_inputs(azureml, good, models.good, models.evaluation_data))
    out = engine.outputs("pick")
    assert out["champion_version"] == good and out["decision"]["compared"] is False
    assert "already the production model" in out["reason"]


def test_two_versions_tagged_production_are_refused_by_name(models, azureml, engine):
    good = register(engine, azureml, models.good, "mv")
    other = register(engine, azureml, models.always_hate, "mv-other")
    make_champion(azureml.fake, good)
    azureml.fake.model_version(MODEL_NAME, other)["properties"]["tags"]["stage"] = "production"
    with pytest.raises(LookupError, match="exactly one may be"):
        engine.up(
            "pick", ChampionSelectionProvider(), selection_inputs(azureml, good, models.good, models.evaluation_data)
        )
    assert "pick" not in engine.state


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("compare_settings", {"alpha": 0.05, "bogus": 1}, "keys among"),
        (
            "compare_settings",
            {"alpha": 2.0},
            "compare setting alpha is 2; accepted: a significance level strictly between 0 and 1",
        ),
        ("evaluation_data", "/no/such/file.csv", "an existing labelled evaluation CSV file"),
        ("challenger_path", "/no/such/folder", "an existing local artifact folder"),
    ],
)
def test_check_names_the_field_the_value_and_what_is_accepted(models, azureml, engine, field, value, fragment):
    inputs = {**selection_inputs(azureml, "0123456789ab", models.good, models.evaluation_data), field: value}
    with pytest.raises(CheckFailed) as failed:
        engine.up("pick", ChampionSelectionProvider(), inputs)
    ((name, reason),) = failed.value.failures
    assert name == field and fragment in reason


def test_preview_with_a_challenger_not_known_yet_plans_a_new_decision(models, azureml, engine):
    from pulumi.runtime.rpc import UNKNOWN

    good = register(engine, azureml, models.good, "mv")
    engine.up("pick", ChampionSelectionProvider(), selection_inputs(azureml, good, models.good, models.evaluation_data))
    calls = len(azureml.fake.calls)
    preview = selection_inputs(azureml, UNKNOWN, UNKNOWN, models.evaluation_data)
    assert engine.preview("pick", ChampionSelectionProvider(), preview) == "update"
    assert len(azureml.fake.calls) == calls
