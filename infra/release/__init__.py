"""Release as code: dynamic resources that register model versions, pick the champion and move traffic.

    ModelVersion       model_version.py       content-versioned registration; delete archives
    ChampionSelection  champion_selection.py  production vs challenger on the evaluation data, with evidence
    EndpointTraffic    endpoint_traffic.py    the only owner of endpoint traffic and of the stage tags
    ModelRelease       model_release.py       a registered candidate's selection and traffic on one endpoint
Providers build their Azure ML gateway inside each method (gateways.py); they hold no client.
"""
from .champion_selection import ChampionSelection, ChampionSelectionProvider
from .endpoint_traffic import EndpointTraffic, EndpointTrafficProvider
from .model_release import ModelRelease, register_candidate, rollout_steps
from .model_version import ModelVersion, ModelVersionProvider

__all__ = ["ChampionSelection", "ChampionSelectionProvider", "EndpointTraffic", "EndpointTrafficProvider",
           "ModelRelease", "ModelVersion", "ModelVersionProvider", "register_candidate", "rollout_steps"]
