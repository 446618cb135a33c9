"""The estate's Azure ML registry: declared once by the registry stack, read by test and prod through a
StackReference, reached through their private endpoints, and checked against their location and network.

Everything below runs the real programs under the mock runtime; the registry stack's outputs that the
environment stacks read are those of its own offline plan (scripts/offline/stack.py)."""

import copy
import subprocess
import sys

import pulumi
import pytest

from infra.facts import ML_REGISTRY_NAME, full
from infra.release.base import RegistryCoordinates
from infra.role_permissions import REGISTRY_PUBLISHER, REGISTRY_READER, REGISTRY_ROLES, permits
from scripts.offline import PROJECT_DIR
from scripts.offline.program import run_program
from scripts.offline.stack import StackFileError, referenced_outputs, run_stack, stack_config
from stacks import SettingsError, parse_stack_settings
from stacks.config_keys import ProjectConfig
from stacks.registry_reference import READ, RegistryReferenceError, checked_outputs, reference_registry
from stacks.registry_settings import RegistrySettings
from stacks.registry_stack import RegistryStackOutputs
from tests.infra.conftest import REGISTRY_REFERENCE, REGISTRY_STACK, STACKS, P

ML = "azure-native:machinelearningservices"
REGISTRY = f"{ML}:Registry"
ENDPOINT, ZONE_GROUP = "azure-native:network:PrivateEndpoint", "azure-native:network:PrivateDnsZoneGroup"
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"
REGISTRY_ID = (
    f"{SUBSCRIPTION}/resourceGroups/rg-mlops-registry/providers/Microsoft.MachineLearningServices/registries/"
    "mlreg-mlops-a1"
)
USERS = ("test", "prod")  # the stacks that reference the registry


def registry_config():
    return copy.deepcopy(stack_config(REGISTRY_STACK))


def registry_problems(config) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        parse_stack_settings(REGISTRY_STACK, ProjectConfig.split(config, "mlops-platform"))
    return raised.value.problems


# --- the registry stack -------------------------------------------------------------------------


def test_the_registry_has_the_regions_public_access_and_tags_of_its_settings(registry_plan):
    registry = registry_plan.one(REGISTRY)
    assert registry.inputs["registryName"] == "mlreg-mlops-a1"
    assert registry.inputs["resourceGroupName"] == "rg-mlops-registry"
    assert registry.inputs["location"] == "westeurope"
    assert registry.inputs["publicNetworkAccess"] == "Disabled"
    assert registry.inputs["identity"] == {"type": "SystemAssigned"}
    assert registry.inputs["regionDetails"] == [
        {
            "location": "westeurope",
            "storageAccountDetails": [
                {
                    "systemCreatedStorageAccount": {
                        "storageAccountType": "Standard_ZRS",
                        "storageAccountHnsEnabled": False,
                        "allowBlobPublicAccess": False,
                    }
                }
            ],
            "acrDetails": [{"systemCreatedAcrAccount": {"acrAccountSku": "Premium"}}],
        }
    ]
    assert registry.inputs["tags"] == {
        "environment": "registry",
        "managed-by": "pulumi",
        "project": "mlops-platform",
        "cost-center": "ml-platform",
    }
    assert registry.protect, "deleting the registry deletes versions that can never be created again"
    group = registry_plan.one("azure-native:resources:ResourceGroup")
    assert group.inputs["resourceGroupName"] == "rg-mlops-registry" and group.inputs["tags"] == registry.inputs["tags"]


def test_every_region_of_the_settings_is_replicated_the_primary_among_them(config_of):
    config = registry_config()
    config[f"{P}regions"] = ["westeurope", "northeurope", "swedencentral"]
    config[f"{P}publicNetworkAccess"] = True
    plan = run_stack(REGISTRY_STACK, config=config)
    registry = plan.one(REGISTRY)
    assert [r["location"] for r in registry.inputs["regionDetails"]] == ["westeurope", "northeurope", "swedencentral"]
    assert registry.inputs["location"] == "westeurope"
    assert registry.inputs["publicNetworkAccess"] == "Enabled"
    assert plan.outputs["regions"] == ["westeurope", "northeurope", "swedencentral"]
    assert plan.outputs["public_network_access"] is True


def test_the_registry_stack_exports_what_a_reference_reads(registry_plan):
    outputs = registry_plan.outputs
    assert set(outputs) == set(RegistryStackOutputs.__annotations__)
    assert set(READ) <= set(outputs)
    assert outputs == {
        "name": "mlreg-mlops-a1",
        "id": REGISTRY_ID,
        "resource_group": "rg-mlops-registry",
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "location": "westeurope",
        "regions": ["westeurope"],
        "discovery_url": "https://westeurope.api.azureml.ms/registrymanagement/v1.0/registries/mlreg-mlops-a1/discovery",
        "public_network_access": False,
    }


def test_the_registry_covers_the_region_of_every_environment_stack():
    regions = stack_config(REGISTRY_STACK)[f"{P}regions"]
    for stack in STACKS:
        assert stack_config(stack)[f"{P}location"] in regions, stack


def test_the_real_registry_config_is_valid():
    settings = parse_stack_settings(REGISTRY_STACK, ProjectConfig.split(stack_config(REGISTRY_STACK), "mlops-platform"))
    assert isinstance(settings, RegistrySettings)
    assert settings.stack == REGISTRY_STACK and settings.names.resource_group == "rg-mlops-registry"


# --- RBAC ---------------------------------------------------------------------------------------

REGISTRIES = "Microsoft.MachineLearningServices/registries"


@pytest.mark.parametrize("operation", [f"{REGISTRIES}/read", f"{REGISTRIES}/assets/read", f"{REGISTRIES}/assets/write"])
def test_a_publisher_reads_and_writes_assets(operation):
    assert permits(REGISTRY_PUBLISHER, operation)


@pytest.mark.parametrize("operation", [f"{REGISTRIES}/read", f"{REGISTRIES}/assets/read"])
def test_a_reader_reads(operation):
    assert permits(REGISTRY_READER, operation)


@pytest.mark.parametrize(
    "role, operation",
    [
        (REGISTRY_READER, f"{REGISTRIES}/assets/write"),
        (REGISTRY_READER, f"{REGISTRIES}/assets/delete"),
        (REGISTRY_PUBLISHER, f"{REGISTRIES}/assets/delete"),  # a deleted version can never be created again
        (REGISTRY_PUBLISHER, f"{REGISTRIES}/write"),
        (REGISTRY_PUBLISHER, f"{REGISTRIES}/delete"),
        (REGISTRY_READER, f"{REGISTRIES}/write"),
        (REGISTRY_PUBLISHER, "Microsoft.MachineLearningServices/workspaces/models/write"),
        (REGISTRY_PUBLISHER, "Microsoft.Authorization/roleAssignments/write"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.purpose,
)
def test_what_the_registry_roles_may_not_do(role, operation):
    assert not permits(role, operation)


def test_the_registry_roles_are_assignable_at_its_group_and_assigned_at_the_registry(registry_plan):
    scope = f"{SUBSCRIPTION}/resourceGroups/rg-mlops-registry"
    definitions = {d.inputs["roleName"]: d for d in registry_plan.of_type("azure-native:authorization:RoleDefinition")}
    assert set(definitions) == {"mlops-registry Registry Publisher", "mlops-registry Registry Reader"}
    by_id = {}
    for role in REGISTRY_ROLES:
        definition = definitions[f"mlops-registry {role.purpose}"]
        assert definition.inputs["scope"] == scope and definition.inputs["assignableScopes"] == [scope]
        assert definition.inputs["permissions"] == [
            {"actions": list(role.actions), "notActions": [], "dataActions": [], "notDataActions": []}
        ]
        by_id[f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{definition.inputs['roleDefinitionId']}"] = (
            role.purpose
        )
    access = stack_config(REGISTRY_STACK)[f"{P}access"]
    expected = {(group, "Registry Publisher") for group in access["mlopsDeployerGroupIds"]} | {
        (group, "Registry Reader") for group in access["dataScientistGroupIds"]
    }
    assignments = registry_plan.of_type("azure-native:authorization:RoleAssignment")
    assert {(a.inputs["principalId"], by_id[a.inputs["roleDefinitionId"]]) for a in assignments} == expected
    for assignment in assignments:
        assert assignment.inputs["scope"] == REGISTRY_ID, "the narrowest scope: the registry itself"
        assert assignment.inputs["principalType"] == "Group"


def test_registry_role_guids_differ_from_every_environment_stacks(registry_plan, plans):
    def ids(plan):
        return {d.inputs["roleDefinitionId"] for d in plan.of_type("azure-native:authorization:RoleDefinition")}

    assert ids(registry_plan) == ids(run_stack(REGISTRY_STACK)), "stable across runs"
    for stack in STACKS:
        assert not ids(registry_plan) & ids(plans[stack])


# --- the environment stacks' reference ----------------------------------------------------------


def test_test_and_prod_reference_the_registry_stack_and_dev_does_not():
    for stack in USERS:
        assert stack_config(stack)[f"{P}modelRegistry"] == {"stack": REGISTRY_REFERENCE}
    assert f"{P}modelRegistry" not in stack_config("dev")


@pytest.mark.parametrize("stack", USERS)
def test_the_stack_reads_the_registry_stacks_outputs(plans, registry_plan, stack):
    plan = plans[stack]
    [read] = plan.reads
    assert (read.type, read.name, read.id) == (
        "pulumi:pulumi:StackReference",
        "model-registry-stack",
        REGISTRY_REFERENCE,
    )
    assert referenced_outputs(stack, stack_config(stack)) == {REGISTRY_REFERENCE: registry_plan.outputs}
    assert plan.outputs["model_registry"] == {
        "stack": REGISTRY_REFERENCE,
        "name": registry_plan.outputs["name"],
        "resource_group": registry_plan.outputs["resource_group"],
        "subscription_id": registry_plan.outputs["subscription_id"],
        "id": registry_plan.outputs["id"],
    }


def test_the_reference_gives_the_release_its_registry_coordinates(registry_plan):
    """What the release resources will take: RegistryCoordinates resolved from the registry stack's outputs."""
    config = stack_config("test")
    settings = parse_stack_settings("test", ProjectConfig.split(config, "mlops-platform"))
    resolved = {}

    def program():
        reference = reference_registry(settings)
        assert reference is not None and isinstance(reference.coordinates, RegistryCoordinates)
        return {"coordinates": pulumi.Output.all(**reference.coordinates.as_props()).apply(resolved.update)}

    run_program("test", program, config, stack_outputs=referenced_outputs("test", config))
    assert resolved == {
        "registry_subscription_id": registry_plan.outputs["subscription_id"],
        "registry_resource_group": "rg-mlops-registry",
        "registry_name": "mlreg-mlops-a1",
    }


def test_each_workspace_estate_carries_the_registry_for_its_release(monkeypatch):
    import stacks.composition as composition

    estates = []

    class Recorded(composition.WorkspaceEstate):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            estates.append(self)

    monkeypatch.setattr(composition, "WorkspaceEstate", Recorded)
    resolved = {}

    def program():
        outputs = composition.program()
        [estate] = estates
        if estate.registry is None:
            return outputs
        return {**outputs, "coordinates": pulumi.Output.all(**estate.registry.as_props()).apply(resolved.update)}

    config = stack_config("prod")
    run_program("prod", program, config, stack_outputs=referenced_outputs("prod", config))
    assert resolved["registry_name"] == "mlreg-mlops-a1"
    estates.clear()
    run_program("dev", program, stack_config("dev"))
    assert estates[0].registry is None, "a stack without modelRegistry has no registry"


@pytest.mark.parametrize("stack", USERS)
def test_the_registry_private_endpoint_in_the_endpoint_subnet_with_the_workspace_api_zone(plans, stack):
    plan = plans[stack]
    endpoint = plan.one(ENDPOINT, "pe-model-registry-amlregistry")
    assert endpoint.inputs["privateLinkServiceConnections"] == [
        {"name": "pe-model-registry-amlregistry", "privateLinkServiceId": REGISTRY_ID, "groupIds": ["amlregistry"]}
    ]
    assert endpoint.input("subnet.id") == (
        f"{SUBSCRIPTION}/resourceGroups/rg-mlops-{stack}/providers/Microsoft.Network/virtualNetworks/"
        f"vnet-mlops-{stack}/subnets/snet-private-endpoints"
    )
    assert endpoint.inputs["resourceGroupName"] == f"rg-mlops-{stack}"
    group = plan.one(ZONE_GROUP, "pe-model-registry-amlregistry-dns")
    assert group.inputs["privateEndpointName"] == "pe-model-registry-amlregistry"
    [config] = group.inputs["privateDnsZoneConfigs"]
    zone_id = (
        f"{SUBSCRIPTION}/resourceGroups/rg-mlops-{stack}/providers/Microsoft.Network/privateDnsZones/"
        "privatelink.api.azureml.ms"
    )
    assert config["privateDnsZoneId"] == zone_id
    # the same zone as the workspace's own endpoint: one zone per stack, reused
    workspace_group = next(g for g in plan.of_type(ZONE_GROUP) if g.name.endswith("-amlworkspace-dns"))
    assert zone_id in [c["privateDnsZoneId"] for c in workspace_group.inputs["privateDnsZoneConfigs"]]


@pytest.mark.parametrize("stack", USERS)
def test_each_workspaces_managed_network_reaches_the_registry_by_a_private_endpoint_rule(plans, stack):
    """Azure creates private endpoints from the managed network only to the workspace's own services
    (Azure docs, "Workspace Managed Virtual Network Isolation", List of required rules); a registry
    with public access off needs a user-defined one (subresource amlregistry)."""
    for workspace in plans[stack].of_type(f"{ML}:Workspace"):
        rules = workspace.input("managedNetwork.outboundRules")
        assert {name: rule for name, rule in rules.items() if rule["type"] == "PrivateEndpoint"} == {
            "private-model-registry": {
                "type": "PrivateEndpoint",
                "category": "UserDefined",
                "destination": {
                    "serviceResourceId": REGISTRY_ID,
                    "subresourceTarget": "amlregistry",
                    "sparkEnabled": False,
                },
            }
        }


def test_a_hub_zone_serves_the_registry_endpoint_too(config_of):
    hub = "/subscriptions/9b7e1c2d-0000-4000-8000-0000000000a1/resourceGroups/rg-hub/providers/Microsoft.Network/privateDnsZones/"
    config = config_of("test")
    config[f"{P}network"]["privateDnsZoneIds"] = {"privatelink.api.azureml.ms": hub + "privatelink.api.azureml.ms"}
    plan = run_stack("test", config=config)
    [zone_config] = plan.one(ZONE_GROUP, "pe-model-registry-amlregistry-dns").inputs["privateDnsZoneConfigs"]
    assert zone_config["privateDnsZoneId"] == hub + "privatelink.api.azureml.ms"


def test_dev_has_no_registry_endpoint_rule_or_output(plans):
    dev = plans["dev"]
    assert dev.reads == [] and "model_registry" not in dev.outputs
    assert registry_rules(dev) == {}


def test_a_public_stack_may_use_a_registry_that_is_open_without_any_endpoint(config_of, tmp_path):
    project = copy_project_with_open_registry(tmp_path)
    config = config_of("dev")
    config[f"{P}modelRegistry"] = {"stack": REGISTRY_REFERENCE}
    plan = run_stack("dev", project_dir=project, config=config)
    assert plan.outputs["model_registry"]["name"] == "mlreg-mlops-a1"
    assert not plan.of_type(ENDPOINT)
    assert registry_rules(plan) == {}


def registry_rules(plan) -> dict:
    """The workspace's managed-network rules that reach an ML registry."""
    [workspace] = plan.of_type(f"{ML}:Workspace")
    assert workspace.input("managedNetwork.isolationMode") == "AllowInternetOutbound"
    rules = workspace.input("managedNetwork").get("outboundRules") or {}
    return {n: r for n, r in rules.items() if r.get("destination", {}).get("subresourceTarget") == "amlregistry"}


def copy_project_with_open_registry(tmp_path):
    """A project directory whose registry stack has public access on (only the stack files are read)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.registry.yaml"):
        (project / name).write_text((PROJECT_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    path = project / "Pulumi.registry.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("publicNetworkAccess: false", "publicNetworkAccess: true"),
        encoding="utf-8",
    )
    return project


# --- what stops the plan --------------------------------------------------------------------------


def reference_error(stack, config) -> str:
    with pytest.raises(RegistryReferenceError) as raised:
        run_stack(stack, config=config)
    [problem] = raised.value.problems
    assert str(raised.value) == f"invalid configuration for stack '{stack}':\n  - {problem}"
    return problem


def test_a_location_not_among_the_registrys_regions_stops_the_plan(config_of):
    config = config_of("test")
    config[f"{P}location"] = "northeurope"
    assert reference_error("test", config) == (
        "mlops-platform:location: 'northeurope' is not valid; accepted: one of the regions of the registry of "
        "stack organization/mlops-platform/registry (westeurope); or add northeurope to that stack's regions "
        "and `pulumi up` it first"
    )


def test_the_plan_reports_a_location_outside_the_regions_in_one_line_without_a_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "scripts.plan", "--stack", "prod", "--config", "location=northeurope"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: invalid configuration for stack 'prod':",
        "  - mlops-platform:location: 'northeurope' is not valid; accepted: one of the regions of the registry of "
        "stack organization/mlops-platform/registry (westeurope); or add northeurope to that stack's regions "
        "and `pulumi up` it first",
    ]


def test_a_public_stack_cannot_use_a_closed_registry(config_of):
    config = config_of("dev")
    config[f"{P}modelRegistry"] = {"stack": REGISTRY_REFERENCE}
    assert reference_error("dev", config) == (
        "mlops-platform:network.publicNetworkAccess: true is not valid; accepted: false (with "
        "network.subnets.privateEndpoints): the registry mlreg-mlops-a1 of stack organization/mlops-platform/registry "
        "has public access off, so only a stack with a private endpoint to it reaches it"
    )


def test_a_reference_to_a_stack_that_is_no_registry_stops_the_plan(config_of):
    config = config_of("test")
    config[f"{P}modelRegistry"] = {"stack": "organization/mlops-platform/dev"}
    problem = reference_error("test", config)
    assert problem.startswith(
        "mlops-platform:modelRegistry.stack: 'organization/mlops-platform/dev' is not valid; accepted: a registry "
        "stack (kind: registry) that exports id, name, public_network_access, regions, resource_group, subscription_id"
    )


def test_the_offline_engine_plans_only_this_projects_stacks(config_of):
    config = config_of("test")
    config[f"{P}modelRegistry"] = {"stack": "acme/other-project/registry"}
    with pytest.raises(StackFileError) as raised:
        run_stack("test", config=config)
    assert str(raised.value) == (
        "stack 'test' references 'acme/other-project/registry', which the offline engine cannot plan; accepted: a "
        "stack of this project, <organization>/mlops-platform/<stack> with <stack> one of dev, prod, registry, test"
    )


@pytest.mark.parametrize("name", ["registry", "org/registry", "a/b/c/d", "organization/mlops platform/registry"])
def test_a_reference_that_is_no_fully_qualified_stack_name_is_a_settings_error(config_of, name):
    config = config_of("test")
    config[f"{P}modelRegistry"] = {"stack": name}
    with pytest.raises(SettingsError) as raised:
        run_stack("test", config=config)
    assert raised.value.problems == [
        f"mlops-platform:modelRegistry.stack: {name!r} is not valid; accepted: a fully qualified stack name "
        "<organization>/<project>/<stack> (organization/<project>/<stack> on a self-managed backend such as azblob://)"
    ]


@pytest.mark.parametrize(
    "outputs, unread",
    [
        ({}, "id, name, public_network_access, regions, resource_group, subscription_id"),
        (
            {**dict.fromkeys(READ, "x"), "regions": ["westeurope"], "public_network_access": "no"},
            "public_network_access",
        ),
        ({**dict.fromkeys(READ, "x"), "regions": "westeurope", "public_network_access": False}, "regions"),
    ],
)
def test_outputs_a_registry_stack_does_not_export_are_named(outputs, unread):
    with pytest.raises(RegistryReferenceError) as raised:
        checked_outputs(outputs, stack="test", registry_stack="o/p/r", location="westeurope", private=True, project="p")
    assert f"stack o/p/r has no valid {unread} (" in raised.value.problems[0]


def test_a_registry_reference_error_is_a_clean_pulumi_error_not_a_value_error():
    """The Python language host prints a RunError's message alone; a ValueError would reach it wrapped in
    "While processing resource ..." (pulumi/runtime/resource.py do_register) and with a traceback."""
    assert issubclass(RegistryReferenceError, pulumi.RunError)
    assert not issubclass(RegistryReferenceError, ValueError)


# --- bad registry settings, one message each -------------------------------------------------------


@pytest.mark.parametrize(
    "breakage, expected",
    [
        (
            lambda c: c.update({f"{P}registryName": "-registry"}),
            "mlops-platform:registryName: '-registry' is not valid; accepted: an Azure ML registry name (3-32 "
            "letters, digits, '-' or '_', starting with a letter or digit)",
        ),
        (
            lambda c: c.update({f"{P}registryName": "r" * 33}),
            f"mlops-platform:registryName: '{'r' * 33}' is not valid; accepted: an Azure ML registry name",
        ),
        (
            lambda c: c.update({f"{P}registryName": "ml.registry"}),
            "mlops-platform:registryName: 'ml.registry' is not valid; accepted: an Azure ML registry name",
        ),
        (
            lambda c: c.update({f"{P}regions": ["northeurope"]}),
            "mlops-platform:regions: ['northeurope'] is not valid; accepted: a list of Azure region names (an Azure "
            "region name such as westeurope), each once, the primary location among them; the primary location "
            "westeurope is missing",
        ),
        (
            lambda c: c.update({f"{P}regions": ["westeurope", "westeurope"]}),
            "mlops-platform:regions: ['westeurope', 'westeurope'] is not valid; accepted: a list of Azure region "
            "names (an Azure region name such as westeurope), each once, the primary location among them "
            "(repeated: westeurope)",
        ),
        (
            lambda c: c.update({f"{P}regions": []}),
            "mlops-platform:regions: [] is not valid; accepted: a list of Azure region names (an Azure region name "
            "such as westeurope), each once, the primary location among them with at least 1 entry",
        ),
        (
            lambda c: c.update({f"{P}regions": ["West Europe"]}),
            "mlops-platform:regions[0]: 'West Europe' is not valid; accepted: a list of Azure region names",
        ),
        (
            lambda c: c.update({f"{P}location": "West Europe"}),
            "mlops-platform:location: 'West Europe' is not valid; accepted: an Azure region name such as "
            "westeurope: the primary region, which can never change",
        ),
        (
            lambda c: c.update({f"{P}publicNetworkAccess": "maybe"}),
            "mlops-platform:publicNetworkAccess: 'maybe' is not valid; accepted: true or false, not a string",
        ),
        (
            lambda c: c.update({f"{P}storageSku": "Premium_LRS"}),
            "mlops-platform:storageSku: 'Premium_LRS' is not valid; accepted: one of Standard_LRS, Standard_GRS",
        ),
        (
            lambda c: c[f"{P}access"].update(mlopsDeployerGroupIds=[]),
            "mlops-platform:access.mlopsDeployerGroupIds: [] is not valid; accepted: a list of Entra ID group object "
            "ids (GUIDs), at least one: the registry's publishers with at least 1 entry",
        ),
        (
            lambda c: c[f"{P}access"].update(dataScientistGroupIds=["data-scientists"]),
            "mlops-platform:access.dataScientistGroupIds[0]: 'data-scientists' is not valid; accepted: a list of "
            "Entra ID group object ids (GUIDs): the registry's readers",
        ),
        (
            lambda c: c.pop(f"{P}regions"),
            "mlops-platform:regions: is required; accepted: a list of Azure region names",
        ),
        (
            lambda c: c.pop(f"{P}registryName"),
            "mlops-platform:registryName: is required; accepted: an Azure ML registry name",
        ),
        (
            lambda c: c.update({f"{P}workspaces": []}),
            "mlops-platform:workspaces: unknown setting (value []); accepted settings here: access, kind, location, "
            "namePrefix, publicNetworkAccess, regions, registryName, storageSku, tags",
        ),
        (
            lambda c: c.update({f"{P}kind": "registy"}),
            "mlops-platform:kind: 'registy' is not valid; accepted: one of environment, registry (environment when "
            "left out)",
        ),
        (
            lambda c: c.update({f"{P}tags": {"secure": "v1:CIPHERTEXT"}}),
            "mlops-platform:tags: [secret] is not valid; accepted: a mapping of string to string (a plain value: tags "
            "are not secrets)",
        ),
    ],
)
def test_a_bad_registry_setting_is_one_message_naming_the_key_and_what_is_accepted(breakage, expected):
    config = registry_config()
    breakage(config)
    [problem] = registry_problems(config)
    assert problem.startswith(expected), problem


def test_every_bad_registry_setting_is_reported_at_once():
    config = registry_config()
    config[f"{P}registryName"] = "_bad"
    config[f"{P}regions"] = ["northeurope"]
    config[f"{P}access"]["mlopsDeployerGroupIds"] = []
    assert [line.split(":")[1] for line in registry_problems(config)] == [
        "registryName",
        "regions",
        "access.mlopsDeployerGroupIds",
    ]


def test_the_registry_name_pattern_takes_what_both_the_rest_spec_and_the_docs_allow():
    pattern = full(ML_REGISTRY_NAME)
    for name in ("abc", "mlreg-mlops-a1", "Registry_1", "a" * 32):
        assert pattern.fullmatch(name), name
    for name in ("ab", "a" * 33, "-abc", "_abc", "ab.c", "ab c"):
        assert not pattern.fullmatch(name), name


def test_the_registry_stacks_own_plan_reports_bad_settings_without_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "scripts.plan", "--stack", "registry", "--config", "regions=[northeurope]"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: invalid configuration for stack 'registry':\n  - mlops-platform:regions: ")
    assert "Traceback" not in result.stderr


def test_the_plan_tree_shows_the_registry_and_what_a_stack_reads():
    from scripts.plan.__main__ import plan_json
    from scripts.plan.tree import render_tree

    tree = render_tree(plan_json("test")).splitlines()
    assert f"reads pulumi:pulumi:StackReference  model-registry-stack  [{REGISTRY_REFERENCE}]" in tree
    registry = render_tree(plan_json(REGISTRY_STACK))
    assert (
        "azure-native:machinelearningservices:Registry  registry  [registryName=mlreg-mlops-a1  location=westeurope  "
        "identity.type=SystemAssigned  publicNetworkAccess=Disabled]"
    ) in registry
    assert "reads " not in registry
