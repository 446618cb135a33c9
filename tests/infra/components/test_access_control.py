import pytest

from infra.rbac import AccessControl, AccessControlArgs, CustomRole, GroupAssignment
from infra.role_permissions import DATA_SCIENTIST, MLOPS_DEPLOYER, MODEL_PROMOTER

SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-unit"
GROUP = "0a1b2c3d-0000-4000-8000-0000000000aa"


def test_each_role_is_defined_at_the_scope_and_assigned_to_its_groups(declare):
    args = AccessControlArgs(
        scope=SCOPE,
        roles=(
            CustomRole(
                DATA_SCIENTIST,
                definition_name="guid-ds",
                role_name="unit Data Scientist",
                assignments=(GroupAssignment(GROUP, "guid-ds-aa"),),
            ),
            CustomRole(MLOPS_DEPLOYER, definition_name="guid-md", role_name="unit MLOps Deployer"),
        ),
    )
    plan = declare(lambda: AccessControl("roles", args).role_definition_ids)
    definitions = {r.name: r for r in plan.of_type("azure-native:authorization:RoleDefinition")}
    assert set(definitions) == {"data-scientist", "mlops-deployer"}
    scientist = definitions["data-scientist"]
    assert (scientist.inputs["roleDefinitionId"], scientist.inputs["roleName"]) == ("guid-ds", "unit Data Scientist")
    assert scientist.inputs["assignableScopes"] == [SCOPE] and scientist.inputs["scope"] == SCOPE
    assert scientist.input("permissions")[0]["actions"] == list(DATA_SCIENTIST.actions)
    assignment = plan.one("azure-native:authorization:RoleAssignment")
    assert assignment.name == f"data-scientist-{GROUP}" and assignment.parent == "roles"
    assert assignment.inputs["roleAssignmentName"] == "guid-ds-aa"
    assert (assignment.inputs["principalId"], assignment.inputs["principalType"]) == (GROUP, "Group")
    assert assignment.inputs["roleDefinitionId"] == f"{SCOPE}/providers/Microsoft.Authorization/roleDefinitions/guid-ds"
    assert set(plan.outputs) == {"Data Scientist", "MLOps Deployer"}


def test_an_assignment_with_its_own_scope_is_made_there_and_named_after_it(declare):
    workspace = f"{SCOPE}/providers/Microsoft.MachineLearningServices/workspaces/mlw-unit"
    args = AccessControlArgs(
        scope=SCOPE,
        roles=(
            CustomRole(
                MODEL_PROMOTER,
                definition_name="guid-mp",
                role_name="unit Model Promoter",
                assignments=(GroupAssignment(GROUP, "guid-mp-aa", scope=workspace, scope_name="hatespeech"),),
            ),
        ),
    )
    plan = declare(lambda: AccessControl("roles", args).role_definition_ids)
    definition = plan.one("azure-native:authorization:RoleDefinition")
    assert definition.inputs["assignableScopes"] == [SCOPE]
    assignment = plan.one("azure-native:authorization:RoleAssignment")
    assert assignment.name == f"model-promoter-{GROUP}-hatespeech"
    assert assignment.inputs["scope"] == workspace
    assert assignment.inputs["description"] == f"Model Promoter for group {GROUP} on hatespeech"


def test_a_scope_without_its_name_is_refused():
    with pytest.raises(ValueError, match="scope and scope_name go together"):
        GroupAssignment(GROUP, "guid", scope="/subscriptions/s/resourceGroups/g")
