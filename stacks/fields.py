"""The kinds of value a stack setting holds, as pydantic field types.

A field's `description` says what it accepts: the error messages (stacks/validation.py) and the
editor schema (stacks/schema.py) both show it. Values arrive as YAML writes them (offline) or as
the Pulumi engine hands them over, where top-level scalars are strings: `true` and `"true"`, `30`
and `"30"` read alike, but a boolean is never a number and a number never a boolean.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from pydantic import AfterValidator, BeforeValidator, Field, Strict, ValidationInfo
from pydantic_core import PydanticUndefined

from model.compare_settings import Bounds
from stacks.validation import invalid, required, type_name

PRODUCTION = "on a prod-tier stack"


def as_boolean(value: Any) -> bool | None:
    """true/false as YAML or the engine (`"true"`) writes them; None for anything else."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value if isinstance(value, bool) else None


def _boolean(value: Any) -> Any:
    if as_boolean(value) is None:
        raise invalid(f"true or false, not {type_name(value)}")
    return as_boolean(value)


def as_whole(value: Any) -> Any:
    """3.0 and "3" as 3 (the engine hands top-level numbers over as strings); anything else as given."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return value


CIDR_ACCEPTED = "an IPv4 CIDR range such as 10.30.0.0/24 (address/prefix length, host bits zero)"
ADDRESS_ACCEPTED = "an IPv4 address such as 10.0.0.4"


def ipv4_network(value: Any) -> ipaddress.IPv4Network | None:
    """`value` as an IPv4 network if it is a CIDR range written in full with its host bits zero."""
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return None


def _cidr(value: Any) -> Any:
    if ipv4_network(value) is None:
        raise invalid(CIDR_ACCEPTED)
    return value


def _address(value: Any) -> Any:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise invalid(ADDRESS_ACCEPTED) from None
    return value


Boolean = Annotated[bool, Strict(), BeforeValidator(_boolean)]
Cidr = Annotated[str, Strict(), AfterValidator(_cidr)]  # parsed by ipaddress: 10.0.0.1/24 or 300.0.0.0/8 are refused
IPv4Address = Annotated[str, Strict(), AfterValidator(_address)]
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


def in_production(
    allowed: Callable[[Any], bool], accepted: str, shown: Any = None, missing: bool = False
) -> AfterValidator:
    """A production rule: on a prod-tier stack (the `tier` the validation context names) the value
    must pass `allowed`; `accepted` says what passes (naming PRODUCTION), `shown`
    replaces the value in the message, `missing` reports the key as required instead."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if (info.context or {}).get("tier") == "prod" and not allowed(value):
            raise required(accepted) if missing else invalid(accepted, value if shown is None else shown)
        return value

    return AfterValidator(check)
