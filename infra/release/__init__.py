"""Release as code: dynamic resources that register model versions, pick the champion and own what endpoints serve.

Two levels. Here, the plumbing every provider shares (base.py: workspace coordinates, the gateway
factory, the check/diff skeleton; fields.py and values.py: reading engine inputs) and the resources:

    ServingEndpoint    serving_endpoint.py    an endpoint's own settings; created with no traffic, read-modify-write
    ModelVersion       model_version.py       content-versioned registration in a workspace; delete archives
    RegistryModelVersion  registry_model_version.py  a workspace version shared into the registry; never deleted
    ChampionSelection  champion_selection.py  production vs challenger on the evaluation data, with evidence
    EndpointTraffic    endpoint_traffic.py    the only owner of what an endpoint serves and of the stage tags
    ModelRelease       model_release.py       a registered candidate's selection and traffic on one endpoint

Below, traffic/: how an endpoint is moved to its declared state (the rollout, its safety rules,
the serving spec, the stage tags). Provider classes stay in these modules: a stack's state
names them by module path.
"""

from .base import RegistryCoordinates, WorkspaceCoordinates
from .champion_selection import ChampionSelection, ChampionSelectionProvider
from .endpoint_traffic import EndpointTraffic, EndpointTrafficProvider
from .model_release import (
    ModelRelease,
    ModelReleaseArgs,
    RegisteredCandidate,
    needs_registry,
    register_candidate,
    rollout_steps,
)
from .model_version import ModelVersion, ModelVersionProvider
from .registry_model_version import RegistryModelVersion, RegistryModelVersionProvider
from .serving_endpoint import ServingEndpoint, ServingEndpointProvider

__all__ = [
    "ChampionSelection",
    "ChampionSelectionProvider",
    "EndpointTraffic",
    "EndpointTrafficProvider",
    "ModelRelease",
    "ModelReleaseArgs",
    "ModelVersion",
    "ModelVersionProvider",
    "RegisteredCandidate",
    "RegistryCoordinates",
    "RegistryModelVersion",
    "RegistryModelVersionProvider",
    "ServingEndpoint",
    "ServingEndpointProvider",
    "WorkspaceCoordinates",
    "needs_registry",
    "register_candidate",
    "rollout_steps",
]
