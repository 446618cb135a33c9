"""Model releases: the release resources in the stack's state, and the release config of each update.

Resources are recognised by their outputs, not their type names: a decision carries `winner`, a
model version `content_sha256` or `model_id` with `version`, a traffic resource a `traffic` map.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .history import Update
from .secrets import redact

DYNAMIC_PREFIX = "pulumi-python:dynamic"


@dataclass(frozen=True)
class StateResource:
    urn: str
    type: str
    name: str
    inputs: dict
    outputs: dict
    parent: str | None


@dataclass(frozen=True)
class Decision:
    name: str
    model_name: str | None
    endpoint: str | None
    champion_version: str | None
    challenger_version: str | None
    winner: str | None
    winner_version: str | None
    p_value: Any
    reason: str | None
    decided_utc: str | None
    evaluation_data_sha256: str | None
    primary_metric: str | None
    metrics: dict[str, dict]                    # "champion"/"challenger" -> metric -> value
    guardrails: dict[str, dict]
    mcnemar: dict


@dataclass(frozen=True)
class ModelVersionRecord:
    name: str
    model_name: str | None
    version: str | None
    stage: str | None
    archived: Any
    content_sha256: str | None
    tags: dict


@dataclass(frozen=True)
class TrafficRecord:
    name: str
    endpoint: str | None
    before: dict | None
    after: dict | None
    mirror_before: dict | None
    mirror_after: dict | None
    production_version: str | None
    approval: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReleaseRequest:
    """Release settings of one workspace, as an update ran with them (from the history's config)."""
    update: Update
    workspace: str
    model_name: Any
    candidate: Any
    require_approval: Any
    approved_version: Any

    @property
    def settings(self) -> tuple:
        return (self.model_name, self.candidate, self.require_approval, self.approved_version)


def state_resources(export: dict) -> list[StateResource]:
    resources = []
    for item in export.get("deployment", {}).get("resources", []) or []:
        urn = item.get("urn", "")
        resources.append(StateResource(
            urn=urn, type=item.get("type", ""), name=urn.rsplit("::", 1)[-1],
            inputs=redact(item.get("inputs") or {}), outputs=redact(item.get("outputs") or {}),
            parent=item.get("parent"),
        ))
    return resources


def _first(values: dict, *names: str) -> Any:
    for name in names:
        if values.get(name) is not None:
            return values[name]
    return None


def _metrics(decision: dict) -> dict[str, dict]:
    metrics = {}
    for side in ("champion", "challenger"):
        block = decision.get(side)
        if isinstance(block, dict):
            metrics[side] = {k: v for k, v in block.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return metrics


def _decision(resource: StateResource) -> Decision:
    out = resource.outputs
    evidence = out.get("decision") if isinstance(out.get("decision"), dict) else {}
    return Decision(
        name=resource.name,
        model_name=_first(out, "model_name"),
        endpoint=_first(out, "endpoint_name"),
        champion_version=_first(out, "champion_version"),
        challenger_version=_first(out, "challenger_version"),
        winner=_first(out, "winner") or evidence.get("winner"),
        winner_version=_first(out, "winner_version"),
        p_value=out.get("p_value", evidence.get("p_value")),
        reason=_first(out, "reason") or evidence.get("reason"),
        decided_utc=_first(out, "decided_utc"),
        evaluation_data_sha256=_first(out, "evaluation_data_sha256"),
        primary_metric=evidence.get("primary_metric"),
        metrics=_metrics(evidence),
        guardrails=evidence.get("guardrails") if isinstance(evidence.get("guardrails"), dict) else {},
        mcnemar=evidence.get("mcnemar") if isinstance(evidence.get("mcnemar"), dict) else {},
    )


def _model_version(resource: StateResource) -> ModelVersionRecord:
    out = resource.outputs
    return ModelVersionRecord(
        name=resource.name,
        model_name=_first(out, "model_name", "name"),
        version=_first(out, "version"),
        stage=_first(out, "stage"),
        archived=out.get("archived"),
        content_sha256=_first(out, "content_sha256"),
        tags=_first(out, "registry_tags", "release_tags", "tags") or {},
    )


def _traffic(resource: StateResource) -> TrafficRecord:
    out = resource.outputs
    approval = {k: out[k] for k in ("require_approval", "approved_version", "approved_by", "approval")
                if out.get(k) is not None}
    return TrafficRecord(
        name=resource.name,
        endpoint=_first(out, "endpoint_name"),
        before=_first(out, "traffic_before", "previous_traffic"),
        after=_first(out, "traffic_after", "traffic"),
        mirror_before=_first(out, "mirror_traffic_before", "previous_mirror_traffic"),
        mirror_after=_first(out, "mirror_traffic_after", "mirror_traffic"),
        production_version=_first(out, "production_version", "live_version"),
        approval=approval,
    )


def release_state(resources: list[StateResource]) -> tuple[list[Decision], list[ModelVersionRecord], list[TrafficRecord]]:
    decisions, versions, traffic = [], [], []
    for resource in resources:
        if not resource.type.startswith(DYNAMIC_PREFIX):
            continue
        out = resource.outputs
        if "winner" in out:
            decisions.append(_decision(resource))
        elif isinstance(out.get("traffic"), dict) or isinstance(out.get("traffic_after"), dict):
            traffic.append(_traffic(resource))
        elif out.get("version") is not None and ("content_sha256" in out or "model_id" in out):
            versions.append(_model_version(resource))
    return decisions, versions, traffic


def _workspaces(update: Update) -> list[dict]:
    for key, value in update.config.items():
        if key.endswith(":workspaces") and isinstance(value, list):
            return [w for w in value if isinstance(w, dict)]
    return []


def release_requests(updates: list[Update]) -> list[ReleaseRequest]:
    """The updates (oldest first) that changed a workspace's release settings, one row per change."""
    requests, last = [], {}
    for update in updates:
        for workspace in _workspaces(update):
            release = workspace.get("release")
            if not isinstance(release, dict):
                continue
            request = ReleaseRequest(
                update=update, workspace=str(workspace.get("name", "?")), model_name=release.get("modelName"),
                candidate=release.get("candidate"), require_approval=release.get("requireApproval"),
                approved_version=release.get("approvedVersion"),
            )
            if last.get(request.workspace) != request.settings:
                requests.append(request)
                last[request.workspace] = request.settings
    return requests
