import copy
from collections import Counter

import pytest

from tests.infra.conftest import STACKS, with_candidate

NATIVE = "azure-native"
SERVING_ENDPOINT = "pulumi-python:dynamic/release:ServingEndpoint"


# A locked-down stack's network with its four subnets (privateEndpoints, ciAgents, jumpHosts, bastion)
# and the private endpoints of its services: vault, registry, blob and file, and one per workspace.
PRIVATE_NETWORK = {
    "mlops:infra:PrivateNetwork": 1,
    f"{NATIVE}:network:VirtualNetwork": 1,
    f"{NATIVE}:network:Subnet": 4,
    f"{NATIVE}:network:NetworkSecurityGroup": 4,
    f"{NATIVE}:network:NatGateway": 1,
    f"{NATIVE}:network:PublicIPAddress": 2,  # the NAT gateway's and Bastion's
    f"{NATIVE}:network:BastionHost": 1,
    f"{NATIVE}:privatedns:PrivateZone": 6,
    f"{NATIVE}:privatedns:VirtualNetworkLink": 6,
    "mlops:infra:PrivateAccess": 1,
    f"{NATIVE}:network:PrivateEndpoint": 4,
    f"{NATIVE}:network:PrivateDnsZoneGroup": 4,
}
PRIVATE_PER_WORKSPACE = {
    "mlops:infra:PrivateAccess": 1,
    f"{NATIVE}:network:PrivateEndpoint": 1,
    f"{NATIVE}:network:PrivateDnsZoneGroup": 1,
}
# The estate's Azure ML registry, in a locked-down stack that uses it: its private endpoint and zone group.
REGISTRY_ENDPOINT = {
    f"{NATIVE}:network:PrivateEndpoint": 1,
    f"{NATIVE}:network:PrivateDnsZoneGroup": 1,
}
LOCKED_DOWN = {"dev": False, "test": True, "prod": True}
# dev's models are shared into the registry by test's deployers (access.modelPromoterGroupIds); nobody
# promotes from test or prod
PROMOTER_GROUPS = {"dev": 1, "test": 0, "prod": 0}
USES_REGISTRY = {"dev": False, "test": True, "prod": True}


def expected_inventory(
    workspaces: int,
    scientist_groups: int,
    deployer_groups: int,
    private: bool = False,
    registry: bool = False,
    promoter_groups: int = 0,
) -> Counter:
    """The group counts are how many Entra ID groups the stack's access settings name for each role.
    The Model Promoter is defined only with promoter groups, and assigned to each at each workspace."""
    from infra.data_access import DATA_SCIENTISTS, DEPLOYERS, ENDPOINT, GRANTS, PROMOTERS, WORKSPACE

    data_roles = (
        len(GRANTS[WORKSPACE])
        + len(GRANTS[ENDPOINT])
        + scientist_groups * len(GRANTS[DATA_SCIENTISTS])
        + deployer_groups * len(GRANTS[DEPLOYERS])
        + promoter_groups * len(GRANTS[PROMOTERS])
    )
    per_workspace = {
        "mlops:stacks:WorkspaceEstate": 1,
        "mlops:infra:MachineLearningWorkspace": 1,
        "mlops:infra:ComputeClusters": 1,
        "mlops:infra:ServingAssets": 1,
        "mlops:infra:OnlineEndpoint": 1,
        f"{NATIVE}:machinelearningservices:Workspace": 1,
        f"{NATIVE}:machinelearningservices:Compute": 2,
        "pulumi-python:dynamic/release:AssetVersion": 2,
        SERVING_ENDPOINT: 1,
        "mlops:infra:DataAccess": 1,
        f"{NATIVE}:authorization:RoleAssignment": data_roles,
    }
    inventory = Counter(
        {
            "mlops:infra:SharedServices": 1,
            "mlops:infra:AccessControl": 1,
            f"{NATIVE}:resources:ResourceGroup": 1,
            f"{NATIVE}:operationalinsights:Workspace": 1,
            f"{NATIVE}:applicationinsights:Component": 1,
            f"{NATIVE}:keyvault:Vault": 1,
            f"{NATIVE}:containerregistry:Registry": 1,
            f"{NATIVE}:storage:StorageAccount": 1,
            f"{NATIVE}:storage:BlobContainer": 1,
            f"{NATIVE}:authorization:RoleDefinition": 2 + (1 if promoter_groups else 0),
            f"{NATIVE}:authorization:RoleAssignment": scientist_groups + deployer_groups + promoter_groups * workspaces,
        }
    )
    if private:
        inventory.update(PRIVATE_NETWORK)
        if registry:
            inventory.update(REGISTRY_ENDPOINT)
        per_workspace = dict(Counter(per_workspace) + Counter(PRIVATE_PER_WORKSPACE))
    for type_, count in per_workspace.items():
        inventory[type_] += count * workspaces
    return inventory


@pytest.mark.parametrize("stack", STACKS)
def test_full_inventory(plans, stack):
    plan = plans[stack]
    assert Counter(r.type for r in plan.resources) == expected_inventory(
        workspaces=1,
        scientist_groups=1,
        deployer_groups=1,
        private=LOCKED_DOWN[stack],
        registry=USES_REGISTRY[stack],
        promoter_groups=PROMOTER_GROUPS[stack],
    )
    # the registry is read, never declared, by the stacks that use it
    assert [(r.type, r.id) for r in plan.reads] == (
        [("pulumi:pulumi:StackReference", "organization/mlops-platform/registry")] if USES_REGISTRY[stack] else []
    )


def test_the_registry_stack_inventory(registry_plan):
    """One resource group and one Azure ML registry, two custom roles and one assignment per configured
    group (two publishers, three readers); no network: the stacks that use it hold its private endpoints."""
    assert Counter(r.type for r in registry_plan.resources) == Counter(
        {
            "mlops:infra:ModelRegistry": 1,
            "mlops:infra:AccessControl": 1,
            f"{NATIVE}:resources:ResourceGroup": 1,
            f"{NATIVE}:machinelearningservices:Registry": 1,
            f"{NATIVE}:authorization:RoleDefinition": 2,
            f"{NATIVE}:authorization:RoleAssignment": 5,
        }
    )
    assert registry_plan.reads == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_azure_resource_belongs_to_a_component(plans, stack):
    components = {r.name for r in plans[stack].resources if r.type.startswith("mlops:")}
    for resource in plans[stack].resources:
        if resource.type.startswith(NATIVE):
            assert resource.parent in components, resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_names_carry_stack_and_suffix(plans, stack):
    plan = plans[stack]
    vault = plan.one("azure-native:keyvault:Vault").inputs["vaultName"]
    workspace = plan.one("azure-native:machinelearningservices:Workspace").inputs["workspaceName"]
    for name in (vault, workspace):
        assert stack in name
    assert vault != workspace
    assert plan.one("azure-native:resources:ResourceGroup").inputs["resourceGroupName"] == f"rg-mlops-{stack}"


def test_physical_names_differ_between_stacks(plans):
    for type_, key in (
        ("azure-native:keyvault:Vault", "vaultName"),
        ("azure-native:storage:StorageAccount", "accountName"),
        ("azure-native:containerregistry:Registry", "registryName"),
        (SERVING_ENDPOINT, "endpoint_name"),
    ):
        names = {plans[stack].one(type_).inputs[key] for stack in STACKS}
        assert len(names) == len(STACKS), type_


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_tell_the_user_what_comes_next(plans, stack):
    outputs = plans[stack].outputs
    assert outputs["resource_group"] == f"rg-mlops-{stack}"
    assert outputs["key_vault_uri"].startswith("https://kv-mlops-") and outputs["key_vault_uri"].endswith(
        ".vault.azure.net/"
    )
    assert outputs["registry_login_server"].endswith(".azurecr.io")
    workspace = outputs["workspaces"]["hatespeech"]
    assert workspace["workspace_name"].startswith("mlw-mlops-hatespeech-")
    assert workspace["workspace_id"].startswith("/subscriptions/")
    assert workspace["endpoint_name"] == plans[stack].one(SERVING_ENDPOINT).inputs["endpoint_name"]
    # Azure assigns the scoring URI when the ServingEndpoint's provider creates the endpoint; the offline
    # engine runs only a dynamic provider's `check`, so the plan shows the output, still unknown.
    assert "scoring_uri" in workspace and workspace["scoring_uri"] is None


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_in_outputs(plans, stack):
    text = repr(plans[stack].outputs).lower()
    for word in ('key":', "password", "connectionstring", "primarykey", "instrumentationkey", "accountkey"):
        assert word not in text


def test_two_workspaces_share_the_stack_services(config_of):
    from scripts.offline.stack import run_stack

    config = config_of("dev")
    second = dict(config["mlops-platform:workspaces"][0], name="sandbox")
    config["mlops-platform:workspaces"].append(second)
    plan = run_stack("dev", config=config)
    workspaces = plan.of_type("azure-native:machinelearningservices:Workspace")
    assert len(workspaces) == 2
    assert len(plan.of_type("azure-native:keyvault:Vault")) == 1
    for key in ("keyVault", "applicationInsights", "containerRegistry", "storageAccount"):
        assert workspaces[0].inputs[key] == workspaces[1].inputs[key] is not None
    endpoints = plan.of_type(SERVING_ENDPOINT)
    assert sorted(e.inputs["workspace_name"] for e in endpoints) == sorted(
        w.inputs["workspaceName"] for w in workspaces
    )
    assert len({r.urn for r in plan.resources}) == len(plan.resources), "logical names must not collide"


def test_each_workspace_with_its_release_is_one_subtree_under_its_estate(config_of, candidate):
    from scripts.offline.stack import run_stack

    config = config_of("dev")
    workspaces = config["mlops-platform:workspaces"]
    workspaces.append(dict(copy.deepcopy(workspaces[0]), name="sandbox"))
    plan = run_stack("dev", config=with_candidate(with_candidate(config, candidate, 0), candidate, 1))
    parents = {r.name: r.parent for r in plan.resources}

    def top(name):
        while parents[name] is not None:
            name = parents[name]
        return name

    assert {top(r.name) for r in plan.resources} == {"shared", "access", "hatespeech-estate", "sandbox-estate"}
    for workspace in ("hatespeech", "sandbox"):
        subtree = [r for r in plan.resources if top(r.name) == f"{workspace}-estate"]
        assert {r.type for r in subtree} >= {
            "mlops:infra:MachineLearningWorkspace",
            "mlops:infra:ComputeClusters",
            "mlops:infra:ServingAssets",
            "mlops:infra:OnlineEndpoint",
            "mlops:release:ModelRelease",
            f"{NATIVE}:machinelearningservices:Compute",
            SERVING_ENDPOINT,
            "pulumi-python:dynamic/release:ModelVersion",
            "pulumi-python:dynamic/release:EndpointTraffic",
        }
        azure_name = plan.one(f"{NATIVE}:machinelearningservices:Workspace", f"{workspace}-workspace").inputs[
            "workspaceName"
        ]
        named = {r.inputs.get("workspaceName", r.inputs.get("workspace_name")) for r in subtree if r.custom}
        assert named - {None} == {azure_name}, "an estate holds only its own workspace's resources"


def test_the_pulumi_entry_point_declares_what_the_plan_shows(plans):
    """`pulumi up` runs __main__.py: it must declare exactly the resources of the offline plan."""
    import runpy

    from scripts.offline import PROJECT_DIR
    from scripts.offline.program import run_program
    from scripts.offline.stack import referenced_outputs, stack_config

    def entry_point():
        runpy.run_path(str(PROJECT_DIR / "__main__.py"))
        return {}

    config = stack_config("test")
    entry = run_program("test", entry_point, config, stack_outputs=referenced_outputs("test", config))
    assert sorted((r.type, r.name) for r in entry.resources) == sorted(
        (r.type, r.name) for r in plans["test"].resources
    )
