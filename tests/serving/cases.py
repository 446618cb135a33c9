"""Bad scoring requests and the answer each must get, shared by the run() tests and the HTTP tests."""

from __future__ import annotations

import json
from dataclasses import dataclass

from serving.scoring_settings import ScoringSettings

LIMITS = ScoringSettings()


@dataclass(frozen=True)
class BadRequest:
    name: str
    body: str
    status: int
    message_part: str  # the message must name the problem: this text must appear in it
    field: str | None


BAD_REQUESTS = [
    BadRequest("invalid JSON", '{"texts": ["bom dia"', 400, "not valid JSON", None),
    BadRequest("empty body", "", 400, "the request body is empty", None),
    BadRequest("whitespace body", " \n ", 400, "the request body is empty", None),
    BadRequest("body is an array", '["bom dia"]', 400, "the request body is a JSON array", None),
    BadRequest("body is a string", '"bom dia"', 400, "the request body is a JSON string", None),
    BadRequest("body is null", "null", 400, "the request body is a JSON null", None),
    BadRequest("missing texts", '{"text": ["bom dia"]}', 400, 'missing field "texts"', "texts"),
    BadRequest(
        "unexpected field",
        '{"texts": ["bom dia"], "threshold": 0.1}',
        400,
        'unexpected field(s) "threshold"',
        "threshold",
    ),
    BadRequest("texts is a string", '{"texts": "bom dia"}', 400, 'field "texts" is a JSON string', "texts"),
    BadRequest("texts is null", '{"texts": null}', 400, 'field "texts" is a JSON null', "texts"),
    BadRequest("texts is an object", '{"texts": {"a": "b"}}', 400, 'field "texts" is a JSON object', "texts"),
    BadRequest("empty list", '{"texts": []}', 400, 'field "texts" is an empty list', "texts"),
    BadRequest(
        "too many texts",
        json.dumps({"texts": ["bom dia"] * (LIMITS.max_texts + 1)}),
        400,
        f"has {LIMITS.max_texts + 1} items; accepted: at most {LIMITS.max_texts}",
        "texts",
    ),
    BadRequest("number item", '{"texts": ["bom dia", 5]}', 400, "texts[1] is a JSON number (5)", "texts[1]"),
    BadRequest("null item", '{"texts": [null]}', 400, "texts[0] is a JSON null", "texts[0]"),
    BadRequest("boolean item", '{"texts": [true]}', 400, "texts[0] is a JSON boolean (true)", "texts[0]"),
    BadRequest("list item", '{"texts": [["bom dia"]]}', 400, "texts[0] is a JSON array", "texts[0]"),
    BadRequest("empty text", '{"texts": ["bom dia", ""]}', 400, "texts[1] is empty", "texts[1]"),
    BadRequest("whitespace text", '{"texts": [" \\t\\n "]}', 400, "texts[0] is whitespace only", "texts[0]"),
    BadRequest(
        "text over the length limit",
        json.dumps({"texts": ["a" * (LIMITS.max_text_chars + 1)]}),
        400,
        f"is {LIMITS.max_text_chars + 1} characters long",
        "texts[0]",
    ),
    BadRequest("unpaired surrogate", '{"texts": ["ol\\ud800a"]}', 400, "unpaired surrogate", "texts[0]"),
    BadRequest("deeply nested JSON", "[" * 100_000 + "]" * 100_000, 400, "nests JSON too deeply", None),
    BadRequest("integer too long to convert", '{"texts": [' + "9" * 5000 + "]}", 400, "JSON parsing refuses", None),
    BadRequest(
        "body over the size limit",
        json.dumps({"texts": ["a" * 1000] * 1000}),
        413,
        f"accepted: at most {LIMITS.max_body_chars} characters",
        None,
    ),
]

NON_JSON_CONTENT_TYPES = ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"]
JSON_CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "application/merge-patch+json"]
