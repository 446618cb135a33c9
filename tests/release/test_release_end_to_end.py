"""Three releases through all three providers, outputs feeding inputs as in ModelRelease, with the
real model.compare deciding each time."""

from __future__ import annotations

from infra.release import ChampionSelectionProvider, EndpointTrafficProvider, ModelVersionProvider
from tests.release.conftest import ENDPOINT, MODEL_NAME, serving_spec


def release(engine, azureml, candidate, evaluation_data) -> dict:
    """One `pulumi up` of a stack holding a ModelRelease; returns {resource: step taken}."""
    workspace = azureml.coordinates
    steps = {
        "version": engine.up(
            "version", ModelVersionProvider(), {**workspace, "model_name": MODEL_NAME, "path": str(candidate)}
        )
    }
    version = engine.outputs("version")
    steps["selection"] = engine.up(
        "selection",
        ChampionSelectionProvider(),
        {
            **workspace,
            "endpoint_name": ENDPOINT,
            "model_name": MODEL_NAME,
            "challenger_version": version["version"],
            "challenger_path": version["path"],
            "evaluation_data": str(evaluation_data),
        },
    )
    selection = engine.outputs("selection")
    steps["traffic"] = engine.up(
        "traffic",
        EndpointTrafficProvider(),
        {
            **workspace,
            "endpoint_name": ENDPOINT,
            "model_name": MODEL_NAME,
            "challenger_version": version["version"],
            "winner": selection["winner"],
            "champion_version": selection.get("champion_version"),
            "serving": serving_spec(azureml.fake),
            "rollout": [{"canary": 20}],
        },
    )
    return steps


def test_three_releases_decided_by_the_comparison(models, azureml, engine):
    # 1. a model that never calls hate: no champion yet, but it fails the macro-F1 floor -> nothing goes live
    assert release(engine, azureml, models.never_hate, models.evaluation_data) == {
        "version": "create",
        "selection": "create",
        "traffic": "create",
    }
    never = engine.outputs("version")["version"]
    assert engine.outputs("selection")["winner"] == "champion"
    assert not engine.outputs("selection")["decision"]["guardrails"]["primary_metric_floor"]["passed"]
    assert azureml.traffic() == {} and azureml.stage(never) is None
    assert azureml.fake.deployment(ENDPOINT, "blue") is None, "a losing first candidate is not deployed"

    # 2. the trained model: wins without a champion and takes all traffic
    assert release(engine, azureml, models.good, models.evaluation_data) == {
        "version": "replace",
        "selection": "update",
        "traffic": "update",
    }
    good = engine.outputs("version")["version"]
    assert azureml.serving() == {good: 100} and azureml.stage(good) == "production"
    assert azureml.archived(never), "the replaced candidate that never won is archived"

    # 3. a model that calls everything hate: loses against production, traffic stays where it was
    writes_before = azureml.write_count()
    assert release(engine, azureml, models.always_hate, models.evaluation_data) == {
        "version": "replace",
        "selection": "update",
        "traffic": "update",
    }
    loser = engine.outputs("version")["version"]
    decision = engine.outputs("selection")
    assert decision["champion_version"] == good and decision["winner"] == "champion"
    assert decision["decision"]["champion"]["macro_f1"] > decision["decision"]["challenger"]["macro_f1"]
    assert azureml.serving() == {good: 100} and azureml.stage(good) == "production"
    assert azureml.stage(loser) is None
    assert not azureml.archived(good), "the version in production stays visible when its resource goes"
    endpoint_writes = [w for w in azureml.fake.writes()[writes_before:] if "/onlineEndpoints/" in w[1]]
    assert endpoint_writes == [], "a losing challenger changes nothing on the endpoint"

    # nothing changed: every resource is the same and nothing is written
    writes = azureml.write_count()
    assert release(engine, azureml, models.always_hate, models.evaluation_data) == {
        "version": "same",
        "selection": "same",
        "traffic": "same",
    }
    assert azureml.write_count() == writes
