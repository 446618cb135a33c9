"""Azure ML scoring script: init() once per worker, run(raw_data) per request.

Served by the Azure ML inference server (azmlinfsrv), in a managed online deployment or locally:
    export AML_APP_ROOT=serving GUNICORN_CMD_ARGS="--config python:gunicorn_config"
    azmlinfsrv --entry_script serving/score.py --model_dir <root>/azureml-models/<name>/<version>
with the artifact folder in <version>/, as Azure ML mounts a registered folder (artifact_location.py; the
README's Serving section says why <version> should be a number). gunicorn_config.py: threaded workers with a
read deadline, and request_guard.py, which answers 405 to other methods than POST, 413 to a body over the
byte limit and 408 to a slow one before run() is called.
Request  {"texts": ["...", ...]}
Response {"predictions": [{"label": "hate"|"no-hate", "hate_probability": 0.93}, ...],
          "model": {"name": ..., "version": ..., "precision": "int8"|"fp32"}}
Bad requests get a 4xx JSON answer {"message": ..., "field": ...} (400 content, 413 body too large,
415 Content-Type not JSON); run() never raises on client input. Settings: scoring_settings.py.
The OpenAPI description is swagger.json / swagger3.json next to this file (the server reads them from
AML_APP_ROOT, which Azure ML sets to this folder).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from azureml_inference_server_http.api.aml_response import AMLResponse

# The modules next to this script import as top-level modules, as in the deployment's code folder.
_CODE_DIR = str(Path(__file__).resolve().parent)
if _CODE_DIR not in sys.path:
    sys.path.append(_CODE_DIR)

from artifact_location import find_artifact_dir, model_version  # noqa: E402
from classifier import HateSpeechClassifier, smoke_test_warning  # noqa: E402
from scoring_request import RequestError, check_content_type, parse_texts  # noqa: E402
from scoring_settings import ScoringSettings  # noqa: E402

MODEL_DIR_VARIABLE = "AZUREML_MODEL_DIR"
PROBABILITY_DECIMALS = 6

logger = logging.getLogger("azmlinfsrv.score")

_classifier: HateSpeechClassifier | None = None
_settings: ScoringSettings | None = None
_model_info: dict | None = None


def init() -> None:
    """Load the artifact under AZUREML_MODEL_DIR into an onnxruntime session; fail loudly if it cannot."""
    global _classifier, _settings, _model_info
    settings = ScoringSettings.from_env()
    model_root = os.environ.get(MODEL_DIR_VARIABLE, "").strip()
    if not model_root:
        raise RuntimeError(
            f"{MODEL_DIR_VARIABLE} is not set: it must point at the model folder "
            "(Azure ML sets it; locally pass azmlinfsrv --model_dir <artifact folder>)"
        )
    artifact_dir = find_artifact_dir(model_root)
    classifier = HateSpeechClassifier.load(
        artifact_dir,
        precision=settings.precision,
        intra_op_threads=settings.intra_op_threads,
        inter_op_threads=settings.inter_op_threads,
    )
    _model_info = {
        "name": classifier.artifact["name"],
        "version": model_version(model_root, classifier.artifact, settings.model_version),
        "precision": classifier.precision,
    }
    _classifier, _settings = classifier, settings
    warning = smoke_test_warning(classifier.artifact)
    if warning:
        logger.warning("%s: %s", artifact_dir, warning)
    logger.info(
        "scoring %s from %s with %s (threads intra=%d inter=%d, limits texts=%d chars=%d body=%d)",
        _model_info,
        artifact_dir,
        classifier.model_path.name,
        settings.intra_op_threads,
        settings.inter_op_threads,
        settings.max_texts,
        settings.max_text_chars,
        settings.max_body_chars,
    )


def run(raw_data: str, request_headers: dict | None = None):
    """Score one request body; a dict (200) or an AMLResponse with a 4xx/503 status and a JSON message."""
    if _classifier is None or _settings is None:
        return _error(503, "the model is not loaded: init() has not completed")
    try:
        check_content_type(_header(request_headers, "Content-Type"))
        texts = parse_texts(
            raw_data,
            max_texts=_settings.max_texts,
            max_text_chars=_settings.max_text_chars,
            max_body_chars=_settings.max_body_chars,
        )
    except RequestError as error:
        return _error(error.status, error.message, error.field)
    predictions = [
        {"label": p["label"], "hate_probability": round(p["hate_probability"], PROBABILITY_DECIMALS)}
        for p in _classifier.predict(texts)
    ]
    return {"predictions": predictions, "model": _model_info}


def _header(headers: dict | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def _error(status: int, message: str, field: str | None = None) -> AMLResponse:
    return AMLResponse({"message": message, "field": field}, status, json_str=True)
