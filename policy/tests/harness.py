"""Hands policies their arguments the way the Pulumi engine does, plus secure sample resources."""

import copy
import sys
from pathlib import Path

POLICY_DIR = Path(__file__).resolve().parents[1]
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))

from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, ResourceValidationArgs  # noqa: E402
from pulumi_policy.deserialize import deserialize_properties  # noqa: E402
from pulumi_policy.proxy import unknown_checking_proxy  # noqa: E402

PROJECT = "mlops-platform"


def urn(stack: str, resource_type: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{resource_type}::{name}"


def options(ignore_changes=()) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=list(ignore_changes),
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )


def engine_props(props: dict):
    """Props as the analyzer hands them over: deserialized, then wrapped in unknown-checking proxies."""
    return unknown_checking_proxy(deserialize_properties(copy.deepcopy(props)))


def resource_args(resource: dict, stack: str = "dev", config: dict | None = None) -> ResourceValidationArgs:
    """ResourceValidationArgs for a resource given as {"type", "name", "inputs", "ignoreChanges"?}."""
    return ResourceValidationArgs(
        resource_type=resource["type"],
        props=engine_props(resource["inputs"]),
        urn=urn(stack, resource["type"], resource["name"]),
        name=resource["name"],
        opts=options(resource.get("ignoreChanges", ())),
        provider=None,
        config=config,
    )


def policy_resource(resource: dict, stack: str = "dev", property_dependencies: dict | None = None) -> PolicyResource:
    """A resource as a stack policy sees it; `property_dependencies` maps a property to the
    PolicyResources it depends on (what the engine reports when the value is not known yet)."""
    return PolicyResource(
        resource_type=resource["type"],
        props=engine_props(resource["inputs"]),
        urn=urn(stack, resource["type"], resource["name"]),
        name=resource["name"],
        opts=options(resource.get("ignoreChanges", ())),
        provider=None,
        parent=None,
        dependencies=[],
        property_dependencies=dict(property_dependencies or {}),
    )


def violations_of(policy, resource: dict, stack: str = "dev", config: dict | None = None) -> list[str]:
    found: list[str] = []
    policy.validate(resource_args(resource, stack, config), lambda message, urn=None: found.append(message))
    return found


RG_SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-mlops-prod"

SECURE_RESOURCES = {
    "vault": {
        "type": "azure-native:keyvault:Vault",
        "name": "kv",
        "inputs": {
            "resourceGroupName": "rg",
            "properties": {
                "sku": {"family": "A", "name": "standard"},
                "tenantId": "11111111-1111-1111-1111-111111111111",
                "enableRbacAuthorization": True,
                "enablePurgeProtection": True,
                "enableSoftDelete": True,
                "softDeleteRetentionInDays": 90.0,
                "enabledForDeployment": False,
                "enabledForDiskEncryption": False,
                "enabledForTemplateDeployment": False,
                "publicNetworkAccess": "enabled",
                "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny"},
            },
        },
    },
    "registry": {
        "type": "azure-native:containerregistry:Registry",
        "name": "acr",
        "inputs": {
            "resourceGroupName": "rg",
            "sku": {"name": "Premium"},
            "adminUserEnabled": False,
            "anonymousPullEnabled": False,
            "publicNetworkAccess": "Disabled",
            "networkRuleBypassOptions": "AzureServices",
            "zoneRedundancy": "Disabled",
        },
    },
    "storage": {
        "type": "azure-native:storage:StorageAccount",
        "name": "st",
        "inputs": {
            "resourceGroupName": "rg",
            "kind": "StorageV2",
            "sku": {"name": "Standard_LRS"},
            "minimumTlsVersion": "TLS1_2",
            "enableHttpsTrafficOnly": True,
            "allowBlobPublicAccess": False,
            "allowSharedKeyAccess": False,
        },
    },
    "workspace": {
        "type": "azure-native:machinelearningservices:Workspace",
        "name": "mlw",
        "inputs": {
            "resourceGroupName": "rg",
            "identity": {"type": "SystemAssigned"},
            "publicNetworkAccess": "Disabled",
            "managedNetwork": {"isolationMode": "AllowOnlyApprovedOutbound", "enableNetworkMonitor": False},
            "systemDatastoresAuthMode": "Identity",
            "hbiWorkspace": True,
        },
    },
    "compute": {
        "type": "azure-native:machinelearningservices:Compute",
        "name": "cpu-cluster",
        "inputs": {
            "resourceGroupName": "rg",
            "workspaceName": "mlw",
            "properties": {
                "computeType": "AmlCompute",
                "properties": {
                    "vmSize": "Standard_DS3_v2",
                    "osType": "Linux",
                    "enableNodePublicIp": False,
                    "remoteLoginPortPublicAccess": "Disabled",
                    "scaleSettings": {"maxNodeCount": 2.0, "minNodeCount": 0.0},
                },
            },
        },
    },
    "role": {
        "type": "azure-native:authorization:RoleDefinition",
        "name": "ml-data-scientist",
        "inputs": {
            "scope": RG_SCOPE,
            "roleName": "ML Data Scientist (mlops-prod)",
            "assignableScopes": [RG_SCOPE],
            "permissions": [
                {
                    "actions": [
                        "Microsoft.MachineLearningServices/workspaces/read",
                        "Microsoft.MachineLearningServices/workspaces/experiments/runs/submit/action",
                        "Microsoft.MachineLearningServices/workspaces/jobs/*",
                    ],
                    "notActions": [],
                }
            ],
        },
    },
    # The release resources as the offline plan records them (scripts.plan --json): snake_case inputs,
    # numbers as floats, None inputs (output placeholders such as `traffic`) dropped.
    "endpoint": {
        "type": "pulumi-python:dynamic/release:ServingEndpoint",
        "name": "hatespeech-endpoint-online",
        "inputs": {
            "subscription_id": "00000000-0000-0000-0000-000000000000",
            "resource_group": "rg-mlops-prod",
            "workspace_name": "mlw-prod",
            "endpoint_name": "hate-speech-prod",
            "auth_mode": "aad_token",
            "public_network_access": "disabled",
            "description": "hatespeech scoring (prod)",
            "tags": {"environment": "prod"},
        },
    },
    "traffic": {
        "type": "pulumi-python:dynamic/release:EndpointTraffic",
        "name": "hatespeech-release-traffic",
        "inputs": {
            "subscription_id": "00000000-0000-0000-0000-000000000000",
            "resource_group": "rg-mlops-prod",
            "workspace_name": "mlw-prod",
            "endpoint_name": "hate-speech-prod",
            "model_name": "hate-speech-pt",
            "slots": ["blue", "green"],
            "challenger_version": "e1bf810ec342",
            "require_approval": True,
            "rollout": [{"mirror": 10.0}, {"canary": 50.0}],
            "hold_seconds": 300.0,
            "serving": {
                "code_id": f"{RG_SCOPE}/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod/codes/"
                "hate-speech-scoring/versions/b06b94750767",
                "environment_id": f"{RG_SCOPE}/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod/"
                "environments/hate-speech-serving/versions/3f3b1aacee00",
                "scoring_script": "score.py",
                "instance_type": "Standard_F4s_v2",
                "instance_count": 2.0,
                "environment_variables": {"WORKER_COUNT": "2"},
                "request_timeout_ms": 5000.0,
                "max_concurrent_requests_per_instance": 2.0,
                "liveness_probe": {
                    "initial_delay": 30.0,
                    "period": 10.0,
                    "timeout": 2.0,
                    "failure_threshold": 3.0,
                    "success_threshold": 1.0,
                },
                "readiness_probe": {
                    "initial_delay": 10.0,
                    "period": 10.0,
                    "timeout": 2.0,
                    "failure_threshold": 3.0,
                    "success_threshold": 1.0,
                },
                "app_insights_enabled": True,
            },
        },
    },
}

# What the platform declared before the release owned the deployments: an azure-native endpoint that
# ignores traffic and a slot that ignores its model. Both are refused now.
NATIVE_ENDPOINT = {
    "type": "azure-native:machinelearningservices:OnlineEndpoint",
    "name": "hate-speech",
    "inputs": {
        "resourceGroupName": "rg",
        "workspaceName": "mlw-prod",
        "endpointName": "hate-speech-prod",
        "identity": {"type": "SystemAssigned"},
        "properties": {"authMode": "AADToken", "publicNetworkAccess": "Disabled"},
    },
    "ignoreChanges": ["properties.traffic", "properties.mirrorTraffic"],
}
NATIVE_DEPLOYMENT = {
    "type": "azure-native:machinelearningservices:OnlineDeployment",
    "name": "hate-speech-blue",
    "inputs": {
        "resourceGroupName": "rg",
        "workspaceName": "mlw-prod",
        "endpointName": "hate-speech-prod",
        "deploymentName": "blue",
        "sku": {"name": "Default", "capacity": 2.0},
        "properties": {
            "endpointComputeType": "Managed",
            "instanceType": "Standard_F4s_v2",
            "egressPublicNetworkAccess": "Disabled",
        },
    },
    "ignoreChanges": ["properties.model"],
}
