"""Scoring smoke test of one deployment, through the endpoint (serving/score.py's contract).

Request  {"texts": [...]}
Response {"predictions": [{"label": "hate"|"no-hate", "hate_probability": p}, ...], "model": {...}}
"""

from __future__ import annotations

LABELS = ("hate", "no-hate")
DEFAULT_TEXTS = ("bom dia a todos, hoje está sol em lisboa", "o jogo de ontem foi muito bom")


class SmokeTestFailed(RuntimeError):
    """A deployment did not answer a scoring request the way serving/score.py answers it."""


def default_payload() -> dict:
    return {"texts": list(DEFAULT_TEXTS)}


def _problem(payload: dict, response) -> str | None:
    if not isinstance(response, dict) or not isinstance(response.get("predictions"), list):
        return f"the answer is not an object with a 'predictions' list: {str(response)[:200]!r}"
    predictions = response["predictions"]
    if len(predictions) != len(payload.get("texts", ())):
        return f"{len(predictions)} predictions for {len(payload.get('texts', ()))} texts"
    for index, prediction in enumerate(predictions):
        if not isinstance(prediction, dict) or prediction.get("label") not in LABELS:
            return f"prediction {index} has no label among {list(LABELS)}: {prediction!r}"
        probability = prediction.get("hate_probability")
        if isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
            return f"prediction {index} has hate_probability {probability!r}; expected a number in [0, 1]"
    return None


def smoke_test(gateway, endpoint_name: str, deployment: str, payload: dict) -> dict:
    """Score `payload` on `deployment`; returns a short record, raises SmokeTestFailed on a wrong answer."""
    try:
        response = gateway.invoke(endpoint_name, deployment, payload)
    except Exception as error:  # any failure to score is a failed smoke test, with its cause
        raise SmokeTestFailed(
            f"smoke test of deployment {deployment!r} on endpoint {endpoint_name!r} failed: {error}"
        ) from error
    problem = _problem(payload, response)
    if problem:
        raise SmokeTestFailed(f"smoke test of deployment {deployment!r} on endpoint {endpoint_name!r}: {problem}")
    return {"deployment": deployment, "predictions": len(response["predictions"])}
