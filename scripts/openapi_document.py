"""Builds the OpenAPI description of the scoring API and writes the files the inference server serves
(serving/swagger*.json, shipped with the scoring code; this generator is development tooling and is not).

azmlinfsrv 1.5.1 answers GET /swagger.json?version=2|3|3.1 from swagger.json, swagger3.json and
swagger3.1.json in its app root (AML_APP_ROOT, the folder of score.py in an Azure ML deployment);
for an undecorated run() it would otherwise serve a template with empty schemas.
Regenerate after changing the schema or the default limits:  python -m scripts.openapi_document
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from serving.scoring_settings import ScoringSettings

SERVING_DIR = Path(__file__).resolve().parents[1] / "serving"
FILES = {"2": "swagger.json", "3": "swagger3.json", "3.1": "swagger3.1.json"}
TITLE = "Portuguese hate-speech classifier"
API_VERSION = "1.0"


def _nullable_string(version: str, description: str) -> dict:
    """A string or null: Swagger 2.0 has no null type (x-nullable is the common extension), OpenAPI 3.0 has
    `nullable`, OpenAPI 3.1 is JSON Schema (a type list)."""
    if version == "2":
        return {"type": "string", "x-nullable": True, "description": description}
    if version == "3":
        return {"type": "string", "nullable": True, "description": description}
    return {"type": ["string", "null"], "description": description}


def _schemas(limits: ScoringSettings, version: str) -> dict:
    return {
        "ScoreRequest": {
            "type": "object",
            "required": ["texts"],
            "additionalProperties": False,
            "properties": {
                "texts": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": limits.max_texts,
                    "description": f"Texts to classify (default limit {limits.max_texts}, setting SCORING_MAX_TEXTS). "
                    "Texts longer than the model's max_length tokens are read up to max_length tokens.",
                    "items": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": limits.max_text_chars,
                        "description": "At least one visible character; at most "
                        f"{limits.max_text_chars} characters (setting SCORING_MAX_TEXT_CHARS), "
                        "longer texts are rejected with 400.",
                    },
                }
            },
            "example": {"texts": ["Bom dia a todos!", "Que jogo incrível ontem"]},
        },
        "Prediction": {
            "type": "object",
            "required": ["label", "hate_probability"],
            "properties": {
                "label": {
                    "type": "string",
                    "enum": ["hate", "no-hate"],
                    "description": "hate when hate_probability >= the model's threshold (artifact.json)",
                },
                "hate_probability": {"type": "number", "format": "double", "minimum": 0, "maximum": 1},
            },
        },
        "ModelInfo": {
            "type": "object",
            "required": ["name", "version", "precision"],
            "properties": {
                "name": {"type": "string"},
                "version": {
                    "type": "string",
                    "description": "SCORING_MODEL_VERSION, else artifact.json version, "
                    "else the Azure ML model version folder",
                },
                "precision": {"type": "string", "enum": ["int8", "fp32"]},
            },
        },
        "ScoreResponse": {
            "type": "object",
            "required": ["predictions", "model"],
            "properties": {
                "predictions": {
                    "type": "array",
                    "items": {"$ref": "Prediction"},
                    "description": "One prediction per text, in request order.",
                },
                "model": {"$ref": "ModelInfo"},
            },
            "example": {
                "predictions": [
                    {"label": "no-hate", "hate_probability": 0.031},
                    {"label": "no-hate", "hate_probability": 0.124},
                ],
                "model": {"name": "hate-speech-pt", "version": "3f9a1c2b7d4e", "precision": "int8"},
            },
        },
        "ErrorResponse": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {"type": "string", "description": "What is wrong and what is accepted"},
                "field": _nullable_string(
                    version,
                    "The field at fault, e.g. texts[3]; null when the body as a "
                    "whole is at fault (invalid JSON, too large, too slow)",
                ),
            },
        },
    }


def _with_refs(node, prefix: str):
    if isinstance(node, dict):
        return {key: (prefix + value if key == "$ref" else _with_refs(value, prefix)) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_refs(item, prefix) for item in node]
    return node


def _error_responses(ref) -> dict:
    return {
        "400": (
            "Bad request: invalid JSON, wrong type, missing or unexpected field, empty list, empty or "
            "non-string text, too many texts, text too long",
            ref("ErrorResponse"),
        ),
        "408": ("The request did not arrive within SCORING_READ_TIMEOUT_SECONDS", ref("ErrorResponse")),
        "413": (
            "The request body is over the byte limit (4 bytes per character of SCORING_MAX_BODY_CHARS), "
            "refused from its Content-Length before it is read",
            ref("ErrorResponse"),
        ),
        "415": (
            "Content-Type is not JSON (application/json or */*+json; no Content-Type is read as JSON)",
            ref("ErrorResponse"),
        ),
        "503": ("The model is not loaded", ref("ErrorResponse")),
    }


_DESCRIPTION = (
    "Classifies Portuguese texts as hate speech or not. POST a JSON object "
    '{"texts": [...]} to /score; each text gets a label and P(hate).'
)


def build(version: str = "2", limits: ScoringSettings | None = None) -> dict:
    """The OpenAPI document for swagger `version` "2", "3" or "3.1"."""
    if version not in FILES:
        raise ValueError(f"version is {version!r}; accepted: {sorted(FILES)}")
    limits = limits or ScoringSettings()
    if version == "2":
        return _build_swagger2(limits)
    return _build_openapi3(limits, version)


def _build_swagger2(limits: ScoringSettings) -> dict:
    def ref(name):
        return {"$ref": f"#/definitions/{name}"}

    responses = {"200": {"description": "One prediction per text", "schema": ref("ScoreResponse")}}
    for status, (description, schema) in _error_responses(ref).items():
        responses[status] = {"description": description, "schema": schema}
    return {
        "swagger": "2.0",
        "info": {"title": TITLE, "description": _DESCRIPTION, "version": API_VERSION},
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {
            "Bearer": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "description": "Bearer <endpoint key or token>",
            }
        },
        "paths": {
            "/": {
                "get": {
                    "operationId": "ServiceHealthCheck",
                    "description": "Liveness: answers Healthy",
                    "responses": {"200": {"description": "The server is up", "schema": {"type": "string"}}},
                }
            },
            "/score": {
                "post": {
                    "operationId": "RunMLService",
                    "description": _DESCRIPTION,
                    "security": [{"Bearer": []}],
                    "parameters": [{"name": "body", "in": "body", "required": True, "schema": ref("ScoreRequest")}],
                    "responses": responses,
                }
            },
        },
        "definitions": _with_refs(_schemas(limits, "2"), "#/definitions/"),
    }


def _build_openapi3(limits: ScoringSettings, version: str) -> dict:
    def ref(name):
        return {"$ref": f"#/components/schemas/{name}"}

    def json_content(schema):
        return {"application/json": {"schema": schema}}

    responses = {"200": {"description": "One prediction per text", "content": json_content(ref("ScoreResponse"))}}
    for status, (description, schema) in _error_responses(ref).items():
        responses[status] = {"description": description, "content": json_content(schema)}
    return {
        "openapi": "3.1.0" if version == "3.1" else "3.0.3",
        "info": {"title": TITLE, "description": _DESCRIPTION, "version": API_VERSION},
        "paths": {
            "/": {
                "get": {
                    "operationId": "ServiceHealthCheck",
                    "description": "Liveness: answers Healthy",
                    "responses": {
                        "200": {
                            "description": "The server is up",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/score": {
                "post": {
                    "operationId": "RunMLService",
                    "description": _DESCRIPTION,
                    "security": [{"Bearer": []}],
                    "requestBody": {"required": True, "content": json_content(ref("ScoreRequest"))},
                    "responses": responses,
                }
            },
        },
        "components": {
            "securitySchemes": {"Bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _with_refs(_schemas(limits, version), "#/components/schemas/"),
        },
    }


def render(version: str) -> str:
    return json.dumps(build(version), indent=2, ensure_ascii=False) + "\n"


def write(directory: Path = SERVING_DIR) -> list[Path]:
    paths = []
    for version, name in FILES.items():
        path = directory / name
        path.write_text(render(version), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write(Path(sys.argv[1]) if len(sys.argv) > 1 else SERVING_DIR):
        print(written)
