"""Rollout steps: how traffic moves from the live model to the new one, set per stack.

A stack gives a list such as [{"mirror": 10}, {"canary": 10}, {"canary": 50}]; the final step
(the new model at 100 %) is always implied. Mirror steps copy a share of requests to the new model
while the old one answers all of them; canary steps send it a share of live requests.
Azure ML limits mirror traffic to 50 % and to a deployment without live traffic, so mirror steps
come before canary steps.
"""

from __future__ import annotations

from typing import Any

from infra.facts import MAX_MIRROR_PERCENT

from ..fields import FieldReader
from ..values import as_int, is_unknown

MIRROR, CANARY, FULL = "mirror", "canary", "full"
MAX_MIRROR = MAX_MIRROR_PERCENT
ACCEPTED = (
    'a list of steps like [{"mirror": 10}, {"canary": 10}, {"canary": 50}]: '
    f"mirror 1-{MAX_MIRROR_PERCENT} %, "
    "canary 1-99 % rising, mirror steps first; the final 100 % step is implied"
)


def read_rollout(reader: FieldReader, field: str = "rollout") -> list[dict] | Any:
    """Checked steps as [{"kind": "mirror"|"canary", "percent": int}, ...] (the implied final step left out)."""
    value = reader.props.get(field)
    if is_unknown(value):
        return value
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        reader.fail(field, value, ACCEPTED)
        return []
    steps, last_canary, seen_canary = [], 0, False
    for step in value:
        if isinstance(step, dict) and set(step) == {"kind", "percent"}:
            step = {step["kind"]: step["percent"]}
        if not (isinstance(step, dict) and len(step) == 1 and next(iter(step)) in (MIRROR, CANARY)):
            reader.fail(field, value, ACCEPTED)
            return []
        kind, percent = next(iter(step.items()))
        percent = as_int(percent)
        ok = isinstance(percent, int) and not isinstance(percent, bool)
        if kind == MIRROR:
            ok = ok and 1 <= percent <= MAX_MIRROR and not seen_canary
        else:
            ok = ok and last_canary < percent <= 99
            seen_canary, last_canary = True, percent if ok else last_canary
        if not ok:
            reader.fail(field, value, ACCEPTED)
            return []
        steps.append({"kind": kind, "percent": percent})
    return steps


def describe(step: dict) -> str:
    return f"{step['kind']} {step['percent']}%" if step["kind"] != FULL else "full 100%"


def traffic_for(step: dict, old_slot: str | None, new_slot: str, slots) -> tuple[dict[str, int], dict[str, int]]:
    """(traffic, mirror) maps over every slot for one step from `old_slot` to `new_slot`."""
    traffic = {slot: 0 for slot in slots}
    mirror: dict[str, int] = {}
    if step["kind"] == FULL or old_slot is None:
        traffic[new_slot] = 100
    elif step["kind"] == MIRROR:
        traffic[old_slot] = 100
        mirror = {new_slot: step["percent"]}
    else:
        traffic[old_slot] = 100 - step["percent"]
        traffic[new_slot] = step["percent"]
    return traffic, mirror


def plan_steps(steps: list[dict], has_previous: bool) -> list[dict]:
    """The steps actually taken: the stack's steps (only when a previous model serves), then 100 %."""
    return [*(steps if has_previous else []), {"kind": FULL, "percent": 100}]
