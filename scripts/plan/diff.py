"""The difference between two plans, as Markdown fit for a pull-request comment.

Values are never cut: two long values that share a start (an ARM id, a model path) show that start
once as `…` and keep everything after it, so the part that differs is always visible. An input the
resource lists in `ignoreChanges` is marked ignored (the engine keeps its stored value, see
ignore_changes.py), and a resource whose only changes are ignored is not counted as "to change".
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scripts.plan.ignore_changes import Path, effective_inputs, path_text
from scripts.plan.text import inline


def _key(resource: dict[str, Any]) -> tuple[str, str]:
    return resource["type"], resource["name"]


def leaves(value: Any, path: Path = ()) -> dict[Path, Any]:
    """Each leaf value by its path of keys and list indexes; an empty map or list is a leaf."""
    if isinstance(value, dict) and value:
        found: dict[Path, Any] = {}
        for key, item in value.items():
            found.update(leaves(item, (*path, key)))
        return found
    if isinstance(value, list) and value:
        found = {}
        for index, item in enumerate(value):
            found.update(leaves(item, (*path, index)))
        return found
    return {path: value}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaf values; lists are indexed (`ipRules[0].value`)."""
    flat = {}
    for path, item in leaves(value).items():
        text = prefix
        for element in path:
            text = f"{text}[{element}]" if isinstance(element, int) else (f"{text}.{element}" if text else element)
        flat[text] = item
    return flat


@dataclass(frozen=True)
class Change:
    path: str
    before: Any
    after: Any
    ignored: bool = False  # in the resource's ignoreChanges: `up` keeps the stored value


@dataclass(frozen=True)
class PlanDiff:
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: Sequence[tuple[dict[str, Any], list[Change]]]
    ignored_only: Sequence[tuple[dict[str, Any], list[Change]]] = ()  # every change ignored: not an update

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.ignored_only)


def _changed_paths(before: dict[str, Any], after: dict[str, Any]) -> dict[Path, tuple[Any, Any]]:
    old, new = leaves(before), leaves(after)
    return {
        path: (old.get(path), new.get(path))
        for path in sorted(old.keys() | new.keys(), key=path_text)
        if old.get(path) != new.get(path)
    }


def resource_changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The changed inputs of one resource from `before` to `after`; `after`'s `ignoreChanges` decide
    which of them the engine ignores (it reads the option from the new registration)."""
    changed = _changed_paths(before["inputs"], after["inputs"])
    ignore = list(after.get("ignoreChanges") or [])
    sent = (
        _changed_paths(before["inputs"], effective_inputs(before["inputs"], after["inputs"], ignore))
        if ignore and changed
        else changed
    )
    return [Change(path_text(path), old, new, ignored=path not in sent) for path, (old, new) in changed.items()]


def diff_plans(base: dict[str, Any], head: dict[str, Any]) -> PlanDiff:
    before = {_key(r): r for r in base["resources"]}
    after = {_key(r): r for r in head["resources"]}
    changed: list[tuple[dict[str, Any], list[Change]]] = []
    ignored_only: list[tuple[dict[str, Any], list[Change]]] = []
    for key in sorted(before.keys() & after.keys()):
        changes = resource_changes(before[key], after[key])
        if changes:
            (ignored_only if all(c.ignored for c in changes) else changed).append((after[key], changes))
    return PlanDiff(
        added=[after[key] for key in sorted(after.keys() - before.keys())],
        removed=[before[key] for key in sorted(before.keys() - after.keys())],
        changed=changed,
        ignored_only=ignored_only,
    )


ELIDED = "…"
_BREAKS = ("/", ".:", " =,;", "-_")  # stronger breaks first: a path segment, a dotted name, a word
_ELIDE_FROM = 60  # characters: shorter values read whole
_MIN_ELIDED = 16  # a shared start shorter than this is shown: eliding it would hide more than it saves


def elide_shared_start(before: str, after: str) -> tuple[str, str]:
    """Two texts with the start they share replaced by `…`, cut at the strongest break (`/`, then `.`,
    then a space, then `-`) that leaves the last shared segment as context: `…/versions/bootstrap`
    against `…/versions/7c8e4d1a9b2f`."""
    if max(len(before), len(after)) < _ELIDE_FROM:
        return before, after
    shared = len(os.path.commonprefix([before, after]))
    for marks in _BREAKS:
        cut = max(before.rfind(mark, 0, max(shared - 1, 0)) for mark in marks)
        if cut >= _MIN_ELIDED:
            return ELIDED + before[cut:], ELIDED + after[cut:]
    return before, after


def _code(text: str) -> str:
    """`text` as a Markdown code span inside a table cell: pipes escaped, line breaks as `\\n`."""
    if text == "":
        return "_(empty)_"
    text = text.replace("|", "\\|").replace("\r", "\\r").replace("\n", "\\n")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if len(fence) > 1 else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(value: Any) -> str:
    return "_(unset)_" if value is None else _code(inline(value))


def _cells(change: Change) -> tuple[str, str, bool]:
    """(before, after, elided) cells of one change."""
    before, after = change.before, change.after
    if isinstance(before, str) and isinstance(after, str):
        shown_before, shown_after = elide_shared_start(before, after)
        return _code(shown_before), _code(shown_after), shown_before != before
    return _cell(before), _cell(after), False


def _table(changes: list[Change]) -> tuple[list[str], bool]:
    rows, elided = ["| input | before | after |", "|---|---|---|"], False
    for change in changes:
        before, after, cut = _cells(change)
        elided = elided or cut
        mark = " _(ignored)_" if change.ignored else ""
        rows.append(f"| {_code(change.path)}{mark} | {before} | {after} |")
    return rows, elided


def _resources(items: Sequence[tuple[dict[str, Any], list[Change]]]) -> tuple[list[str], bool]:
    lines, elided = [], False
    for resource, changes in items:
        rows, cut = _table(changes)
        elided = elided or cut
        lines += [f"`{resource['type']}` **{resource['name']}**", "", *rows, ""]
    return lines, elided


def render_markdown(diff: PlanDiff, title: str) -> str:
    lines = [f"### {title}", ""]
    if diff.empty:
        lines.append("No resource changes.")
        return "\n".join(lines) + "\n"
    summary = f"**{len(diff.added)} to add, {len(diff.changed)} to change, {len(diff.removed)} to remove**"
    if diff.ignored_only:
        summary += f" · {len(diff.ignored_only)} with ignored changes only, not updated"
    lines.append(summary)
    for heading, items in (("Added", diff.added), ("Removed", diff.removed)):
        if items:
            lines += ["", f"#### {heading}", "", "| type | name | parent |", "|---|---|---|"]
            lines += [f"| `{r['type']}` | `{r['name']}` | {_cell(r['parent'])} |" for r in items]
    elided = False
    for heading, changed in (("Changed", diff.changed), ("Ignored changes only", diff.ignored_only)):
        if changed:
            body, cut = _resources(changed)
            elided = elided or cut
            lines += ["", f"#### {heading}", "", *body]
    notes = []
    if any(c.ignored for _, changes in (*diff.changed, *diff.ignored_only) for c in changes):
        notes.append(
            "_(ignored)_: the input is in the resource's `ignoreChanges`; `up` keeps the value it "
            "stored and sends no change for it."
        )
    if elided:
        notes.append(f"`{ELIDED}` stands for the start the before and after values share.")
    if notes:
        while lines[-1] == "":
            lines.pop()
        lines += ["", *notes]
    return "\n".join(lines).rstrip() + "\n"
