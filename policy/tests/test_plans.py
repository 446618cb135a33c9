"""Every policy over every stack's offline plan (all must pass), and over insecure variants derived
from those plans (each must be caught). The plans come from `venv/bin/python -m scripts.plan
--stack <s> --json`, run in the main environment: the policy environment has no azure-native."""

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest
from pulumi_policy import StackValidationArgs

from harness import NATIVE_DEPLOYMENT, NATIVE_ENDPOINT, policy_resource, resource_args
from mlops_policies import (
    COMPUTE_POLICY,
    CUSTOM_ROLE_POLICY,
    ENDPOINT_PRIVATE_POLICY,
    ENDPOINT_TRAFFIC_POLICY,
    KEY_VAULT_POLICY,
    MANAGED_NETWORK_EGRESS_POLICY,
    PRIVATE_ENDPOINT_POLICY,
    REGISTRY_POLICY,
    RESOURCE_POLICIES,
    SHARED_KEY_POLICY,
    SINGLE_TRAFFIC_OWNER_POLICY,
    STACK_POLICIES,
    STORAGE_POLICY,
    WORKSPACE_POLICY,
)

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "test", "prod")  # the environment stacks, which release models
REGISTRY_STACK = "registry"  # the stack of the estate's Azure ML registry (no workspace, no release)
ALL_STACKS = (*STACKS, REGISTRY_STACK)
MAIN_PYTHON = Path(os.environ.get("MLOPS_MAIN_PYTHON", ROOT / "venv" / "bin" / "python"))
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"
ENDPOINT = "pulumi-python:dynamic/release:ServingEndpoint"
TRAFFIC = "pulumi-python:dynamic/release:EndpointTraffic"
ML_REGISTRY = "azure-native:machinelearningservices:Registry"
WORKSPACE = "azure-native:machinelearningservices:Workspace"


def _run_plans(extra_args: list[str], stacks=STACKS) -> dict[str, dict]:
    """`scripts.plan --stack <s> --json [extra_args]` for every stack of `stacks`, run side by side."""
    if not MAIN_PYTHON.exists():
        pytest.fail(
            f"the main environment's python {MAIN_PYTHON} is missing; run scripts/setup "
            "(or point MLOPS_MAIN_PYTHON at it)"
        )
    running = {
        stack: subprocess.Popen(
            [str(MAIN_PYTHON), "-m", "scripts.plan", "--stack", stack, "--json", *extra_args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for stack in stacks
    }
    plans = {}
    for stack, process in running.items():
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, f"scripts.plan --stack {stack} failed:\n{stderr}"
        plans[stack] = json.loads(stdout)
    return plans


@pytest.fixture(scope="session")
def plans() -> dict[str, dict]:
    return _run_plans([], ALL_STACKS)


@pytest.fixture(scope="session")
def release_plans(tmp_path_factory) -> dict[str, dict]:
    """Every stack's plan with a release candidate set, as `scripts.plan --config` previews it: the
    only plans with the release's EndpointTraffic and the serving spec it deploys the slots with."""
    folder = tmp_path_factory.mktemp("candidate")
    (folder / "artifact.json").write_text(json.dumps({"name": "hate-speech-pt"}), encoding="utf-8")
    (folder / "model.int8.onnx").write_bytes(b"weights")
    evaluation = folder.parent / "evaluation.csv"
    evaluation.write_text("text,hate\nola,0\nodio,1\n", encoding="utf-8")
    return _run_plans(
        [
            "--config",
            f"workspaces[0].release.candidate={folder}",
            "--config",
            f"workspaces[0].release.evaluationData={evaluation}",
        ]
    )


def violations(policy, resource: dict, stack: str) -> list[str]:
    found: list[str] = []
    policy.validate(resource_args(resource, stack), lambda message, urn=None: found.append(message))
    return found


def stack_violations(resources: list[dict], stack: str, policies=(SINGLE_TRAFFIC_OWNER_POLICY,)) -> list[str]:
    found: list[str] = []
    args = StackValidationArgs([policy_resource(r, stack) for r in resources])
    for policy in policies:
        policy.validate(args, lambda message, urn=None: found.append(message))
    return found


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_policy_passes_on_the_stack_plan(plans, release_plans, stack):
    for plan in (plans[stack], release_plans[stack]) if stack in release_plans else (plans[stack],):
        resources = plan["resources"]
        found = [(p.name, r["name"], m) for r in resources for p in RESOURCE_POLICIES for m in violations(p, r, stack)]
        assert found == []
        assert stack_violations(resources, stack, STACK_POLICIES) == []


def test_plans_hold_what_the_policies_check(plans, release_plans):
    """Guards against a vacuous pass: each checked resource type is in every plan."""
    checked = {
        "azure-native:keyvault:Vault",
        "azure-native:containerregistry:Registry",
        "azure-native:storage:StorageAccount",
        "azure-native:machinelearningservices:Workspace",
        "azure-native:machinelearningservices:Compute",
        "azure-native:authorization:RoleDefinition",
        ENDPOINT,
    }
    for stack in STACKS:
        assert checked <= {r["type"] for r in plans[stack]["resources"]}, stack
        assert checked | {TRAFFIC} <= {r["type"] for r in release_plans[stack]["resources"]}, stack
    assert {ML_REGISTRY, "azure-native:authorization:RoleDefinition"} <= {
        r["type"] for r in plans[REGISTRY_STACK]["resources"]
    }


def _set(path: str, value):
    def mutate(inputs: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            inputs = inputs.setdefault(key, {})
        if value is _DELETE:
            inputs.pop(last, None)
        else:
            inputs[last] = copy.deepcopy(value)

    return mutate


_DELETE = object()

# (policy, resource type, mutation of the inputs, stacks where it must be caught, text the message names)
VARIANTS = [
    (
        KEY_VAULT_POLICY,
        "azure-native:keyvault:Vault",
        _set("properties.enableRbacAuthorization", False),
        STACKS,
        "enableRbacAuthorization is False",
    ),
    (
        KEY_VAULT_POLICY,
        "azure-native:keyvault:Vault",
        _set("properties.enablePurgeProtection", _DELETE),
        STACKS,
        "enablePurgeProtection is not set",
    ),
    (
        KEY_VAULT_POLICY,
        "azure-native:keyvault:Vault",
        _set("properties.enableSoftDelete", False),
        STACKS,
        "enableSoftDelete is False",
    ),
    (
        REGISTRY_POLICY,
        "azure-native:containerregistry:Registry",
        _set("adminUserEnabled", True),
        STACKS,
        "adminUserEnabled is True",
    ),
    (
        REGISTRY_POLICY,
        "azure-native:containerregistry:Registry",
        _set("anonymousPullEnabled", True),
        STACKS,
        "anonymousPullEnabled is True",
    ),
    (
        REGISTRY_POLICY,
        "azure-native:containerregistry:Registry",
        _set("publicNetworkAccess", "Enabled"),
        ("prod",),
        "publicNetworkAccess is 'Enabled'",
    ),
    (
        STORAGE_POLICY,
        "azure-native:storage:StorageAccount",
        _set("minimumTlsVersion", "TLS1_0"),
        STACKS,
        "minimumTlsVersion is 'TLS1_0'",
    ),
    (
        STORAGE_POLICY,
        "azure-native:storage:StorageAccount",
        _set("enableHttpsTrafficOnly", False),
        STACKS,
        "enableHttpsTrafficOnly is False",
    ),
    (
        STORAGE_POLICY,
        "azure-native:storage:StorageAccount",
        _set("allowBlobPublicAccess", True),
        STACKS,
        "allowBlobPublicAccess is True",
    ),
    # test and prod close their storage and workspaces (publicNetworkAccess Disabled): locked down
    (
        SHARED_KEY_POLICY,
        "azure-native:storage:StorageAccount",
        _set("allowSharedKeyAccess", True),
        ("test", "prod"),
        "allowSharedKeyAccess is True",
    ),
    (
        SHARED_KEY_POLICY,
        "azure-native:storage:StorageAccount",
        _set("allowSharedKeyAccess", _DELETE),
        ("test", "prod"),
        "allowSharedKeyAccess is not set",
    ),
    (
        SHARED_KEY_POLICY,
        "azure-native:storage:StorageAccount",
        lambda inputs: inputs.update(publicNetworkAccess="Disabled", allowSharedKeyAccess=True),
        STACKS,
        "allowSharedKeyAccess is True",
    ),
    (
        SHARED_KEY_POLICY,
        "azure-native:machinelearningservices:Workspace",
        _set("systemDatastoresAuthMode", "AccessKey"),
        ("test", "prod"),
        "systemDatastoresAuthMode is 'AccessKey'",
    ),
    (
        SHARED_KEY_POLICY,
        "azure-native:machinelearningservices:Workspace",
        _set("systemDatastoresAuthMode", _DELETE),
        ("test", "prod"),
        "systemDatastoresAuthMode is not set",
    ),
    (
        WORKSPACE_POLICY,
        "azure-native:machinelearningservices:Workspace",
        _set("identity", _DELETE),
        STACKS,
        "identity.type is not set",
    ),
    (
        WORKSPACE_POLICY,
        "azure-native:machinelearningservices:Workspace",
        _set("publicNetworkAccess", "Enabled"),
        ("prod",),
        "publicNetworkAccess is 'Enabled'",
    ),
    (
        WORKSPACE_POLICY,
        "azure-native:machinelearningservices:Workspace",
        _set("managedNetwork.isolationMode", "Disabled"),
        ("prod",),
        "isolationMode is 'Disabled'",
    ),
    (
        WORKSPACE_POLICY,
        "azure-native:machinelearningservices:Workspace",
        _set("managedNetwork.isolationMode", "AllowInternetOutbound"),
        ("prod",),
        "isolationMode is 'AllowInternetOutbound'",
    ),
    (
        COMPUTE_POLICY,
        "azure-native:machinelearningservices:Compute",
        _set("properties.properties.enableNodePublicIp", True),
        ("prod",),
        "enableNodePublicIp is True",
    ),
    (
        COMPUTE_POLICY,
        "azure-native:machinelearningservices:Compute",
        _set("properties.properties.remoteLoginPortPublicAccess", "Enabled"),
        ("prod",),
        "remoteLoginPortPublicAccess is 'Enabled'",
    ),
    (
        CUSTOM_ROLE_POLICY,
        "azure-native:authorization:RoleDefinition",
        lambda inputs: inputs["permissions"][0]["actions"].append("*"),
        ALL_STACKS,
        "contains '*'",
    ),
    (
        CUSTOM_ROLE_POLICY,
        "azure-native:authorization:RoleDefinition",
        _set("assignableScopes", [SUBSCRIPTION]),
        ALL_STACKS,
        "is a whole subscription or broader",
    ),
    (ENDPOINT_TRAFFIC_POLICY, ENDPOINT, _set("traffic", {"blue": 100}), STACKS, "traffic is {'blue': 100}"),
    (
        ENDPOINT_TRAFFIC_POLICY,
        ENDPOINT,
        _set("mirror_traffic", {"green": 10}),
        STACKS,
        "mirror_traffic is {'green': 10}",
    ),
    (
        ENDPOINT_PRIVATE_POLICY,
        ENDPOINT,
        _set("public_network_access", "enabled"),
        ("prod",),
        "public_network_access is 'enabled'",
    ),
    (
        ENDPOINT_PRIVATE_POLICY,
        TRAFFIC,
        _set("serving.egress_public_network_access", "enabled"),
        ("prod",),
        "serving.egress_public_network_access is 'enabled'",
    ),
]


@pytest.mark.parametrize(
    "policy, resource_type, mutate, stacks, expected", VARIANTS, ids=[f"{v[0].name}-{v[4]}" for v in VARIANTS]
)
def test_insecure_variants_of_the_plans_are_caught(
    plans, release_plans, policy, resource_type, mutate, stacks, expected
):
    for stack in stacks:
        plan = release_plans[stack] if resource_type == TRAFFIC else plans[stack]
        targets = [r for r in plan["resources"] if r["type"] == resource_type]
        assert targets, f"no {resource_type} in the {stack} plan"
        for resource in targets:
            variant = copy.deepcopy(resource)
            mutate(variant["inputs"])
            found = violations(policy, variant, stack)
            assert any(expected in m for m in found), (stack, resource["name"], found)


def test_an_azure_native_endpoint_or_deployment_beside_a_plan_endpoint_is_caught(plans):
    """The shape the platform declared before the release owned the deployments is refused."""
    for stack, plan in ((s, plans[s]) for s in STACKS):
        endpoint = next(r for r in plan["resources"] if r["type"] == ENDPOINT)
        for native in (NATIVE_ENDPOINT, NATIVE_DEPLOYMENT):
            variant = copy.deepcopy(native)
            variant["inputs"].update(
                endpointName=endpoint["inputs"]["endpoint_name"], workspaceName=endpoint["inputs"]["workspace_name"]
            )
            assert violations(ENDPOINT_TRAFFIC_POLICY, variant, stack), (stack, native["type"])


def _target(endpoint: dict) -> dict:
    return {
        "endpoint_name": endpoint["inputs"]["endpoint_name"],
        "workspace_name": endpoint["inputs"]["workspace_name"],
    }


def test_a_second_traffic_owner_of_a_plan_endpoint_is_caught(plans):
    for stack, plan in ((s, plans[s]) for s in STACKS):
        resources = copy.deepcopy(plan["resources"])
        endpoint = next(r for r in resources if r["type"] == ENDPOINT)
        assert not [r for r in resources if r["type"] == TRAFFIC], "a stack without a candidate has no EndpointTraffic"
        for name in ("release-traffic", "hotfix-traffic"):
            resources.append({"type": TRAFFIC, "name": name, "inputs": {**_target(endpoint), "traffic": None}})
        assert len(stack_violations(resources, stack)) == 2, stack


@pytest.mark.parametrize("stack", STACKS)
def test_a_stack_releasing_a_model_has_exactly_one_traffic_owner_per_endpoint(release_plans, stack):
    resources = release_plans[stack]["resources"]
    endpoint = next(r for r in resources if r["type"] == ENDPOINT)
    owners = [r for r in resources if r["type"] == TRAFFIC]
    assert len(owners) == 1
    assert _target(owners[0]) == _target(endpoint)
    assert stack_violations(resources, stack) == []
    second = {**copy.deepcopy(owners[0]), "name": "hotfix-traffic"}
    assert len(stack_violations(resources + [second], stack)) == 2


# --- private network: every closed service reachable, no egress on managed-network deployments ---

PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
LINK = "azure-native:privatedns:VirtualNetworkLink"
LOCKED_DOWN = ("test", "prod")


def private_violations(resources: list[dict], stack: str) -> list[str]:
    return stack_violations(resources, stack, (PRIVATE_ENDPOINT_POLICY,))


@pytest.mark.parametrize("stack", LOCKED_DOWN)
def test_each_private_endpoint_of_a_locked_down_plan_is_needed(plans, stack):
    """Dropping any one endpoint (with its zone group) of the plan leaves its service unreachable."""
    resources = plans[stack]["resources"]
    endpoints = [r for r in resources if r["type"] == PRIVATE_ENDPOINT]
    assert len(endpoints) == 6, "vault, registry, blob, file, the workspace and the estate's ML registry"
    for endpoint in endpoints:
        [group_id] = endpoint["inputs"]["privateLinkServiceConnections"][0]["groupIds"]
        name = endpoint["inputs"]["privateEndpointName"]
        variant = [r for r in resources if r["name"] not in (endpoint["name"], f"{endpoint['name']}-dns")]
        [message] = private_violations(variant, stack)
        assert f"no private endpoint with group id '{group_id}'" in message, name


@pytest.mark.parametrize("stack", LOCKED_DOWN)
def test_a_locked_down_plan_without_zone_groups_or_links_is_caught(plans, stack):
    resources = plans[stack]["resources"]
    without_groups = [r for r in resources if r["type"] != ZONE_GROUP]
    assert len(private_violations(without_groups, stack)) == 6
    without_links = [r for r in resources if r["type"] != LINK]
    messages = private_violations(without_links, stack)
    assert len(messages) == 6 and all("linked to no virtual network" in m for m in messages)


@pytest.mark.parametrize("stack", LOCKED_DOWN)
def test_a_locked_down_plan_whose_workspace_cannot_reach_the_registry_is_caught(plans, stack):
    """The registry's private endpoint serves the stack's network; the workspace's managed network,
    where deployments run, needs its own rule to the registry."""
    resources = copy.deepcopy(plans[stack]["resources"])
    workspace = next(r for r in resources if r["type"] == WORKSPACE)
    rules = workspace["inputs"]["managedNetwork"]["outboundRules"]
    assert {name for name, rule in rules.items() if rule["type"] == "PrivateEndpoint"} == {"private-model-registry"}
    del rules["private-model-registry"]
    [message] = private_violations(resources, stack)
    assert message.startswith("Private endpoint 'pe-model-registry-amlregistry' reaches ML registry '/subscriptions/")
    assert f"the managed network of ML workspace '{workspace['name']}' has no private endpoint outbound rule" in message


def test_the_registry_stack_leaves_the_registrys_endpoints_to_the_stacks_that_use_it(plans):
    resources = plans[REGISTRY_STACK]["resources"]
    [registry] = [r for r in resources if r["type"] == ML_REGISTRY]
    assert registry["inputs"]["publicNetworkAccess"] == "Disabled"
    assert not [r for r in resources if r["type"] in (PRIVATE_ENDPOINT, WORKSPACE)]
    assert private_violations(resources, REGISTRY_STACK) == []
    # a stack that declares a workspace beside a closed registry must reach it itself
    workspace = next(r for r in plans["dev"]["resources"] if r["type"] == WORKSPACE)
    [message] = private_violations([*resources, workspace], REGISTRY_STACK)
    assert "ML registry 'registry' has public network access disabled but no private endpoint with group id" in message


def test_closing_a_public_plans_service_without_an_endpoint_is_caught(plans):
    for type_, path in (
        ("azure-native:storage:StorageAccount", "publicNetworkAccess"),
        ("azure-native:keyvault:Vault", "properties.publicNetworkAccess"),
        ("azure-native:machinelearningservices:Workspace", "publicNetworkAccess"),
    ):
        resources = copy.deepcopy(plans["dev"]["resources"])
        target = next(r for r in resources if r["type"] == type_)
        _set(path, "Disabled")(target["inputs"])
        messages = private_violations(resources, "dev")
        assert messages and all("no private endpoint" in m for m in messages), type_
        assert len(messages) == (2 if type_.endswith("StorageAccount") else 1), "a workspace's storage: blob and file"


@pytest.mark.parametrize("stack", STACKS)
def test_a_release_setting_egress_on_the_managed_network_is_caught(release_plans, stack):
    for egress in ("enabled", "disabled"):
        resources = copy.deepcopy(release_plans[stack]["resources"])
        traffic = next(r for r in resources if r["type"] == TRAFFIC)
        assert traffic["inputs"]["serving"].get("egress_public_network_access") is None, "the platform never sets it"
        traffic["inputs"]["serving"]["egress_public_network_access"] = egress
        [message] = stack_violations(resources, stack, (MANAGED_NETWORK_EGRESS_POLICY,))
        assert f"serving.egress_public_network_access to '{egress}'" in message
