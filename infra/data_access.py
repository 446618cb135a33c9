"""Data-plane access by identity: who may read or write a workspace's data, where, with which built-in role.

The stacks turn the storage account's shared key off and the workspaces' datastores authenticate by
identity, so every principal that reads or writes data needs an Azure RBAC data role (Azure ML
"Disable shared key access for your workspace's storage account", scenarios for role assignments).
GRANTS lists them per principal, each at the narrowest scope that covers what the principal does:

- the workspace's identity manages its datastores' containers and file shares, keeps its
  connections' secrets in the Key Vault and pushes the environment images it builds: blob and file
  data roles on the storage account, Key Vault Secrets Officer, AcrPush;
- the endpoint's identity, which the slots' deployments run as, reads the model and code files:
  blob reader on the workspace's default datastore container (where models and code versions are
  uploaded) and on the container older code versions were uploaded to. Azure itself gives a
  system-assigned endpoint identity AcrPull on the workspace's registry and blob reader on its
  default storage (concept-endpoints-online-auth, "Automatic role assignment"); an assignment
  identical to one that exists is refused (RoleAssignmentExists), so AcrPull, whose narrowest scope
  is the registry, is left to Azure, and the stack's readers are scoped to the containers;
- the deployer groups upload model and code files, the data scientist groups data, code snapshots
  and job outputs: blob contributor on the default datastore container only;
- the model promoter groups (the identity of the stack that shares this stack's models into the
  registry) only read: blob reader on the default datastore container, where the job outputs and
  uploaded models the versions point to are. With the shared key off, no key or key-signed SAS reaches
  those files, and the docs do not say which identity the registry's copy reads them as; the
  read-only role at one container keeps the share from depending on it.

Assignment names are stable GUIDs (stacks/naming.py), and every assignment names its principal type,
so a new identity's assignment does not fail on replication delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pulumi
from pulumi_azure_native import authorization

# Azure built-in role ids (the same in every subscription and cloud).
BUILT_IN_ROLES = {
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage File Data Privileged Contributor": "69566ab7-960f-475b-8e7c-b3118f30c6bd",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
}
PRINCIPAL_TYPES = ("ServicePrincipal", "Group")

# Scopes, by what they are
STORAGE_ACCOUNT = "storage account"
DEFAULT_DATASTORE = "default datastore"  # the container of the workspace's default blob datastore
SERVING_CODE = "serving code container"  # where code versions were uploaded before they went up by identity
KEY_VAULT = "key vault"
REGISTRY = "container registry"
SCOPES = (STORAGE_ACCOUNT, DEFAULT_DATASTORE, SERVING_CODE, KEY_VAULT, REGISTRY)

# Principals, by what they are
WORKSPACE = "workspace"
ENDPOINT = "endpoint"
DEPLOYERS = "deployers"
DATA_SCIENTISTS = "data scientists"
PROMOTERS = "model promoters"
PRINCIPALS = (WORKSPACE, ENDPOINT, DEPLOYERS, DATA_SCIENTISTS, PROMOTERS)

GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    WORKSPACE: (
        ("Storage Blob Data Contributor", STORAGE_ACCOUNT),
        ("Storage File Data Privileged Contributor", STORAGE_ACCOUNT),
        ("Key Vault Secrets Officer", KEY_VAULT),
        ("AcrPush", REGISTRY),
    ),
    ENDPOINT: (("Storage Blob Data Reader", DEFAULT_DATASTORE), ("Storage Blob Data Reader", SERVING_CODE)),
    DEPLOYERS: (("Storage Blob Data Contributor", DEFAULT_DATASTORE),),
    DATA_SCIENTISTS: (("Storage Blob Data Contributor", DEFAULT_DATASTORE),),
    PROMOTERS: (("Storage Blob Data Reader", DEFAULT_DATASTORE),),
}


@dataclass(frozen=True)
class DataRoleAssignment:
    """One built-in role for one principal at one scope."""

    resource_name: str  # the logical name, unique in the stack
    principal: str  # who it is for, one of PRINCIPALS (a GRANTS key)
    assignment_name: str  # the assignment's stable GUID
    role: str  # a BUILT_IN_ROLES name
    scope: pulumi.Input[str]
    principal_id: pulumi.Input[str | None]  # a managed identity's, as Azure reports it
    principal_type: str  # ServicePrincipal (a managed identity) or Group
    description: str

    def __post_init__(self):
        if self.principal not in PRINCIPALS:
            raise ValueError(f"DataRoleAssignment.principal is {self.principal!r}; accepted: one of {list(PRINCIPALS)}")
        if self.role not in BUILT_IN_ROLES:
            raise ValueError(f"DataRoleAssignment.role is {self.role!r}; accepted: one of {sorted(BUILT_IN_ROLES)}")
        if self.principal_type not in PRINCIPAL_TYPES:
            raise ValueError(
                f"DataRoleAssignment.principal_type is {self.principal_type!r}; accepted: one of "
                f"{list(PRINCIPAL_TYPES)}"
            )


@dataclass(frozen=True)
class DataAccessArgs:
    subscription_id: pulumi.Input[str]  # built-in role definitions are addressed through a subscription
    assignments: tuple[DataRoleAssignment, ...]


def role_definition_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        "/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", BUILT_IN_ROLES[role]
    )


class DataAccess(pulumi.ComponentResource):
    """The data-role assignments; `of(...)` is what a data-plane call by those principals must wait for."""

    assignments: dict[str, list[authorization.RoleAssignment]]  # by principal (PRINCIPALS)

    def __init__(self, name: str, args: DataAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:DataAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.assignments = {principal: [] for principal in PRINCIPALS}
        for grant in args.assignments:
            self.assignments[grant.principal].append(self._assign(grant, args.subscription_id, child))
        self.register_outputs({})

    def of(self, *principals: str) -> list[authorization.RoleAssignment]:
        return [assignment for principal in principals for assignment in self.assignments[principal]]

    @staticmethod
    def _assign(
        grant: DataRoleAssignment, subscription_id: pulumi.Input[str], opts: pulumi.ResourceOptions
    ) -> authorization.RoleAssignment:
        return authorization.RoleAssignment(
            grant.resource_name,
            role_assignment_name=grant.assignment_name,
            scope=grant.scope,
            role_definition_id=role_definition_id(subscription_id, grant.role),
            # An identity's id is typed Optional: the offline engine, which runs no provider, has none to give.
            principal_id=cast(pulumi.Input[str], grant.principal_id),
            principal_type=grant.principal_type,
            description=grant.description,
            opts=opts,
        )


def slug(text: str) -> str:
    return text.lower().replace(" ", "-")
