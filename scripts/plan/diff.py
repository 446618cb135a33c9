"""The difference between two plans, as Markdown fit for a pull-request comment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def _key(resource: dict[str, Any]) -> tuple[str, str]:
    return resource["type"], resource["name"]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaf values; lists are indexed (`ipRules[0].value`)."""
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else key))
        return flat
    if isinstance(value, list) and value:
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix: value}


@dataclass(frozen=True)
class Change:
    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class PlanDiff:
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[tuple[dict[str, Any], list[Change]]]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_plans(base: dict[str, Any], head: dict[str, Any]) -> PlanDiff:
    before = {_key(r): r for r in base["resources"]}
    after = {_key(r): r for r in head["resources"]}
    changed = []
    for key in sorted(before.keys() & after.keys()):
        old, new = flatten(before[key]["inputs"]), flatten(after[key]["inputs"])
        changes = [Change(path, old.get(path), new.get(path))
                   for path in sorted(old.keys() | new.keys()) if old.get(path) != new.get(path)]
        if changes:
            changed.append((after[key], changes))
    return PlanDiff(
        added=[after[key] for key in sorted(after.keys() - before.keys())],
        removed=[before[key] for key in sorted(before.keys() - after.keys())],
        changed=changed,
    )


def _cell(value: Any) -> str:
    if value is None:
        return "_(unset)_"
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    text = text.replace("|", "\\|").replace("\n", " ")
    return f"`{text}`" if len(text) <= 120 else f"`{text[:117]}...`"


def render_markdown(diff: PlanDiff, title: str) -> str:
    lines = [f"### {title}", ""]
    if diff.empty:
        lines.append("No resource changes.")
        return "\n".join(lines) + "\n"
    lines.append(f"**{len(diff.added)} to add, {len(diff.changed)} to change, {len(diff.removed)} to remove**")
    for heading, items in (("Added", diff.added), ("Removed", diff.removed)):
        if items:
            lines += ["", f"#### {heading}", "", "| type | name | parent |", "|---|---|---|"]
            lines += [f"| `{r['type']}` | `{r['name']}` | {_cell(r['parent'])} |" for r in items]
    if diff.changed:
        lines += ["", "#### Changed", ""]
        for resource, changes in diff.changed:
            lines += [f"`{resource['type']}` **{resource['name']}**", "",
                      "| input | before | after |", "|---|---|---|"]
            lines += [f"| `{c.path}` | {_cell(c.before)} | {_cell(c.after)} |" for c in changes]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
