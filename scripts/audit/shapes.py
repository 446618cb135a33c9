"""The JSON shapes the audit reads, checked before anything uses them.

History entries are what `pulumi stack history --json` prints (pkg/cmd/pulumi stack_history.go,
`updateInfoJSON` and `configValueJSON`: version, kind, startTime, message, environment
map[string]string, config, result, endTime and resourceChanges map[string]int once finished; Go
writes a nil map as null). A stack export is what `pulumi stack export` prints
(sdk/go/common/apitype deployments.json and resources.json: {version, deployment: {resources,
pending_operations: [{resource, type}]}}, each resource with a string `urn` (see urns.py), string `type`,
object `inputs`/`outputs`, string `parent`, boolean `delete`). Unknown fields are ignored, so a
newer CLI's additions do not break the report; a known field of the wrong type is refused with
its JSON path, as `history[3].resourceChanges: expected an object, got "x"`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic_core import ErrorDetails

from .bounded_json import json_path
from .secrets import is_secret

Kind = Literal["update", "preview", "refresh", "destroy", "import", "rename"]
Result = Literal["succeeded", "failed", "in-progress"]
INT64_MAX = 2**63 - 1
_GO_TIME = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)? ([+-]\d{4})(?: \S+)?$")
_TIME_EXAMPLE = "a time such as 2024-05-01T10:00:00.000Z"
URN = re.compile(r"^urn:pulumi:(?P<stack>[^:]+)::(?P<project>[^:]+)::(?P<type>.+?)::(?P<name>.+)$", re.DOTALL)


class ShapeError(ValueError):
    """A value read does not have the shape the Pulumi CLI prints; the message names its JSON path."""


def parse_time(text: str) -> datetime:
    """A time as the CLI prints it, RFC 3339 ('2024-05-01T10:00:00.000Z') or Go's default layout
    ('2024-05-01 10:00:00.123456789 +0000 UTC'), in UTC."""
    try:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            match = _GO_TIME.match(text)
            if not match:
                raise
            day, clock, fraction, offset = match.groups()
            value = datetime.strptime(
                f"{day} {clock}{(fraction or '')[:7]} {offset}",
                "%Y-%m-%d %H:%M:%S" + (".%f" if fraction else "") + " %z",
            )
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):  # bad layout, an offset of 24 h or more, a year out of range in UTC
        raise ValueError(f"expected {_TIME_EXAMPLE}, got {_shown(text)}") from None


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected {_TIME_EXAMPLE}, got {_shown(value)}")
    return parse_time(value)


Time = Annotated[datetime, PlainValidator(_time)]
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class ConfigEntry(_Shape):
    value: str | None = None
    objectValue: Any = None
    secret: bool = False


class HistoryEntry(_Shape):
    version: Count
    kind: Kind
    startTime: Time
    endTime: Time | None = None
    message: str | None = None
    result: Result | None = None  # absent while the update runs
    resourceChanges: dict[str, Count] | None = None
    environment: dict[str, str] | None = None
    config: dict[str, ConfigEntry] | None = None


def _properties(value: dict[str, Any]) -> dict[str, Any]:
    if is_secret(value):  # secrets are property values; a whole map signed as one is not state Pulumi writes
        raise ValueError("expected an object of properties, got a secret value")
    return value


Properties = Annotated[dict[str, Any], AfterValidator(_properties)]


def _urn(value: str) -> str:
    if not URN.match(value):
        raise ValueError(f"expected a Pulumi URN such as urn:pulumi:prod::project::type::name, got {_shown(value)}")
    return value


Urn = Annotated[str, AfterValidator(_urn)]


class ResourceState(_Shape):
    urn: Urn
    type: str = ""
    inputs: Properties | None = None
    outputs: Properties | None = None
    parent: str | None = None
    delete: bool = False


class PendingOperation(_Shape):
    resource: ResourceState
    type: str


class Deployment(_Shape):
    resources: list[ResourceState] | None = None
    pending_operations: list[PendingOperation] | None = None


class StackExport(_Shape):
    version: Annotated[int, Field(ge=1, le=3)]
    deployment: Deployment


def _shown(value: Any) -> str:
    """A value as an error shows it: scalars as JSON (shortened), containers by kind, never their contents."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"an array of {len(value)} items" if value else "an empty array"
    text = json.dumps(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


_EXPECTED = {
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "an array",
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
}


def _expected(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}"
    if kind == "literal_error":
        return "expected one of " + ctx["expected"].replace("'", "")
    if kind == "greater_than_equal":
        return f"expected a whole number of at least {ctx['ge']}"
    if kind == "less_than_equal":
        return f"expected a whole number of at most {ctx['le']}"
    return error["msg"][:1].lower() + error["msg"][1:]


def _message(error: ErrorDetails, root: str) -> str:
    path = json_path(root, error["loc"]) or "the top level"
    if error["type"] == "missing":
        return f"{path}: required, but missing"
    if error["type"] == "value_error":  # our own validators say what they expected and got
        return f"{path}: {(error.get('ctx') or {}).get('error', error['msg'])}"
    return f"{path}: {_expected(error)}, got {_shown(error['input'])}"


S = TypeVar("S", bound=_Shape)


def check(shape: type[S], value: Any, root: str = "") -> S:
    """`value` as `shape`, or ShapeError naming the first value that does not fit by its JSON path."""
    try:
        return shape.model_validate(value)
    except ValidationError as error:
        raise ShapeError(_message(error.errors(include_url=False)[0], root)) from None


def check_history(entries: Any) -> list[HistoryEntry]:
    """Entries of `pulumi stack history --json`, with paths as `history[3].kind`."""
    if not isinstance(entries, list):
        raise ShapeError(
            f"history: expected the JSON array `pulumi stack history --json` prints, got {_shown(entries)}"
        )
    return [check(HistoryEntry, entry, f"history[{index}]") for index, entry in enumerate(entries)]
