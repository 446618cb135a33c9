"""ModelRelease: the release of one registered candidate on one endpoint, wired output to input.

    ModelVersion (candidate folder) -> ChampionSelection (vs what the endpoint serves) -> EndpointTraffic

The candidate's ModelVersion is declared on its own (`register_candidate`), parented to its
workspace. The selection reads the endpoint by name and the traffic deploys the slots under the
`serving` spec, so both come after the endpoint and the serving assets they take as inputs.
"""
from __future__ import annotations

from typing import Optional, Sequence

import pulumi

from .champion_selection import ChampionSelection
from .endpoint_traffic import DEFAULT_SLOTS, EndpointTraffic
from .model_version import ModelVersion


def rollout_steps(mirror_percent: int = 0, canary_percents: Sequence[int] = ()) -> list[dict]:
    """The EndpointTraffic `rollout` for a stack's settings: an optional mirror step, then the canaries."""
    steps = [{"mirror": int(mirror_percent)}] if mirror_percent else []
    return steps + [{"canary": int(p)} for p in canary_percents]


def register_candidate(name: str, *, subscription_id: pulumi.Input[str], resource_group: pulumi.Input[str],
                       workspace_name: pulumi.Input[str], model_name: str, candidate: str,
                       commit: Optional[str] = None, training_run: Optional[str] = None,
                       opts: Optional[pulumi.ResourceOptions] = None) -> ModelVersion:
    """The candidate artifact folder (or azureml:// path) as a registered, content-versioned model."""
    return ModelVersion(f"{name}-version", subscription_id=subscription_id, resource_group=resource_group,
                        workspace_name=workspace_name, model_name=model_name, path=candidate,
                        commit=commit, training_run=training_run, opts=opts)


class ModelRelease(pulumi.ComponentResource):
    model_version: ModelVersion
    selection: ChampionSelection
    traffic: EndpointTraffic

    def __init__(self, name: str, *, model_version: ModelVersion,
                 subscription_id: pulumi.Input[str], resource_group: pulumi.Input[str],
                 workspace_name: pulumi.Input[str], endpoint_name: pulumi.Input[str], model_name: str,
                 evaluation_data: str, serving: pulumi.Input[dict], slots: Sequence[str] = DEFAULT_SLOTS,
                 rollout: Sequence[dict] = (), hold_seconds: float = 0, require_approval: bool = False,
                 approved_version: Optional[str] = None, approved_serving_version: Optional[str] = None,
                 compare_settings: Optional[dict] = None,
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("mlops:release:ModelRelease", name, None, opts)
        workspace = {"subscription_id": subscription_id, "resource_group": resource_group,
                     "workspace_name": workspace_name}
        child = pulumi.ResourceOptions(parent=self)
        self.model_version = model_version
        self.selection = ChampionSelection(
            f"{name}-selection", **workspace, endpoint_name=endpoint_name, model_name=model_name,
            challenger_version=self.model_version.version, challenger_path=self.model_version.path,
            evaluation_data=evaluation_data, compare_settings=compare_settings or {}, opts=child)
        self.traffic = EndpointTraffic(
            f"{name}-traffic", **workspace, endpoint_name=endpoint_name, model_name=model_name,
            challenger_version=self.model_version.version, winner=self.selection.winner,
            champion_version=self.selection.champion_version, slots=slots, require_approval=require_approval,
            approved_version=approved_version, approved_serving_version=approved_serving_version, serving=serving,
            rollout=rollout, hold_seconds=hold_seconds, opts=child)
        self.register_outputs({
            "candidate_version": self.model_version.version,
            "winner": self.selection.winner,
            "reason": self.selection.reason,
            "live_version": self.traffic.live_version,
            "staged_version": self.traffic.staged_version,
        })
