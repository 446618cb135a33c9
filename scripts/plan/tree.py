"""A plan as a text tree: each resource's type, name and key settings, children under parents.

A resource may carry a note in words (what the release preview says its `up` would do) after its
settings; the stack outputs follow as YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scripts.plan.text import block, inline

# The inputs worth seeing at a glance, per resource type (wire names, dotted paths).
KEY_SETTINGS: dict[str, tuple[str, ...]] = {
    "azure-native:resources:ResourceGroup": ("resourceGroupName", "location"),
    "azure-native:operationalinsights:Workspace": ("workspaceName", "retentionInDays"),
    "azure-native:applicationinsights:Component": ("resourceName", "ingestionMode", "disableLocalAuth"),
    "azure-native:keyvault:Vault": (
        "vaultName",
        "properties.enableRbacAuthorization",
        "properties.enablePurgeProtection",
        "properties.softDeleteRetentionInDays",
        "properties.publicNetworkAccess",
    ),
    "azure-native:containerregistry:Registry": ("registryName", "sku.name", "adminUserEnabled", "publicNetworkAccess"),
    "azure-native:storage:StorageAccount": (
        "accountName",
        "minimumTlsVersion",
        "enableHttpsTrafficOnly",
        "allowBlobPublicAccess",
        "publicNetworkAccess",
    ),
    "azure-native:storage:BlobContainer": ("containerName", "publicAccess"),
    "azure-native:storage:Blob": ("blobName",),
    "azure-native:machinelearningservices:Workspace": (
        "workspaceName",
        "identity.type",
        "publicNetworkAccess",
        "managedNetwork.isolationMode",
        "hbiWorkspace",
    ),
    "azure-native:machinelearningservices:Registry": (
        "registryName",
        "location",
        "identity.type",
        "publicNetworkAccess",
    ),
    "azure-native:machinelearningservices:Compute": (
        "computeName",
        "properties.properties.vmSize",
        "properties.properties.vmPriority",
        "properties.properties.scaleSettings.minNodeCount",
        "properties.properties.scaleSettings.maxNodeCount",
        "properties.properties.enableNodePublicIp",
        "properties.properties.remoteLoginPortPublicAccess",
    ),
    "azure-native:machinelearningservices:EnvironmentVersion": ("name", "version", "properties.image"),
    "azure-native:machinelearningservices:CodeVersion": ("name", "version"),
    "azure-native:authorization:RoleDefinition": ("roleName", "roleDefinitionId"),
    "azure-native:authorization:RoleAssignment": ("principalId", "principalType"),
    "azure-native:network:VirtualNetwork": (
        "virtualNetworkName",
        "addressSpace.addressPrefixes",
        "dhcpOptions.dnsServers",
    ),
    "azure-native:network:Subnet": (
        "subnetName",
        "addressPrefix",
        "privateEndpointNetworkPolicies",
        "defaultOutboundAccess",
        "delegations.0.serviceName",
    ),
    "azure-native:network:NetworkSecurityGroup": ("networkSecurityGroupName", "securityRules"),
    "azure-native:network:NatGateway": ("natGatewayName", "sku.name"),
    "azure-native:network:PublicIPAddress": ("publicIpAddressName", "sku.name"),
    "azure-native:network:BastionHost": ("bastionHostName", "sku.name"),
    "azure-native:network:PrivateEndpoint": ("privateEndpointName", "privateLinkServiceConnections.0.groupIds"),
    "azure-native:network:PrivateDnsZoneGroup": ("privateEndpointName", "privateDnsZoneConfigs"),
    "azure-native:privatedns:PrivateZone": ("privateZoneName",),
    "azure-native:privatedns:VirtualNetworkLink": ("virtualNetworkLinkName", "registrationEnabled"),
    "pulumi-python:dynamic/release:ModelVersion": ("model_name", "version", "path"),
    "pulumi-python:dynamic/release:ChampionSelection": ("challenger_version", "evaluation_data"),
    "pulumi-python:dynamic/release:ServingEndpoint": ("endpoint_name", "auth_mode", "public_network_access"),
    # its rollout and approval read in words in the release preview's note (scripts/plan/release.py)
    "pulumi-python:dynamic/release:EndpointTraffic": (
        "serving.instance_type",
        "serving.instance_count",
        "serving_version",
        "require_approval",
        "approved_version",
        "approved_serving_version",
    ),
}


def lookup(inputs: dict[str, Any], path: str) -> Any:
    """The value at a dotted path; a digit indexes a list (`delegations.0.serviceName`)."""
    value: Any = inputs
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def _label(path: str) -> str:
    """`properties.properties.vmSize` reads as `vmSize`; `sku.name` stays `sku.name`."""
    parts = [part for part in path.split(".") if part != "properties"]
    return ".".join(parts[-2:]) if len(parts) > 1 and parts[-1] in ("name", "type") else parts[-1]


def key_settings(resource: dict[str, Any]) -> str:
    fields = KEY_SETTINGS.get(resource["type"], ())
    values = {**resource["inputs"], **resource.get("checked", {})}
    shown = [(_label(path), lookup(values, path)) for path in fields]
    return "  ".join(f"{name}={_setting_text(value)}" for name, value in shown if value is not None)


def _setting_text(value: Any) -> str:
    """A list of named objects (security rules, DNS zone configs) reads as its names; the rest as text."""
    if isinstance(value, list) and value and all(isinstance(item, dict) and "name" in item for item in value):
        return "[" + ",".join(str(item["name"]) for item in value) + "]"
    return inline(value)


def render_tree(plan: dict[str, Any], notes: Mapping[str, str] | None = None) -> str:
    """The tree; `notes` are words after the line of the resource they are keyed by (its name)."""
    notes = notes or {}
    resources = plan["resources"]
    children: dict[str | None, list[dict[str, Any]]] = {}
    for resource in resources:
        children.setdefault(resource["parent"], []).append(resource)
    lines = [
        f"stack {plan['stack']}: {len(resources)} resources "
        f"({sum(1 for r in resources if not r['type'].startswith('mlops:'))} in Azure)"
    ]

    def walk(parent: str | None, indent: str) -> None:
        items = children.get(parent, [])
        for index, resource in enumerate(items):
            last = index == len(items) - 1
            branch = "└─ " if last else "├─ "
            settings = key_settings(resource)
            note = notes.get(resource["name"])
            lines.append(
                f"{indent}{branch}{resource['type']}  {resource['name']}"
                + (f"  [{settings}]" if settings else "")
                + (f"  → {note}" if note else "")
            )
            walk(resource["name"], indent + ("   " if last else "│  "))

    walk(None, "")
    for read in plan.get("reads", []):  # e.g. a StackReference: read from another stack, not declared
        lines.append(f"reads {read['type']}  {read['name']}  [{read['id']}]")
    if plan.get("outputs"):
        lines.append("outputs:")
        lines.extend(block(plan["outputs"]))
    return "\n".join(lines)
