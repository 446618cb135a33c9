"""Configuration changes between consecutive updates, one row per changed leaf value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scripts.plan.diff import flatten

from .history import Update
from .secrets import SECRET

ABSENT = "(absent)"


@dataclass(frozen=True)
class ConfigChange:
    update: Update  # the update that ran with the changed value
    key: str
    before: Any
    after: Any


def _leaves(update: Update) -> dict[str, Any]:
    leaves: dict[str, Any] = {}
    for key, value in update.config.items():
        leaves.update({key: SECRET} if key in update.secret_keys else flatten(value, key))
    return leaves


def config_changes(updates: list[Update]) -> list[ConfigChange]:
    """Changes of each update's config against the previous update's (updates oldest first).

    Secret values are not in the history (--show-secrets=false), so a secret is reported when it
    appears or disappears, never when only its value changed."""
    changes: list[ConfigChange] = []
    previous: dict[str, Any] | None = None
    for update in updates:
        if not update.config and update.kind != "update":
            continue
        current = _leaves(update)
        if previous is not None:
            for key in sorted(set(previous) | set(current)):
                before, after = previous.get(key, ABSENT), current.get(key, ABSENT)
                if before != after:
                    changes.append(ConfigChange(update, key, before, after))
        previous = current
    return changes
