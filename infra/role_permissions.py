"""What each custom role may do, as explicit allow-lists, and Azure's rule for matching them.

Kept free of Pulumi so that tests, the policy pack and reviewers can read and check it alone.
Writes are listed one by one. Reads use a wildcard (`workspaces/*/read`), which grants no write,
delete or action; the only other wildcards are the two Microsoft's role table names for
"Submitting any type of run (V2)" (V2_JOB_SUBMISSION: `jobs/*`, `metadata/codes/*/write`), each
confined to one resource type. Data scientists get no write on workspaces, compute, online endpoints
or deployments, models, role assignments; deployers get no workspace deletion and no role assignment.
Reading and writing the data itself is a data role on the storage (infra/data_access.py).
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


# What Microsoft's role table ("Manage access to Azure Machine Learning workspaces", common scenarios)
# lists for "Submitting any type of run (V2)", verbatim; `workspaces/*/read` is in every role already.
V2_JOB_SUBMISSION = (
    f"{ML}/environments/write",
    f"{ML}/jobs/*",
    f"{ML}/metadata/artifacts/write",
    f"{ML}/metadata/codes/*/write",
    f"{ML}/environments/build/action",
    f"{ML}/environments/readSecrets/action",
)

DATA_SCIENTIST = RolePermissions(
    purpose="Data Scientist",
    description="Runs jobs and experiments, writes data, code, environment and component versions, reads "
    "everything in the workspace; cannot create or change workspaces, compute, endpoints, "
    "deployments, models or roles.",
    actions=(
        f"{ML}/read",
        f"{ML}/*/read",
        *V2_JOB_SUBMISSION,
        f"{ML}/experiments/write",
        f"{ML}/experiments/runs/submit/action",
        f"{ML}/experiments/runs/write",
        f"{ML}/data/write",
        f"{ML}/data/versions/write",
        f"{ML}/datasets/registered/write",
        f"{ML}/environments/versions/write",
        f"{ML}/codes/write",
        f"{ML}/codes/versions/write",
        f"{ML}/components/write",
        f"{ML}/components/versions/write",
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

# What sharing a workspace model version into a registry reads in the source workspace, as the one
# granting the caller: azure-ai-ml's `models.share` (operations/_model_operations.py) GETs the workspace
# for its GUID and region (`workspaces/read`) and imports `azureml://locations/<region>/workspaces/<guid>/
# models/<m>/versions/<v>` into the registry, whose service copies the version's files; the gateway
# first GETs that version (`models/versions/read`). The model container and the datastore that the
# version's path names (`models/read`, `datastores/read`) are what the service resolves the reference
# through: metadata, no secret (`datastores/listsecrets/action` is not granted). Each read is named: no
# `workspaces/*/read`, which would also read jobs, connections, endpoints. The files themselves are a
# blob data role on the default datastore's container (infra/data_access.py PROMOTERS).
MODEL_PROMOTER = RolePermissions(
    purpose="Model Promoter",
    description="Reads the workspace's model versions to share them into the estate's Azure ML registry; "
    "cannot write, delete or run anything in the workspace.",
    actions=(
        f"{ML}/read",
        f"{ML}/models/read",
        f"{ML}/models/versions/read",
        f"{ML}/datastores/read",
    ),
)

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
