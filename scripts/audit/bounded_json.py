"""JSON read within bounds: UTF-8 only, at most MAX_DEPTH levels of nesting, finite numbers of at
most MAX_DIGITS digits. Whatever passes is plain JSON that the rest of the audit can walk, sort and
print without a recursion, memory or conversion error; whatever fails is named by its JSON path.

Pulumi writes its JSON with Go's encoding/json: UTF-8, no NaN or Infinity, numbers that fit a
float64 or int64 (`pulumi stack export` state nests a few levels, a secret adds one)."""

from __future__ import annotations

import codecs
import json
import math
import re
from typing import Any

MAX_BYTES = 128 * 1024 * 1024
MAX_DEPTH = 64
MAX_DIGITS = 40
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class JsonInputError(ValueError):
    """The text is not JSON within the bounds; the message names where."""


def json_path(root: str, segments: tuple | list, limit: int = 160) -> str:
    """`history[3].resourceChanges`, `deployment.resources[0].outputs["a.b"]`, shortened in the middle of
    very deep paths. Keys are JSON-quoted when they are not plain names, so the path stays one line."""
    parts = [root] if root else []
    for segment in segments:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _NAME.fullmatch(segment):
            parts.append(f".{segment}" if parts else segment)
        else:
            parts.append(f"[{json.dumps(segment)}]")
    path = "".join(parts)
    return path if len(path) <= limit else f"{path[: limit // 2]}…{path[-limit // 2 :]}"


class _Rejected:
    """A number the parser met that JSON from Pulumi cannot hold; reported by its path after parsing."""

    def __init__(self, why: str):
        self.why = why


def _integer(literal: str) -> int | _Rejected:
    digits = len(literal.lstrip("-"))
    return (
        int(literal)
        if digits <= MAX_DIGITS
        else _Rejected(f"a {digits}-digit number; accepted: at most {MAX_DIGITS} digits")
    )


def _float(literal: str) -> float | _Rejected:
    value = float(literal)
    return value if math.isfinite(value) else _Rejected(f"{literal[:24]}, out of a float's range")


def _constant(name: str) -> _Rejected:
    return _Rejected(f"{name}, which JSON does not allow")


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise JsonInputError(
            "UTF-16 text; expected UTF-8 as the Pulumi CLI prints it "
            "(in PowerShell: `pulumi ... | Out-File -Encoding utf8`)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise JsonInputError(
            f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "expected JSON as the Pulumi CLI prints it"
        ) from None


def _first_problem(value: Any) -> tuple[list, str] | None:
    """The path and the problem of the first rejected number or too-deep nesting, walked without recursion."""
    stack: list[tuple[Any, int, tuple | None]] = [(value, 0, None)]  # value, depth, (parent link, key)
    while stack:
        item, depth, link = stack.pop()
        problem = None
        if isinstance(item, _Rejected):
            problem = item.why
        elif isinstance(item, (dict, list)) and depth >= MAX_DEPTH:
            problem = f"nested deeper than {MAX_DEPTH} levels"
        if problem:
            segments = []
            while link is not None:
                link, key = link
                segments.append(key)
            return segments[::-1], problem
        if isinstance(item, dict):
            stack.extend((child, depth + 1, (link, key)) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((child, depth + 1, (link, index)) for index, child in reversed(list(enumerate(item))))
    return None


def loads(data: bytes, root: str = "") -> Any:
    """The JSON value in `data`, or JsonInputError naming the first problem (`root` prefixes paths).
    Messages read after a colon: `--export 'e.json': not UTF-8 text (...)`."""
    if len(data) > MAX_BYTES:
        raise JsonInputError(f"{len(data)} bytes; accepted: at most {MAX_BYTES} bytes")
    text = _decode(data)
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise JsonInputError(f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise JsonInputError(f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    problem = _first_problem(value)
    if problem:
        segments, why = problem
        raise JsonInputError(f"{json_path(root, segments) or 'the top level'}: {why}")
    return value
