"""Moving an endpoint to its declared state safely: the steps behind the EndpointTraffic resource.

Declared state, from the decision and the stack's approval settings:
    live     the version that must serve 100 % of live traffic (None: the endpoint stays as it is)
    staged   a winner that must wait for approval, deployed and smoke-tested in the idle slot. Its
             `staged` tag (stages.py: won, not live) is written when the work on it starts, so a
             failed deployment leaves it `staged` and the next run retries it
Safety rules, each enforced here:
  * a slot gets traffic (live or mirror) only after its deployment is read back healthy and has
    answered a scoring smoke test through the endpoint;
  * every traffic map sums to 100 (traffic never drops to zero once something is live);
  * every endpoint change goes through the gateway's read-modify-write of the live endpoint;
  * a new model goes to a slot without live traffic (first moving stray traffic back to the live
    model if a manual change left some there);
  * on any failure after traffic started to move, traffic goes back to the previous champion and
    the stage tags back to what they were, then the error is raised: a re-run starts over from the
    live state and converges, because every step first checks whether it is already done.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .live import LiveEndpoint, read_live
from .model_ref import version_in
from .rollout import describe, plan_steps, traffic_for
from .smoke import smoke_test
from .values import is_unknown
from .stages import PRODUCTION, STAGED, set_stages, stages_of

CHALLENGER = "challenger"


class UnsafeTrafficChange(RuntimeError):
    """A traffic change was refused because it would break a safety rule."""


class ReleaseFailed(RuntimeError):
    """A release step failed; traffic was put back on the previous champion."""


class StaleDecision(RuntimeError):
    """The endpoint no longer serves the champion the decision was made against."""


@dataclass(frozen=True)
class Declared:
    live: str | None
    staged: str | None
    note: str


def declared_state(spec: dict) -> Declared:
    """What the endpoint must look like for these inputs (pure: no Azure call)."""
    challenger, champion = spec["challenger_version"], spec["champion_version"]
    if spec["winner"] != CHALLENGER:
        if champion is None:
            return Declared(None, None, f"challenger {challenger} lost and no model is live: the endpoint stays as it is")
        return Declared(champion, None, f"challenger {challenger} lost: traffic stays on {champion}")
    if challenger == champion:
        return Declared(challenger, None, f"{challenger} is already the production model")
    if spec["require_approval"] and spec.get("approved_version") != challenger:
        return Declared(champion, challenger,
                        f"challenger {challenger} won; waiting for approved_version={challenger} "
                        f"(approved_version is {spec.get('approved_version')!r})")
    return Declared(challenger, None, f"challenger {challenger} won: it takes all traffic")


def intent(spec: dict) -> str:
    """One line for a preview or an offline plan: what an `up` with these inputs will do."""
    if spec.get("winner") is None or any(is_unknown(spec.get(k)) for k in
                                         ("winner", "challenger_version", "champion_version", "approved_version")):
        return "decided when the champion/challenger comparison has run"
    declared = declared_state(spec)
    if declared.live == spec["challenger_version"] and declared.live != spec["champion_version"]:
        steps = [describe(step) for step in plan_steps(spec["rollout"], spec["champion_version"] is not None)]
        return f"{declared.note}, in steps: {' -> '.join(steps)}"
    return declared.note


def slots_serving(version: str, slot_models: dict, model_name: str) -> list[str]:
    """The slots whose deployment serves `version`, from a recorded {slot: model id} map."""
    return [slot for slot, model_id in sorted(slot_models.items()) if version_in(model_id, model_name) == version]


class TrafficRelease:
    """One run of convergence for one EndpointTraffic resource. Lives only inside a provider method."""

    def __init__(self, gateway, spec: dict, sleep=None):
        self.gateway = gateway
        self.spec = spec
        self.sleep = sleep or time.sleep
        self.endpoint = spec["endpoint_name"]
        self.model_name = spec["model_name"]
        self.slots = list(spec["slots"])
        self.log: list[str] = []

    # -- reading -------------------------------------------------------------------------------
    def read(self) -> LiveEndpoint:
        return read_live(self.gateway, self.endpoint, self.slots)

    def _model_id(self, version: str) -> str:
        model = self.gateway.get_model_version(self.model_name, version)
        if model is None:
            raise LookupError(f"model {self.model_name} version {version} is not in the registry; "
                              f"the ModelVersion resource registers it")
        return model.id

    # -- guarded writes ------------------------------------------------------------------------
    def _verify_slot(self, slot: str, version: str) -> None:
        """The slot's deployment exists, is healthy, serves `version` and answers a smoke test."""
        deployment = self.gateway.get_deployment(self.endpoint, slot)
        if deployment is None:
            raise UnsafeTrafficChange(f"deployment {slot!r} of endpoint {self.endpoint!r} does not exist")
        live = LiveEndpoint(self.endpoint, {}, {}, {slot: deployment})
        if not live.healthy(slot):
            raise UnsafeTrafficChange(f"deployment {slot!r} of endpoint {self.endpoint!r} is "
                                      f"{deployment.provisioning_state}, not Succeeded")
        if live.version(slot, self.model_name) != version:
            raise UnsafeTrafficChange(f"deployment {slot!r} serves {deployment.model_id}, "
                                      f"not {self.model_name} version {version}")
        smoke_test(self.gateway, self.endpoint, slot, self.spec["smoke_payload"])

    def _set_traffic(self, traffic: dict[str, int], mirror: dict[str, int], why: str) -> None:
        if sum(traffic.values()) != 100:
            raise UnsafeTrafficChange(f"refusing traffic {traffic}: live traffic must sum to 100")
        if any(traffic.get(slot, 0) for slot in mirror):
            raise UnsafeTrafficChange(f"refusing mirror {mirror}: a mirrored deployment must have no live traffic")
        self.gateway.set_traffic(self.endpoint, traffic, mirror_traffic=mirror)
        self.log.append(f"traffic {traffic} mirror {mirror}: {why}")

    def _deploy(self, slot: str, version: str, live: LiveEndpoint) -> None:
        """Put `version` on `slot` unless it serves it healthily already; the slot must carry no live traffic.

        A slot that holds `version` but failed provisioning is written again: Azure ML retries the
        provisioning on a new PUT of the deployment."""
        if live.version(slot, self.model_name) == version and live.healthy(slot):
            return
        if live.traffic.get(slot, 0) or live.mirror.get(slot, 0):
            raise UnsafeTrafficChange(f"deployment {slot!r} still receives traffic; refusing to change its model")
        self.gateway.set_deployment_model(self.endpoint, slot, self._model_id(version))
        self.log.append(f"deployment {slot}: model {self.model_name}:{version}")

    def _idle_slot(self, live: LiveEndpoint, keep: str | None) -> str:
        candidates = [s for s in self.slots if s != keep]
        if not candidates:
            raise UnsafeTrafficChange(f"no slot besides {keep!r} among {self.slots}")
        return min(candidates, key=lambda s: (live.traffic.get(s, 0) + live.mirror.get(s, 0), self.slots.index(s)))

    def _consolidate(self, live: LiveEndpoint, slot: str, version: str, why: str) -> LiveEndpoint:
        """All live traffic on `slot` (which serves `version`), no mirror, if that is not so already."""
        target = {s: (100 if s == slot else 0) for s in sorted(set(self.slots) | set(live.traffic))}
        if live.traffic == {slot: 100} and not live.mirror:
            return live
        self._verify_slot(slot, version)
        self._set_traffic(target, {}, why)
        return self.read()

    # -- the two declared roles ----------------------------------------------------------------
    def ensure_live(self, version: str) -> None:
        live = self.read()
        serving = live.serving_slot()
        serving_version = live.version(serving, self.model_name)
        self._refuse_stale_decision(version, serving, serving_version)
        if serving_version == version:
            self._consolidate(live, serving, version, f"restore {version} as the only live model")
            set_stages(self.gateway, self.model_name, production=version, staged=None)
            return
        self._promote(live, version, serving, serving_version)

    def _refuse_stale_decision(self, version: str, serving: str | None, serving_version: str | None) -> None:
        """A challenger goes live only over the champion it beat (a prod approval can come days later)."""
        champion = self.spec["champion_version"]
        if version != self.spec["challenger_version"] or serving is None or serving_version in (version, champion):
            return
        raise StaleDecision(
            f"the decision compared {version} with champion {champion}, but endpoint {self.endpoint!r} now "
            f"serves {self.model_name}:{serving_version} on {serving}; traffic is left as it is. Decide again "
            f"with `pulumi up --replace <ChampionSelection urn>`")

    def _promote(self, live: LiveEndpoint, version: str, old_slot: str | None, old_version: str | None) -> None:
        original_traffic = dict(live.traffic)
        new_slot = live.slot_of(version, self.model_name)
        if new_slot is None or new_slot == old_slot:
            new_slot = self._idle_slot(live, keep=old_slot)
        set_stages(self.gateway, self.model_name, production=old_version, staged=version)
        moved = False
        try:
            ready = live.version(new_slot, self.model_name) == version and live.healthy(new_slot)
            if not ready and old_slot is not None and (live.traffic.get(new_slot, 0) or live.mirror.get(new_slot, 0)):
                live = self._consolidate(live, old_slot, old_version, f"clear slot {new_slot} for {version}")
                moved = True
            self._deploy(new_slot, version, live)
            self._verify_slot(new_slot, version)
            for step in plan_steps(self.spec["rollout"], has_previous=old_slot is not None):
                traffic, mirror = traffic_for(step, old_slot, new_slot, self.slots)
                moved = True
                self._set_traffic(traffic, mirror, f"{describe(step)} to {version}")
                self._verify_slot(new_slot, version)
                if self.spec["hold_seconds"] and step["kind"] != "full":
                    self.sleep(self.spec["hold_seconds"])
            set_stages(self.gateway, self.model_name, production=version, staged=None)
        except Exception as error:
            restored = self._roll_back(old_slot, old_version, version, original_traffic, moved)
            raise ReleaseFailed(f"releasing {self.model_name}:{version} on {self.endpoint!r} failed: {error}. "
                                f"{restored}") from error

    def _roll_back(self, old_slot, old_version, version, original_traffic, moved) -> str:
        """Traffic back on the previous champion (or back to none on a first release), stage tags back."""
        notes = []
        try:
            if moved:
                if old_slot is not None:
                    self._verify_slot(old_slot, old_version)
                    traffic = {s: (100 if s == old_slot else 0) for s in self.slots}
                    self._set_traffic(traffic, {}, f"roll back to {old_version}")
                    notes.append(f"traffic is back on {old_version} ({old_slot})")
                elif sum(original_traffic.values()) == 0:
                    self.gateway.set_traffic(self.endpoint, {s: 0 for s in self.slots}, mirror_traffic={})
                    notes.append("traffic is back to none, as before")
            else:
                notes.append("traffic was not changed")
            set_stages(self.gateway, self.model_name, production=old_version, staged=version)
            notes.append(f"stage tags: {old_version} {PRODUCTION}, {version} {STAGED}")
        except Exception as rollback_error:  # report both: the caller raises the original error
            notes.append(f"ROLLBACK INCOMPLETE ({rollback_error}); run `pulumi refresh` and `pulumi up` again")
        return "; ".join(notes)

    def ensure_staged(self, version: str, live_version: str | None) -> None:
        live = self.read()
        keep = live.slot_of(live_version, self.model_name) if live_version else live.serving_slot()
        slot = live.slot_of(version, self.model_name)
        if slot is None or slot == keep:
            slot = self._idle_slot(live, keep=keep)
        set_stages(self.gateway, self.model_name, production=live_version, staged=version)
        self._deploy(slot, version, live)
        self._verify_slot(slot, version)
        self.log.append(f"{version} staged on {slot}, smoke test passed")

    # -- the whole run -------------------------------------------------------------------------
    def converge(self) -> Declared:
        declared = declared_state(self.spec)
        self.log.append(declared.note)
        if declared.live is not None:
            self.ensure_live(declared.live)
        if declared.staged is not None:
            self.ensure_staged(declared.staged, declared.live)
        else:
            unstaged = set_stages(self.gateway, self.model_name, production=None, staged=None, nothing_staged=True)
            self.log.extend(f"stage tags: {version} {stage} (no release waits now)" for version, stage in unstaged.items())
        return declared

    def observe(self, declared: Declared) -> dict:
        """The live facts the resource records and compares on refresh."""
        live = self.read()
        versions = {declared.live, declared.staged, self.spec["challenger_version"], self.spec["champion_version"]}
        return {
            "live_version": live.version(live.serving_slot(), self.model_name),
            "staged_version": declared.staged,
            "traffic": live.traffic,
            "mirror_traffic": live.mirror,
            "slot_models": {slot: live.model_id(slot) for slot in self.slots},
            "stages": stages_of(self.gateway, self.model_name, versions),
        }
