"""The private-network stack policies on a small locked-down stack: every closed service reached
by a private endpoint per group id, with a zone group on linked zones or a hub's zones (also while a
preview does not know the ids yet), and no egress setting on managed-network deployments."""

import copy
import sys

import pytest
from pulumi_policy import StackValidationArgs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from harness import NATIVE_DEPLOYMENT, POLICY_DIR, policy_resource
from mlops_policies import MANAGED_NETWORK_EGRESS_POLICY, PRIVATE_ENDPOINT_POLICY, STACK_POLICIES
from mlops_policies.private_network import PRIVATE_DNS_ZONES

RG = "rg-unit"
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"
HUB = (
    "/subscriptions/9b7e1c2d-0000-4000-8000-0000000000a1/resourceGroups/rg-hub/providers/Microsoft.Network/"
    "privateDnsZones/"
)


def arm(path: str) -> str:
    return f"{SUBSCRIPTION}/resourceGroups/{RG}/providers/{path}"


def zone_id(zone: str) -> str:
    return arm(f"Microsoft.Network/privateDnsZones/{zone}")


def endpoint(name: str, target: str, group: str) -> dict:
    return {
        "type": "azure-native:network:PrivateEndpoint",
        "name": name,
        "inputs": {
            "resourceGroupName": RG,
            "privateEndpointName": name,
            "subnet": {"id": arm("Microsoft.Network/virtualNetworks/vnet/subnets/snet-pe")},
            "privateLinkServiceConnections": [{"name": name, "privateLinkServiceId": target, "groupIds": [group]}],
        },
    }


def zone_group(endpoint_name: str, group: str) -> dict:
    return {
        "type": "azure-native:network:PrivateDnsZoneGroup",
        "name": f"{endpoint_name}-dns",
        "inputs": {
            "resourceGroupName": RG,
            "privateEndpointName": endpoint_name,
            "privateDnsZoneGroupName": "default",
            "privateDnsZoneConfigs": [
                {"name": z.replace(".", "-"), "privateDnsZoneId": zone_id(z)} for z in PRIVATE_DNS_ZONES[group]
            ],
        },
    }


TARGETS = {  # endpoint name -> (target id, group id)
    "pe-kv-vault": (arm("Microsoft.KeyVault/vaults/kv-unit"), "vault"),
    "pe-st-blob": (arm("Microsoft.Storage/storageAccounts/stunit"), "blob"),
    "pe-st-file": (arm("Microsoft.Storage/storageAccounts/stunit"), "file"),
    "pe-mlw-amlworkspace": (arm("Microsoft.MachineLearningServices/workspaces/mlw-unit"), "amlworkspace"),
}


def locked_down_stack() -> dict[str, dict]:
    resources = {
        "key-vault": {
            "type": "azure-native:keyvault:Vault",
            "name": "key-vault",
            "inputs": {
                "resourceGroupName": RG,
                "vaultName": "kv-unit",
                "properties": {"publicNetworkAccess": "Disabled"},
            },
        },
        "storage": {
            "type": "azure-native:storage:StorageAccount",
            "name": "storage",
            "inputs": {"resourceGroupName": RG, "accountName": "stunit", "publicNetworkAccess": "Disabled"},
        },
        "workspace": {
            "type": "azure-native:machinelearningservices:Workspace",
            "name": "workspace",
            "inputs": {
                "resourceGroupName": RG,
                "workspaceName": "mlw-unit",
                "publicNetworkAccess": "Disabled",
                "storageAccount": arm("Microsoft.Storage/storageAccounts/stunit"),
                "managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound"},
            },
        },
    }
    for name, (target, group) in TARGETS.items():
        resources[name] = endpoint(name, target, group)
        resources[f"{name}-dns"] = zone_group(name, group)
    for zone in {z for _, group in TARGETS.values() for z in PRIVATE_DNS_ZONES[group]}:
        resources[zone] = {
            "type": "azure-native:privatedns:PrivateZone",
            "name": zone,
            "inputs": {"resourceGroupName": RG, "privateZoneName": zone, "location": "global"},
        }
        resources[f"{zone}-link"] = {
            "type": "azure-native:privatedns:VirtualNetworkLink",
            "name": f"{zone}-link",
            "inputs": {
                "resourceGroupName": RG,
                "privateZoneName": zone,
                "virtualNetwork": {"id": arm("Microsoft.Network/virtualNetworks/vnet")},
                "registrationEnabled": False,
            },
        }
    return resources


def found(policy, resources: dict[str, dict], depends: dict | None = None, stack: str = "prod") -> list[str]:
    """The policy's violations on the stack; `depends` gives {resource: {property: [resources]}}, the
    property dependencies the engine reports."""
    made = {name: policy_resource(resource, stack) for name, resource in resources.items()}
    for name, properties in (depends or {}).items():
        made[name].property_dependencies = {prop: [made[d] for d in on] for prop, on in properties.items()}
    messages: list[str] = []
    policy.validate(StackValidationArgs(list(made.values())), lambda message, urn=None: messages.append(message))
    return messages


def test_the_pack_has_the_zone_table_of_the_program():
    """The pack runs on its own (no import of infra/); its copy of the zones must stay the program's."""
    sys.path.insert(0, str(POLICY_DIR.parent))
    try:
        from infra.facts import PRIVATE_DNS_ZONES as PROGRAM_ZONES
    finally:
        sys.path.remove(str(POLICY_DIR.parent))
    assert PRIVATE_DNS_ZONES == PROGRAM_ZONES
    assert {PRIVATE_ENDPOINT_POLICY, MANAGED_NETWORK_EGRESS_POLICY} <= set(STACK_POLICIES)


def test_a_locked_down_stack_with_endpoints_and_linked_zones_passes():
    assert found(PRIVATE_ENDPOINT_POLICY, locked_down_stack()) == []


@pytest.mark.parametrize(
    "missing, service, group",
    [
        ("pe-kv-vault", "Key Vault 'key-vault'", "vault"),
        ("pe-st-file", "Storage account 'storage'", "file"),
        ("pe-mlw-amlworkspace", "ML workspace 'workspace'", "amlworkspace"),
    ],
)
def test_a_closed_service_without_its_endpoint_is_caught(missing, service, group):
    resources = locked_down_stack()
    del resources[missing], resources[f"{missing}-dns"]
    [message] = found(PRIVATE_ENDPOINT_POLICY, resources)
    assert message.startswith(
        f"{service} has public network access disabled but no private endpoint with group id '{group}'"
    )


def test_an_endpoint_to_another_service_or_group_does_not_count():
    resources = locked_down_stack()
    resources["pe-kv-vault"]["inputs"]["privateLinkServiceConnections"][0]["privateLinkServiceId"] = arm(
        "Microsoft.KeyVault/vaults/kv-other"
    )
    resources["pe-st-file"]["inputs"]["privateLinkServiceConnections"][0]["groupIds"] = ["queue"]
    messages = found(PRIVATE_ENDPOINT_POLICY, resources)
    assert len(messages) == 2 and "'vault'" in messages[0] and "'file'" in messages[1]


def test_storage_no_workspace_uses_needs_only_its_blob_endpoint():
    resources = locked_down_stack()
    del resources["workspace"], resources["pe-mlw-amlworkspace"], resources["pe-mlw-amlworkspace-dns"]
    del resources["pe-st-file"], resources["pe-st-file-dns"]
    assert found(PRIVATE_ENDPOINT_POLICY, resources) == []


def test_a_public_service_needs_no_endpoint():
    resources = locked_down_stack()
    resources["key-vault"]["inputs"]["properties"]["publicNetworkAccess"] = "Enabled"
    del resources["pe-kv-vault"], resources["pe-kv-vault-dns"]
    assert found(PRIVATE_ENDPOINT_POLICY, resources) == []


def test_ids_match_whatever_their_case():
    resources = locked_down_stack()
    connection = resources["pe-kv-vault"]["inputs"]["privateLinkServiceConnections"][0]
    connection["privateLinkServiceId"] = connection["privateLinkServiceId"].upper()
    assert found(PRIVATE_ENDPOINT_POLICY, resources) == []


def test_an_endpoint_without_a_zone_group_or_with_part_of_its_zones_is_caught():
    resources = locked_down_stack()
    del resources["pe-kv-vault-dns"]
    resources["pe-mlw-amlworkspace-dns"]["inputs"]["privateDnsZoneConfigs"].pop()  # notebooks zone left out
    messages = found(PRIVATE_ENDPOINT_POLICY, resources)
    assert len(messages) == 2
    assert "'vault' private endpoint has no DNS zone group covering privatelink.vaultcore.azure.net" in messages[0]
    assert "covering privatelink.api.azureml.ms, privatelink.notebooks.azure.net" in messages[1]


def test_a_zone_linked_to_no_network_is_caught():
    resources = locked_down_stack()
    del resources["privatelink.blob.core.windows.net-link"]
    [message] = found(PRIVATE_ENDPOINT_POLICY, resources)
    assert "zone privatelink.blob.core.windows.net of its 'blob' endpoint is linked to no virtual network" in message


def test_a_zone_group_on_a_hub_zone_needs_no_zone_in_the_stack():
    resources = locked_down_stack()
    zone = "privatelink.vaultcore.azure.net"
    del resources[zone], resources[f"{zone}-link"]
    resources["pe-kv-vault-dns"]["inputs"]["privateDnsZoneConfigs"][0]["privateDnsZoneId"] = HUB + zone
    assert found(PRIVATE_ENDPOINT_POLICY, resources) == []
    resources["pe-kv-vault-dns"]["inputs"]["privateDnsZoneConfigs"][0]["privateDnsZoneId"] = HUB + "privatelink.other"
    assert len(found(PRIVATE_ENDPOINT_POLICY, resources)) == 1


def test_in_a_preview_of_a_new_stack_unknown_ids_count_by_their_dependencies():
    """Before `up`, the program's ids (service, endpoint name, zone) are outputs the preview does not
    know; the engine still reports which resource each property depends on."""
    resources = locked_down_stack()
    depends: dict[str, dict] = {}
    for name, (target, group) in TARGETS.items():
        resources[name]["inputs"]["privateLinkServiceConnections"][0]["privateLinkServiceId"] = UNKNOWN_STRING_VALUE
        service = {"vault": "key-vault", "amlworkspace": "workspace"}.get(group, "storage")
        depends[name] = {"privateLinkServiceConnections": [service]}
        dns = resources[f"{name}-dns"]["inputs"]
        dns["privateEndpointName"] = UNKNOWN_STRING_VALUE
        zones = PRIVATE_DNS_ZONES[group]
        for config in dns["privateDnsZoneConfigs"]:
            config["privateDnsZoneId"] = UNKNOWN_STRING_VALUE
        depends[f"{name}-dns"] = {"privateEndpointName": [name], "privateDnsZoneConfigs": list(zones)}
    for zone in {z for _, group in TARGETS.values() for z in PRIVATE_DNS_ZONES[group]}:
        resources[f"{zone}-link"]["inputs"]["privateZoneName"] = UNKNOWN_STRING_VALUE
        depends[f"{zone}-link"] = {"privateZoneName": [zone]}
    resources["workspace"]["inputs"]["storageAccount"] = UNKNOWN_STRING_VALUE
    depends["workspace"] = {"storageAccount": ["storage"]}
    assert found(PRIVATE_ENDPOINT_POLICY, resources, depends) == []

    unrelated = copy.deepcopy(depends)
    unrelated["pe-st-file"] = {"privateLinkServiceConnections": ["key-vault"]}
    [message] = found(PRIVATE_ENDPOINT_POLICY, resources, unrelated)
    assert "Storage account 'storage'" in message and "'file'" in message


# --- the estate's Azure ML registry, declared by another stack ------------------------------------

# the registry stack's registry: another resource group (and, in general, another subscription)
ESTATE_REGISTRY = (
    "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-registry/providers/"
    "Microsoft.MachineLearningServices/registries/mlreg-unit"
)


def registry_rule(target=ESTATE_REGISTRY) -> dict:
    return {
        "type": "PrivateEndpoint",
        "category": "UserDefined",
        "destination": {"serviceResourceId": target, "subresourceTarget": "amlregistry", "sparkEnabled": False},
    }


def using_the_registry() -> dict[str, dict]:
    """The locked-down stack, its workspace's managed network reaching the estate's registry, with the
    registry's private endpoint and zone group in the stack's network."""
    resources = locked_down_stack()
    resources["workspace"]["inputs"]["managedNetwork"]["outboundRules"] = {"model-registry": registry_rule()}
    resources["pe-model-registry-amlregistry"] = endpoint(
        "pe-model-registry-amlregistry", ESTATE_REGISTRY, "amlregistry"
    )
    resources["pe-model-registry-amlregistry-dns"] = zone_group("pe-model-registry-amlregistry", "amlregistry")
    return resources


def test_a_stack_reaching_the_estates_registry_both_ways_passes():
    assert found(PRIVATE_ENDPOINT_POLICY, using_the_registry()) == []


def test_a_closed_workspace_reaching_a_registry_without_the_stacks_endpoint_to_it_is_caught():
    resources = using_the_registry()
    del resources["pe-model-registry-amlregistry"], resources["pe-model-registry-amlregistry-dns"]
    [message] = found(PRIVATE_ENDPOINT_POLICY, resources)
    assert message.startswith(
        f"ML workspace 'workspace' has public network access disabled and its managed network reaches ML registry "
        f"'{ESTATE_REGISTRY}' by a private endpoint rule, but no private endpoint with group id 'amlregistry'"
    )


def test_an_endpoint_to_another_registry_does_not_count():
    resources = using_the_registry()
    other = ESTATE_REGISTRY.replace("mlreg-unit", "mlreg-other")
    resources["pe-model-registry-amlregistry"]["inputs"]["privateLinkServiceConnections"][0]["privateLinkServiceId"] = (
        other
    )
    messages = found(PRIVATE_ENDPOINT_POLICY, resources)
    assert len(messages) == 2
    assert "no private endpoint with group id 'amlregistry'" in messages[0]
    assert messages[1].startswith(f"Private endpoint 'pe-model-registry-amlregistry' reaches ML registry '{other}'")


def test_the_registry_endpoint_needs_its_zone_group_on_a_linked_zone():
    resources = using_the_registry()
    del resources["pe-model-registry-amlregistry-dns"]
    [message] = found(PRIVATE_ENDPOINT_POLICY, resources)
    assert "'amlregistry' private endpoint has no DNS zone group covering privatelink.api.azureml.ms" in message
    resources = using_the_registry()
    del resources["privatelink.api.azureml.ms-link"]
    messages = found(PRIVATE_ENDPOINT_POLICY, resources)
    assert any(
        "privatelink.api.azureml.ms of its 'amlregistry' endpoint is linked to no virtual network" in m
        for m in messages
    )


def test_a_registry_endpoint_without_the_managed_networks_rule_is_caught():
    resources = using_the_registry()
    del resources["workspace"]["inputs"]["managedNetwork"]["outboundRules"]
    [message] = found(PRIVATE_ENDPOINT_POLICY, resources)
    assert "the managed network of ML workspace 'workspace' has no private endpoint outbound rule to it" in message


def test_a_public_workspace_without_a_registry_endpoint_passes():
    """A public stack reaches an open registry over the internet; its rule alone asks for no endpoint."""
    resources = using_the_registry()
    resources["workspace"]["inputs"]["publicNetworkAccess"] = "Enabled"
    del resources["pe-model-registry-amlregistry"], resources["pe-model-registry-amlregistry-dns"]
    del resources["pe-mlw-amlworkspace"], resources["pe-mlw-amlworkspace-dns"]
    assert found(PRIVATE_ENDPOINT_POLICY, resources) == []


def test_a_registry_id_a_preview_does_not_know_matches_any_registry():
    resources = using_the_registry()
    resources["pe-model-registry-amlregistry"]["inputs"]["privateLinkServiceConnections"][0]["privateLinkServiceId"] = (
        UNKNOWN_STRING_VALUE
    )
    resources["workspace"]["inputs"]["managedNetwork"]["outboundRules"] = {
        "model-registry": registry_rule(UNKNOWN_STRING_VALUE)
    }
    assert found(PRIVATE_ENDPOINT_POLICY, resources) == []


def test_a_closed_registry_in_a_stack_without_a_workspace_is_left_to_the_stacks_that_use_it():
    registry = {
        "type": "azure-native:machinelearningservices:Registry",
        "name": "registry",
        "inputs": {"resourceGroupName": "rg-registry", "registryName": "mlreg-unit", "publicNetworkAccess": "Disabled"},
    }
    assert found(PRIVATE_ENDPOINT_POLICY, {"registry": registry}) == []
    resources = {**locked_down_stack(), "registry": registry}
    [message] = found(PRIVATE_ENDPOINT_POLICY, resources)
    assert message.startswith("ML registry 'registry' has public network access disabled but no private endpoint")


# --- managed network: no egress setting on its deployments ---------------------------------------


def release(workspace="mlw-unit", egress=None) -> dict:
    serving = {
        "instance_type": "Standard_F4s_v2",
        "instance_count": 2.0,
        **({"egress_public_network_access": egress} if egress else {}),
    }
    return {
        "type": "pulumi-python:dynamic/release:EndpointTraffic",
        "name": "hatespeech-release-traffic",
        "inputs": {"workspace_name": workspace, "endpoint_name": "ep", "serving": serving},
    }


@pytest.mark.parametrize("egress", ["disabled", "enabled"])
def test_a_release_setting_egress_on_a_managed_network_workspace_is_caught(egress):
    resources = {"workspace": locked_down_stack()["workspace"], "traffic": release(egress=egress)}
    [message] = found(MANAGED_NETWORK_EGRESS_POLICY, resources, stack="dev")
    assert f"sets serving.egress_public_network_access to '{egress}'" in message and "managed network" in message
    resources["traffic"] = release()
    assert found(MANAGED_NETWORK_EGRESS_POLICY, resources, stack="dev") == []


def test_an_azure_native_deployment_of_a_managed_network_workspace_is_caught():
    deployment = copy.deepcopy(NATIVE_DEPLOYMENT)
    deployment["inputs"]["workspaceName"] = "mlw-unit"
    [message] = found(
        MANAGED_NETWORK_EGRESS_POLICY, {"workspace": locked_down_stack()["workspace"], "deployment": deployment}
    )
    assert "properties.egressPublicNetworkAccess to 'Disabled'" in message


def test_egress_is_left_to_deployments_of_a_workspace_without_a_managed_network():
    workspace = locked_down_stack()["workspace"]
    del workspace["inputs"]["managedNetwork"]
    assert found(MANAGED_NETWORK_EGRESS_POLICY, {"workspace": workspace, "traffic": release(egress="disabled")}) == []
    assert found(MANAGED_NETWORK_EGRESS_POLICY, {"traffic": release(workspace="elsewhere", egress="enabled")}) == []
