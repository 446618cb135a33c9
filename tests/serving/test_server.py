"""The real Azure ML inference server (azmlinfsrv from venv-serving) serving serving/score.py over HTTP."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from model.synthetic import synthetic_rows
from scripts import openapi_document
from scripts.local_server import LocalInferenceServer
from serving.scoring_request import body_byte_limit
from tests.serving.cases import BAD_REQUESTS, LIMITS, NON_JSON_CONTENT_TYPES
from tests.serving.conftest import SERVER_MODEL_VERSION, SERVER_WORKERS, copy_model

pytestmark = pytest.mark.slow

HUGE_BODY_BYTES = 8_000_000
ERROR_LINE = re.compile(r"^\S+ \S+ [EC] \[\d+\] ", re.MULTILINE)  # azmlinfsrv: time, level (E, C), [pid]
MODEL_ID_ERROR = "Error while fetching model IDs"


def test_liveness_route_answers_healthy(server):
    reply = server.request("GET", "/")
    assert reply.status == 200 and reply.body == b"Healthy"


def test_scores_texts_over_http(server):
    rows = synthetic_rows(n_rows=30, seed=999)
    reply = server.score(json.dumps({"texts": [row["text"] for row in rows]}))
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    body = reply.json()
    assert body["model"] == {"name": "hate-speech-pt", "version": SERVER_MODEL_VERSION, "precision": "int8"}
    labels = [p["label"] for p in body["predictions"]]
    expected = ["hate" if row["hate"] else "no-hate" for row in rows]
    assert sum(a == b for a, b in zip(labels, expected, strict=False)) >= 27
    assert all(0.0 <= p["hate_probability"] <= 1.0 for p in body["predictions"])


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=lambda case: case.name)
def test_bad_request_gets_a_4xx_over_http(server, case):
    reply = server.score(case.body)
    assert reply.status == case.status
    body = reply.json()
    assert case.message_part in body["message"] and body["field"] == case.field


def test_huge_body_is_refused_and_the_server_keeps_serving(server):
    """http.client sends the whole body before it reads the answer: it still gets the 413."""
    huge = json.dumps({"texts": ["a" * 1000] * (HUGE_BODY_BYTES // 1000)}).encode()
    reply = server.score(huge)
    assert reply.status == 413
    assert (
        f"is {len(huge)} bytes; accepted: at most {body_byte_limit(LIMITS.max_body_chars)} bytes "
        f"({LIMITS.max_body_chars} characters)"
    ) in reply.json()["message"]
    assert server.score('{"texts": ["bom dia"]}').status == 200


def test_body_that_is_not_utf8_gets_400(server):
    reply = server.score(b'{"texts": ["\xff\xfe"]}')
    assert reply.status == 400 and "UTF-8" in reply.json()["message"]


@pytest.mark.parametrize("content_type", NON_JSON_CONTENT_TYPES)
def test_non_json_content_type_gets_415_over_http(server, content_type):
    reply = server.score('{"texts": ["bom dia"]}', content_type=content_type)
    assert reply.status == 415 and "application/json" in reply.json()["message"]


def test_request_without_content_type_is_scored(server):
    assert server.score('{"texts": ["bom dia"]}', content_type=None).status == 200


def test_server_is_alive_and_scoring_after_all_bad_requests(server):
    for case in BAD_REQUESTS:
        server.score(case.body)
    assert server.request("GET", "/").status == 200
    assert server.score('{"texts": ["bom dia"]}').status == 200


@pytest.mark.parametrize("version", sorted(openapi_document.FILES))
def test_openapi_route_serves_the_project_schema(server, version):
    reply = server.request("GET", f"/swagger.json?version={version}")
    assert reply.status == 200
    assert reply.json() == openapi_document.build(version)


def test_default_openapi_route_is_swagger_2(server):
    document = server.request("GET", "/swagger.json").json()
    assert document["swagger"] == "2.0"
    assert document["definitions"]["ScoreRequest"]["properties"]["texts"]["maxItems"] == LIMITS.max_texts


def test_server_refuses_to_start_without_an_artifact(tmp_path):
    (tmp_path / "empty").mkdir()
    failing = LocalInferenceServer(tmp_path / "empty", tmp_path / "server.log")
    assert failing.wait_exit() != 0
    assert "no artifact.json" in failing.log()


def test_server_refuses_to_start_with_a_bad_server_setting(tiny_model_dir, tmp_path):
    """gunicorn_config.py reads the settings when gunicorn starts: a bad value stops it with one line."""
    failing = LocalInferenceServer(tiny_model_dir, tmp_path / "server.log", env={"SCORING_THREADS_PER_WORKER": "0"})
    assert failing.wait_exit() != 0
    log = failing.log()
    assert "SCORING_THREADS_PER_WORKER is 0; accepted: an integer from 1 to 64" in log
    assert "Traceback" not in log


def test_concurrent_requests_get_the_answers_of_sequential_ones(server):
    """Each worker scores several requests at once on threads sharing one tokenizer and onnxruntime session."""
    texts = [row["text"] for row in synthetic_rows(n_rows=24, seed=77)]
    bodies = [json.dumps({"texts": texts[i : i + 3]}) for i in range(0, len(texts), 3)] * 4
    sequential = {body: server.score(body).json() for body in set(bodies)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(server.score, bodies))
    assert [reply.status for reply in concurrent] == [200] * len(bodies)
    assert [reply.json() for reply in concurrent] == [sequential[body] for body in bodies]


def test_server_serves_an_azure_ml_mount_layout(tiny_model_dir, tmp_path):
    version_dir = tmp_path / "azureml-models" / "hate-speech-pt" / "12"
    copy_model(tiny_model_dir, version_dir / "artifact")
    running = LocalInferenceServer(version_dir, tmp_path / "server.log", env={"SCORING_PRECISION": "fp32"})
    try:
        running.wait_ready()
        reply = running.score('{"texts": ["bom dia"]}')
        assert reply.status == 200
        assert reply.json()["model"] == {"name": "hate-speech-pt", "version": "12", "precision": "fp32"}
    finally:
        running.stop()


def test_server_starts_without_an_error_in_the_azure_ml_mount_and_scores(server, tiny_model_dir):
    """Azure ML sets AZUREML_MODEL_DIR to <root>/azureml-models/<name>/<version> with a model registered from a
    folder in <that>/<folder name>/ (serving/artifact_location.py). azmlinfsrv 1.5.1 reads a version folder named
    by a number as the model id <name>:<version> and walks nothing (server/appinsights_client.py,
    AppInsightsClient._get_model_ids), so no worker logs an error or a traceback before it is ready."""
    startup = server.startup_log(SERVER_WORKERS)
    assert f"Model Directory: {server.model_dir}" in startup
    assert server.model_dir.parts[-3:] == ("azureml-models", "hate-speech-pt", SERVER_MODEL_VERSION)
    assert (server.model_dir / tiny_model_dir.name).resolve() == tiny_model_dir.resolve()
    assert ERROR_LINE.findall(startup) == [] and "Traceback" not in startup and MODEL_ID_ERROR not in startup
    reply = server.score('{"texts": ["bom dia", "vamos ao jogo"]}')
    assert reply.status == 200 and len(reply.json()["predictions"]) == 2
    assert reply.json()["model"]["version"] == SERVER_MODEL_VERSION


def test_each_worker_logs_that_a_tiny_preset_model_is_for_smoke_tests_only(server):
    """score.py's logger is under azmlinfsrv's, whose handler writes `time level [pid] name - message`."""
    startup = server.startup_log(SERVER_WORKERS)
    warnings = re.findall(
        r"^\S+ \S+ W \[(\d+)\] azmlinfsrv\.score - .*: trained with the tiny preset: smoke tests only$",
        startup,
        re.MULTILINE,
    )
    assert len(set(warnings)) == len(warnings) == SERVER_WORKERS, startup[-3000:]


def test_a_version_that_is_not_a_number_gets_an_error_at_start_yet_serves(tiny_model_dir, tmp_path):
    """Why a deployment of this project's content versions (12 hex digits, infra/release/content.py) still logs
    an ERROR: azmlinfsrv 1.5.1 takes a version folder whose name is not all digits for a folder of
    <name>/<number>/ folders and fails on int() of the artifact's file names (AppInsightsClient._get_model_ids).
    It loses only the model id of its Application Insights records; the model loads and scores."""
    running = LocalInferenceServer(tiny_model_dir, tmp_path / "server.log", version="7c8e0a1b2c3d")
    try:
        startup = running.startup_log(1)
        assert MODEL_ID_ERROR in startup and "ValueError: invalid literal for int() with base 10" in startup
        assert len(ERROR_LINE.findall(startup)) == 1
        reply = running.score('{"texts": ["bom dia"]}')
        assert reply.status == 200 and reply.json()["model"]["version"] == "7c8e0a1b2c3d"
    finally:
        running.stop()
