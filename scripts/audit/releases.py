"""Model releases: the release resources in the stack's state, and the release config of each update.

Release resources (infra/release) are recognised by their outputs, not their type names: the
traffic owner (EndpointTraffic) carries `traffic` and `slot_models`, a champion/challenger decision
(ChampionSelection) `decision` and `p_value`, a registered model version (ModelVersion)
`content_sha256` and `version`. Traffic before an update is the traffic the same resource recorded
in an older export (--previous-export); each run's steps are in the traffic resource's `last_run`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .history import Update
from .secrets import redact
from .shapes import StackExport

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
    metrics: dict[str, dict]  # "champion"/"challenger" -> metric -> value
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
    urn: str
    workspace: str | None
    model_name: str | None
    endpoint: str | None
    traffic: dict | None
    mirror_traffic: dict | None
    live_version: str | None
    staged_version: str | None
    winner: str | None
    require_approval: Any
    approved_version: str | None
    note: str | None
    steps: list = field(default_factory=list)


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


def state_resources(export: StackExport) -> list[StateResource]:
    return [
        StateResource(
            urn=item.urn,
            type=item.type,
            name=item.urn.rsplit("::", 1)[-1],
            inputs=redact(item.inputs or {}),
            outputs=redact(item.outputs or {}),
            parent=item.parent,
        )
        for item in export.deployment.resources or []
    ]


def _metrics(decision: dict) -> dict[str, dict]:
    metrics = {}
    for side in ("champion", "challenger"):
        block = decision.get(side)
        if isinstance(block, dict):
            metrics[side] = {k: v for k, v in block.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return metrics


def _object(value: Any) -> dict:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _decision(resource: StateResource) -> Decision:
    out = resource.outputs
    evidence = _object(out.get("decision"))
    return Decision(
        name=resource.name,
        model_name=out.get("model_name"),
        endpoint=out.get("endpoint_name"),
        champion_version=out.get("champion_version"),
        challenger_version=out.get("challenger_version"),
        winner=out.get("winner") or evidence.get("winner"),
        winner_version=out.get("winner_version"),
        p_value=out.get("p_value", evidence.get("p_value")),
        reason=out.get("reason") or evidence.get("reason"),
        decided_utc=out.get("decided_utc"),
        evaluation_data_sha256=out.get("evaluation_data_sha256"),
        primary_metric=evidence.get("primary_metric"),
        metrics=_metrics(evidence),
        guardrails=_object(evidence.get("guardrails")),
        mcnemar=_object(evidence.get("mcnemar")),
    )


def _model_version(resource: StateResource) -> ModelVersionRecord:
    out = resource.outputs
    return ModelVersionRecord(
        name=resource.name,
        model_name=out.get("model_name"),
        version=out.get("version"),
        stage=out.get("stage"),
        archived=out.get("archived"),
        content_sha256=out.get("content_sha256"),
        tags=out.get("registry_tags") or {},
    )


def _traffic(resource: StateResource) -> TrafficRecord:
    out = resource.outputs
    steps = out.get("last_run")
    return TrafficRecord(
        name=resource.name,
        urn=resource.urn,
        workspace=out.get("workspace_name"),
        model_name=out.get("model_name"),
        endpoint=out.get("endpoint_name"),
        traffic=out.get("traffic"),
        mirror_traffic=out.get("mirror_traffic"),
        live_version=out.get("live_version"),
        staged_version=out.get("staged_version"),
        winner=out.get("winner"),
        require_approval=out.get("require_approval"),
        approved_version=out.get("approved_version"),
        note=out.get("note"),
        steps=list(steps) if isinstance(steps, list) else [],
    )


def release_state(
    resources: list[StateResource],
) -> tuple[list[Decision], list[ModelVersionRecord], list[TrafficRecord]]:
    decisions, versions, traffic = [], [], []
    for resource in resources:
        if not resource.type.startswith(DYNAMIC_PREFIX):
            continue
        out = resource.outputs
        if "traffic" in out and "slot_models" in out:
            traffic.append(_traffic(resource))
        elif "decision" in out and "p_value" in out:
            decisions.append(_decision(resource))
        elif resource.type.endswith(":RegistryModelVersion"):
            continue  # the registry's copy: the environments' own versions carry the stages
        elif "content_sha256" in out and "version" in out:
            versions.append(_model_version(resource))
    return decisions, versions, traffic


def _workspaces(update: Update) -> list[dict]:
    for key, value in update.config.items():
        if key.endswith(":workspaces") and isinstance(value, list):
            return [w for w in value if isinstance(w, dict)]
    return []


def release_requests(updates: list[Update]) -> list[ReleaseRequest]:
    """The updates (oldest first) that changed a workspace's release settings, one row per change."""
    requests: list[ReleaseRequest] = []
    last: dict[str, tuple] = {}
    for update in updates:
        for workspace in _workspaces(update):
            release = workspace.get("release")
            if not isinstance(release, dict):
                continue
            request = ReleaseRequest(
                update=update,
                workspace=str(workspace.get("name", "?")),
                model_name=release.get("modelName"),
                candidate=release.get("candidate"),
                require_approval=release.get("requireApproval"),
                approved_version=release.get("approvedVersion"),
            )
            if last.get(request.workspace) != request.settings:
                requests.append(request)
                last[request.workspace] = request.settings
    return requests
