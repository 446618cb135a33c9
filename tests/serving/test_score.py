"""serving/score.py: init() and run() called directly, in venv-serving where the script runs for real."""

from __future__ import annotations

import json
import random

import pytest

from model.synthetic import synthetic_rows
from serving.classifier import HateSpeechClassifier
from tests.serving.cases import BAD_REQUESTS, JSON_CONTENT_TYPES, LIMITS, NON_JSON_CONTENT_TYPES
from tests.serving.conftest import copy_model, default_scoring_env

pytestmark = pytest.mark.slow  # uses the trained tiny model


def held_out_rows(n_rows=60):
    return synthetic_rows(n_rows=n_rows, seed=12345)  # the model trained on seed 0


def error_of(answer: dict) -> tuple[int, dict]:
    assert answer["kind"] == "response", f"expected an error response, got {answer}"
    assert answer["content_type"] == "application/json"
    return answer["status"], json.loads(answer["body"])


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=lambda case: case.name)
def test_bad_request_gets_a_4xx_naming_the_problem(scorer, case):
    status, body = error_of(scorer.run(case.body))
    assert status == case.status
    assert case.message_part in body["message"]
    assert "accepted" in body["message"]
    assert body["field"] == case.field


def test_scoring_still_works_after_every_bad_request(scorer):
    for case in BAD_REQUESTS:
        scorer.run(case.body)
    answer = scorer.run(json.dumps({"texts": ["bom dia a todos"]}))
    assert answer["kind"] == "value" and len(answer["value"]["predictions"]) == 1


def test_predictions_are_right_on_held_out_synthetic_texts(scorer, tiny_model_dir):
    rows = held_out_rows()
    texts = [row["text"] for row in rows]
    predictions = []
    for start in range(0, len(texts), LIMITS.max_texts):
        answer = scorer.run(json.dumps({"texts": texts[start : start + LIMITS.max_texts]}))
        assert answer["kind"] == "value"
        predictions += answer["value"]["predictions"]
    assert len(predictions) == len(rows)
    expected = ["hate" if row["hate"] else "no-hate" for row in rows]
    accuracy = sum(p["label"] == e for p, e in zip(predictions, expected, strict=False)) / len(rows)
    assert accuracy >= 0.9, f"accuracy {accuracy:.2f} on separable synthetic data"
    assert {"hate", "no-hate"} == {p["label"] for p in predictions}


def test_response_matches_the_classifier_and_its_threshold(scorer, tiny_model_dir):
    texts = [row["text"] for row in held_out_rows(20)] + ["bom dia", "x" * LIMITS.max_text_chars]
    answer = scorer.run(json.dumps({"texts": texts}), headers={"Content-Type": "application/json"})
    assert answer["kind"] == "value"
    response = json.loads(answer["json"])
    assert set(response) == {"predictions", "model"}
    classifier = HateSpeechClassifier.load(tiny_model_dir, precision="int8", intra_op_threads=1)
    expected = classifier.predict_proba(texts)
    for prediction, probability in zip(response["predictions"], expected, strict=True):
        assert set(prediction) == {"label", "hate_probability"}
        assert prediction["hate_probability"] == pytest.approx(probability, abs=1e-6)
        assert prediction["label"] == ("hate" if probability >= classifier.threshold else "no-hate")
    assert response["model"] == {"name": "hate-speech-pt", "version": "unregistered", "precision": "int8"}


def test_limits_are_inclusive(scorer):
    at_limit = json.dumps({"texts": ["a" * LIMITS.max_text_chars] * LIMITS.max_texts})
    answer = scorer.run(at_limit)
    assert answer["kind"] == "value" and len(answer["value"]["predictions"]) == LIMITS.max_texts


@pytest.mark.parametrize("content_type", NON_JSON_CONTENT_TYPES)
def test_non_json_content_type_gets_415(scorer, content_type):
    status, body = error_of(scorer.run('{"texts": ["bom dia"]}', headers={"Content-Type": content_type}))
    assert status == 415
    assert "Content-Type" in body["message"] and "application/json" in body["message"]


@pytest.mark.parametrize("content_type", JSON_CONTENT_TYPES + [""])
def test_json_or_missing_content_type_is_scored(scorer, content_type):
    headers = {"content-type": content_type} if content_type else {}
    assert scorer.run('{"texts": ["bom dia"]}', headers=headers)["kind"] == "value"


def _random_json(rng: random.Random, depth: int = 0):
    choices = [None, True, 3, -1.5, "", " ", "bom dia", "\u00e7\u00e3o \U0001f600", "a" * rng.randint(1, 3000)]
    if depth < 3:
        choices += [
            [_random_json(rng, depth + 1) for _ in range(rng.choice((0, 1, 2, 3, 5, LIMITS.max_texts + 1)))],
            {rng.choice(["texts", "text", "x", ""]): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 2))},
        ]
    return rng.choice(choices)


def test_no_generated_input_makes_run_raise_or_answer_5xx(scorer):
    rng = random.Random(4)
    text_pool = ["bom dia", "\u00e7\u00e3o \U0001f600", " ", "", "a" * (LIMITS.max_text_chars + 1), "ol\u00e1 " * 50]
    bodies = []
    for _ in range(200):
        shape = rng.randrange(3)
        if shape == 0:
            value = _random_json(rng)
        elif shape == 1:
            value = {"texts": _random_json(rng)}
        else:
            value = {"texts": [rng.choice(text_pool) for _ in range(rng.randint(1, 4))]}
        text = json.dumps(value)
        if rng.random() < 0.2:  # damage it
            cut = rng.randrange(len(text) + 1)
            text = text[:cut] + rng.choice(["", "}", "\\", '"', "\x00", "\ud83d"]) + text[cut + 1 :]
        bodies.append(text)
    statuses = set()
    for body in bodies:
        answer = scorer.run(body)  # asserts that run() did not raise
        if answer["kind"] == "value":
            statuses.add(200)
            continue
        status, message = error_of(answer)
        assert 400 <= status < 500 and message["message"], (body[:200], message)
        statuses.add(status)
    assert {200, 400} <= statuses  # the generator reached both sides


def test_run_before_init_answers_503(spare_worker):
    assert spare_worker.load()["ok"]
    status, body = error_of(spare_worker.run('{"texts": ["bom dia"]}'))
    assert status == 503 and "init()" in body["message"]


def _init_error(worker, env) -> str:
    assert worker.load()["ok"]
    answer = worker.init(env)
    assert not answer["ok"], "init() should have failed"
    return answer["error"]


def test_init_without_model_dir_fails_clearly(spare_worker, tiny_model_dir):
    error = _init_error(spare_worker, {**default_scoring_env(tiny_model_dir), "AZUREML_MODEL_DIR": None})
    assert "AZUREML_MODEL_DIR is not set" in error


def test_init_without_artifact_fails_clearly(spare_worker, tiny_model_dir, tmp_path):
    (tmp_path / "something-else").mkdir()
    error = _init_error(spare_worker, {**default_scoring_env(tiny_model_dir), "AZUREML_MODEL_DIR": str(tmp_path)})
    assert "no artifact.json" in error and "something-else" in error


def test_init_with_two_artifacts_refuses_to_guess(spare_worker, tiny_model_dir, tmp_path):
    copy_model(tiny_model_dir, tmp_path / "a")
    copy_model(tiny_model_dir, tmp_path / "b")
    error = _init_error(spare_worker, {**default_scoring_env(tiny_model_dir), "AZUREML_MODEL_DIR": str(tmp_path)})
    assert "2 folders" in error and "'a'" in error and "'b'" in error


def test_init_with_missing_onnx_file_names_it(spare_worker, tiny_model_dir, tmp_path):
    model = copy_model(tiny_model_dir, tmp_path / "model", drop=("model.int8.onnx",))
    error = _init_error(spare_worker, {**default_scoring_env(model)})
    assert "model.int8.onnx not found" in error


@pytest.mark.parametrize(
    "name, value", [("SCORING_PRECISION", "fp16"), ("SCORING_MAX_TEXTS", "many"), ("SCORING_INTRA_OP_THREADS", "0")]
)
def test_init_with_a_bad_setting_names_the_variable(spare_worker, tiny_model_dir, name, value):
    error = _init_error(spare_worker, {**default_scoring_env(tiny_model_dir), name: value})
    assert name in error and value in error
    assert "accepted" in error


def test_azure_ml_mount_layout_is_found_and_gives_the_version(spare_worker, tiny_model_dir, tmp_path):
    version_dir = tmp_path / "azureml-models" / "hate-speech-pt" / "3"
    copy_model(tiny_model_dir, version_dir / "artifact")
    spare_worker.start({**default_scoring_env(tiny_model_dir), "AZUREML_MODEL_DIR": str(version_dir)})
    answer = spare_worker.run('{"texts": ["bom dia"]}')
    assert answer["value"]["model"]["version"] == "3"


def test_a_model_of_the_tiny_preset_is_served_with_a_warning_and_another_without(
    spare_worker, tiny_model_dir, tmp_path
):
    """The preset is artifact.json's settings.preset (what model/train.py records); the warning is logged by
    init() through score.py's logger, which azmlinfsrv sends to the deployment's log."""
    warning = "trained with the tiny preset: smoke tests only"
    start = len(spare_worker.log())
    spare_worker.start(default_scoring_env(tiny_model_dir))
    logged = spare_worker.log()[start:]
    assert f"{tiny_model_dir}: {warning}" in logged and logged.count(warning) == 1
    settings = json.loads((tiny_model_dir / "artifact.json").read_text())["settings"]
    assert settings["preset"] == "tiny"
    other = copy_model(
        tiny_model_dir, tmp_path / "model", artifact_changes={"settings": {**settings, "preset": "default"}}
    )
    start = len(spare_worker.log())
    spare_worker.start(default_scoring_env(other))
    assert warning not in spare_worker.log()[start:]
    assert spare_worker.run('{"texts": ["bom dia"]}')["kind"] == "value"


def test_fp32_and_settings_are_applied(spare_worker, tiny_model_dir):
    spare_worker.start(
        {
            **default_scoring_env(tiny_model_dir),
            "SCORING_PRECISION": "fp32",
            "SCORING_MAX_TEXTS": "2",
            "SCORING_MODEL_VERSION": "2026-11-23.1",
            "SCORING_INTRA_OP_THREADS": "2",
        }
    )
    answer = spare_worker.run('{"texts": ["bom dia", "vamos ao jogo"]}')
    assert answer["value"]["model"] == {"name": "hate-speech-pt", "version": "2026-11-23.1", "precision": "fp32"}
    fp32 = HateSpeechClassifier.load(tiny_model_dir, precision="fp32").predict_proba(["bom dia", "vamos ao jogo"])
    assert [p["hate_probability"] for p in answer["value"]["predictions"]] == pytest.approx(fp32, abs=1e-6)
    status, body = error_of(spare_worker.run('{"texts": ["a", "b", "c"]}'))
    assert status == 400 and "at most 2" in body["message"]
