"""Runs the real program of a stack offline, under the Pulumi SDK's mock runtime.

The engine answers every resource registration with plausible Azure ids and names, records what
was declared (type, name, parent, wire inputs, options) and resolves the stack outputs. It is the
one engine behind `scripts/plan`, the benchmarks and the tests: none of them needs the Pulumi CLI,
credentials or Azure.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dill
import pulumi
import yaml
from pulumi.dynamic.dynamic import PROVIDER_KEY
from google.protobuf import json_format
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc

PROJECT_DIR = Path(__file__).resolve().parents[1]
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
CLIENT_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
SECRET_PLACEHOLDER = "[secret]"


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
    # A dynamic resource's values derived by its provider's `check` (e.g. a content version, the
    # traffic intent): what a preview knows beyond the inputs.
    checked: dict[str, Any] = field(default_factory=dict)

    def input(self, path: str, default: Any = None) -> Any:
        """A wire input by dotted path, e.g. `properties.enableRbacAuthorization`."""
        value: Any = self.inputs
        for part in path.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return default
            value = value[part]
        return value


@dataclass
class Plan:
    stack: str
    resources: list[DeclaredResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[DeclaredResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def one(self, type_: str, name: str | None = None) -> DeclaredResource:
        matches = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_}{f' named {name}' if name else ''}, found {len(matches)}")
        return matches[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "resources": [
                {"type": r.type, "name": r.name, "parent": r.parent, "inputs": r.inputs,
                 "ignoreChanges": list(r.ignore_changes), **({"checked": r.checked} if r.checked else {})}
                for r in self.resources
            ],
            "outputs": self.outputs,
        }


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
    "azure-native:machinelearningservices:Compute": "computeName",
    "azure-native:machinelearningservices:OnlineEndpoint": "endpointName",
    "azure-native:machinelearningservices:OnlineDeployment": "deploymentName",
    "azure-native:authorization:RoleDefinition": "roleDefinitionId",
    "azure-native:authorization:RoleAssignment": "roleAssignmentName",
}


def _azure_name(args: runtime_mocks.MockResourceArgs) -> str:
    value = args.inputs.get(NAME_INPUT.get(args.typ, "name"))
    return value if isinstance(value, str) and value else args.name


# ARM path of each resource type below its resource group: (provider, collection) per level, with
# the input naming each level; the last level is the resource itself.
ARM_PATH = {
    "azure-native:operationalinsights:Workspace": ("Microsoft.OperationalInsights", [("workspaces", "workspaceName")]),
    "azure-native:applicationinsights:Component": ("Microsoft.Insights", [("components", "resourceName")]),
    "azure-native:keyvault:Vault": ("Microsoft.KeyVault", [("vaults", "vaultName")]),
    "azure-native:containerregistry:Registry": ("Microsoft.ContainerRegistry", [("registries", "registryName")]),
    "azure-native:storage:StorageAccount": ("Microsoft.Storage", [("storageAccounts", "accountName")]),
    "azure-native:storage:BlobContainer": ("Microsoft.Storage", [
        ("storageAccounts", "accountName"), ("blobServices", None), ("containers", "containerName")]),
    "azure-native:storage:Blob": ("Microsoft.Storage", [
        ("storageAccounts", "accountName"), ("blobServices", None), ("containers", "containerName"),
        ("blobs", "blobName")]),
    "azure-native:machinelearningservices:Workspace": ("Microsoft.MachineLearningServices", [
        ("workspaces", "workspaceName")]),
    "azure-native:machinelearningservices:Compute": ("Microsoft.MachineLearningServices", [
        ("workspaces", "workspaceName"), ("computes", "computeName")]),
    "azure-native:machinelearningservices:OnlineEndpoint": ("Microsoft.MachineLearningServices", [
        ("workspaces", "workspaceName"), ("onlineEndpoints", "endpointName")]),
    "azure-native:machinelearningservices:OnlineDeployment": ("Microsoft.MachineLearningServices", [
        ("workspaces", "workspaceName"), ("onlineEndpoints", "endpointName"), ("deployments", "deploymentName")]),
    "azure-native:machinelearningservices:EnvironmentVersion": ("Microsoft.MachineLearningServices", [
        ("workspaces", "workspaceName"), ("environments", "name"), ("versions", "version")]),
    "azure-native:machinelearningservices:CodeVersion": ("Microsoft.MachineLearningServices", [
        ("workspaces", "workspaceName"), ("codes", "name"), ("versions", "version")]),
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
    segments = "".join(f"/{collection}/{inputs.get(key, 'default') if key else 'default'}"
                       for collection, key in levels[:-1])
    collection, key = levels[-1]
    return f"{base}/providers/{provider}{segments}/{collection}/{inputs.get(key) or name}"


def _computed_outputs(args: runtime_mocks.MockResourceArgs, name: str) -> dict[str, Any]:
    """Outputs Azure computes that the program reads."""
    typ = args.typ
    if typ == "azure-native:keyvault:Vault":
        return {"properties": {**args.inputs.get("properties", {}), "vaultUri": f"https://{name}.vault.azure.net/"}}
    if typ == "azure-native:containerregistry:Registry":
        return {"loginServer": f"{name}.azurecr.io"}
    if typ in ("azure-native:machinelearningservices:Workspace", "azure-native:machinelearningservices:Compute",
               "azure-native:machinelearningservices:OnlineEndpoint"):
        identity = args.inputs.get("identity") or {}
        outputs: dict[str, Any] = {"identity": {**identity, "principalId": f"principal-{name}", "tenantId": TENANT_ID}}
        if typ.endswith("OnlineEndpoint"):
            region = args.inputs.get("location", "westeurope")
            outputs["properties"] = {**args.inputs.get("properties", {}),
                                     "scoringUri": f"https://{name}.{region}.inference.ml.azure.com/score"}
        return outputs
    return {}


DYNAMIC_TYPE = "pulumi-python:dynamic"


class DynamicCheckFailed(ValueError):
    """A dynamic provider's `check` refused the inputs, as the engine would report at preview."""


def _dynamic_preview(args: runtime_mocks.MockResourceArgs) -> tuple[str, dict]:
    """What a preview knows of a dynamic resource: the inputs its provider's `check` returns.

    The provider is unpickled from its `__provider` input exactly as the dynamic provider host
    does; `check` is pure (it validates and derives values such as a content version) and is the
    only provider method the engine calls before an update, so nothing reaches Azure.
    """
    encoded = args.inputs.get(PROVIDER_KEY)
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


class RecordingMocks(pulumi.runtime.Mocks):
    """Plausible ids and outputs for every resource; answers the provider's client config."""

    def __init__(self) -> None:
        super().__init__()
        self.check_failures: list[DynamicCheckFailed] = []

    def new_resource(self, args: runtime_mocks.MockResourceArgs) -> tuple[str, dict]:
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

    def call(self, args: runtime_mocks.MockCallArgs) -> dict:
        if args.token == "azure-native:authorization:getClientConfig":
            return {"clientId": "mock-client", "objectId": CLIENT_OBJECT_ID,
                    "subscriptionId": SUBSCRIPTION_ID, "tenantId": TENANT_ID}
        raise NotImplementedError(f"the offline engine has no answer for invoke {args.token}")


class RecordingMonitor(runtime_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping what the engine would see of each registration."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.declared: list[DeclaredResource] = []
        self._names: dict[str, str] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        self._names[response.urn] = request.name
        inputs = _redact(json_format.MessageToDict(request.object))
        checked = {}
        if request.type.startswith(DYNAMIC_TYPE):
            returned = _redact(json_format.MessageToDict(response.object))
            checked = {key: value for key, value in returned.items() if inputs.get(key) != value}
        self.declared.append(DeclaredResource(
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
            checked=checked,
        ))
        return response


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


def stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The `config:` map of `Pulumi.<stack>.yaml`, keys as written (`project:key`)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack '{stack}': {path} does not exist; known stacks: {', '.join(known)}")
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(document.get("config") or {})


def _as_engine_config(config: Mapping[str, Any]) -> dict[str, str]:
    """What the engine hands the program: every value a string, objects JSON encoded."""
    import json
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


def run_program(stack: str, program: Callable[[], Mapping[str, Any]], config: Mapping[str, Any],
                project: str = "mlops-platform") -> Plan:
    """Run `program` as the stack's Pulumi program under mocks, with `config` as its stack config."""
    pulumi.runtime.reset_options(project=project, stack=stack)
    pulumi.runtime.set_all_config(_as_engine_config(config))
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)

    outputs_holder: dict[str, Any] = {}

    def body():
        outputs = program()
        return pulumi.Output.from_input(outputs).apply(outputs_holder.update)

    try:
        _run(body)
    except Exception:
        if mocks.check_failures:
            raise mocks.check_failures[0] from None
        raise
    names = [resource.name for resource in monitor.declared]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"logical resource names must be unique in a stack so that plans and parents are "
                         f"unambiguous; repeated: {', '.join(repeated)}")
    return Plan(stack=stack, resources=list(monitor.declared), outputs=_redact(_plain(outputs_holder)))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _run(body: Callable[[], pulumi.Output]) -> None:
    """Run the program and wait for every registration, as `pulumi.runtime.test` does."""
    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.stack import run_pulumi_func

    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    runtime_mocks._sync_await(run_pulumi_func(lambda: runtime_mocks._sync_await(body().future())))


def run_stack(stack: str, project_dir: Path = PROJECT_DIR, config: Mapping[str, Any] | None = None) -> Plan:
    """Run the real program of `stack` with its YAML config (or `config`, keys `project:key`)."""
    import stacks

    config = stack_config(stack, project_dir) if config is None else config
    return run_program(stack, stacks.program, config)
