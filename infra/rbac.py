"""Custom roles of an environment, assignable only at its resource group, and their assignments."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization

from infra.role_permissions import DATA_SCIENTIST, MLOPS_DEPLOYER, RolePermissions
from stacks.settings import StackSettings


class AccessControl(pulumi.ComponentResource):
    role_definition_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, settings: StackSettings, resource_group_id: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:AccessControl", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role_definition_ids = {}
        groups = {
            DATA_SCIENTIST.purpose: settings.access.data_scientist_group_ids,
            MLOPS_DEPLOYER.purpose: settings.access.mlops_deployer_group_ids,
        }
        for role in (DATA_SCIENTIST, MLOPS_DEPLOYER):
            definition = _role_definition(role, settings, resource_group_id, child)
            self.role_definition_ids[role.purpose] = definition.id
            for group_id in groups[role.purpose]:
                slug = role.purpose.lower().replace(" ", "-")
                authorization.RoleAssignment(
                    f"{slug}-{group_id}",
                    role_assignment_name=settings.names.guid("assignment", role.purpose, group_id),
                    scope=resource_group_id,
                    role_definition_id=definition.id,
                    principal_id=group_id,
                    principal_type="Group",
                    description=f"{role.purpose} for group {group_id}",
                    opts=child,
                )
        self.register_outputs({"role_definition_ids": self.role_definition_ids})


def _role_definition(role: RolePermissions, settings: StackSettings, scope: pulumi.Input[str],
                     opts: pulumi.ResourceOptions) -> authorization.RoleDefinition:
    return authorization.RoleDefinition(
        role.purpose.lower().replace(" ", "-"),
        role_definition_id=settings.names.guid("role", role.purpose),
        role_name=settings.names.role_name(role.purpose),
        description=role.description,
        role_type="CustomRole",
        scope=scope,
        assignable_scopes=[scope],
        permissions=[{"actions": list(role.actions), "not_actions": list(role.not_actions),
                      "data_actions": [], "not_data_actions": []}],
        opts=opts,
    )
