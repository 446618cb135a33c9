"""How plan values read as text: numbers as written, booleans as in YAML, nested values as YAML.

The engine carries every number as a float, so whole ones are written as integers; maps and lists
read as YAML flow text (`{kind: mirror, percent: 10}`) on one line, or as a YAML block where there is
room, never as Python reprs. Only PyYAML is imported: the audit, which runs without the infra
environment, reads plan paths through diff.py.
"""

from __future__ import annotations

from typing import Any

import yaml


class _PlanDumper(yaml.SafeDumper):
    """YAML of plan values, whole floats written as integers."""


def _number(dumper: yaml.SafeDumper, value: float) -> yaml.Node:
    return dumper.represent_int(int(value)) if value.is_integer() else dumper.represent_float(value)


_PlanDumper.add_representer(float, _number)


def _dump(value: Any, flow: bool) -> str:
    return yaml.dump(
        value, Dumper=_PlanDumper, default_flow_style=flow, sort_keys=False, allow_unicode=True, width=float("inf")
    ).strip()


def inline(value: Any) -> str:
    """One line: `true`, `10`, `text`, `[a, b]`, `{kind: mirror, percent: 10}`; None as `null`."""
    if isinstance(value, (dict, list)):
        return _dump(value, flow=True)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def block(value: Any, indent: str = "  ") -> list[str]:
    """A YAML block, each line prefixed with `indent`."""
    return [indent + line for line in _dump(value, flow=False).splitlines()]
