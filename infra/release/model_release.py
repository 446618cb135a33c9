"""ModelRelease: the release of one registered candidate on one endpoint, wired output to input.

    ModelVersion (candidate) -> ChampionSelection (vs what the endpoint serves) -> EndpointTraffic

The candidate's ModelVersion is declared on its own (`register_candidate`), parented to its
workspace. A workspace model candidate (test's: the dev workspace's version) is shared into the
registry first (RegistryModelVersion), and this workspace registers the registry's version; a
registry candidate (prod's) is registered from the registry directly. The selection reads the
endpoint by name and the traffic deploys the slots under the `serving` spec, so both come after the
endpoint and the serving assets they take as inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from infra.facts import SLOTS

from .base import RegistryCoordinates, WorkspaceCoordinates
from .champion_selection import ChampionSelection
from .endpoint_traffic import EndpointTraffic
from .model_ref import RegistryModel, WorkspaceModel, candidate_of
from .model_version import ModelVersion
from .registry_model_version import RegistryModelVersion


def rollout_steps(mirror_percent: int = 0, canary_percents: Sequence[int] = ()) -> list[dict]:
    """The EndpointTraffic `rollout` for a stack's settings: an optional mirror step, then the canaries."""
    steps = [{"mirror": int(mirror_percent)}] if mirror_percent else []
    return steps + [{"canary": int(p)} for p in canary_percents]


@dataclass(frozen=True)
class RegisteredCandidate:
    """The candidate registered in this workspace (and shared into the registry on the way, for a
    workspace model candidate), and what the next environment takes as its candidate."""

    model_version: ModelVersion
    promote_candidate: pulumi.Output[str]
    shared: RegistryModelVersion | None = None


def needs_registry(candidate: str) -> bool:
    """A workspace or registry model candidate is released through the stack's registry."""
    return isinstance(candidate_of(candidate), (WorkspaceModel, RegistryModel))


def register_candidate(
    name: str,
    *,
    workspace: WorkspaceCoordinates,
    model_name: str,
    candidate: str,
    registry: RegistryCoordinates | None = None,
    commit: str | None = None,
    training_run: str | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> RegisteredCandidate:
    """The candidate (an artifact folder, a job output, a workspace or a registry model) as a registered,
    content-versioned model of this workspace."""
    kind = candidate_of(candidate)
    if needs_registry(candidate) and registry is None:
        raise ValueError(f"candidate {candidate} is released through a registry, and none was given")
    registry_name = registry.registry_name if registry is not None else None
    shared = None
    path: pulumi.Input[str] = candidate
    if isinstance(kind, WorkspaceModel):
        assert registry is not None
        shared = RegistryModelVersion(
            f"{name}-registry-version", registry=registry, model_name=model_name, source=candidate, opts=opts
        )
        path = shared.registry_model_id
    version = ModelVersion(
        f"{name}-version",
        workspace=workspace,
        model_name=model_name,
        path=path,
        commit=commit,
        training_run=training_run,
        registry_name=registry_name if isinstance(kind, (WorkspaceModel, RegistryModel)) else None,
        awaiting_share=shared is not None,
        opts=opts,
    )
    promote = version.path if isinstance(kind, (WorkspaceModel, RegistryModel)) else version.asset_uri
    return RegisteredCandidate(version, promote, shared)


@dataclass(frozen=True)
class ModelReleaseArgs:
    """A registered candidate's release on one endpoint: what to compare it on and how to roll it out."""

    workspace: WorkspaceCoordinates
    model_version: ModelVersion
    endpoint_name: pulumi.Input[str]
    model_name: str
    evaluation_data: str
    serving: pulumi.Input[dict]  # the serving spec every slot runs (traffic/serving_spec.py)
    slots: Sequence[str] = SLOTS
    rollout: Sequence[dict] = ()
    hold_seconds: float = 0
    require_approval: bool = False
    approved_version: str | None = None
    approved_serving_version: str | None = None
    compare_settings: dict = field(default_factory=dict)


class ModelRelease(pulumi.ComponentResource):
    model_version: ModelVersion
    selection: ChampionSelection
    traffic: EndpointTraffic

    def __init__(self, name: str, args: ModelReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:release:ModelRelease", name, None, opts)
        # The component's own `depends_on` (the private endpoints and data roles the slots' loads and the
        # smoke test need) does not reach its children, which the engine orders by their own dependencies.
        child = pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on if opts else None)
        self.model_version = args.model_version
        self.selection = ChampionSelection(
            f"{name}-selection",
            workspace=args.workspace,
            endpoint_name=args.endpoint_name,
            model_name=args.model_name,
            challenger_version=self.model_version.version,
            challenger_path=self.model_version.path,
            evaluation_data=args.evaluation_data,
            compare_settings=dict(args.compare_settings),
            opts=child,
        )
        self.traffic = EndpointTraffic(
            f"{name}-traffic",
            workspace=args.workspace,
            endpoint_name=args.endpoint_name,
            model_name=args.model_name,
            challenger_version=self.model_version.version,
            winner=self.selection.winner,
            champion_version=self.selection.champion_version,
            serving=args.serving,
            slots=args.slots,
            require_approval=args.require_approval,
            approved_version=args.approved_version,
            approved_serving_version=args.approved_serving_version,
            rollout=list(args.rollout),
            hold_seconds=args.hold_seconds,
            opts=child,
        )
        self.register_outputs(
            {
                "candidate_version": self.model_version.version,
                "winner": self.selection.winner,
                "reason": self.selection.reason,
                "live_version": self.traffic.live_version,
                "staged_version": self.traffic.staged_version,
            }
        )
