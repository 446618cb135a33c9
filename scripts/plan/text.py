"""How plan values read as text: numbers as written, booleans as in YAML, nested values as YAML.

The engine carries every number as a float (`infra.release.values.plain` turns whole ones back into
integers); maps and lists read as YAML flow text (`{kind: mirror, percent: 10}`) on one line, or as a
YAML block where there is room, never as Python reprs.
"""

from __future__ import annotations

from typing import Any

import yaml

from infra.release.values import plain


def _dump(value: Any, flow: bool) -> str:
    return yaml.safe_dump(plain(value), default_flow_style=flow, sort_keys=False, allow_unicode=True,
                          width=float("inf")).strip()


def inline(value: Any) -> str:
    """One line: `true`, `10`, `text`, `[a, b]`, `{kind: mirror, percent: 10}`; None as `null`."""
    value = plain(value)
    if isinstance(value, (dict, list)):
        return _dump(value, flow=True)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def block(value: Any, indent: str = "  ") -> list[str]:
    """A YAML block, each line prefixed with `indent`."""
    return [indent + line for line in _dump(value, flow=False).splitlines()]
