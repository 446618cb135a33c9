"""Physical Azure names of a stack's resources, and the rules Azure puts on them.

Key Vaults and Azure ML workspaces are soft-deleted, and a purge-protected vault keeps its name
for its whole retention period, so every globally visible name carries the stack name and the
stack's `nameSuffix`: a stack destroyed and created again under a new suffix never collides with
its own soft-deleted remains.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from infra.facts import BASTION_SUBNET, SERVICE_GROUP_IDS

# Fixed namespace for the GUID names of role definitions and assignments: the same purpose in the
# same stack always gets the same GUID, so a re-run updates instead of duplicating a role.
ROLE_NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-5e7f-9a0b-1c2d3e4f5a6b")


@dataclass(frozen=True)
class NameRule:
    pattern: str
    accepted: str

    def check(self, name: str) -> bool:
        return re.fullmatch(self.pattern, name) is not None


RULES = {
    "resource group": NameRule(r"[-\w.()]{1,89}[-\w()]", "1-90 letters, digits, -_.()"),
    "key vault": NameRule(
        r"[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]", "3-24 letters, digits and hyphens, starting with a letter"
    ),
    "container registry": NameRule(r"[a-zA-Z0-9]{5,50}", "5-50 letters and digits"),
    "storage account": NameRule(r"[a-z0-9]{3,24}", "3-24 lowercase letters and digits"),
    "log analytics workspace": NameRule(
        r"[a-zA-Z0-9][a-zA-Z0-9-]{2,61}[a-zA-Z0-9]", "4-63 letters, digits and hyphens"
    ),
    "application insights": NameRule(r"[^%&\\?/]{1,255}", "1-255 characters without %&\\?/"),
    "machine learning workspace": NameRule(
        r"[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}", "3-33 letters, digits, _ and -, starting alphanumeric"
    ),
    "compute cluster": NameRule(
        r"[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]", "3-24 letters, digits and hyphens, starting with a letter"
    ),
    "online endpoint": NameRule(
        r"[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]", "3-32 letters, digits and hyphens, starting with a letter"
    ),
    # Microsoft.Network names (Azure docs, "Naming rules and restrictions for Azure resources")
    "virtual network": NameRule(
        r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9_]",
        "2-64 letters, digits, _ . -, starting alphanumeric, ending alphanumeric or _",
    ),
    "network security group": NameRule(
        r"[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,78}[a-zA-Z0-9_])?",
        "1-80 letters, digits, _ . -, starting alphanumeric, ending alphanumeric or _",
    ),
    "private endpoint": NameRule(
        r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9_]",
        "2-64 letters, digits, _ . -, starting alphanumeric, ending alphanumeric or _",
    ),
}

# The subnet of each role (stacks/settings.py SubnetSettings); Bastion's name is Azure's.
SUBNET_NAMES = {
    "privateEndpoints": "snet-private-endpoints",
    "ciAgents": "snet-ci-agents",
    "jumpHosts": "snet-jump-hosts",
    "bastion": BASTION_SUBNET,
}


@dataclass(frozen=True)
class StackNames:
    """Every physical name of one stack, from its prefix, stack name and suffix."""

    prefix: str
    stack: str
    suffix: str

    @property
    def resource_group(self) -> str:
        return f"rg-{self.prefix}-{self.stack}"

    @property
    def log_analytics(self) -> str:
        return f"log-{self.prefix}-{self.stack}-{self.suffix}"

    @property
    def app_insights(self) -> str:
        return f"appi-{self.prefix}-{self.stack}-{self.suffix}"

    @property
    def key_vault(self) -> str:
        return f"kv-{self.prefix}-{self.stack}-{self.suffix}"

    @property
    def container_registry(self) -> str:
        return f"cr{self.prefix}{self.stack}{self.suffix}".replace("-", "")

    @property
    def storage_account(self) -> str:
        return f"st{self.prefix}{self.stack}{self.suffix}".replace("-", "").lower()

    def workspace(self, workspace: str) -> str:
        return f"mlw-{self.prefix}-{workspace}-{self.stack}-{self.suffix}"

    def endpoint(self, workspace: str) -> str:
        return f"{self.prefix}-{workspace}-{self.stack}-{self.suffix}"

    @property
    def virtual_network(self) -> str:
        return f"vnet-{self.prefix}-{self.stack}"

    def network_security_group(self, role: str) -> str:
        return f"nsg-{self.prefix}-{self.stack}-" + re.sub("([A-Z])", r"-\1", role).lower()

    @property
    def nat_gateway(self) -> str:
        return f"ng-{self.prefix}-{self.stack}"

    @property
    def bastion(self) -> str:
        return f"bas-{self.prefix}-{self.stack}"

    def public_ip(self, owner: str) -> str:
        """The public IP address of the NAT gateway or the Bastion host named `owner`."""
        return f"pip-{owner}"

    @staticmethod
    def private_endpoint(service_name: str, group_id: str) -> str:
        return f"pe-{service_name}-{group_id}"

    def role_name(self, purpose: str) -> str:
        return f"{self.prefix}-{self.stack} {purpose}"

    def guid(self, *purpose: str) -> str:
        """A stable GUID for a role definition or assignment of this stack."""
        return str(uuid.uuid5(ROLE_NAMESPACE, "/".join((self.prefix, self.stack, *purpose))))

    def all_names(self, workspaces: list[str]) -> list[tuple[str, str]]:
        """(kind, name) of every name that Azure checks, for validation."""
        names = [
            ("resource group", self.resource_group),
            ("log analytics workspace", self.log_analytics),
            ("application insights", self.app_insights),
            ("key vault", self.key_vault),
            ("container registry", self.container_registry),
            ("storage account", self.storage_account),
        ]
        for workspace in workspaces:
            names.append(("machine learning workspace", self.workspace(workspace)))
            names.append(("online endpoint", self.endpoint(workspace)))
        services = [(kind, name) for kind, name in names if kind in SERVICE_GROUP_IDS]
        names.append(("virtual network", self.virtual_network))
        names += [("network security group", self.network_security_group(role)) for role in SUBNET_NAMES]
        names += [
            ("private endpoint", self.private_endpoint(name, group))
            for kind, name in services
            for group in SERVICE_GROUP_IDS[kind]
        ]
        return names
