"""Updates of a stack, from `pulumi stack history --json` (newest first, as the CLI prints them)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .secrets import config_value

KINDS = ("update", "preview", "refresh", "destroy", "import", "rename")
RESULTS = ("succeeded", "failed", "in-progress")
CHANGE_ORDER = ("create", "update", "replace", "delete", "same")
_GO_TIME = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)? ([+-]\d{4})(?: \S+)?$")


class HistoryError(ValueError):
    """The history JSON does not have the shape `pulumi stack history --json` prints."""


@dataclass(frozen=True)
class Update:
    version: int
    kind: str
    start: datetime
    end: datetime | None
    message: str
    result: str
    resource_changes: dict[str, int]
    environment: dict[str, str]
    config: dict[str, Any] = field(default_factory=dict)      # shown values: secrets are [secret]
    secret_keys: frozenset[str] = frozenset()

    @property
    def deletes(self) -> int:
        return self.resource_changes.get("delete", 0) + self.resource_changes.get("delete-replaced", 0)

    @property
    def author(self) -> str:
        name = self.environment.get("git.author", "")
        email = self.environment.get("git.author.email", "")
        return f"{name} <{email}>" if name and email else name or email

    @property
    def commit(self) -> str:
        return self.environment.get("git.head", "")

    @property
    def branch(self) -> str:
        return self.environment.get("git.headName", "")

    @property
    def dirty(self) -> bool:
        return self.environment.get("git.dirty") == "true"

    @property
    def ci_system(self) -> str:
        return self.environment.get("ci.system", "")

    @property
    def ci_url(self) -> str:
        return self.environment.get("ci.build.url", "")

    @property
    def ci_build(self) -> str:
        return self.environment.get("ci.build.number") or self.environment.get("ci.build.id", "")

    @property
    def pr_number(self) -> str:
        return self.environment.get("ci.pr.number", "")

    @property
    def pr_url(self) -> str:
        owner, repo = self.environment.get("vcs.owner"), self.environment.get("vcs.repo")
        if self.pr_number and owner and repo and self.environment.get("vcs.kind", "").startswith("github"):
            return f"https://github.com/{owner}/{repo}/pull/{self.pr_number}"
        return ""


def parse_time(text: str, where: str) -> datetime:
    """Times as the CLI prints them: RFC 3339 ('2024-05-01T10:00:00.000Z') or Go's default layout."""
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        match = _GO_TIME.match(text) if isinstance(text, str) else None
        if not match:
            raise HistoryError(f"{where} is {text!r}; expected a time such as 2024-05-01T10:00:00.000Z") from None
        day, clock, fraction, offset = match.groups()
        value = datetime.strptime(f"{day} {clock}{(fraction or '')[:7]} {offset}",
                                  "%Y-%m-%d %H:%M:%S" + (".%f" if fraction else "") + " %z")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _int_field(entry: dict, name: str, where: str) -> int:
    value = entry.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise HistoryError(f"{where}.{name} is {value!r}; expected an integer")
    return value


def parse_update(entry: Any, index: int) -> Update:
    where = f"history[{index}]"
    if not isinstance(entry, dict):
        raise HistoryError(f"{where} is {type(entry).__name__}; expected an object with version, kind, startTime")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise HistoryError(f"{where}.kind is {kind!r}; expected one of {', '.join(KINDS)}")
    result = entry.get("result") or "in-progress"
    if result not in RESULTS:
        raise HistoryError(f"{where}.result is {result!r}; expected one of {', '.join(RESULTS)}")
    changes = entry.get("resourceChanges") or {}
    if not isinstance(changes, dict) or not all(isinstance(v, int) for v in changes.values()):
        raise HistoryError(f"{where}.resourceChanges is {changes!r}; expected a map of operation to count")
    environment = entry.get("environment") or {}
    config = entry.get("config") or {}
    if not isinstance(environment, dict) or not isinstance(config, dict):
        raise HistoryError(f"{where}.environment and .config must be objects")
    return Update(
        version=_int_field(entry, "version", where),
        kind=kind,
        start=parse_time(entry.get("startTime"), f"{where}.startTime"),
        end=parse_time(entry["endTime"], f"{where}.endTime") if entry.get("endTime") else None,
        message=str(entry.get("message") or ""),
        result=result,
        resource_changes=dict(changes),
        environment={str(k): str(v) for k, v in environment.items()},
        config={key: config_value(value) for key, value in config.items()},
        secret_keys=frozenset(k for k, v in config.items() if isinstance(v, dict) and v.get("secret")),
    )


def parse_history(entries: Any) -> list[Update]:
    """All updates, oldest first."""
    if not isinstance(entries, list):
        raise HistoryError(f"history is {type(entries).__name__}; expected the JSON array "
                           "`pulumi stack history --json` prints")
    updates = [parse_update(entry, index) for index, entry in enumerate(entries)]
    return sorted(updates, key=lambda u: u.version)


def changes_text(changes: dict[str, int]) -> str:
    signs = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": "="}
    keys = [k for k in CHANGE_ORDER if changes.get(k)] + sorted(k for k in changes if k not in CHANGE_ORDER and changes[k])
    return " ".join(f"{signs.get(k, k + ' ')}{changes[k]}" for k in keys) or "none"
