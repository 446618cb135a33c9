"""Each stack's data-plane role assignments: built-in data roles, each principal at the narrowest scope.

With shared key access off and identity datastores, these are what lets each identity read or write
data at all: the workspace (its datastores, vault secrets, image pushes), the endpoint the slots run
as (model and code files), the deployer groups (model and code uploads) and the data scientist
groups (data, code snapshots, job outputs), and the model promoter groups (reading the files of the
versions they share into the registry)."""

import re
import uuid

import pytest

from infra.data_access import BUILT_IN_ROLES
from scripts.offline.stack import run_stack, stack_config
from tests.infra.conftest import STACKS

ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_IDS = {guid: name for name, guid in BUILT_IN_ROLES.items()}
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"


def data_assignments(plan) -> list:
    components = {r.name for r in plan.resources if r.type == "mlops:infra:DataAccess"}
    return [a for a in plan.of_type(ASSIGNMENT) if a.parent in components]


def scopes(plan) -> dict[str, str]:
    account = plan.one("azure-native:storage:StorageAccount")
    base = f"{SUBSCRIPTION}/resourceGroups/{account.inputs['resourceGroupName']}/providers"
    storage = f"{base}/Microsoft.Storage/storageAccounts/{account.inputs['accountName']}"
    return {
        "storage account": storage,
        "serving code container": f"{storage}/blobServices/default/containers/serving-code",
        "key vault": f"{base}/Microsoft.KeyVault/vaults/{plan.one('azure-native:keyvault:Vault').inputs['vaultName']}",
        "container registry": f"{base}/Microsoft.ContainerRegistry/registries/"
        f"{plan.one('azure-native:containerregistry:Registry').inputs['registryName']}",
    }


def default_datastore(plan, scope: str) -> bool:
    """The workspace's default datastore container: azureml-blobstore-<the workspace's immutable GUID>."""
    match = re.fullmatch(
        re.escape(scopes(plan)["storage account"])
        + r"/blobServices/default/containers/azureml-blobstore-([0-9a-f-]{36})",
        scope,
    )
    return bool(match) and uuid.UUID(match.group(1)) is not None


def granted(plan) -> set[tuple[str, str, str, str]]:
    """(principal, principal type, role, scope kind) of every data-plane assignment."""
    named = {scope: kind for kind, scope in scopes(plan).items()}
    workspace = plan.one("azure-native:machinelearningservices:Workspace").inputs["workspaceName"]
    found = set()
    for assignment in data_assignments(plan):
        principal = assignment.inputs.get("principalId")
        who = {f"principal-{workspace}": "workspace", None: "endpoint"}.get(principal, principal)
        scope = assignment.inputs["scope"]
        kind = "default datastore" if default_datastore(plan, scope) else named[scope]
        role = ROLE_IDS[assignment.inputs["roleDefinitionId"].rsplit("/", 1)[-1]]
        assert (
            assignment.inputs["roleDefinitionId"]
            == f"{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{BUILT_IN_ROLES[role]}"
        )
        found.add((who, assignment.inputs["principalType"], role, kind))
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_each_principal_gets_its_data_roles_at_the_narrowest_scope(plans, stack):
    access = stack_config(stack)["mlops-platform:access"]
    expected = {
        ("workspace", "ServicePrincipal", "Storage Blob Data Contributor", "storage account"),
        ("workspace", "ServicePrincipal", "Storage File Data Privileged Contributor", "storage account"),
        ("workspace", "ServicePrincipal", "Key Vault Secrets Officer", "key vault"),
        ("workspace", "ServicePrincipal", "AcrPush", "container registry"),
        ("endpoint", "ServicePrincipal", "Storage Blob Data Reader", "default datastore"),
        ("endpoint", "ServicePrincipal", "Storage Blob Data Reader", "serving code container"),
        *(
            (group, "Group", "Storage Blob Data Contributor", "default datastore")
            for group in access["mlopsDeployerGroupIds"] + access["dataScientistGroupIds"]
        ),
        # the groups that share this stack's models into the registry only read their files (dev: test's deployers)
        *(
            (group, "Group", "Storage Blob Data Reader", "default datastore")
            for group in access.get("modelPromoterGroupIds", [])
        ),
    }
    assert granted(plans[stack]) == expected
    assert len(data_assignments(plans[stack])) == len(expected), "one assignment per grant"


@pytest.mark.parametrize("stack", STACKS)
def test_no_person_gets_data_access_beyond_the_workspaces_default_datastore(plans, stack):
    for who, principal_type, role, kind in granted(plans[stack]):
        if principal_type == "Group":
            assert kind == "default datastore", (who, role, kind)
        assert "Owner" not in role and kind not in ("resource group", "subscription")


@pytest.mark.parametrize("stack", STACKS)
def test_the_endpoint_principal_comes_from_the_live_endpoint(plans, stack):
    """Azure gives the endpoint's identity when the ServingEndpoint creates it: unknown at preview (the
    offline plan shows no value), filled in from its `principal_id` output on `up`
    (tests/release/test_successive_ups.py checks it against the endpoint the fake holds)."""
    endpoint_grants = [a for a in data_assignments(plans[stack]) if "-endpoint-" in a.name]
    assert len(endpoint_grants) == 2
    for assignment in endpoint_grants:
        assert "principalId" not in assignment.inputs and assignment.inputs["principalType"] == "ServicePrincipal"


@pytest.mark.parametrize("stack", STACKS)
def test_assignment_names_are_stable_guids_distinct_per_grant(plans, stack):
    names = {a.name: a.inputs["roleAssignmentName"] for a in data_assignments(plans[stack])}
    assert all(uuid.UUID(name).version == 5 for name in names.values())
    assert len(set(names.values())) == len(names)
    again = {a.name: a.inputs["roleAssignmentName"] for a in data_assignments(run_stack(stack))}
    assert again == names, "the same grant keeps its GUID from one run to the next"


def test_assignment_names_differ_between_stacks(plans):
    names = [{a.inputs["roleAssignmentName"] for a in data_assignments(plans[stack])} for stack in STACKS]
    assert not (names[0] & names[1]) and not (names[1] & names[2]) and not (names[0] & names[2])


def test_each_workspace_gets_its_own_datastore_grants(config_of):
    config = config_of("dev")
    config["mlops-platform:workspaces"].append(dict(config["mlops-platform:workspaces"][0], name="sandbox"))
    plan = run_stack("dev", config=config)
    per_workspace = {}
    for assignment in data_assignments(plan):
        if default_datastore(plan, assignment.inputs["scope"]):
            per_workspace.setdefault(assignment.parent, set()).add(assignment.inputs["scope"])
    assert set(per_workspace) == {"hatespeech-data-access", "sandbox-data-access"}
    (first,), (second,) = per_workspace.values()
    assert first != second, "each workspace's default datastore is its own container"


@pytest.mark.parametrize("stack", STACKS)
def test_uploads_wait_for_the_uploaders_roles_and_the_release_for_the_endpoints(released_plans, stack):
    """With the account key off, a write to storage before its role assignment is refused (403), so the
    uploads (the serving code version, the candidate) wait for the workspace's and the deployer groups'
    assignments, which need only the workspace; the release, whose slots load the files as the endpoint's
    identity, waits for the endpoint's readers as well (stacks/composition.py)."""
    plan = released_plans[stack]
    workspace = plan.one("azure-native:machinelearningservices:Workspace").inputs["workspaceName"]
    access = stack_config(stack)["mlops-platform:access"]
    by_principal: dict[str, set[str]] = {"workspace": set(), "endpoint": set(), "deployers": set(), "scientists": set()}
    for assignment in data_assignments(plan):
        principal = assignment.inputs.get("principalId")
        if principal == f"principal-{workspace}":
            by_principal["workspace"].add(assignment.name)
        elif principal is None:
            by_principal["endpoint"].add(assignment.name)
        elif principal in access["mlopsDeployerGroupIds"]:
            by_principal["deployers"].add(assignment.name)
        else:
            by_principal["scientists"].add(assignment.name)
    assert all(by_principal.values()), by_principal
    uploads = by_principal["workspace"] | by_principal["deployers"]
    release = "pulumi-python:dynamic/release"
    for resource in (
        plan.one(f"{release}:ModelVersion"),
        plan.one(f"{release}:AssetVersion", "hatespeech-serving-code"),
        plan.one(f"{release}:AssetVersion", "hatespeech-serving-environment"),
    ):
        assert uploads <= set(resource.dependencies), resource.name
        assert not by_principal["endpoint"] & set(resource.dependencies), "an upload need not wait for the endpoint"
    for resource in (plan.one(f"{release}:ChampionSelection"), plan.one(f"{release}:EndpointTraffic")):
        assert uploads | by_principal["endpoint"] <= set(resource.dependencies), resource.name
