import uuid

import pytest

from infra.role_permissions import (
    DATA_SCIENTIST,
    MLOPS_DEPLOYER,
    MODEL_PROMOTER,
    ROLES,
    V2_JOB_SUBMISSION,
    RolePermissions,
    permits,
)
from tests.infra.conftest import STACKS

ML = "Microsoft.MachineLearningServices/workspaces"

# What submitting a v2 job takes (Microsoft's role table, "Submitting any type of run (V2)"), as the
# operations Azure checks: the job itself, its code snapshot, environment and artifacts.
V2_JOB_OPERATIONS = [
    f"{ML}/jobs/write",
    f"{ML}/jobs/read",
    f"{ML}/jobs/cancel/action",
    f"{ML}/jobs/delete",
    f"{ML}/metadata/codes/versions/write",
    f"{ML}/metadata/artifacts/write",
    f"{ML}/environments/write",
    f"{ML}/environments/build/action",
    f"{ML}/environments/readSecrets/action",
    f"{ML}/environments/versions/write",
    f"{ML}/codes/write",
    f"{ML}/codes/versions/write",
]
DATA_SCIENTIST_MAY = V2_JOB_OPERATIONS + [
    f"{ML}/read",
    f"{ML}/experiments/runs/submit/action",
    f"{ML}/experiments/runs/read",
    f"{ML}/experiments/runs/write",
    f"{ML}/experiments/write",
    f"{ML}/data/write",
    f"{ML}/data/versions/write",
    f"{ML}/environments/read",
    f"{ML}/datastores/read",
    f"{ML}/components/versions/write",
    f"{ML}/metadata/snapshots/write",
    f"{ML}/computes/read",
    f"{ML}/models/read",
    f"{ML}/models/versions/read",
    f"{ML}/onlineEndpoints/read",
    f"{ML}/onlineEndpoints/deployments/read",
    f"{ML}/connections/read",
    f"{ML}/registries/read",
]
# Every write the role must not have: workspaces, compute, online endpoints and deployments, models,
# role assignments, and the secrets that would hand out any of them (keys, datastore and connection secrets).
DATA_SCIENTIST_MAY_NOT = [
    f"{ML}/write",
    f"{ML}/delete",
    f"{ML}/computes/write",
    f"{ML}/computes/delete",
    f"{ML}/computes/start/action",
    f"{ML}/computes/stop/action",
    f"{ML}/computes/restart/action",
    f"{ML}/computes/listKeys/action",
    f"{ML}/onlineEndpoints/write",
    f"{ML}/onlineEndpoints/delete",
    f"{ML}/onlineEndpoints/listKeys/action",
    f"{ML}/onlineEndpoints/regenerateKeys/action",
    f"{ML}/onlineEndpoints/token/action",
    f"{ML}/onlineEndpoints/deployments/write",
    f"{ML}/onlineEndpoints/deployments/delete",
    f"{ML}/models/write",
    f"{ML}/models/delete",
    f"{ML}/models/versions/write",
    f"{ML}/models/versions/delete",
    f"{ML}/listKeys/action",
    f"{ML}/listStorageAccountKeys/action",
    f"{ML}/datastores/write",
    f"{ML}/datastores/delete",
    f"{ML}/datastores/listsecrets/action",
    f"{ML}/connections/write",
    f"{ML}/connections/listsecrets/action",
    f"{ML}/outboundRules/write",
    f"{ML}/privateEndpointConnections/write",
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.Authorization/roleAssignments/delete",
    "Microsoft.Authorization/roleDefinitions/write",
    "Microsoft.MachineLearningServices/workspaces/write",
    "Microsoft.Storage/storageAccounts/listKeys/action",
    "Microsoft.Storage/storageAccounts/write",
]
DEPLOYER_MAY = [
    f"{ML}/models/write",
    f"{ML}/models/versions/write",
    f"{ML}/onlineEndpoints/write",
    f"{ML}/onlineEndpoints/deployments/write",
    f"{ML}/onlineEndpoints/deployments/delete",
    f"{ML}/onlineEndpoints/read",
    f"{ML}/environments/write",
]
DEPLOYER_MAY_NOT = [
    f"{ML}/delete",
    f"{ML}/write",
    f"{ML}/computes/write",
    f"{ML}/computes/delete",
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.Authorization/roleAssignments/delete",
    "Microsoft.Authorization/roleDefinitions/write",
]


@pytest.mark.parametrize("operation", DATA_SCIENTIST_MAY)
def test_data_scientist_may(operation):
    assert permits(DATA_SCIENTIST, operation)


@pytest.mark.parametrize("operation", DATA_SCIENTIST_MAY_NOT)
def test_data_scientist_may_not(operation):
    assert not permits(DATA_SCIENTIST, operation)


@pytest.mark.parametrize("operation", DEPLOYER_MAY)
def test_deployer_may(operation):
    assert permits(MLOPS_DEPLOYER, operation)


@pytest.mark.parametrize("operation", DEPLOYER_MAY_NOT)
def test_deployer_may_not(operation):
    assert not permits(MLOPS_DEPLOYER, operation)


def test_matcher_follows_azure_wildcards_and_not_actions():
    role = RolePermissions("t", "t", actions=("Microsoft.Foo/*",), not_actions=("Microsoft.Foo/bars/write",))
    assert permits(role, "microsoft.foo/bars/read")
    assert not permits(role, "Microsoft.Foo/bars/write")
    assert not permits(role, "Microsoft.Bar/read")


def test_the_data_scientist_has_what_microsoft_lists_for_submitting_v2_jobs_verbatim():
    assert set(V2_JOB_SUBMISSION) <= set(DATA_SCIENTIST.actions)
    assert f"{ML}/*/read" in DATA_SCIENTIST.actions
    assert f"{ML}/environments/readSecrets/action" in V2_JOB_SUBMISSION


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.purpose)
def test_only_reads_and_the_v2_submission_entries_use_wildcards(role):
    """A write wildcard is allowed only where Microsoft's table names one, and each stays within one
    resource type (jobs, code metadata): none reaches a write the data scientist must not have."""
    for action in role.actions:
        assert "*" not in action or action.endswith("/*/read") or action in V2_JOB_SUBMISSION, action
    for wildcard in (a for a in V2_JOB_SUBMISSION if "*" in a):
        assert wildcard.split("*")[0] in (f"{ML}/jobs/", f"{ML}/metadata/codes/"), wildcard
        only = RolePermissions("one entry", "", actions=(wildcard,))
        assert not any(permits(only, operation) for operation in DATA_SCIENTIST_MAY_NOT), wildcard
    assert not role.not_actions, "explicit allow-lists, not exclusions"


def test_each_role_lists_each_action_once():
    for role in ROLES:
        assert len(set(role.actions)) == len(role.actions), role.purpose


def promoter_groups(stack: str) -> list[str]:
    from scripts.offline.stack import stack_config

    return stack_config(stack)["mlops-platform:access"].get("modelPromoterGroupIds", [])


def test_only_dev_is_configured_to_be_promoted_from_by_tests_deployers():
    from scripts.offline.stack import stack_config

    test_deployers = stack_config("test")["mlops-platform:access"]["mlopsDeployerGroupIds"]
    assert promoter_groups("dev") == test_deployers
    assert promoter_groups("test") == promoter_groups("prod") == []


@pytest.mark.parametrize("stack", STACKS)
def test_role_definitions_in_the_plan(plans, stack):
    plan = plans[stack]
    group_id = plan.one("azure-native:resources:ResourceGroup")
    scope = f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{group_id.inputs['resourceGroupName']}"
    definitions = {d.inputs["roleName"]: d for d in plan.of_type("azure-native:authorization:RoleDefinition")}
    roles = ROLES + ((MODEL_PROMOTER,) if promoter_groups(stack) else ())
    assert set(definitions) == {f"mlops-{stack} {role.purpose}" for role in roles}
    for role in roles:
        definition = definitions[f"mlops-{stack} {role.purpose}"]
        assert definition.inputs["scope"] == scope
        assert definition.inputs["assignableScopes"] == [scope]
        assert definition.inputs["roleType"] == "CustomRole"
        assert definition.inputs["permissions"] == [
            {"actions": list(role.actions), "notActions": [], "dataActions": [], "notDataActions": []}
        ]
        assert uuid.UUID(definition.inputs["roleDefinitionId"]).version == 5


def test_role_guids_are_stable_and_distinct_per_stack(plans):
    from scripts.offline.stack import run_stack

    again = run_stack("dev")
    ids = lambda plan: sorted(
        d.inputs["roleDefinitionId"] for d in plan.of_type("azure-native:authorization:RoleDefinition")
    )
    assert ids(again) == ids(plans["dev"])
    assert not set(ids(plans["dev"])) & set(ids(plans["prod"]))


@pytest.mark.parametrize("stack", STACKS)
def test_assignments_go_to_the_configured_groups(plans, stack):
    from scripts.offline.stack import stack_config

    access = stack_config(stack)["mlops-platform:access"]
    plan = plans[stack]
    assignments = [a for a in plan.of_type("azure-native:authorization:RoleAssignment") if a.parent == "access"]
    definitions = {d.name: d for d in plan.of_type("azure-native:authorization:RoleDefinition")}
    workspace = plan.one("azure-native:machinelearningservices:Workspace").inputs["workspaceName"]
    resource_group = definitions["data-scientist"].inputs["scope"]
    workspace_id = f"{resource_group}/providers/Microsoft.MachineLearningServices/workspaces/{workspace}"
    # the promoter reads one workspace, the other roles hold at the resource group
    expected = (
        {(g, "data-scientist", resource_group) for g in access["dataScientistGroupIds"]}
        | {(g, "mlops-deployer", resource_group) for g in access["mlopsDeployerGroupIds"]}
        | {(g, "model-promoter", workspace_id) for g in promoter_groups(stack)}
    )
    seen = set()
    for assignment in assignments:
        assert assignment.inputs["principalType"] == "Group"
        role = next(
            name
            for name, d in definitions.items()
            if assignment.inputs["roleDefinitionId"].endswith(d.inputs["roleDefinitionId"])
        )
        seen.add((assignment.inputs["principalId"], role, assignment.inputs["scope"]))
        assert uuid.UUID(assignment.inputs["roleAssignmentName"]).version == 5
    assert seen == expected
    assert len(assignments) == len(expected)


def test_the_promoter_is_assigned_at_each_workspace_of_a_promoted_stack(config_of):
    """Two workspaces, two promoter groups: one assignment per group and workspace, each at its workspace,
    with distinct stable GUIDs; no promoter groups: no promoter role at all."""
    from scripts.offline.stack import run_stack

    config = config_of("dev")
    config["mlops-platform:workspaces"].append(dict(config["mlops-platform:workspaces"][0], name="sandbox"))
    groups = ["0a1b2c3d-0000-4000-8000-00000000de02", "0a1b2c3d-0000-4000-8000-00000000de03"]
    config["mlops-platform:access"]["modelPromoterGroupIds"] = groups
    plan = run_stack("dev", config=config)
    definition = next(
        d for d in plan.of_type("azure-native:authorization:RoleDefinition") if d.name == "model-promoter"
    )
    promoter = [
        a
        for a in plan.of_type("azure-native:authorization:RoleAssignment")
        if a.inputs["roleDefinitionId"].endswith(definition.inputs["roleDefinitionId"])
    ]
    workspace_ids = {
        w.inputs["workspaceName"]: w for w in plan.of_type("azure-native:machinelearningservices:Workspace")
    }
    scopes = {
        w: f"{definition.inputs['scope']}/providers/Microsoft.MachineLearningServices/workspaces/{w}"
        for w in workspace_ids
    }
    assert sorted((a.inputs["principalId"], a.inputs["scope"]) for a in promoter) == sorted(
        (g, scope) for g in groups for scope in scopes.values()
    )
    assert len({a.inputs["roleAssignmentName"] for a in promoter}) == 4

    del config["mlops-platform:access"]["modelPromoterGroupIds"]
    plain = run_stack("dev", config=config)
    assert "model-promoter" not in {d.name for d in plain.of_type("azure-native:authorization:RoleDefinition")}
