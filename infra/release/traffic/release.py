"""Moving an endpoint to its declared state safely: the steps behind the EndpointTraffic resource.

Declared state, from the decision and the stack's approval settings:
    live     the version that must serve 100 % of live traffic (None: the endpoint stays as it is)
    staged   a winner that must wait for approval, deployed and smoke-tested in the idle slot. Its
             `staged` tag (stages.py: won, not live) is written when the work on it starts, so a
             failed deployment leaves it `staged` and the next run retries it
What a slot serves is a model version under a serving spec (serving_spec.py: code, environment,
instance type, request settings, probes). A new model and a new spec for the live model are both
releases: deployed to the idle slot, smoke-tested, rolled out in the stack's steps, approved in a
stack that requires approval (`approved_version` names the model, `approved_serving_version` the
spec). Only the instance count of the live slot changes in place.
Safety rules, each enforced here:
  * the champion is the version the registry tags `production`, never a guess from traffic shares;
  * before every write the live endpoint is read again and must carry exactly the traffic this
    release last left (its recorded state, or what it wrote since): anything else is someone else's
    change, and the run stops without writing (ForeignChange; `pulumi refresh` accepts the change);
  * a slot gets traffic (live or mirror) only after its deployment is read back healthy, running
    the candidate and its spec, and has answered a scoring smoke test, checked before each write;
  * every traffic map sums to 100 (traffic never drops to zero once something is live);
  * a deployment that carries traffic is never written, except its instance count;
  * on any failure after traffic started to move, the traffic and mirror maps found at the start
    are restored exactly (wherever the champion served from) and the stage tags put back, then the
    error is raised: a re-run starts over from the live state and converges, because every step
    first checks whether it is already done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..model_ref import registry_path_of, version_in
from ..values import is_unknown, percentages
from .live import LiveEndpoint, read_live
from .rollout import describe, plan_steps, traffic_for
from .serving_spec import SERVING_VERSION_TAG, deployment_spec
from .smoke import smoke_test
from .stages import production_version, set_stages, stages_of

CHALLENGER = "challenger"


class UnsafeTrafficChange(RuntimeError):
    """A traffic change was refused because it would break a safety rule."""


class ReleaseFailed(RuntimeError):
    """A release step failed; traffic was put back on the previous champion."""


class StaleDecision(RuntimeError):
    """The endpoint no longer serves the champion the decision was made against."""


class ForeignChange(RuntimeError):
    """The endpoint's traffic is not what this release last left: someone else changed it."""


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
            return Declared(
                None, None, f"challenger {challenger} lost and no model is live: the endpoint stays as it is"
            )
        return Declared(champion, None, f"challenger {challenger} lost: traffic stays on {champion}")
    if challenger == champion:
        return Declared(challenger, None, f"{challenger} is already the production model")
    if spec["require_approval"] and spec.get("approved_version") != challenger:
        return Declared(
            champion,
            challenger,
            f"challenger {challenger} won; waiting for approved_version={challenger} "
            f"(approved_version is {spec.get('approved_version')!r})",
        )
    if not serving_approved(spec):
        return Declared(
            champion,
            challenger,
            f"challenger {challenger} won and is approved; waiting for approved_serving_version="
            f"{spec['serving_version']} (approved_serving_version is "
            f"{spec.get('approved_serving_version')!r})",
        )
    return Declared(challenger, None, f"challenger {challenger} won: it takes all traffic")


def serving_approved(spec: dict) -> bool:
    return not spec["require_approval"] or spec.get("approved_serving_version") == spec["serving_version"]


def approval_hint(spec: dict) -> str:
    return (
        f"approve with approved_version={spec['challenger_version']} and "
        f"approved_serving_version={spec['serving_version']}"
    )


def intent(spec: dict) -> str:
    """One line for a preview or an offline plan: what an `up` with these inputs will do."""
    if spec.get("winner") is None or any(
        is_unknown(spec.get(k)) for k in ("winner", "challenger_version", "champion_version", "approved_version")
    ):
        return "decided when the champion/challenger comparison has run"
    declared = declared_state(spec)
    if declared.live == spec["challenger_version"] and declared.live != spec["champion_version"]:
        steps = [describe(step) for step in plan_steps(spec["rollout"], spec["champion_version"] is not None)]
        return f"{declared.note}, in steps: {' -> '.join(steps)}"
    if declared.staged is not None:
        return f"{declared.note}; {approval_hint(spec)}"
    return declared.note


def slots_serving(version: str, slot_models: dict, model_name: str) -> list[str]:
    """The slots whose deployment serves `version`, from a recorded {slot: model id} map."""
    return [slot for slot, model_id in sorted(slot_models.items()) if version_in(model_id, model_name) == version]


class TrafficRelease:
    """One run of convergence for one EndpointTraffic resource. Lives only inside a provider method.

    `expected` is the (traffic, mirror) the release last left, from the resource's recorded state;
    None on create, where the first read sets it."""

    def __init__(self, gateway, spec: dict, expected: tuple[dict, dict] | None = None, sleep=None):
        self.gateway = gateway
        self.spec = spec
        self.sleep = sleep or time.sleep
        self.endpoint = spec["endpoint_name"]
        self.model_name = spec["model_name"]
        self.slots = list(spec["slots"])
        self.serving = spec["serving"]
        self.expected = None if expected is None else (percentages(expected[0]), percentages(expected[1]))
        self.rewritten: set[str] = set()  # slots this run put another deployment on
        self.log: list[str] = []

    # -- reading -------------------------------------------------------------------------------
    def read(self) -> LiveEndpoint:
        return read_live(self.gateway, self.endpoint, self.slots)

    def read_unchanged(self) -> LiveEndpoint:
        """The live endpoint, which must carry exactly the traffic this release last left."""
        live = self.read()
        found = (live.traffic, live.mirror)
        if self.expected is None:
            self.expected = found
        elif found != self.expected:
            raise ForeignChange(
                f"endpoint {self.endpoint!r} carries traffic {live.traffic} mirror {live.mirror}, but this release "
                f"last left traffic {self.expected[0]} mirror {self.expected[1]}: someone else changed it. Nothing "
                f"was written and traffic is left as it is. To release from the endpoint as it is now, accept the "
                f"change with `pulumi refresh`, then run `pulumi up` again"
            )
        return live

    def _model_id(self, version: str) -> str:
        """What a slot deploys for `version`: the registry's version itself when the workspace's version
        was registered from it (a deployment may use a registry model directly; Azure ML docs, "Share
        models, components and environments across workspaces with registries"), else the workspace's."""
        model = self.gateway.get_model_version(self.model_name, version)
        if model is None:
            raise LookupError(
                f"model {self.model_name} version {version} is not in the workspace; "
                f"the ModelVersion resource registers it"
            )
        registry_model = registry_path_of(model.path)
        return model.id if registry_model is None else registry_model.uri

    # -- guarded writes ------------------------------------------------------------------------
    def _verify_slot(self, slot: str, version: str, *, spec_too: bool = True) -> None:
        """The slot's deployment exists, is healthy, serves `version` (under the serving spec, unless
        `spec_too` is False: traffic going back to the champion as it runs) and answers a smoke test."""
        deployment = self.gateway.get_deployment(self.endpoint, slot)
        if deployment is None:
            raise UnsafeTrafficChange(f"deployment {slot!r} of endpoint {self.endpoint!r} does not exist")
        live = LiveEndpoint(self.endpoint, {}, {}, {slot: deployment})
        if not live.healthy(slot):
            raise UnsafeTrafficChange(
                f"deployment {slot!r} of endpoint {self.endpoint!r} is {deployment.provisioning_state}, not Succeeded"
            )
        if live.version(slot, self.model_name) != version or (
            spec_too and not live.runs(slot, version, self.model_name, self.serving)
        ):
            raise UnsafeTrafficChange(
                f"deployment {slot!r} serves {deployment.model_id} with serving version "
                f"{deployment.tags.get(SERVING_VERSION_TAG)!r}, not {self.model_name} version {version} with serving "
                f"version {self.spec['serving_version']}"
            )
        smoke_test(self.gateway, self.endpoint, slot, self.spec["smoke_payload"])

    def _write_traffic(self, traffic: dict[str, int], mirror: dict[str, int], why: str) -> None:
        self.gateway.set_traffic(self.endpoint, traffic, mirror_traffic=mirror)
        self.expected = (percentages(traffic), percentages(mirror))
        self.log.append(f"traffic {traffic} mirror {mirror}: {why}")

    def _move_traffic(
        self, traffic: dict[str, int], mirror: dict[str, int], onto: str, version: str, why: str, spec_too: bool = True
    ) -> None:
        """Re-read the endpoint and check the slot that gains traffic, then write."""
        if sum(traffic.values()) != 100:
            raise UnsafeTrafficChange(f"refusing traffic {traffic}: live traffic must sum to 100")
        if any(traffic.get(slot, 0) for slot in mirror):
            raise UnsafeTrafficChange(f"refusing mirror {mirror}: a mirrored deployment must have no live traffic")
        self.read_unchanged()
        self._verify_slot(onto, version, spec_too=spec_too)
        self._write_traffic(traffic, mirror, why)

    def _deploy(self, slot: str, version: str, live: LiveEndpoint) -> None:
        """Put `version` under the serving spec on `slot` unless it runs it healthily already; the slot must
        carry no traffic. A slot that failed provisioning is written again: Azure ML retries on a new PUT."""
        if live.runs(slot, version, self.model_name, self.serving):
            return
        if live.carries_traffic(slot):
            raise UnsafeTrafficChange(f"deployment {slot!r} still receives traffic; refusing to change what it serves")
        self.read_unchanged()
        self.rewritten.add(slot)
        self.gateway.put_deployment(self.endpoint, slot, deployment_spec(self.serving, self._model_id(version), slot))
        self.log.append(f"deployment {slot}: model {self.model_name}:{version}, serving {self.spec['serving_version']}")

    def _ensure_capacity(self, slot: str, live: LiveEndpoint) -> None:
        """Instance count is capacity only: the live slot gets it in place."""
        deployment = live.deployments.get(slot)
        wanted = int(self.serving["instance_count"])
        if deployment is not None and deployment.instance_count != wanted:
            self.read_unchanged()
            self.gateway.set_deployment_capacity(self.endpoint, slot, wanted)
            self.log.append(f"deployment {slot}: {deployment.instance_count} -> {wanted} instances, in place")

    def _idle_slot(self, live: LiveEndpoint, version: str, keep: str | None) -> str | None:
        """A named slot without traffic for `version`: one that runs it already, else the first free one."""
        free = [s for s in self.slots if s != keep and not live.carries_traffic(s)]
        ready = [s for s in free if live.runs(s, version, self.model_name, self.serving)]
        return (ready or free or [None])[0]

    def _champion_slot(self, live: LiveEndpoint, champion: str | None) -> str | None:
        """Where live traffic is served from: the deployment serving the champion with the most traffic, else
        the only deployment with the most traffic."""
        if not live.traffic:
            return None
        serving_champion = [
            d for d in live.traffic if champion is not None and live.version(d, self.model_name) == champion
        ]
        candidates = serving_champion or list(live.traffic)
        top = max(live.traffic[d] for d in candidates)
        leaders = sorted(d for d in candidates if live.traffic[d] == top)
        if len(leaders) > 1 and not serving_champion:
            raise UnsafeTrafficChange(
                f"traffic {live.traffic} is split evenly between {leaders} and none serves the production version "
                f"{champion}; put the traffic on the deployment that should serve, then run `pulumi up` again"
            )
        return leaders[0]

    def _make_room(
        self, live: LiveEndpoint, version: str, keep: str | None, keep_version: str | None
    ) -> tuple[LiveEndpoint, str, bool]:
        """An idle slot for `version`, first moving all traffic onto `keep` if both named slots carry some."""
        slot = self._idle_slot(live, version, keep)
        if slot is not None:
            return live, slot, False
        if keep is None or keep_version is None:
            raise UnsafeTrafficChange(
                f"every slot of {self.slots} carries traffic {live.traffic} mirror {live.mirror} "
                f"and no production model serves; refusing to take one"
            )
        target = {s: (100 if s == keep else 0) for s in sorted(set(self.slots) | set(live.traffic))}
        self._move_traffic(target, {}, keep, keep_version, f"clear a slot for {version}", spec_too=False)
        live = self.read()
        slot = self._idle_slot(live, version, keep)
        if slot is None:
            raise UnsafeTrafficChange(
                f"all traffic is on {keep!r}, yet no other slot of {self.slots} is free "
                f"(traffic {live.traffic} mirror {live.mirror}); refusing to take one"
            )
        return live, slot, True

    # -- the two declared roles ----------------------------------------------------------------
    def ensure_live(self, version: str, staged: str | None) -> None:
        live = self.read_unchanged()
        champion = production_version(self.gateway, self.model_name)
        self._refuse_stale_decision(version, champion)
        serving = self._champion_slot(live, champion)
        if (
            serving is not None
            and live.traffic == {serving: 100}
            and not live.mirror
            and live.runs(serving, version, self.model_name, self.serving)
        ):
            self._ensure_capacity(serving, live)
            set_stages(self.gateway, self.model_name, production=version, staged=None)
            return
        if serving is not None and version == champion and live.runs(serving, version, self.model_name, self.serving):
            # The production model runs the declared spec on its slot, but traffic was moved (and a refresh
            # accepted it): one write puts it back. Releasing it again through the idle slot would overwrite
            # the deployment there, which may be the fallback a later rollback needs.
            target = {s: (100 if s == serving else 0) for s in sorted(set(self.slots) | set(live.traffic))}
            self._move_traffic(target, {}, serving, version, f"restore {version} as the only live model")
            self._ensure_capacity(serving, self.read())
            set_stages(self.gateway, self.model_name, production=version, staged=None)
            return
        if not serving_approved(self.spec):  # the live model under a new spec (a new model waits as `staged`)
            if staged is None:
                self._stage(live, version, keep=serving, keep_version=champion)
                self.log.append(
                    f"{self.model_name}:{version} with serving version {self.spec['serving_version']} "
                    f"waits for approval: {approval_hint(self.spec)}"
                )
            return
        self._promote(live, version, serving, champion)

    def _refuse_stale_decision(self, version: str, production: str | None) -> None:
        """A challenger goes live only over the champion it beat (a prod approval can come days later)."""
        champion = self.spec["champion_version"]
        if version != self.spec["challenger_version"] or production in (None, version, champion):
            return
        raise StaleDecision(
            f"the decision compared {version} with champion {champion}, but the registry now tags "
            f"{self.model_name}:{production} production on endpoint {self.endpoint!r}; traffic is left as it is. "
            f"Decide again with `pulumi up --replace <ChampionSelection urn>`"
        )

    def _promote(self, live: LiveEndpoint, version: str, old_slot: str | None, old_version: str | None) -> None:
        original = (dict(live.traffic), dict(live.mirror))
        if version != old_version:
            set_stages(self.gateway, self.model_name, production=old_version, staged=version)
        try:
            live, new_slot, _ = self._make_room(live, version, old_slot, old_version)
            self._deploy(new_slot, version, live)
            for step in plan_steps(self.spec["rollout"], has_previous=old_slot is not None):
                names = set(self.slots) | set(original[0]) | {old_slot} - {None}
                traffic, mirror = traffic_for(step, old_slot, new_slot, sorted(names))
                self._move_traffic(traffic, mirror, new_slot, version, f"{describe(step)} to {version}")
                if self.spec["hold_seconds"] and step["kind"] != "full":
                    self.sleep(self.spec["hold_seconds"])
            self._verify_slot(new_slot, version)  # once more at 100 %: a failure now still rolls back
            self._ensure_capacity(new_slot, self.read())
            set_stages(self.gateway, self.model_name, production=version, staged=None)
        except ForeignChange:
            raise
        except Exception as error:
            restored = self._roll_back(original, old_slot, old_version, version)
            raise ReleaseFailed(
                f"releasing {self.model_name}:{version} on {self.endpoint!r} failed: {error}. {restored}"
            ) from error

    def _roll_back(
        self, original: tuple[dict, dict], old_slot: str | None, old_version: str | None, version: str
    ) -> str:
        """The traffic and mirror maps found at the start, exactly, except that a share of a slot this run
        rewrote goes to the champion's slot (that slot no longer serves what it served); the stage tags as
        they were."""
        notes = []
        try:
            if self.expected == (percentages(original[0]), percentages(original[1])):
                notes.append("traffic was not changed")
            else:
                live = self.read()
                if (live.traffic, live.mirror) != self.expected:
                    notes.append(
                        f"traffic was changed by someone else during the release ({live.traffic} mirror "
                        f"{live.mirror}) and is left as it is"
                    )
                else:
                    traffic, mirror = self._restorable(original, old_slot, live.traffic)
                    self._write_traffic(traffic, mirror, "roll back")
                    notes.append(
                        f"traffic is back to {percentages(traffic) or 'none'} mirror "
                        f"{percentages(mirror) or 'none'}, as before"
                    )
            if version != old_version:
                set_stages(self.gateway, self.model_name, production=old_version, staged=version)
                notes.append(f"stage tags: {old_version} production, {version} staged")
        except Exception as rollback_error:  # report both: the caller raises the original error
            notes.append(f"ROLLBACK INCOMPLETE ({rollback_error}); run `pulumi refresh` and `pulumi up` again")
        return "; ".join(notes)

    def _restorable(self, original: tuple[dict, dict], old_slot: str | None, current: dict) -> tuple[dict, dict]:
        traffic = dict(original[0])
        moved_share = sum(traffic.pop(slot, 0) for slot in self.rewritten if slot != old_slot)
        if moved_share:
            if old_slot is None or old_slot in self.rewritten:
                raise UnsafeTrafficChange(
                    f"the slots that carried traffic {original[0]} were rewritten; no slot serves the previous traffic"
                )
            traffic[old_slot] = traffic.get(old_slot, 0) + moved_share
        mirror = {slot: pct for slot, pct in original[1].items() if slot not in self.rewritten}
        names = set(traffic) | set(current) | set(self.slots)
        return {name: traffic.get(name, 0) for name in sorted(names)}, mirror

    def _stage(self, live: LiveEndpoint, version: str, keep: str | None, keep_version: str | None) -> None:
        live, slot, _ = self._make_room(live, version, keep, keep_version)
        self._deploy(slot, version, live)
        self._verify_slot(slot, version)
        self.log.append(f"{version} staged on {slot}, smoke test passed")

    def ensure_staged(self, version: str, live_version: str | None) -> None:
        live = self.read_unchanged()
        keep = self._champion_slot(live, live_version)
        set_stages(self.gateway, self.model_name, production=live_version, staged=version)
        self._stage(live, version, keep, live_version)

    # -- the whole run -------------------------------------------------------------------------
    def converge(self) -> Declared:
        declared = declared_state(self.spec)
        self.log.append(declared.note)
        if declared.live is not None:
            self.ensure_live(declared.live, declared.staged)
        if declared.staged is not None:
            self.ensure_staged(declared.staged, declared.live)
        else:
            unstaged = set_stages(self.gateway, self.model_name, production=None, staged=None, nothing_staged=True)
            self.log.extend(
                f"stage tags: {version} {stage} (no release waits now)" for version, stage in unstaged.items()
            )
        return declared

    def observe(self, declared: Declared) -> dict:
        """The live facts the resource records and compares on refresh."""
        live = self.read()
        versions = {declared.live, declared.staged, self.spec["challenger_version"], self.spec["champion_version"]}
        names = sorted(set(self.slots) | set(live.traffic) | set(live.mirror))
        champion = production_version(self.gateway, self.model_name)
        return {
            "live_version": champion if live.traffic else None,
            "staged_version": declared.staged,
            "traffic": live.traffic,
            "mirror_traffic": live.mirror,
            "slot_models": {slot: live.model_id(slot) for slot in names},
            "slot_serving": {
                slot: (d.tags.get(SERVING_VERSION_TAG) if (d := live.deployments.get(slot)) else None) for slot in names
            },
            "stages": stages_of(self.gateway, self.model_name, versions),
        }
