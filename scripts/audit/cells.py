"""How the report writes the values an auditor reads: times, durations, results, change counts,
pending operations and traffic splits, the same way in every table."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from .document import Cell, strong, text
from .history import Update
from .shapes import parse_time

# `resourceChanges` keys are the engine's step operations (pkg/engine display.StepOp), in this order.
CHANGES = {
    "create": "created",
    "update": "updated",
    "replace": "replaced",
    "delete": "deleted",
    "create-replacement": "created as replacements",
    "delete-replaced": "deleted after replacement",
    "read": "read",
    "read-replacement": "read as replacements",
    "refresh": "refreshed",
    "import": "imported",
    "import-replacement": "imported as replacements",
    "discard": "discarded",
    "discard-replaced": "discarded after replacement",
    "read-discard": "discarded after read",
    "remove-pending-replace": "pending replacements removed",
    "same": "unchanged",
}
# A pending operation's `type` (sdk/go/common/apitype OperationType): an operation the engine began and
# did not finish, such as an update that was interrupted.
PENDING = {
    "creating": "pending create",
    "updating": "pending update",
    "deleting": "pending delete",
    "reading": "pending read",
    "importing": "pending import",
}
_SHARE = r"'([^'{}]*)': (\d+(?:\.\d+)?)"
_LOGGED_SPLIT = re.compile(r"\{(?:" + _SHARE + "(?:, " + _SHARE + r")*)?\}")  # repr() of a dict of slot: percent
_LOGGED_SHARE = re.compile(_SHARE)


def when(moment: datetime | None) -> str:
    """ISO 8601 in UTC, to the second: 2026-10-14T07:30:00Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "—"


def state_time(value: Any) -> str:
    """A time recorded in the state, as `when` writes it; shown as recorded if it is not a time."""
    try:
        return when(parse_time(value)) if isinstance(value, str) else text(value)
    except ValueError:
        return text(value)


def duration(update: Update) -> str:
    if update.end is None:
        return "—"
    seconds = int((update.end - update.start).total_seconds())
    return f"{seconds // 60}m{seconds % 60:02d}s"


def result(update: Update) -> Cell:
    return strong(update.result) if update.result == "failed" else update.result


def kind(update: Update) -> Cell:
    return strong(update.kind) if update.kind == "destroy" else update.kind


def changes(counts: dict[str, int]) -> str:
    """`{"create": 1, "update": 2, "same": 26}` as "1 created, 2 updated, 26 unchanged"."""
    keys = [k for k in CHANGES if counts.get(k)] + sorted(k for k in counts if k not in CHANGES and counts[k])
    return ", ".join(f"{counts[k]} {CHANGES.get(k, k.replace('-', ' '))}" for k in keys) or "none"


def pending(operation_type: str) -> str:
    return PENDING.get(operation_type, f"pending {text(operation_type)}")


def traffic(split: Any) -> str:
    """A traffic split {"blue": 90, "green": 10} as "blue 90%, green 10%"; an empty one as "none"."""
    if not isinstance(split, dict):
        return text(split)
    return ", ".join(f"{text(slot)} {text(share)}%" for slot, share in sorted(split.items())) or "none"


def _logged_split(match: re.Match) -> str:
    return traffic(
        {slot: float(share) if "." in share else int(share) for slot, share in _LOGGED_SHARE.findall(match.group())}
    )


def release_step(step: Any) -> str:
    """A step of a release's log. The traffic release logs its splits as Python dicts
    (infra/release/traffic/release.py: f"traffic {traffic} mirror {mirror}: {why}"), and recorded
    state keeps them so: each split is written as `traffic` writes it."""
    return _LOGGED_SPLIT.sub(_logged_split, text(step))
