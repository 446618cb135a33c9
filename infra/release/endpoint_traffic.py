"""EndpointTraffic: the only owner of what an online endpoint serves (design decision 5).

It owns the endpoint's traffic and its two slots' deployments whole: model, scoring code,
environment, instance type, request settings and probes (`serving`, see serving_spec.py). From a
champion/challenger decision and the stack's rollout and approval settings it puts the winner, or
the live model under a new serving spec, on the slot without traffic, smoke-tests it through the
endpoint, moves traffic in the stack's steps, and keeps the registry's stage tags true (see
traffic_release.py for the safety rules). `read` reports the live traffic, what each slot serves
and the stage tags, so `pulumi refresh` (or `preview --refresh`) shows a manual change as drift;
an `up` refuses to act on an endpoint whose traffic someone else changed until a refresh accepts
it. Deleting the resource leaves traffic and deployments exactly as they are.

Its id is `<endpoint ARM id>/traffic`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from infra.facts import (
    DEPLOYMENT_ACCEPTED,
    DEPLOYMENT_NAME,
    ENDPOINT_ACCEPTED,
    ENDPOINT_NAME,
    MAX_HOLD_SECONDS,
    SLOTS,
    full,
    matches,
)

from .base import WORKSPACE_FIELDS, ReleaseProvider, WorkspaceCoordinates, gateway_for, read_workspace, workspace_ref
from .fields import FieldReader
from .traffic.live import EndpointMissing
from .traffic.release import CHALLENGER, TrafficRelease, declared_state, intent, serving_approved, slots_serving
from .traffic.rollout import read_rollout
from .traffic.serving_spec import read_serving, serving_version
from .traffic.smoke import default_payload
from .traffic.stages import PRODUCTION, STAGED
from .values import is_unknown, percentages, plain, without_engine_keys

RESOURCE = "EndpointTraffic"
REPLACE_FIELDS = (*WORKSPACE_FIELDS, "endpoint_name", "model_name")
DECLARED_FIELDS = (
    "slots",
    "challenger_version",
    "winner",
    "champion_version",
    "require_approval",
    "approved_version",
    "approved_serving_version",
    "rollout",
    "hold_seconds",
    "smoke_payload",
    "serving",
)
DEFAULT_SLOTS = SLOTS


def _read_slots(reader: FieldReader) -> list[str]:
    value = reader.props.get("slots") or list(DEFAULT_SLOTS)
    if is_unknown(value):
        return value
    accepted = f"{len(SLOTS)} different deployment names {DEPLOYMENT_ACCEPTED.removeprefix('a deployment name ')}"
    if (
        not isinstance(value, (list, tuple))
        or len(value) != len(SLOTS)
        or len(set(value)) != len(SLOTS)
        or not all(isinstance(s, str) and matches(DEPLOYMENT_NAME, s) for s in value)
    ):
        reader.fail("slots", value, accepted)
        return list(DEFAULT_SLOTS)
    return list(value)


def _read_payload(reader: FieldReader) -> dict:
    value = reader.props.get("smoke_payload") or default_payload()
    if is_unknown(value):
        return value
    texts = value.get("texts") if isinstance(value, dict) else None
    if (
        set(value) != {"texts"}
        or not isinstance(texts, list)
        or not texts
        or not all(isinstance(t, str) and t for t in texts)
    ):
        reader.fail("smoke_payload", value, 'a scoring request {"texts": ["a text", ...]} (serving/score.py)')
        return default_payload()
    return {"texts": list(texts)}


def _check_inputs(props: dict, deciding: bool = False) -> tuple[dict, list[tuple[str, str]]]:
    """`deciding`: a preview may not know the decision yet (an offline plan leaves `winner` empty)."""
    reader = FieldReader(RESOURCE, props)
    checked = read_workspace(reader)
    checked["endpoint_name"] = reader.text("endpoint_name", pattern=full(ENDPOINT_NAME), accepted=ENDPOINT_ACCEPTED)
    checked["model_name"] = reader.name("model_name")
    checked["slots"] = _read_slots(reader)
    checked["challenger_version"] = reader.name("challenger_version")
    if deciding and props.get("winner") is None:
        checked["winner"] = None
    else:
        checked["winner"] = reader.choice("winner", (CHALLENGER, "champion"))
    checked["champion_version"] = reader.name("champion_version", required=False)
    checked["require_approval"] = reader.boolean("require_approval", False)
    checked["approved_version"] = reader.name("approved_version", required=False)
    checked["approved_serving_version"] = reader.name("approved_serving_version", required=False)
    checked["serving"] = read_serving(reader)
    serving = checked["serving"]
    checked["serving_version"] = serving if is_unknown(serving) or serving is None else serving_version(serving)
    checked["rollout"] = read_rollout(reader)
    checked["hold_seconds"] = reader.number("hold_seconds", 0, 0, MAX_HOLD_SECONDS)
    checked["smoke_payload"] = _read_payload(reader)
    if not reader.failures:
        checked["intent"] = intent(checked)
    return checked, reader.failures


def drifted(spec: dict, observed: dict) -> list[str]:
    """How the recorded live facts differ from what `spec` declares ([] when they agree)."""
    declared = declared_state(spec)
    slot_models = observed.get("slot_models") or {}
    stages = observed.get("stages") or {}
    traffic, mirror = percentages(observed.get("traffic")), percentages(observed.get("mirror_traffic"))
    slot_serving = observed.get("slot_serving") or {}
    holding = {
        version: slots_serving(version, slot_models, spec["model_name"])
        for version in (declared.live, declared.staged)
        if version
    }
    problems = []
    if declared.live is not None:
        if mirror or len(traffic) != 1 or next(iter(traffic)) not in holding[declared.live]:
            problems.append(f"traffic {traffic} mirror {mirror}; declared: {declared.live} alone at 100%")
        elif serving_approved(spec) and slot_serving.get(next(iter(traffic))) != spec["serving_version"]:
            problems.append(
                f"the live slot runs serving version {slot_serving.get(next(iter(traffic)))!r}; "
                f"declared: {spec['serving_version']}"
            )
        if stages.get(declared.live) != PRODUCTION:
            problems.append(f"{declared.live} is tagged {stages.get(declared.live)!r}; declared: {PRODUCTION}")
    if declared.staged is not None:
        if not [slot for slot in holding[declared.staged] if not traffic.get(slot)]:
            problems.append(f"{declared.staged} is on no slot without live traffic; declared: staged on the idle slot")
        if stages.get(declared.staged) != STAGED:
            problems.append(f"{declared.staged} is tagged {stages.get(declared.staged)!r}; declared: {STAGED}")
    return problems


def _run(spec: dict, recorded: dict | None = None) -> dict:
    """Converge; `recorded` is the state of the previous run (None on create)."""
    expected = None if recorded is None else (recorded.get("traffic") or {}, recorded.get("mirror_traffic") or {})
    release = TrafficRelease(gateway_for(workspace_ref(spec)), spec, expected)
    declared = release.converge()
    observed = release.observe(declared)
    return {**spec, **observed, "declared_live_version": declared.live, "note": declared.note, "last_run": release.log}


class EndpointTrafficProvider(ReleaseProvider):
    """Engine lifecycle of an endpoint's traffic. Holds nothing: every method builds its gateway."""

    resource = RESOURCE
    replace_fields = REPLACE_FIELDS
    compared_fields = DECLARED_FIELDS

    def check_inputs(self, props: dict, *, previewing: bool = False) -> tuple[dict, list[tuple[str, str]]]:
        """A preview may not know the decision yet (an offline plan leaves `winner` empty)."""
        return _check_inputs(props, deciding=previewing)

    def changed(self, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        return news.get("winner") is None or super().changed(olds, news) or bool(drifted(self.spec(news), plain(olds)))

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        spec = self.spec(props)
        outputs = _run(spec)
        return dynamic.CreateResult(traffic_id(spec), outputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(_run(self.spec(news), plain(olds)))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        state = without_engine_keys(props)
        spec = self.spec(state)
        release = TrafficRelease(gateway_for(workspace_ref(spec)), spec)
        try:
            observed = release.observe(declared_state(spec))
        except EndpointMissing:
            return dynamic.ReadResult("", {})
        return dynamic.ReadResult(id_, {**state, **observed})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Traffic stays exactly as it is: removing the owner must not take the endpoint down."""


def traffic_id(spec: dict) -> str:
    return (
        f"/subscriptions/{spec['subscription_id']}/resourceGroups/{spec['resource_group']}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/{spec['workspace_name']}/onlineEndpoints/"
        f"{spec['endpoint_name']}/traffic"
    )


class EndpointTraffic(dynamic.Resource, module="release", name="EndpointTraffic"):
    """Traffic of `endpoint_name` between its two slots, moved to the winner of a ChampionSelection."""

    live_version: pulumi.Output[str | None]
    staged_version: pulumi.Output[str | None]
    traffic: pulumi.Output[dict]
    mirror_traffic: pulumi.Output[dict]
    slot_models: pulumi.Output[dict]
    stages: pulumi.Output[dict]
    intent: pulumi.Output[str]
    note: pulumi.Output[str]
    last_run: pulumi.Output[list]

    def __init__(
        self,
        resource_name: str,
        *,
        workspace: WorkspaceCoordinates,
        endpoint_name: pulumi.Input[str],
        model_name: pulumi.Input[str],
        challenger_version: pulumi.Input[str],
        winner: pulumi.Input[str],
        champion_version: pulumi.Input[str | None],
        serving: pulumi.Input[dict],
        slots: Sequence[str] = DEFAULT_SLOTS,
        require_approval: bool = False,
        approved_version: pulumi.Input[str] | None = None,
        approved_serving_version: pulumi.Input[str] | None = None,
        rollout: Sequence[dict] | None = None,
        hold_seconds: float = 0,
        smoke_payload: dict | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            **workspace.as_props(),
            "endpoint_name": endpoint_name,
            "model_name": model_name,
            "slots": list(slots),
            "challenger_version": challenger_version,
            "winner": winner,
            "champion_version": champion_version,
            "require_approval": require_approval,
            "approved_version": approved_version,
            "approved_serving_version": approved_serving_version,
            "serving": serving,
            "serving_version": None,
            "rollout": list(rollout or []),
            "hold_seconds": hold_seconds,
            "smoke_payload": smoke_payload or default_payload(),
            "live_version": None,
            "staged_version": None,
            "traffic": None,
            "mirror_traffic": None,
            "slot_models": None,
            "slot_serving": None,
            "stages": None,
            "declared_live_version": None,
            "intent": None,
            "note": None,
            "last_run": None,
        }
        super().__init__(EndpointTrafficProvider(), resource_name, props, opts)
