"""The mlops-platform policy pack: the platform's secure defaults, enforced as mandatory policies.

``policy/__main__.py`` builds the PolicyPack from ``pack_arguments()``; tests use the same
arguments (and the policies directly) without starting the pack's server.
"""

from pulumi_policy import EnforcementLevel

from .compute import COMPUTE_POLICY
from .endpoint import ENDPOINT_PRIVATE_POLICY
from .keyvault import KEY_VAULT_POLICY
from .private_network import MANAGED_NETWORK_EGRESS_POLICY, PRIVATE_ENDPOINT_POLICY
from .registry import REGISTRY_POLICY
from .roles import CUSTOM_ROLE_POLICY
from .storage import SHARED_KEY_POLICY, STORAGE_POLICY
from .traffic import ENDPOINT_TRAFFIC_POLICY, SINGLE_TRAFFIC_OWNER_POLICY
from .workspace import WORKSPACE_POLICY

PACK_NAME = "mlops-platform"

RESOURCE_POLICIES = [
    KEY_VAULT_POLICY,
    REGISTRY_POLICY,
    STORAGE_POLICY,
    SHARED_KEY_POLICY,
    WORKSPACE_POLICY,
    COMPUTE_POLICY,
    CUSTOM_ROLE_POLICY,
    ENDPOINT_TRAFFIC_POLICY,
    ENDPOINT_PRIVATE_POLICY,
]
STACK_POLICIES = [SINGLE_TRAFFIC_OWNER_POLICY, PRIVATE_ENDPOINT_POLICY, MANAGED_NETWORK_EGRESS_POLICY]
POLICIES = RESOURCE_POLICIES + STACK_POLICIES


def pack_arguments() -> dict:
    return {
        "name": PACK_NAME,
        "policies": list(POLICIES),
        "enforcement_level": EnforcementLevel.MANDATORY,
        "description": "Secure defaults of the mlops-platform Azure ML estate.",
        "provider": "azure",
    }
