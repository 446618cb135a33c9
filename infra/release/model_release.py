"""ModelRelease: the release of one registered candidate on one endpoint, wired output to input.

    ModelVersion (candidate folder) -> ChampionSelection (vs what the endpoint serves) -> EndpointTraffic

The candidate's ModelVersion is declared on its own (`register_candidate`), parented to its
workspace. The selection reads the endpoint by name and the traffic deploys the slots under the
`serving` spec, so both come after the endpoint and the serving assets they take as inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from infra.facts import SLOTS

from .base import WorkspaceCoordinates
from .champion_selection import ChampionSelection
from .endpoint_traffic import EndpointTraffic
from .model_version import ModelVersion


def rollout_steps(mirror_percent: int = 0, canary_percents: Sequence[int] = ()) -> list[dict]:
    """The EndpointTraffic `rollout` for a stack's settings: an optional mirror step, then the canaries."""
    steps = [{"mirror": int(mirror_percent)}] if mirror_percent else []
    return steps + [{"canary": int(p)} for p in canary_percents]


def register_candidate(
    name: str,
    *,
    workspace: WorkspaceCoordinates,
    model_name: str,
    candidate: str,
    commit: str | None = None,
    training_run: str | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> ModelVersion:
    """The candidate artifact folder (or azureml:// path) as a registered, content-versioned model."""
    return ModelVersion(
        f"{name}-version",
        workspace=workspace,
        model_name=model_name,
        path=candidate,
        commit=commit,
        training_run=training_run,
        opts=opts,
    )


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
