"""Reading resource properties the way a policy receives them.

Pulumi hands a Python policy the resource's inputs under their wire names (camelCase, e.g.
``properties.enableRbacAuthorization``), wrapped in read-only Mapping/Sequence proxies that raise
when a value is unknown during preview. Nothing here assumes plain dicts or lists.
"""

from collections.abc import Mapping, Sequence
from typing import Any

MISSING = object()


def lookup(props: Mapping, path: str, default: Any = MISSING) -> Any:
    """The value at a dotted path such as ``properties.networkAcls.defaultAction``."""
    value: Any = props
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return default
        value = value[key]
    return value


def as_list(value: Any) -> list:
    """A sequence value as a list; a missing value or a single string as a list of it."""
    if value is MISSING or value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return [value]


def shown(value: Any) -> str:
    """A value as a violation message names it."""
    if value is MISSING:
        return "not set"
    return repr(value)


def stack_of(urn: str) -> str:
    """The stack name in a URN ``urn:pulumi:<stack>::<project>::<type>::<name>``."""
    prefix = "urn:pulumi:"
    if not urn.startswith(prefix) or "::" not in urn:
        raise ValueError(f"urn {urn!r} is not a Pulumi URN; expected 'urn:pulumi:<stack>::<project>::<type>::<name>'")
    return urn[len(prefix) :].split("::", 1)[0]
