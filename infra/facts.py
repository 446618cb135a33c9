"""Facts shared by the stack settings, the release providers, the Azure ML gateway and naming.

Each is defined once, here. This module imports nothing but `re`, so stacks/ can check settings
against the same facts without importing Pulumi or the infrastructure. Patterns are ASCII only
(`[0-9]`, never `\\d`, which matches any Unicode digit) and are written without anchors; `full()`
compiles one to match a whole string.
"""

from __future__ import annotations

import re

# The deployment slots of every online endpoint: a new model goes to the one without traffic.
SLOTS = ("blue", "green")

# Azure ML sends mirror traffic to at most one deployment, at most this share of requests.
MAX_MIRROR_PERCENT = 50
# The longest wait after a mirror or canary step before the next step checks the slot again.
MAX_HOLD_SECONDS = 3600

# Content versions (models, serving specs): the first VERSION_LENGTH hex digits of a SHA-256.
VERSION_LENGTH = 12
VERSION = f"[0-9a-f]{{{VERSION_LENGTH}}}"

# Azure's name rules for what the release addresses.
GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
RESOURCE_GROUP_NAME = r"[-A-Za-z0-9._()]{1,90}"
ML_WORKSPACE_NAME = "[A-Za-z0-9][A-Za-z0-9_-]{2,32}"
ENDPOINT_NAME = "[A-Za-z][A-Za-z0-9-]{2,31}"
DEPLOYMENT_NAME = "[a-z][a-z0-9-]{1,30}[a-z0-9]"
ASSET_NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,254}"  # model, code and environment names and versions
# An Azure ML registry: the REST spec's `RegistryNameParameter` allows 3-33 characters
# (`^[a-zA-Z0-9][a-zA-Z0-9\-_]{2,32}$`, registries.json 2024-10-01), the docs 2-32 ("Manage Azure
# Machine Learning registries", Choose a name): a name both accept. It is unique in the Entra tenant
# and cannot be changed, since it is part of every asset id (`azureml://registries/<name>/...`).
ML_REGISTRY_NAME = "[A-Za-z0-9][A-Za-z0-9_-]{2,31}"
JOB_NAME = "[A-Za-z0-9][A-Za-z0-9_-]{0,254}"
JOB_OUTPUT_NAME = "[A-Za-z_][A-Za-z0-9_]{0,254}"

# The remote forms of a release candidate (infra/release/model_ref.py reads them; groups named for it).
# A job's output, a model version in a workspace, and one in a registry (azureml:// asset paths).
JOB_OUTPUT_PATH = f"azureml://jobs/(?P<job>{JOB_NAME})/outputs/(?P<output>{JOB_OUTPUT_NAME})/?"
WORKSPACE_MODEL_PATH = (
    f"azureml://subscriptions/(?P<subscription_id>{GUID})/resourceGroups/(?P<resource_group>{RESOURCE_GROUP_NAME})"
    f"/workspaces/(?P<workspace_name>{ML_WORKSPACE_NAME})/models/(?P<name>{ASSET_NAME})/versions/(?P<version>{ASSET_NAME})"
)
REGISTRY_MODEL_PATH = f"azureml://registries/(?P<registry>{ML_REGISTRY_NAME})/models/(?P<name>{ASSET_NAME})/versions/(?P<version>{ASSET_NAME})"
JOB_OUTPUT_ACCEPTED = (
    "a training job's output azureml://jobs/<job>/outputs/<output> (what `python -m model submit` names)"
)
WORKSPACE_MODEL_ACCEPTED = (
    "a workspace's model version azureml://subscriptions/<subscription GUID>/resourceGroups/<group>"
    "/workspaces/<workspace>/models/<model>/versions/<version> (what the dev stack outputs as promote_candidate)"
)
REGISTRY_MODEL_ACCEPTED = (
    "a registry's model version azureml://registries/<registry>/models/<model>/versions/<version> "
    "(what the test stack outputs as promote_candidate)"
)
LOCAL_ARTIFACT_ACCEPTED = "a local artifact folder holding artifact.json (as `python -m model train` writes it)"
CANDIDATE_ACCEPTED = (
    f"{LOCAL_ARTIFACT_ACCEPTED}, {JOB_OUTPUT_ACCEPTED}, {WORKSPACE_MODEL_ACCEPTED}, or {REGISTRY_MODEL_ACCEPTED}"
)

RESOURCE_GROUP_ACCEPTED = "a resource group name (1-90 letters, digits, '-', '_', '.', '(', ')')"
ML_WORKSPACE_ACCEPTED = "a workspace name (3-33 letters, digits, '-' or '_')"
ENDPOINT_ACCEPTED = "an endpoint name (3-32 letters, digits or '-', starting with a letter)"
DEPLOYMENT_ACCEPTED = "a deployment name (lowercase letters, digits, '-'; 3-32 characters)"
ASSET_ACCEPTED = "letters, digits, '.', '_' or '-', starting with a letter or digit, at most 255 characters"
ML_REGISTRY_ACCEPTED = "an Azure ML registry name (3-32 letters, digits, '-' or '_', starting with a letter or digit)"


def full(pattern: str) -> re.Pattern:
    """`pattern` compiled to match a whole string, ASCII classes only."""
    return re.compile(f"(?:{pattern})", re.ASCII | re.DOTALL)


def matches(pattern: str, value: object) -> bool:
    return isinstance(value, str) and full(pattern).fullmatch(value) is not None


# Private connectivity (Azure Private Link). The group id of each private endpoint the platform
# declares, and the private DNS zones its records go in (Azure docs, "Azure Private Endpoint private
# DNS zone values"; the Azure ML pair as in AVM avm/ptn/ai-platform/baseline). An Azure ML registry's
# endpoint (`amlregistry`) uses the workspace API zone.
PRIVATE_DNS_ZONES = {
    "vault": ("privatelink.vaultcore.azure.net",),
    "registry": ("privatelink.azurecr.io",),
    "blob": ("privatelink.blob.core.windows.net",),
    "file": ("privatelink.file.core.windows.net",),
    "amlworkspace": ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
    "amlregistry": ("privatelink.api.azureml.ms",),
}
# The group ids each closed service needs: a workspace's storage serves blobs and its file share.
SERVICE_GROUP_IDS = {
    "key vault": ("vault",),
    "container registry": ("registry",),
    "storage account": ("blob", "file"),
    "machine learning workspace": ("amlworkspace",),
    "machine learning registry": ("amlregistry",),
}


def private_dns_zone_id(zone: str) -> str:
    """The pattern of the resource id of a private DNS zone named `zone` (a hub's, given in settings)."""
    return (
        "/subscriptions/"
        + GUID
        + "/resourceGroups/"
        + RESOURCE_GROUP_NAME
        + "/providers/Microsoft.Network/privateDnsZones/"
        + re.escape(zone)
    )


def private_dns_zone_id_accepted(zone: str) -> str:
    return (
        f"the resource id of the hub's private DNS zone {zone} "
        f"(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/privateDnsZones/{zone})"
    )


# How the CI agents that deploy a locked-down stack join its network, and the subnet delegation each
# way needs: agents you run on VMs or scale sets (GitHub self-hosted runners, Azure Pipelines agents),
# Managed DevOps Pools (Azure docs, "Configure Managed DevOps Pools networking"), or GitHub-hosted
# runners with Azure private networking (GitHub docs, "About Azure private networking for
# GitHub-hosted runners").
CI_AGENT_DELEGATIONS = {
    "selfHosted": None,
    "managedDevOpsPool": "Microsoft.DevOpsInfrastructure/pools",
    "githubHosted": "GitHub.Network/networkSettings",
}
# Azure Bastion runs only in a subnet of this name, of at least this size (Azure docs, "About Azure
# Bastion configuration settings").
BASTION_SUBNET = "AzureBastionSubnet"
BASTION_SUBNET_MAX_PREFIX = 26
