"""Checks a scoring request body and turns it into the list of texts to classify.

Every problem becomes a RequestError with an HTTP status and a message that names the field, the bad
value and what is accepted; nothing a client sends makes these functions raise anything else.
"""

from __future__ import annotations

import json

TEXTS_FIELD = "texts"
_PREVIEW_CHARS = 40


class RequestError(Exception):
    """The request cannot be scored; `status` is the HTTP status to answer with (4xx)."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field

    def body(self) -> dict:
        return {"message": self.message, "field": self.field}


def check_content_type(content_type: str | None) -> None:
    """Accept JSON media types or no Content-Type; the server drops form-encoded bodies before run() sees them."""
    if not content_type or not content_type.strip():
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise RequestError(
            415,
            f"Content-Type is {_preview(content_type)!r}; accepted: application/json "
            "(e.g. curl -H 'Content-Type: application/json')",
            "Content-Type",
        )


def parse_texts(raw_data, *, max_texts: int, max_text_chars: int, max_body_chars: int) -> list[str]:
    """The texts of a body like {"texts": ["...", ...]}, or RequestError."""
    body = _decode_body(raw_data, max_body_chars)
    if not isinstance(body, dict):
        raise RequestError(
            400,
            f"the request body is a JSON {_json_type(body)}; accepted: a JSON object like "
            f'{{"{TEXTS_FIELD}": ["a text", ...]}}',
        )
    if TEXTS_FIELD not in body:
        raise RequestError(
            400,
            f'missing field "{TEXTS_FIELD}"; accepted: a JSON object like {{"{TEXTS_FIELD}": ["a text", ...]}}',
            TEXTS_FIELD,
        )
    extra = sorted(key for key in body if key != TEXTS_FIELD)
    if extra:
        names = ", ".join(f'"{_preview(key)}"' for key in extra[:5])
        raise RequestError(400, f'unexpected field(s) {names}; accepted: only "{TEXTS_FIELD}"', extra[0])
    texts = body[TEXTS_FIELD]
    if not isinstance(texts, list):
        raise RequestError(
            400,
            f'field "{TEXTS_FIELD}" is a JSON {_json_type(texts)}; accepted: a list of 1 to {max_texts} strings',
            TEXTS_FIELD,
        )
    if not texts:
        raise RequestError(
            400, f'field "{TEXTS_FIELD}" is an empty list; accepted: 1 to {max_texts} strings', TEXTS_FIELD
        )
    if len(texts) > max_texts:
        raise RequestError(
            400,
            f'field "{TEXTS_FIELD}" has {len(texts)} items; accepted: at most {max_texts} '
            "per request (send several requests)",
            TEXTS_FIELD,
        )
    for index, text in enumerate(texts):
        _check_text(index, text, max_text_chars)
    return texts


def body_byte_limit(max_body_chars: int) -> int:
    """The most bytes a body of `max_body_chars` characters can take: a UTF-8 character takes at most 4."""
    return 4 * max_body_chars


def body_over_the_byte_limit(size: str, max_body_chars: int) -> RequestError:
    """The 413 for a body of `size` (e.g. "5000000 bytes") over the byte limit of `max_body_chars` characters."""
    return _too_large(size, f"{body_byte_limit(max_body_chars)} bytes ({max_body_chars} characters)")


def check_body_bytes(size: int, max_body_chars: int) -> None:
    """RequestError 413 if a body of `size` bytes is over the byte limit of `max_body_chars` characters."""
    if size > body_byte_limit(max_body_chars):
        raise body_over_the_byte_limit(f"{size} bytes", max_body_chars)


def _decode_body(raw_data, max_body_chars: int):
    if isinstance(raw_data, (bytes, bytearray)):
        check_body_bytes(len(raw_data), max_body_chars)
        try:
            raw_data = bytes(raw_data).decode("utf-8")
        except UnicodeDecodeError as error:
            raise RequestError(400, f"the request body is not UTF-8 text: {error}; accepted: UTF-8 JSON") from None
    if not isinstance(raw_data, str):
        raise RequestError(400, f"the request body is {type(raw_data).__name__}; accepted: UTF-8 JSON text")
    if len(raw_data) > max_body_chars:
        raise _too_large(f"{len(raw_data)} characters", f"{max_body_chars} characters")
    if not raw_data.strip():
        raise RequestError(400, f'the request body is empty; accepted: a JSON object like {{"{TEXTS_FIELD}": [...]}}')
    try:
        return json.loads(raw_data)
    except json.JSONDecodeError as error:
        raise RequestError(
            400,
            f"the request body is not valid JSON: {error.msg} at line {error.lineno} column "
            f'{error.colno}; accepted: a JSON object like {{"{TEXTS_FIELD}": [...]}}',
        ) from None
    except ValueError as error:  # e.g. an integer literal longer than Python converts (4300 digits)
        reason = str(error).split(";", 1)[0]
        raise RequestError(
            400,
            f"the request body holds a value JSON parsing refuses ({reason}); accepted: "
            f'a JSON object like {{"{TEXTS_FIELD}": [...]}} with string texts',
        ) from None
    except RecursionError:
        raise RequestError(
            400, f'the request body nests JSON too deeply; accepted: a JSON object like {{"{TEXTS_FIELD}": [...]}}'
        ) from None


def _too_large(size: str, limit: str) -> RequestError:
    return RequestError(
        413, f"the request body is {size}; accepted: at most {limit} (send fewer or shorter texts per request)"
    )


def _check_text(index: int, text, max_text_chars: int) -> None:
    field = f"{TEXTS_FIELD}[{index}]"
    if not isinstance(text, str):
        shown = "" if isinstance(text, (list, dict)) else f" ({json.dumps(text)})"
        raise RequestError(400, f"{field} is a JSON {_json_type(text)}{shown}; accepted: a non-empty string", field)
    if not text.strip():
        raise RequestError(
            400,
            f"{field} is {'empty' if not text else 'whitespace only'}; "
            "accepted: a string with at least one visible character",
            field,
        )
    if len(text) > max_text_chars:
        raise RequestError(
            400,
            f"{field} is {len(text)} characters long ({_preview(text)!r}...); accepted: at most "
            f"{max_text_chars} characters (longer texts are rejected, not cut)",
            field,
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise RequestError(
            400,
            f"{field} holds an unpaired surrogate {error.object[error.start]!r} at character "
            f"{error.start}; accepted: valid Unicode text",
            field,
        ) from None


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _preview(text: str) -> str:
    return text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS]
