import pytest

from infra.data_access import (
    BUILT_IN_ROLES,
    DATA_SCIENTISTS,
    DEPLOYERS,
    ENDPOINT,
    WORKSPACE,
    DataAccess,
    DataAccessArgs,
    DataRoleAssignment,
)

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
CONTAINER = "/st/blobServices/default/containers/azureml-blobstore-1"


def grant(**changes) -> DataRoleAssignment:
    values = dict(
        resource_name="ws-readers",
        principal=ENDPOINT,
        assignment_name="guid-1",
        role="Storage Blob Data Reader",
        scope=CONTAINER,
        principal_id="principal-1",
        principal_type="ServicePrincipal",
        description="reads the datastore",
    )
    return DataRoleAssignment(**{**values, **changes})


def test_each_grant_is_one_built_in_role_assignment_at_its_scope(declare):
    args = DataAccessArgs(
        subscription_id=SUBSCRIPTION,
        assignments=(
            grant(),
            grant(
                resource_name="ws-group",
                principal=DEPLOYERS,
                assignment_name="guid-2",
                role="Storage Blob Data Contributor",
                principal_id="0a1b2c3d-0000-4000-8000-0000000000aa",
                principal_type="Group",
            ),
        ),
    )
    plan = declare(lambda: DataAccess("data", args) and None)
    reader, group = (
        plan.one("azure-native:authorization:RoleAssignment", "ws-readers"),
        plan.one("azure-native:authorization:RoleAssignment", "ws-group"),
    )
    assert reader.parent == group.parent == "data"
    assert reader.inputs == {
        "roleAssignmentName": "guid-1",
        "scope": CONTAINER,
        "principalId": "principal-1",
        "principalType": "ServicePrincipal",
        "description": "reads the datastore",
        "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        f"{BUILT_IN_ROLES['Storage Blob Data Reader']}",
    }
    assert group.inputs["principalType"] == "Group"
    assert group.inputs["roleDefinitionId"].endswith("/ba92f5b4-2d11-453d-a403-e96b0029c9fe")
    assert not plan.of_type("azure-native:authorization:RoleDefinition"), "built-in roles only"


@pytest.mark.parametrize(
    "field, value, accepted",
    [
        ("role", "Owner", "accepted: one of"),
        ("role", "Storage Blob Data Owner", "accepted: one of"),
        ("principal_type", "User", r"accepted: one of \['ServicePrincipal', 'Group'\]"),
        (
            "principal",
            "users",
            r"accepted: one of \['workspace', 'endpoint', 'deployers', 'data scientists', 'model promoters'\]",
        ),
    ],
)
def test_a_role_outside_the_data_roles_or_an_unknown_principal_type_is_refused(field, value, accepted):
    with pytest.raises(ValueError, match=rf"DataRoleAssignment\.{field} is '{value}'; {accepted}"):
        grant(**{field: value})


def test_the_assignments_are_kept_by_principal_for_what_must_wait_for_them(declare):
    """composition.py makes uploads wait for the workspace's and deployers' roles, and the release also
    for the endpoint's: `of` hands back exactly the assignments of the principals asked for."""
    args = DataAccessArgs(
        subscription_id=SUBSCRIPTION,
        assignments=(
            grant(resource_name="ws-endpoint"),
            grant(resource_name="ws-workspace", principal=WORKSPACE, assignment_name="guid-2"),
            grant(resource_name="ws-deployers", principal=DEPLOYERS, assignment_name="guid-3"),
        ),
    )
    seen = {}

    def program():
        access = DataAccess("data", args)
        seen["uploads"] = [a._name for a in access.of(WORKSPACE, DEPLOYERS)]
        seen["endpoint"] = [a._name for a in access.of(ENDPOINT)]
        seen["scientists"] = access.of(DATA_SCIENTISTS)

    declare(program)
    assert seen == {"uploads": ["ws-workspace", "ws-deployers"], "endpoint": ["ws-endpoint"], "scientists": []}
