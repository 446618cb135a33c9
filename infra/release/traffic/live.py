"""The live state of an online endpoint, as the release sees it: traffic, mirror and what each slot serves."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model_ref import version_in
from ..values import percentages

HEALTHY_STATE = "succeeded"


class EndpointMissing(LookupError):
    """The online endpoint the release targets does not exist."""


@dataclass(frozen=True)
class LiveEndpoint:
    name: str
    traffic: dict[str, int]
    mirror: dict[str, int]
    deployments: dict = field(default_factory=dict)  # slot -> gateway Deployment | None

    def model_id(self, slot: str | None) -> str | None:
        deployment = self.deployments.get(slot) if slot else None
        return deployment.model_id if deployment is not None else None

    def version(self, slot: str | None, model_name: str) -> str | None:
        return version_in(self.model_id(slot), model_name)

    def slot_of(self, version: str | None, model_name: str) -> str | None:
        """A slot whose deployment serves `version` (the one with most traffic if several do)."""
        if version is None:
            return None
        slots = [s for s in sorted(self.deployments) if self.version(s, model_name) == version]
        return max(slots, key=lambda s: self.traffic.get(s, 0)) if slots else None

    def runs(self, slot: str | None, version: str | None, model_name: str, serving: dict) -> bool:
        """The slot serves `version` of `model_name` under the serving spec `serving`, and is healthy."""
        from .serving_spec import runs_spec

        return (
            slot is not None
            and version is not None
            and self.version(slot, model_name) == version
            and runs_spec(self.deployments.get(slot), serving)
            and self.healthy(slot)
        )

    def carries_traffic(self, slot: str) -> bool:
        return bool(self.traffic.get(slot) or self.mirror.get(slot))

    def healthy(self, slot: str) -> bool:
        deployment = self.deployments.get(slot)
        return deployment is not None and str(deployment.provisioning_state).lower() == HEALTHY_STATE


def read_live(gateway, endpoint_name: str, slots=()) -> LiveEndpoint:
    """GET the endpoint and the deployments that hold traffic or are named in `slots`."""
    endpoint = gateway.get_endpoint(endpoint_name)
    if endpoint is None:
        raise EndpointMissing(
            f"online endpoint {endpoint_name!r} does not exist in the workspace; "
            f"the endpoint component creates it before any release"
        )
    traffic = percentages(endpoint.traffic)
    mirror = percentages(endpoint.mirror_traffic)
    names = sorted(set(slots) | set(traffic) | set(mirror))
    deployments = {slot: gateway.get_deployment(endpoint_name, slot) for slot in names}
    return LiveEndpoint(endpoint_name, traffic, mirror, deployments)
