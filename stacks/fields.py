"""The kinds of value a stack setting holds, as pydantic field types.

A field's `description` says what it accepts: the error messages (stacks/validation.py) and the
editor schema (stacks/schema.py) both show it. Values arrive as YAML writes them (offline) or as
the Pulumi engine hands them over, where top-level scalars are strings: `true` and `"true"`, `30`
and `"30"` read alike, but a boolean is never a number and a number never a boolean.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from pydantic import AfterValidator, BeforeValidator, Field, Strict, ValidationInfo
from pydantic_core import PydanticUndefined

from model.compare_settings import Bounds
from stacks.validation import invalid, required, type_name

PRODUCTION = "on a prod-tier stack"


def _boolean(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise invalid(f"true or false, not {type_name(value)}")
    return value


def as_whole(value: Any) -> Any:
    """3.0 and "3" as 3 (the engine hands top-level numbers over as strings); anything else as given."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return value


Boolean = Annotated[bool, Strict(), BeforeValidator(_boolean)]
Whole = Annotated[int, Strict(), BeforeValidator(as_whole)]  # 3, 3.0 or "3", never a boolean
Number = Annotated[float, Strict()]  # an integer or a float, never a string or a boolean


def full(pattern: str) -> str:
    """`pattern` matching a whole value (the patterns of infra/facts.py are written without anchors)."""
    return f"^(?:{pattern})$"


def described(accepted: str, default: Any = PydanticUndefined, **constraints: Any) -> Any:
    """A field that accepts what `accepted` says (its constraints, if any, say it to pydantic)."""
    return Field(default, description=accepted, **constraints)


def flag(default: Any = PydanticUndefined) -> Any:
    return described("true or false", default)


def text(pattern: str, accepted: str, default: Any = PydanticUndefined) -> Any:
    return described(accepted, default, pattern=full(pattern))


def one_of(options: tuple[str, ...], default: Any = PydanticUndefined) -> Any:
    return described("one of " + ", ".join(options), default)


class _Limits(TypedDict, total=False):
    """The keyword arguments of pydantic's Field that hold numeric limits."""

    ge: float
    gt: float
    le: float
    lt: float


def _limits(bounds: Bounds) -> _Limits:
    limits: _Limits = {"ge": bounds.low} if bounds.low_included else {"gt": bounds.low}
    if bounds.high is not None and bounds.high_included:
        limits["le"] = bounds.high
    elif bounds.high is not None:
        limits["lt"] = bounds.high
    return limits


def bounded(bounds: Bounds, default: Any = PydanticUndefined) -> Any:
    return described(bounds.accepted, default, **_limits(bounds))


def within(bounds: Bounds) -> Any:
    """Only the limits of `bounds`: for the type inside `X | None`, where pydantic's schema would
    lose limits given on the field."""
    return Field(**_limits(bounds))


def whole_number(low: int, high: int, default: Any = PydanticUndefined) -> Any:
    return bounded(Bounds("a whole number", low, high, whole=True), default)


def in_production(allowed: Callable[[Any], bool], accepted: str, shown: Any = None,
                  missing: bool = False) -> AfterValidator:
    """A production rule: on a prod-tier stack (the `tier` the validation context names) the value
    must pass `allowed`; `accepted` says what passes (naming PRODUCTION), `shown`
    replaces the value in the message, `missing` reports the key as required instead."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if (info.context or {}).get("tier") == "prod" and not allowed(value):
            raise required(accepted) if missing else invalid(accepted, value if shown is None else shown)
        return value

    return AfterValidator(check)
