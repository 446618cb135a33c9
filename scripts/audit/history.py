"""Updates of a stack, from `pulumi stack history --json` (newest first, as the CLI prints them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .secrets import SECRET, redact
from .shapes import ConfigEntry, HistoryEntry, check_history


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
    config: dict[str, Any] = field(default_factory=dict)  # shown values: secrets are [secret]
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


def config_value(entry: ConfigEntry) -> Any:
    """The shown value of one history config entry {"value", "objectValue", "secret"}."""
    if entry.secret:
        return SECRET
    if entry.objectValue is not None:
        return redact(entry.objectValue)
    return entry.value


def parse_update(entry: HistoryEntry) -> Update:
    config = entry.config or {}
    return Update(
        version=entry.version,
        kind=entry.kind,
        start=entry.startTime,
        end=entry.endTime,
        message=entry.message or "",
        result=entry.result or "in-progress",
        resource_changes=dict(entry.resourceChanges or {}),
        environment=dict(entry.environment or {}),
        config={key: config_value(value) for key, value in config.items()},
        secret_keys=frozenset(key for key, value in config.items() if value.secret),
    )


def parse_history(entries: Any) -> list[Update]:
    """All updates, oldest first; ShapeError names the first entry field that is not as the CLI prints it."""
    return sorted((parse_update(entry) for entry in check_history(entries)), key=lambda u: u.version)
