"""What each custom role may do, as explicit allow-lists, and Azure's rule for matching them.

Kept free of Pulumi so that tests, the policy pack and reviewers can read and check it alone.
Writes are listed one by one; only reads use a wildcard (`workspaces/*/read`), which grants no
write, delete or action. Data scientists get no write on workspaces, compute, online endpoints or
deployments, models, role assignments; deployers get no workspace deletion and no role assignment.
The registry stack's two roles: publishers write assets, readers only read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ML = "Microsoft.MachineLearningServices/workspaces"
REGISTRIES = "Microsoft.MachineLearningServices/registries"


@dataclass(frozen=True)
class RolePermissions:
    purpose: str
    description: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] = ()


DATA_SCIENTIST = RolePermissions(
    purpose="Data Scientist",
    description="Runs jobs and experiments, manages data and environments, reads everything in the "
    "workspace; cannot create or change workspaces, compute, endpoints, deployments or roles.",
    actions=(
        f"{ML}/read",
        f"{ML}/*/read",
        f"{ML}/experiments/write",
        f"{ML}/experiments/runs/submit/action",
        f"{ML}/experiments/runs/write",
        f"{ML}/jobs/write",
        f"{ML}/jobs/cancel/action",
        f"{ML}/data/write",
        f"{ML}/data/versions/write",
        f"{ML}/datasets/registered/write",
        f"{ML}/environments/write",
        f"{ML}/environments/build/action",
        f"{ML}/codes/write",
        f"{ML}/codes/versions/write",
        f"{ML}/components/write",
        f"{ML}/components/versions/write",
        f"{ML}/metadata/artifacts/write",
        f"{ML}/metadata/snapshots/write",
        f"{ML}/onlineEndpoints/score/action",
        "Microsoft.Resources/subscriptions/resourceGroups/read",
    ),
)

MLOPS_DEPLOYER = RolePermissions(
    purpose="MLOps Deployer",
    description="Registers models and manages online endpoints and deployments; cannot delete "
    "workspaces, change compute or assign roles.",
    actions=(
        f"{ML}/read",
        f"{ML}/*/read",
        f"{ML}/models/write",
        f"{ML}/models/delete",
        f"{ML}/models/versions/write",
        f"{ML}/models/versions/delete",
        f"{ML}/onlineEndpoints/write",
        f"{ML}/onlineEndpoints/delete",
        f"{ML}/onlineEndpoints/listKeys/action",
        f"{ML}/onlineEndpoints/regenerateKeys/action",
        f"{ML}/onlineEndpoints/token/action",
        f"{ML}/onlineEndpoints/score/action",
        f"{ML}/onlineEndpoints/deployments/write",
        f"{ML}/onlineEndpoints/deployments/delete",
        f"{ML}/environments/write",
        f"{ML}/environments/versions/write",
        f"{ML}/codes/write",
        f"{ML}/codes/versions/write",
        "Microsoft.Resources/subscriptions/resourceGroups/read",
    ),
)

ROLES = (DATA_SCIENTIST, MLOPS_DEPLOYER)

# The Azure ML registry's roles (Azure docs, "Manage Azure Machine Learning registries", Add users to
# the registry): reading is `registries/read` and `registries/assets/read`; creating assets adds
# `registries/assets/write`. Publishers get no `registries/assets/delete`: a registry version that is
# deleted can never be created again, and what served stays (archive it instead, which is a write).
# Neither role may create, change or delete the registry itself (`registries/write|delete`), which the
# built-in Contributor and Owner would allow.
REGISTRY_PUBLISHER = RolePermissions(
    purpose="Registry Publisher",
    description="Publishes models, environments and components to the estate's Azure ML registry and reads "
    "it; cannot delete assets or change the registry.",
    actions=(
        f"{REGISTRIES}/read",
        f"{REGISTRIES}/assets/read",
        f"{REGISTRIES}/assets/write",
    ),
)

REGISTRY_READER = RolePermissions(
    purpose="Registry Reader",
    description="Browses the estate's Azure ML registry and uses its assets in a workspace; cannot create, "
    "change or delete them.",
    actions=(
        f"{REGISTRIES}/read",
        f"{REGISTRIES}/assets/read",
    ),
)

REGISTRY_ROLES = (REGISTRY_PUBLISHER, REGISTRY_READER)


def _pattern(action: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in action.split("*")) + "$", re.IGNORECASE)


def permits(role: RolePermissions, operation: str) -> bool:
    """Whether the role grants `operation`, with Azure's rules: `*` matches any characters,
    case does not matter, and a NotAction removes what an Action grants."""
    granted = any(_pattern(action).match(operation) for action in role.actions)
    removed = any(_pattern(action).match(operation) for action in role.not_actions)
    return granted and not removed
