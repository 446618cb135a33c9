"""Custom roles, assignable only at one resource group, and their assignments to groups.

An environment's roles are assigned at its resource group; the registry stack's at the registry
itself (`assignment_scope`), the narrowest scope that holds what they permit.
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
                    f"{_slug(purpose)}-{assignment.group_id}",
                    role_assignment_name=assignment.assignment_name,
                    scope=args.scope if args.assignment_scope is None else args.assignment_scope,
                    role_definition_id=definition.id,
                    principal_id=assignment.group_id,
                    principal_type="Group",
                    description=f"{purpose} for group {assignment.group_id}",
                    opts=child,
                )
        self.register_outputs({"role_definition_ids": self.role_definition_ids})


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
