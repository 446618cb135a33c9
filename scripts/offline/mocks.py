"""What the offline engine answers and records for each resource registration.

`RecordingMocks` answers every registration with plausible Azure ids, names and the outputs Azure
computes (a dynamic resource gets what its provider's `check` returns), and every StackReference
read with the outputs of the referenced stack it was given (its own offline plan's); `RecordingMonitor`
keeps what the engine would see of each registration (type, name, parent, wire inputs, options) as a
`DeclaredResource`, secrets redacted, and each read apart (`ReadResource`): the engine keeps reads
out of the stack's resources (pulumi/pulumi pkg/resource/deploy/step_executor.go records a read in
`deployment.reads`, not `news`), so no policy sees them.
"""

from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dill
import pulumi
from google.protobuf import json_format
from pulumi.dynamic.dynamic import PROVIDER_KEY
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

from scripts.offline import PROJECT_DIR

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
CLIENT_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
SECRET_PLACEHOLDER = "[secret]"
WORKSPACE_ID_NAMESPACE = uuid.UUID("3b9f6c1e-2a4d-5e8f-9b0c-7d1e2f3a4b5c")


@dataclass(frozen=True)
class DeclaredResource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    ignore_changes: tuple[str, ...] = ()
    protect: bool = False
    retain_on_delete: bool = False
    additional_secret_outputs: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    # Each alias as the SDK sends it: `{"urn": ...}` or `{"spec": {"name", "type", "parentUrn", "noParent", ...}}`.
    aliases: tuple[dict[str, Any], ...] = ()
    # A dynamic resource's values derived by its provider's `check` (e.g. a content version, the
    # traffic intent): what a preview knows beyond the inputs.
    checked: dict[str, Any] = field(default_factory=dict)
    # The dynamic resource's properties not known in this plan (shown as None in `inputs`/`checked`):
    # an output of a resource not created yet, or what its `check` reads from Azure ML.
    unknown: tuple[str, ...] = ()

    def input(self, path: str, default: Any = None) -> Any:
        """A wire input by dotted path, e.g. `properties.enableRbacAuthorization`."""
        value: Any = self.inputs
        for part in path.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return default
            value = value[part]
        return value


# The input that holds each resource type's Azure name (the rest use `name` or the logical name).
NAME_INPUT = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:operationalinsights:Workspace": "workspaceName",
    "azure-native:applicationinsights:Component": "resourceName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:storage:BlobContainer": "containerName",
    "azure-native:storage:Blob": "blobName",
    "azure-native:machinelearningservices:Workspace": "workspaceName",
    "azure-native:machinelearningservices:Registry": "registryName",
    "azure-native:machinelearningservices:Compute": "computeName",
    "azure-native:machinelearningservices:OnlineEndpoint": "endpointName",
    "azure-native:machinelearningservices:OnlineDeployment": "deploymentName",
    "azure-native:authorization:RoleDefinition": "roleDefinitionId",
    "azure-native:authorization:RoleAssignment": "roleAssignmentName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:Subnet": "subnetName",
    "azure-native:network:NetworkSecurityGroup": "networkSecurityGroupName",
    "azure-native:network:NatGateway": "natGatewayName",
    "azure-native:network:PublicIPAddress": "publicIpAddressName",
    "azure-native:network:BastionHost": "bastionHostName",
    "azure-native:network:PrivateEndpoint": "privateEndpointName",
    "azure-native:network:PrivateDnsZoneGroup": "privateDnsZoneGroupName",
    "azure-native:privatedns:PrivateZone": "privateZoneName",
    "azure-native:privatedns:VirtualNetworkLink": "virtualNetworkLinkName",
}


def _azure_name(args: runtime_mocks.MockResourceArgs) -> str:
    value = args.inputs.get(NAME_INPUT.get(args.typ, "name"))
    return value if isinstance(value, str) and value else args.name


# ARM path of each resource type below its resource group: (provider, collection) per level, with
# the input naming each level; the last level is the resource itself.
ARM_PATH: dict[str, tuple[str, list[tuple[str, str | None]]]] = {
    "azure-native:operationalinsights:Workspace": ("Microsoft.OperationalInsights", [("workspaces", "workspaceName")]),
    "azure-native:applicationinsights:Component": ("Microsoft.Insights", [("components", "resourceName")]),
    "azure-native:keyvault:Vault": ("Microsoft.KeyVault", [("vaults", "vaultName")]),
    "azure-native:containerregistry:Registry": ("Microsoft.ContainerRegistry", [("registries", "registryName")]),
    "azure-native:storage:StorageAccount": ("Microsoft.Storage", [("storageAccounts", "accountName")]),
    "azure-native:storage:BlobContainer": (
        "Microsoft.Storage",
        [("storageAccounts", "accountName"), ("blobServices", None), ("containers", "containerName")],
    ),
    "azure-native:storage:Blob": (
        "Microsoft.Storage",
        [
            ("storageAccounts", "accountName"),
            ("blobServices", None),
            ("containers", "containerName"),
            ("blobs", "blobName"),
        ],
    ),
    "azure-native:machinelearningservices:Workspace": (
        "Microsoft.MachineLearningServices",
        [("workspaces", "workspaceName")],
    ),
    "azure-native:machinelearningservices:Registry": (
        "Microsoft.MachineLearningServices",
        [("registries", "registryName")],
    ),
    "azure-native:machinelearningservices:Compute": (
        "Microsoft.MachineLearningServices",
        [("workspaces", "workspaceName"), ("computes", "computeName")],
    ),
    "azure-native:machinelearningservices:OnlineEndpoint": (
        "Microsoft.MachineLearningServices",
        [("workspaces", "workspaceName"), ("onlineEndpoints", "endpointName")],
    ),
    "azure-native:machinelearningservices:OnlineDeployment": (
        "Microsoft.MachineLearningServices",
        [("workspaces", "workspaceName"), ("onlineEndpoints", "endpointName"), ("deployments", "deploymentName")],
    ),
    "azure-native:machinelearningservices:EnvironmentVersion": (
        "Microsoft.MachineLearningServices",
        [("workspaces", "workspaceName"), ("environments", "name"), ("versions", "version")],
    ),
    "azure-native:machinelearningservices:CodeVersion": (
        "Microsoft.MachineLearningServices",
        [("workspaces", "workspaceName"), ("codes", "name"), ("versions", "version")],
    ),
    "azure-native:network:VirtualNetwork": ("Microsoft.Network", [("virtualNetworks", "virtualNetworkName")]),
    "azure-native:network:Subnet": (
        "Microsoft.Network",
        [("virtualNetworks", "virtualNetworkName"), ("subnets", "subnetName")],
    ),
    "azure-native:network:NetworkSecurityGroup": (
        "Microsoft.Network",
        [("networkSecurityGroups", "networkSecurityGroupName")],
    ),
    "azure-native:network:NatGateway": ("Microsoft.Network", [("natGateways", "natGatewayName")]),
    "azure-native:network:PublicIPAddress": ("Microsoft.Network", [("publicIPAddresses", "publicIpAddressName")]),
    "azure-native:network:BastionHost": ("Microsoft.Network", [("bastionHosts", "bastionHostName")]),
    "azure-native:network:PrivateEndpoint": ("Microsoft.Network", [("privateEndpoints", "privateEndpointName")]),
    "azure-native:network:PrivateDnsZoneGroup": (
        "Microsoft.Network",
        [("privateEndpoints", "privateEndpointName"), ("privateDnsZoneGroups", "privateDnsZoneGroupName")],
    ),
    "azure-native:privatedns:PrivateZone": ("Microsoft.Network", [("privateDnsZones", "privateZoneName")]),
    "azure-native:privatedns:VirtualNetworkLink": (
        "Microsoft.Network",
        [("privateDnsZones", "privateZoneName"), ("virtualNetworkLinks", "virtualNetworkLinkName")],
    ),
}


def _azure_id(args: runtime_mocks.MockResourceArgs, name: str) -> str:
    inputs = args.inputs
    if args.typ == "azure-native:resources:ResourceGroup":
        return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{name}"
    base = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{inputs.get('resourceGroupName', 'rg')}"
    if args.typ.startswith("azure-native:authorization:"):
        kind = "roleDefinitions" if args.typ.endswith("RoleDefinition") else "roleAssignments"
        return f"{inputs.get('scope', base)}/providers/Microsoft.Authorization/{kind}/{name}"
    provider, levels = ARM_PATH.get(args.typ, (args.typ.split(":")[1], [(args.typ.split(":")[2], None)]))
    segments = "".join(
        f"/{collection}/{inputs.get(key, 'default') if key else 'default'}" for collection, key in levels[:-1]
    )
    collection, key = levels[-1]
    return f"{base}/providers/{provider}{segments}/{collection}/{inputs.get(key) or name}"


def _computed_outputs(args: runtime_mocks.MockResourceArgs, name: str) -> dict[str, Any]:
    """Outputs Azure computes that the program reads."""
    typ = args.typ
    if typ == "azure-native:keyvault:Vault":
        return {"properties": {**args.inputs.get("properties", {}), "vaultUri": f"https://{name}.vault.azure.net/"}}
    if typ == "azure-native:containerregistry:Registry":
        return {"loginServer": f"{name}.azurecr.io"}
    if typ == "azure-native:machinelearningservices:Registry":
        # the discovery URL's form (Azure docs, "Network isolation with Azure Machine Learning
        # registries", How to find the registry's fully qualified domain name)
        region = args.inputs.get("location", "westeurope")
        return {"discoveryUrl": f"https://{region}.api.azureml.ms/registrymanagement/v1.0/registries/{name}/discovery"}
    if typ in (
        "azure-native:machinelearningservices:Workspace",
        "azure-native:machinelearningservices:Compute",
        "azure-native:machinelearningservices:OnlineEndpoint",
    ):
        identity = args.inputs.get("identity") or {}
        outputs: dict[str, Any] = {"identity": {**identity, "principalId": f"principal-{name}", "tenantId": TENANT_ID}}
        if typ.endswith(":Workspace"):
            outputs["workspaceId"] = str(uuid.uuid5(WORKSPACE_ID_NAMESPACE, name))  # Azure's immutable GUID
        if typ.endswith("OnlineEndpoint"):
            region = args.inputs.get("location", "westeurope")
            outputs["properties"] = {
                **args.inputs.get("properties", {}),
                "scoringUri": f"https://{name}.{region}.inference.ml.azure.com/score",
            }
        return outputs
    return {}


DYNAMIC_TYPE = "pulumi-python:dynamic"


class DynamicCheckFailed(ValueError):
    """A dynamic provider's `check` refused the inputs, as the engine would report at preview."""


def _dynamic_preview(args: runtime_mocks.MockResourceArgs) -> tuple[str, dict]:
    """What a preview knows of a dynamic resource: the inputs its provider's `check` returns.

    The provider is unpickled from its `__provider` input exactly as the dynamic provider host
    does; `check` validates and derives values such as a content version, and is the only provider
    method the engine calls before an update. What it would read from Azure ML (program.py runs it
    with a gateway that reaches none) it returns as unknown.
    """
    encoded = args.inputs[PROVIDER_KEY]  # pulumi.dynamic.Resource always sends its pickled provider
    if rpc.is_rpc_secret(encoded):
        encoded = rpc.unwrap_rpc_secret(encoded)
    provider = dill.loads(base64.b64decode(encoded))
    news = {key: value for key, value in args.inputs.items() if key != PROVIDER_KEY}
    result = provider.check({}, news)
    if result.failures:
        reasons = "; ".join(f"{failure.property}: {failure.reason}" for failure in result.failures)
        raise DynamicCheckFailed(f"{args.typ} '{args.name}' failed its provider's check: {reasons}")
    outputs = {key: value for key, value in (result.inputs or news).items() if key != PROVIDER_KEY}
    return f"{args.name}-preview", outputs


STACK_REFERENCE = "pulumi:pulumi:StackReference"


class RecordingMocks(pulumi.runtime.Mocks):
    """Plausible ids and outputs for every resource; answers the provider's client config and the
    StackReference reads of the stacks in `stack_outputs` (fully qualified name -> outputs)."""

    def __init__(self, stack_outputs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        super().__init__()
        self.check_failures: list[DynamicCheckFailed] = []
        self.stack_outputs = dict(stack_outputs or {})

    def new_resource(self, args: runtime_mocks.MockResourceArgs) -> tuple[str, dict]:
        if args.typ == STACK_REFERENCE:
            return self._stack_reference(args)
        if not args.custom:
            return "", dict(args.inputs)
        if args.typ.startswith(DYNAMIC_TYPE):
            try:
                return _dynamic_preview(args)
            except DynamicCheckFailed as failure:
                self.check_failures.append(failure)
                raise
        name = _azure_name(args)
        resource_id = _azure_id(args, name)
        return resource_id, {**args.inputs, "name": name, "id": resource_id, **_computed_outputs(args, name)}

    def _stack_reference(self, args: runtime_mocks.MockResourceArgs) -> tuple[str, dict]:
        """A StackReference is read (its id is the stack's name) and resolves to the stack's outputs
        in `outputs`, its secret ones named in `secretOutputNames` (pulumi/stack_reference.py)."""
        stack = args.resource_id or args.inputs.get("name")
        if stack not in self.stack_outputs:
            served = ", ".join(sorted(self.stack_outputs)) or "none"
            raise LookupError(
                f"the offline engine has no outputs for stack {stack!r}, which StackReference "
                f"'{args.name}' reads; it serves the stacks the program's settings reference: {served}"
            )
        outputs = copy.deepcopy(dict(self.stack_outputs[stack]))
        return stack, {"name": stack, "outputs": outputs, "secretOutputNames": []}

    def call(self, args: runtime_mocks.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        if args.token == "azure-native:authorization:getClientConfig":
            # no check failures: [], as pulumi's MockMonitor.Invoke iterates them (runtime/mocks.py) though typed Optional
            return {
                "clientId": "mock-client",
                "objectId": CLIENT_OBJECT_ID,
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
            }, []
        raise LookupError(
            f"the offline engine has no answer for invoke {args.token}; accepted: "
            "azure-native:authorization:getClientConfig (add the invoke's answer here when the "
            "program starts calling another)"
        )


@dataclass(frozen=True)
class ReadResource:
    """A resource the program reads rather than declares (a StackReference, a `.get`)."""

    type: str
    name: str
    id: str


class RecordingMonitor(runtime_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping what the engine would see of each registration and read."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.declared: list[DeclaredResource] = []
        self.reads: list[ReadResource] = []
        self._names: dict[str, str] = {}

    def ReadResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().ReadResource(request)
        self.reads.append(ReadResource(type=request.type, name=request.name, id=request.id))
        return response

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        if request.type.startswith(DYNAMIC_TYPE):
            response = self._register_dynamic(request)
        else:
            response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        self._names[response.urn] = request.name
        inputs = _redact(json_format.MessageToDict(request.object))
        checked: dict[str, Any] = {}
        unknown: tuple[str, ...] = ()
        if request.type.startswith(DYNAMIC_TYPE):
            wire = json_format.MessageToDict(response.object)
            unknown = tuple(sorted(key for key, value in wire.items() if value == rpc.UNKNOWN))
            returned = _redact(wire)
            checked = {key: value for key, value in returned.items() if inputs.get(key) != value}
        self.declared.append(
            DeclaredResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=self._names.get(request.parent),
                custom=bool(request.custom),
                inputs=inputs,
                ignore_changes=tuple(request.ignoreChanges),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
                dependencies=tuple(self._names.get(urn, urn) for urn in request.dependencies),
                aliases=tuple(json_format.MessageToDict(alias) for alias in request.aliases),
                checked=checked,
                unknown=unknown,
            )
        )
        return response

    def _register_dynamic(self, request):
        """MockMonitor.RegisterResource (pulumi/runtime/mocks.py), except that inputs not known yet reach
        the dynamic provider's `check` as unknown (as the engine hands them over in a preview), not as None:
        a value a `check` could not read (a job output's files, offline) is unknown to its dependents too."""
        urn = self.make_urn(request.parent, request.type, request.name)
        runtime_mocks._ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        args = runtime_mocks.MockResourceArgs(
            typ=request.type, name=request.name, inputs=inputs, provider=request.provider, custom=True
        )
        id_, state = self.mocks.new_resource(args)
        id_ = id_ or ""  # RecordingMocks names every dynamic resource `<name>-preview`
        self.resources[urn] = runtime_mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        obj = runtime_mocks._sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)


def _redact(value: Any) -> Any:
    """Plain values for the record: secrets shown as `[secret]`, unknowns as `None`, assets
    as their path, and the dynamic provider's pickled source left out."""
    if isinstance(value, dict):
        signature = value.get(rpc._special_sig_key)
        if signature == rpc._special_secret_sig:
            return SECRET_PLACEHOLDER
        if signature == rpc._special_asset_sig:
            return {"asset": _project_relative(value.get("path")) or value.get("uri") or "<text>"}
        return {key: _redact(item) for key, item in value.items() if key != "__provider"}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    if value == rpc.UNKNOWN:
        return None
    return value


def _project_relative(path: str | None) -> str | None:
    """Asset paths relative to the project, so plans from two checkouts compare equal."""
    if path and Path(path).is_absolute() and Path(path).is_relative_to(PROJECT_DIR):
        return Path(path).relative_to(PROJECT_DIR).as_posix()
    return path
