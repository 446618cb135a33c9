"""Each stack's workspace managed network reaches what the platform itself uses, and nothing more.

Approved-only outbound (prod): the package feeds the environment image builds install from, as FQDN
rules; the workspace's storage, Key Vault and registry are reached through the private endpoints
Azure adds itself in that mode. Internet outbound (dev, test): Azure adds a private-endpoint rule to
each service whose public access is off (all of them in test); a shared service whose public endpoint
is on but denies by default (dev's vault) gets a user-defined one, the others are reached over the
internet (Azure ML docs, "Workspace managed virtual network isolation", list of required rules).
In both modes the estate's ML registry, which is not a service of the workspace, gets a user-defined
private-endpoint rule in the stacks that use it (test, prod)."""

import re

import pytest
import yaml

from infra.serving_assets import SERVING_DIR
from infra.workspace import FIREWALL_SKU, PACKAGE_FEEDS
from scripts.offline.stack import run_stack, stack_config
from tests.infra.conftest import STACKS, P
from tests.infra.test_model_registry import REGISTRY_ID
from tests.paths import REPO_ROOT

WORKSPACE = "azure-native:machinelearningservices:Workspace"
CONDA_CHANNEL_HOST = "conda.anaconda.org"  # conda resolves a channel name X to https://conda.anaconda.org/X
# The REST API's ruleName pattern (Managed Network Settings Rule - Create Or Update, URI parameters).
RULE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}")


def rules(plan, type_: str) -> dict:
    network = plan.one(WORKSPACE).inputs["managedNetwork"]
    return {name: rule for name, rule in (network.get("outboundRules") or {}).items() if rule["type"] == type_}


def private_endpoints(plan) -> set[tuple[str, str]]:
    """(target resource id, group id) of each private-endpoint outbound rule."""
    return {
        (rule["destination"]["serviceResourceId"], rule["destination"]["subresourceTarget"])
        for rule in rules(plan, "PrivateEndpoint").values()
    }


def ids(plan) -> dict[str, str]:
    account = plan.one("azure-native:storage:StorageAccount")
    vault = plan.one("azure-native:keyvault:Vault")
    registry = plan.one("azure-native:containerregistry:Registry")
    base = f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{account.inputs['resourceGroupName']}"
    return {
        "storage": f"{base}/providers/Microsoft.Storage/storageAccounts/{account.inputs['accountName']}",
        "vault": f"{base}/providers/Microsoft.KeyVault/vaults/{vault.inputs['vaultName']}",
        "registry": f"{base}/providers/Microsoft.ContainerRegistry/registries/{registry.inputs['registryName']}",
    }


def test_prod_allows_exactly_the_package_feeds_through_the_managed_firewall(plans):
    plan = plans["prod"]
    network = plan.one(WORKSPACE).inputs["managedNetwork"]
    assert network["isolationMode"] == "AllowOnlyApprovedOutbound"
    assert sorted(rule["destination"] for rule in rules(plan, "FQDN").values()) == sorted(PACKAGE_FEEDS.values())
    assert network["firewallSku"] == FIREWALL_SKU
    assert private_endpoints(plan) == {(REGISTRY_ID, "amlregistry")}, (
        "Azure adds the storage, vault and container registry endpoints in this mode; the estate's ML registry is not its own"
    )
    assert {plan.one(WORKSPACE).inputs[key] for key in ("storageAccount", "keyVault", "containerRegistry")} == {
        ids(plan)[s] for s in ("storage", "vault", "registry")
    }, "…to the services the workspace is linked to"


def test_the_package_feeds_cover_every_source_the_environments_install_from():
    conda = yaml.safe_load((SERVING_DIR / "environment" / "conda.yaml").read_text(encoding="utf-8"))
    from infra.azureml.jobs import EnvironmentSpec

    training = EnvironmentSpec(image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04", pip_requirements=("torch",))
    channels = set(conda["channels"]) | set(training.conda()["channels"])
    assert channels == {"conda-forge"}
    hosts = set(PACKAGE_FEEDS.values())
    assert CONDA_CHANNEL_HOST in hosts, "the host every named conda channel is served from"
    assert any("pip" in str(dep) for dep in conda["dependencies"])
    assert {"pypi.org", "files.pythonhosted.org"} <= hosts, "pip reads the index and downloads from its file host"


def test_test_declares_no_outbound_rule_to_its_own_services_since_azure_adds_one_to_each_closed_one(plans):
    """test's storage, vault and registry have public access off: in internet-outbound mode Azure adds a
    private-endpoint rule to each (a user-defined duplicate would be refused), so the stack declares none."""
    plan = plans["test"]
    network = plan.one(WORKSPACE).inputs["managedNetwork"]
    assert network["isolationMode"] == "AllowInternetOutbound"
    closed = {
        "storage": plan.one("azure-native:storage:StorageAccount").inputs["publicNetworkAccess"],
        "vault": plan.one("azure-native:keyvault:Vault").input("properties.publicNetworkAccess"),
        "registry": plan.one("azure-native:containerregistry:Registry").inputs["publicNetworkAccess"],
    }
    assert closed == {"storage": "Disabled", "vault": "Disabled", "registry": "Disabled"}
    assert private_endpoints(plan) == {(REGISTRY_ID, "amlregistry")}, "only the estate's ML registry, not its own"
    assert rules(plan, "FQDN") == {} and "firewallSku" not in network


def test_dev_reaches_only_its_vault_through_a_private_endpoint(plans):
    """dev's storage and registry are open to all networks; its vault's ACLs deny by default."""
    plan, shared = plans["dev"], ids(plans["dev"])
    assert plan.one("azure-native:storage:StorageAccount").input("networkRuleSet.defaultAction") == "Allow"
    assert plan.one("azure-native:keyvault:Vault").input("properties.networkAcls.defaultAction") == "Deny"
    assert private_endpoints(plan) == {(shared["vault"], "vault")}
    assert rules(plan, "FQDN") == {}


@pytest.mark.parametrize("stack", STACKS)
def test_every_outbound_rule_is_user_defined_and_its_name_says_what_it_reaches(plans, stack):
    network = plans[stack].one(WORKSPACE).inputs["managedNetwork"]
    for name, rule in (network.get("outboundRules") or {}).items():
        assert rule["category"] == "UserDefined"
        prefix = {"FQDN": "allow-", "PrivateEndpoint": "private-"}[rule["type"]]
        assert name.startswith(prefix), name
        assert RULE_NAME.fullmatch(name), f"{name}: Azure accepts 3-33 letters, digits, '_' or '-'"


def test_a_public_stack_whose_storage_admits_only_ip_ranges_reaches_it_through_private_endpoints(config_of):
    """IP rules deny the managed network (it has no address of those ranges), and Azure adds no rule to a
    service whose public access is on: blob and file get user-defined private-endpoint rules, as the vault."""
    config = config_of("dev")
    config[f"{P}network"]["allowedIpRanges"] = ["203.0.113.0/24"]
    plan = run_stack("dev", config=config)
    shared = ids(plan)
    assert plan.one("azure-native:storage:StorageAccount").input("networkRuleSet.defaultAction") == "Deny"
    assert private_endpoints(plan) == {
        (shared["vault"], "vault"),
        (shared["storage"], "blob"),
        (shared["storage"], "file"),
    }
    assert rules(plan, "FQDN") == {}


def _readme_section(title: str) -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"### {title}\n")
    return text[start : text.index("\n## ", start)]


def test_the_readme_table_of_workspace_outbound_says_what_each_stack_declares():
    """Each row of README "Workspace outbound" names a mode and the stacks in it, as their YAML sets it;
    the approved-only row lists exactly the package feeds and the firewall SKU the program declares."""
    section = _readme_section("Workspace outbound")
    rows = [line for line in section.splitlines() if line.startswith("| `Allow")]
    stacks_of = {}
    for row in rows:
        first, declared = row.split("|")[1:3]
        mode = re.search(r"`(\w+)`", first).group(1)
        stacks_of.update(
            {stack: (mode, declared) for stack in re.search(r"\(([\w, ]+)\)\s*$", first).group(1).split(", ")}
        )
    assert set(stacks_of) == set(STACKS)
    for stack, (mode, declared) in stacks_of.items():
        assert stack_config(stack)[f"{P}network"]["isolationMode"] == mode, stack
        hosts = set(re.findall(r"`([a-z0-9.-]+\.(?:org|com))`", declared))
        assert hosts == (set(PACKAGE_FEEDS.values()) if mode == "AllowOnlyApprovedOutbound" else set()), stack
    approved = next(row for row in rows if row.startswith("| `AllowOnlyApprovedOutbound`"))
    assert f"SKU `{FIREWALL_SKU.value}`" in approved
