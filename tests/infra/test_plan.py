import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.offline import PROJECT_DIR
from scripts.plan.__main__ import main
from scripts.plan.diff import diff_plans, flatten, render_markdown


def run_plan(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_text_tree_shows_types_names_and_key_settings(capsys):
    code, out, _ = run_plan(capsys, "--stack", "prod")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("stack prod: ") and "resources" in lines[0]
    vault = next(line for line in lines if "azure-native:keyvault:Vault" in line)
    assert "key-vault" in vault and "enableRbacAuthorization=true" in vault and "enablePurgeProtection=true" in vault
    assert vault.startswith(("   ├─ ", "   └─ ", "│  ├─ ", "│  └─ ")), "children are indented under their component"
    cluster = next(line for line in lines if "gpu-cluster" in line and "Compute" in line)
    assert "vmSize=Standard_NC4as_T4_v3" in cluster and "enableNodePublicIp=false" in cluster
    assert any(line.startswith("└─ mlops:infra:") or line.startswith("├─ mlops:infra:SharedServices") for line in lines)
    assert "outputs:" in lines


def test_json_has_the_documented_shape_and_wire_names(capsys):
    code, out, _ = run_plan(capsys, "--stack", "dev", "--json")
    assert code == 0
    plan = json.loads(out)
    assert set(plan) == {"stack", "resources", "outputs"} and plan["stack"] == "dev"
    for resource in plan["resources"]:
        derived = (
            {"checked"} if resource["type"].startswith("pulumi-python:dynamic") and "checked" in resource else set()
        )
        assert set(resource) == {"type", "name", "parent", "inputs", "ignoreChanges", *derived}
    vault = next(r for r in plan["resources"] if r["type"] == "azure-native:keyvault:Vault")
    assert vault["parent"] == "shared"
    assert vault["inputs"]["properties"]["enableRbacAuthorization"] is True
    assert "enable_rbac_authorization" not in json.dumps(plan), "inputs use wire (camelCase) names"
    assert plan["outputs"]["resource_group"] == "rg-mlops-dev"
    assert plan == json.loads(run_plan(capsys, "--stack", "dev", "--json")[1]), "the plan is deterministic"


def test_diff_between_stacks_lists_changed_inputs(capsys):
    code, out, _ = run_plan(capsys, "--stack", "prod", "--diff", "dev")
    assert code == 0
    assert out.startswith("### Plan diff: stack `dev` → `prod`")
    assert "| `sku.name` | `Basic` | `Premium` |" in out
    assert "| `publicNetworkAccess` | `Enabled` | `Disabled` |" in out
    assert "#### Added" in out and "data-scientist-0a1b2c3d-0000-4000-8000-00000000d5d3" in out
    assert "#### Removed" in out and "data-scientist-0a1b2c3d-0000-4000-8000-00000000d5d1" in out


def test_the_tree_shows_a_locked_down_stacks_network(capsys):
    code, out, _ = run_plan(capsys, "--stack", "prod")
    assert code == 0
    lines = out.splitlines()
    assert "├─ mlops:infra:PrivateNetwork  network" in lines or "└─ mlops:infra:PrivateNetwork  network" in lines
    vnet = next(line for line in lines if "azure-native:network:VirtualNetwork" in line)
    assert "virtualNetworkName=vnet-mlops-prod" in vnet and "addressPrefixes=[10.30.0.0/22]" in vnet
    subnet = next(line for line in lines if "snet-private-endpoints" in line and ":Subnet" in line)
    assert "addressPrefix=10.30.0.0/26" in subnet and "privateEndpointNetworkPolicies=Enabled" in subnet
    nsg = next(line for line in lines if "nsg-mlops-prod-private-endpoints" in line)
    assert "securityRules=[AllowHttpsFromCiAgents,AllowHttpsFromJumpHosts,DenyAllInbound]" in nsg
    endpoint = next(line for line in lines if "PrivateEndpoint  pe-mlw-mlops-hatespeech-prod-c1-amlworkspace" in line)
    assert "groupIds=[amlworkspace]" in endpoint
    group = next(line for line in lines if "pe-mlw-mlops-hatespeech-prod-c1-amlworkspace-dns" in line)
    assert "privateDnsZoneConfigs=[privatelink-api-azureml-ms,privatelink-notebooks-azure-net]" in group
    assert any("PrivateZone  privatelink.vaultcore.azure.net" in line for line in lines)
    assert not any(":network:" in line for line in run_plan(capsys, "--stack", "dev")[1].splitlines())


def test_diff_between_dev_and_prod_shows_the_network_as_added(capsys):
    code, out, _ = run_plan(capsys, "--stack", "prod", "--diff", "dev")
    assert code == 0
    added = out[out.index("#### Added") : out.index("#### Removed")]
    for row in (
        "| `azure-native:network:VirtualNetwork` | `virtual-network` | `network` |",
        "| `azure-native:network:PrivateEndpoint` | `pe-kv-mlops-prod-c1-vault` | `shared-private-access` |",
        "| `azure-native:network:PrivateEndpoint` | `pe-mlw-mlops-hatespeech-prod-c1-amlworkspace` | "
        "`hatespeech-private-access` |",
        "| `azure-native:privatedns:PrivateZone` | `privatelink.api.azureml.ms` | `network` |",
        "| `azure-native:network:BastionHost` | `bastion` | `network` |",
    ):
        assert row in added, row
    assert ":network:" not in out[out.index("#### Removed") :], "dev has no network to remove"


def test_diff_of_identical_plans_says_so():
    plan = {"stack": "s", "resources": [{"type": "t", "name": "n", "parent": None, "inputs": {"a": 1}}]}
    assert "No resource changes." in render_markdown(diff_plans(plan, plan), "title")


def test_flatten_names_nested_paths():
    assert flatten({"a": {"b": [1, {"c": 2}]}, "d": {}}) == {"a.b[0]": 1, "a.b[1].c": 2, "d": {}}


def test_unknown_stack_is_a_clear_error(capsys):
    code, _, err = run_plan(capsys, "--stack", "staging")
    assert code == 2
    assert "no stack 'staging'" in err and "known stacks: dev, prod, registry, test" in err


def test_bad_config_is_reported_without_a_traceback(tmp_path, capsys):
    project = copy_project(tmp_path)
    config = (project / "Pulumi.dev.yaml").read_text().replace("maxNodes: 1", "maxNodes: -1")
    (project / "Pulumi.dev.yaml").write_text(config)
    result = subprocess.run(
        [sys.executable, "-m", "scripts.plan", "--stack", "dev"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "mlops-platform:workspaces[0].gpuCluster.maxNodes: -1 is not valid" in result.stderr
    assert "Traceback" not in result.stderr


def copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for item in (
        "stacks",
        "infra",
        "model",
        "scripts",
        "serving",
        "__main__.py",
        "Pulumi.yaml",
        "Pulumi.dev.yaml",
        "Pulumi.test.yaml",
        "Pulumi.prod.yaml",
        "Pulumi.registry.yaml",
    ):
        source = PROJECT_DIR / item
        if source.is_dir():
            shutil.copytree(source, project / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, project / item)
    return project


@pytest.mark.slow
def test_diff_against_a_git_ref(tmp_path):
    project = copy_project(tmp_path)
    git = lambda *args: subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)
    git("init", "-q")
    git("-c", "user.email=ci@example.com", "-c", "user.name=ci", "add", ".")
    git("-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-qm", "base")
    config = (project / "Pulumi.dev.yaml").read_text()
    (project / "Pulumi.dev.yaml").write_text(config.replace("registrySku: Basic", "registrySku: Standard"))
    result = subprocess.run(
        [sys.executable, "-m", "scripts.plan", "--stack", "dev", "--diff", "HEAD"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("### Plan diff for stack `dev`: `HEAD` → working tree")
    assert "**0 to add, 1 to change, 0 to remove**" in result.stdout
    assert "| `sku.name` | `Basic` | `Standard` |" in result.stdout

    missing = subprocess.run(
        [sys.executable, "-m", "scripts.plan", "--stack", "dev", "--diff", "no-such-ref"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: --diff 'no-such-ref' is neither another stack nor a commit")
