"""How property values look when the Pulumi engine hands them to a dynamic provider.

Values cross the engine as protobuf Structs: every number comes back as a float, tuples as lists,
a None value is dropped, and an input that is not known yet during a preview reaches `check` and
`diff` as a `pulumi.output.Unknown` (the wire form is the string `UNKNOWN`). Providers compare and
store values only after passing them through these helpers.
"""

from __future__ import annotations

from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

PROVIDER_KEY = "__provider"


def is_unknown(value: Any) -> bool:
    """True for a value the engine does not know yet (preview), at any depth."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False


def without_engine_keys(props: dict) -> dict:
    """The resource's own properties: drops `__provider` and other engine bookkeeping."""
    return {k: v for k, v in props.items() if not k.startswith("__")}


def as_int(value: Any) -> Any:
    """A float the engine made out of an integer, back as an int (bools and others untouched)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def plain(value: Any) -> Any:
    """A JSON-like value with integral floats turned back into ints, tuples into lists."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return as_int(value)


def percentages(value: Any) -> dict[str, int]:
    """A traffic map {deployment: percent} with int percents and zero entries dropped."""
    if not value:
        return {}
    return {str(k): int(round(float(v))) for k, v in dict(value).items() if float(v) != 0}
