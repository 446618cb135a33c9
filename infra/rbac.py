"""Custom roles, assignable only at one resource group, and their assignments to groups.

An environment's roles are assigned at its resource group, its Model Promoter at each workspace
(`GroupAssignment.scope`); the registry stack's at the registry itself (`assignment_scope`): each at
the narrowest scope that holds what it permits.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

from infra.role_permissions import RolePermissions


@dataclass(frozen=True)
class GroupAssignment:
    group_id: str  # an Entra ID group object id
    assignment_name: str  # the assignment's stable GUID
    # where it is made when narrower than the role's other assignments (a workspace), and the name of
    # that place, which keeps one group's assignments at several such scopes apart
    scope: pulumi.Input[str] | None = None
    scope_name: str | None = None

    def __post_init__(self):
        if (self.scope is None) != (self.scope_name is None):
            raise ValueError(
                f"GroupAssignment for group {self.group_id}: scope and scope_name go together; accepted: both or neither"
            )

    def resource_name(self, purpose: str) -> str:
        return "-".join((_slug(purpose), self.group_id, *((self.scope_name,) if self.scope_name else ())))


@dataclass(frozen=True)
class CustomRole:
    """One custom role: what it permits, its stable GUID and display name, and the groups it goes to."""

    permissions: RolePermissions
    definition_name: str
    role_name: str
    assignments: tuple[GroupAssignment, ...] = ()


@dataclass(frozen=True)
class AccessControlArgs:
    scope: pulumi.Input[str]  # the resource group id: the roles' only assignable scope
    roles: tuple[CustomRole, ...]
    # where the assignments are made: `scope` itself, or a resource inside it
    assignment_scope: pulumi.Input[str] | None = None


class AccessControl(pulumi.ComponentResource):
    role_definition_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: AccessControlArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:AccessControl", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role_definition_ids = {}
        for role in args.roles:
            purpose = role.permissions.purpose
            definition = _role_definition(role, args.scope, child)
            self.role_definition_ids[purpose] = definition.id
            for assignment in role.assignments:
                authorization.RoleAssignment(
                    assignment.resource_name(purpose),
                    role_assignment_name=assignment.assignment_name,
                    scope=_assignment_scope(args, assignment),
                    role_definition_id=definition.id,
                    principal_id=assignment.group_id,
                    principal_type="Group",
                    description=f"{purpose} for group {assignment.group_id}"
                    + (f" on {assignment.scope_name}" if assignment.scope_name else ""),
                    opts=child,
                )
        self.register_outputs({"role_definition_ids": self.role_definition_ids})


def _assignment_scope(args: AccessControlArgs, assignment: GroupAssignment) -> pulumi.Input[str]:
    if assignment.scope is not None:
        return assignment.scope
    return args.scope if args.assignment_scope is None else args.assignment_scope


def _slug(purpose: str) -> str:
    return purpose.lower().replace(" ", "-")


def _role_definition(
    role: CustomRole, scope: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> authorization.RoleDefinition:
    permissions = role.permissions
    return authorization.RoleDefinition(
        _slug(permissions.purpose),
        role_definition_id=role.definition_name,
        role_name=role.role_name,
        description=permissions.description,
        role_type="CustomRole",
        scope=scope,
        assignable_scopes=[scope],
        permissions=[
            {
                "actions": list(permissions.actions),
                "not_actions": list(permissions.not_actions),
                "data_actions": [],
                "not_data_actions": [],
            }
        ],
        opts=opts,
    )
