"""The report's first section: what an auditor checks before reading on (the period covered, the
updates and how they ended, releases, the model each workspace serves now) and the inputs it was
made from, each with its sha256."""

from __future__ import annotations

from collections import Counter

from .cells import traffic, when
from .document import Cell, Section, Table, strong, text
from .history import Update
from .releases import Decision, ReleaseRequest, StateResource, TrafficRecord
from .sources import Input

STACK_TYPE = "pulumi:pulumi:Stack"


def _period(updates: list[Update]) -> str:
    if not updates:
        return "— (the stack has never been updated)"
    return f"{when(min(u.start for u in updates))} to {when(max(u.end or u.start for u in updates))}"


def _listed(updates: list[Update], what) -> Cell:
    """ "2: version 2 (update), version 7 (destroy)", emphasised; "none" when there are none."""
    if not updates:
        return "none"
    return strong(f"{len(updates)}: " + ", ".join(f"version {u.version} ({what(u)})" for u in updates))


def _latest(updates: list[Update]) -> Cell:
    if not updates:
        return "—"
    latest = updates[-1]
    line = f"version {latest.version}: {latest.kind} {latest.result}, started {when(latest.start)}"
    return strong(line) if latest.result == "failed" or latest.kind == "destroy" else line


def _releases(requests: list[ReleaseRequest], decisions: list[Decision]) -> str:
    versions = ", ".join(str(r.update.version) for r in requests)
    changed = (
        f"{len(requests)} change(s) of release settings (candidate or approval), by updates {versions}"
        if requests
        else "no update changed release settings"
    )
    return f"{changed}; {len(decisions)} champion/challenger decision(s) in the current state"


def facts(stack: str, updates: list[Update], requests: list[ReleaseRequest], decisions: list[Decision]) -> Table:
    counts = Counter(u.result for u in updates)
    return Table(
        ["Fact", "Value"],
        [
            ["Stack", stack],
            ["Period", _period(updates)],
            [
                "Updates",
                (
                    f"{len(updates)}: {counts['succeeded']} succeeded, {counts['failed']} failed, "
                    f"{counts['in-progress']} in progress"
                ),
            ],
            ["Failed updates", _listed([u for u in updates if u.result == "failed"], lambda u: u.kind)],
            ["Destroy operations", _listed([u for u in updates if u.kind == "destroy"], lambda u: u.result)],
            ["Releases", _releases(requests, decisions)],
            ["Latest update", _latest(updates)],
        ],
    )


def champions(records: list[TrafficRecord]) -> Table:
    return Table(
        ["Workspace", "Model", "Champion (live version)", "Endpoint", "Traffic", "Staged version", "Approved version"],
        [
            [
                text(t.workspace),
                text(t.model_name),
                text(t.live_version) if t.live_version else "none live",
                text(t.endpoint),
                traffic(t.traffic),
                text(t.staged_version),
                text(t.approved_version),
            ]
            for t in sorted(records, key=lambda t: (text(t.workspace), t.name))
        ],
        caption="Current champion per workspace (the model version its endpoint serves, from the traffic "
        "resource in the current state)",
    )


def inputs_table(inputs: list[Input]) -> Table:
    return Table(
        ["Input", "File or command", "Bytes", "sha256"],
        [[i.given_as, text(i.name), str(i.size), i.sha256] for i in inputs],
        caption="Inputs the report was made from (check a file with `sha256sum FILE`)",
    )


def summary(
    stack: str,
    updates: list[Update],
    resources: list[StateResource],
    inputs: list[Input],
    requests: list[ReleaseRequest],
    decisions: list[Decision],
    records: list[TrafficRecord],
) -> Section:
    kinds = Counter(r.type for r in resources if r.type != STACK_TYPE)
    return Section(
        "Summary",
        [
            facts(stack, updates, requests, decisions),
            champions(records),
            inputs_table(inputs),
            Table(
                ["Resource type", "Count"],
                [[t, str(n)] for t, n in sorted(kinds.items())],
                caption="Resources in the current state",
            ),
            Table(
                ["Output", "Value"],
                [[k, text(v)] for r in resources if r.type == STACK_TYPE for k, v in sorted(r.outputs.items())],
                caption="Stack outputs",
            ),
        ],
    )
