"""The audit report of one stack, as a Document."""

from __future__ import annotations

from datetime import datetime

from .cells import changes, duration, kind, pending, release_step, result, state_time, traffic, when
from .config_changes import config_changes
from .document import Cell, Document, Section, Table, link, text
from .history import Update
from .releases import (
    Decision,
    ModelVersionRecord,
    ReleaseRequest,
    StateResource,
    TrafficRecord,
    release_requests,
    release_state,
    state_resources,
)
from .shapes import StackExport
from .sources import Input
from .summary import summary


def _ci_run(update: Update):
    if not update.ci_system:
        return "local (no CI)"
    label = f"{update.ci_system} {update.ci_build}".strip()
    return link(label, update.ci_url) if update.ci_url else text(label)


def _pull_request(update: Update):
    if not update.pr_number:
        return "—"
    label = f"PR #{update.pr_number}"
    return link(label, update.pr_url) if update.pr_url else label


def _commit(update: Update) -> str:
    if not update.commit:
        return "—"
    commit = update.commit[:12] + (" (dirty)" if update.dirty else "")
    branch = update.branch.removeprefix("refs/heads/")
    return f"{commit} on {branch}" if branch else commit


def timeline(updates: list[Update]) -> Section:
    rows = [
        [
            str(u.version),
            kind(u),
            when(u.start),
            duration(u),
            result(u),
            text(u.author),
            _commit(u),
            _ci_run(u),
            _pull_request(u),
            changes(u.resource_changes),
            text(u.message),
        ]
        for u in reversed(updates)
    ]
    return Section(
        "Timeline of updates",
        [
            "Newest first; failed updates and destroys in bold. Who is the git author Pulumi recorded for the update; "
            "CI run and pull request come from the CI environment Pulumi detected.",
            Table(
                [
                    "Version",
                    "Kind",
                    "Started",
                    "Duration",
                    "Result",
                    "Who",
                    "Commit",
                    "CI run",
                    "Pull request",
                    "Resource changes",
                    "Message",
                ],
                rows,
            ),
        ],
    )


def _evidence(decision: Decision) -> Section:
    metric_names = sorted({m for side in decision.metrics.values() for m in side})
    evidence = Section(f"Evidence for {decision.name}")
    if decision.evaluation_data_sha256:
        evidence.add(
            f"Evaluation data sha256 {decision.evaluation_data_sha256}; primary metric {text(decision.primary_metric)}."
        )
    evidence.add(
        Table(
            ["Metric", "Champion", "Challenger"],
            [
                [
                    m,
                    text(decision.metrics.get("champion", {}).get(m)),
                    text(decision.metrics.get("challenger", {}).get(m)),
                ]
                for m in metric_names
            ],
            caption="Metrics on the evaluation data",
        )
    )
    evidence.add(
        Table(
            ["Guardrail", "Passed", "Details"],
            [
                [
                    name,
                    text(g.get("passed")) if isinstance(g, dict) else text(g),
                    text({k: v for k, v in g.items() if k != "passed"}) if isinstance(g, dict) else "—",
                ]
                for name, g in sorted(decision.guardrails.items())
            ],
            caption="Guardrails",
        )
    )
    if decision.mcnemar:
        evidence.add(f"McNemar's test: {text(decision.mcnemar)}.")
    return evidence


def releases(
    decisions: list[Decision],
    versions: list[ModelVersionRecord],
    records: list[TrafficRecord],
    requests: list[ReleaseRequest],
    previous: list[StateResource] | None = None,
) -> Section:
    section = Section("Model releases")
    section.add(
        "From the release resources in the current state (pulumi stack export) and the release "
        "settings each update ran with (pulumi stack history)."
    )
    section.add(
        Table(
            [
                "Decision",
                "Model",
                "Endpoint",
                "Champion",
                "Challenger",
                "Winner",
                "Winner version",
                "p-value",
                "Reason",
                "Decided",
            ],
            [
                [
                    d.name,
                    text(d.model_name),
                    text(d.endpoint),
                    text(d.champion_version),
                    text(d.challenger_version),
                    text(d.winner),
                    text(d.winner_version),
                    text(d.p_value),
                    text(d.reason),
                    state_time(d.decided_utc),
                ]
                for d in decisions
            ],
            caption="Champion/challenger decisions",
        )
    )
    for decision in decisions:
        section.add(_evidence(decision))
    before = {t.urn: t.traffic for t in release_state(previous or [])[2]}
    section.add(
        Table(
            [
                "Traffic resource",
                "Endpoint",
                "Traffic before",
                "Traffic after",
                "Mirror",
                "Live version",
                "Staged version",
                "Approval required",
                "Approved version",
                "Note",
            ],
            [
                [
                    t.name,
                    text(t.endpoint),
                    traffic(before[t.urn]) if t.urn in before else "not recorded",
                    traffic(t.traffic),
                    traffic(t.mirror_traffic),
                    text(t.live_version),
                    text(t.staged_version),
                    text(t.require_approval),
                    text(t.approved_version),
                    text(t.note),
                ]
                for t in records
            ],
            caption="Traffic (before: the same resource in --previous-export; after: the current state)",
        )
    )
    for t in records:
        if t.steps:
            section.add(
                Table(
                    ["Step", "What the release did"],
                    [[str(i + 1), release_step(step)] for i, step in enumerate(t.steps)],
                    caption=f"Last run of {t.name}",
                )
            )
    section.add(
        Table(
            ["Resource", "Model", "Version", "Stage", "Archived", "Content sha256"],
            [
                [v.name, text(v.model_name), text(v.version), text(v.stage), text(v.archived), text(v.content_sha256)]
                for v in versions
            ],
            caption="Registered model versions",
        )
    )
    section.add(
        Table(
            [
                "Update",
                "When",
                "Result",
                "Set by",
                "CI run",
                "Workspace",
                "Model",
                "Candidate",
                "Approval required",
                "Approved version",
            ],
            [
                [
                    str(r.update.version),
                    when(r.update.start),
                    result(r.update),
                    text(r.update.author),
                    _ci_run(r.update),
                    r.workspace,
                    text(r.model_name),
                    text(r.candidate),
                    text(r.require_approval),
                    text(r.approved_version),
                ]
                for r in requests
            ],
            caption="Release settings as updates changed them (stack config; approvals of prod releases are "
            "given on the CI run's environment gate before the update that sets the approved version)",
        )
    )
    return section


def config_section(updates: list[Update]) -> Section:
    rows = [
        [
            str(c.update.version),
            when(c.update.start),
            result(c.update),
            text(c.update.author),
            _ci_run(c.update),
            c.key,
            text(c.before),
            text(c.after),
        ]
        for c in config_changes(updates)
    ]
    return Section(
        "Configuration changes",
        [
            "Each update's configuration against the previous update's, with the result of the update that ran "
            "with it and who made it (the git author). Secret values are never shown; a secret is listed when it "
            "appears or disappears.",
            Table(["Update", "When", "Result", "Who", "CI run", "Key", "Before", "After"], rows),
        ],
    )


def destroyed_section(
    updates: list[Update], resources: list[StateResource], previous: list[StateResource] | None, export: StackExport
) -> Section:
    section = Section("Destroyed and deleted")
    section.add(
        Table(
            ["Update", "Kind", "When", "Result", "Who", "Deleted", "Replaced", "Message"],
            [
                [
                    str(u.version),
                    kind(u),
                    when(u.start),
                    result(u),
                    text(u.author),
                    str(u.deletes),
                    str(u.resource_changes.get("replace", 0)),
                    text(u.message),
                ]
                for u in reversed(updates)
                if u.kind == "destroy" or u.deletes or u.resource_changes.get("replace")
            ],
            caption="Updates that deleted or replaced resources",
        )
    )
    if previous is not None:
        current = {r.urn for r in resources}
        section.add(
            Table(
                ["Resource", "Type"],
                [[r.urn, r.type] for r in previous if r.urn not in current],
                caption="Resources in the previous export that are gone from the current one",
            )
        )
    deployment = export.deployment
    leaving: list[list[Cell]] = [[r.urn, r.type, "marked for deletion"] for r in deployment.resources or [] if r.delete]
    leaving += [[op.resource.urn, op.resource.type, pending(op.type)] for op in deployment.pending_operations or []]
    section.add(
        Table(
            ["Resource", "Type", "State"],
            leaving,
            caption="Resources the current state marks for deletion or with pending operations (begun by an "
            "update that did not finish)",
        )
    )
    return section


def build_report(
    stack: str,
    history: list[Update],
    export: StackExport,
    inputs: list[Input],
    previous_export: StackExport | None = None,
    generated: datetime | None = None,
) -> Document:
    resources = state_resources(export)
    previous = state_resources(previous_export) if previous_export is not None else None
    decisions, versions, records = release_state(resources)
    requests = release_requests(history)
    title = f"Audit of stack {stack}" + (f" ({when(generated)})" if generated else "")
    return Document(
        title,
        [
            summary(stack, history, resources, inputs, requests, decisions, records),
            timeline(history),
            releases(decisions, versions, records, requests, previous),
            config_section(history),
            destroyed_section(history, resources, previous, export),
        ],
    )
