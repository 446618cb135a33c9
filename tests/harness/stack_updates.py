"""Successive `pulumi up`s of a real stack program, offline, with the engine's semantics applied.

The SDK's mock runtime runs one program once and trusts the mocks. This harness keeps the stack's
state between runs and does what the Pulumi engine and pulumi-azure-native do with it:
  * a dynamic resource runs its real provider: unpickled from its `__provider` input, `check`
    against the old inputs, `diff` against the old outputs, then create, update or replace
    (create-first unless the diff asks for delete-first; the replaced one is deleted at the end of
    the update), property bags through a protobuf Struct; its outputs carry the `__provider` it was
    written with, as the dynamic provider host returns them, and a refresh or delete unpickles that one;
  * an azure-native resource's `ignore_changes` paths take their OLD stored inputs (the engine sends
    the stored value, not the live one), its update is a whole-body PUT of those inputs, and a
    change to a property in its ARM path (name, version, parents) replaces it delete-first
    (azure-native sets deleteBeforeReplace whenever there are replaces);
  * `retain_on_delete` resources are dropped from the state without a delete, also when replaced
    (pulumi/pkg/resource/deploy/step.go: DeleteStep.Apply skips the provider when old.RetainOnDelete);
  * resources no longer declared are deleted at the end, dynamic ones through their provider.
azure-native resources are recorded as the ids that exist in Azure (a create of one that exists
fails, as azure-native's does); what the release providers do reaches the fake Azure ML control plane.
Every step is logged per update.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dill
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

from scripts.offline.mocks import ARM_PATH, DYNAMIC_TYPE, NAME_INPUT, RecordingMocks
from scripts.offline.program import _run
from tests.release.conftest import wire

PARENT_INPUTS = ("resourceGroupName", "location")


@dataclass
class Stored:
    type: str
    id: str
    inputs: dict
    outputs: dict
    retain_on_delete: bool
    custom: bool


@dataclass
class Update:
    """What one `up` did: (logical name, step) in order, and the outputs of the stack."""

    steps: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict = field(default_factory=dict)

    def changed(self) -> list[tuple[str, str]]:
        return [(name, step) for name, step in self.steps if step != "same"]

    def step_of(self, name: str) -> str | None:
        return next((step for n, step in self.steps if n == name), None)


def _provider(inputs: dict):
    encoded = inputs["__provider"]
    if rpc.is_rpc_secret(encoded):
        encoded = rpc.unwrap_rpc_secret(encoded)
    return dill.loads(base64.b64decode(encoded))


def _plain_inputs(inputs: dict) -> dict:
    return {k: (rpc.unwrap_rpc_secret(v) if rpc.is_rpc_secret(v) else v) for k, v in inputs.items()}


def _set_path(target: dict, path: str, value: Any, present: bool) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            return
    if present:
        target[parts[-1]] = copy.deepcopy(value)
    else:
        target.pop(parts[-1], None)


def _get_path(source: dict, path: str) -> tuple[bool, Any]:
    value: Any = source
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _canonical(inputs: dict) -> dict:
    """Inputs as the engine compares them (assets by path and hash, not by object identity)."""
    from google.protobuf import json_format

    def hashed(value):
        if isinstance(value, dict):
            if value.get(rpc._special_sig_key) == rpc._special_asset_sig and value.get("path"):
                with open(value["path"], "rb") as handle:
                    return {"asset": value["path"], "sha256": hashlib.sha256(handle.read()).hexdigest()}
            return {k: hashed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [hashed(v) for v in value]
        return value

    return hashed(json_format.MessageToDict(runtime_mocks._sync_await(rpc.serialize_properties(inputs, {}))))


def replace_keys(type_: str) -> tuple[str, ...]:
    """The inputs of an azure-native resource whose change replaces it: its ARM path and parents."""
    _, levels = ARM_PATH.get(type_, ("", []))
    keys = [key for _, key in levels if key]
    if type_ == "azure-native:storage:Blob":
        keys += ["accountName", "containerName", "blobName"]
    if type_ in NAME_INPUT:
        keys.append(NAME_INPUT[type_])
    return tuple(dict.fromkeys([*keys, *PARENT_INPUTS]))


class AlreadyExists(RuntimeError):
    """azure-native refuses to create a resource that exists in Azure (a retained one declared again)."""


class AzureControlPlane:
    """What azure-native's PUT and DELETE of a resource do: the ids that exist in Azure, and every call.

    azure-native's Create reads the resource first and refuses one that exists ("cannot create already
    existing resource", pulumi-azure-native provider.go), so a resource kept by retain_on_delete and
    declared again fails its create. A storage Blob is the exception: its create writes the blob over
    whatever is there (provider/pkg/resources/customresources/custom_storage_blob.go, PutBlockBlob)."""

    OVERWRITES_ON_CREATE = ("azure-native:storage:Blob",)

    def __init__(self, fake):
        self.fake = fake
        self.existing: set[str] = set()
        self.deleted: list[tuple[str, str]] = []  # (type, id) of every real delete
        self.puts: list[tuple[str, str]] = []

    def create(self, type_: str, resource_id: str) -> None:
        if resource_id in self.existing and type_ not in self.OVERWRITES_ON_CREATE:
            raise AlreadyExists(f"cannot create already existing resource '{resource_id}'")
        self.existing.add(resource_id)
        self.puts.append((type_, resource_id))

    def put(self, type_: str, resource_id: str) -> None:
        self.puts.append((type_, resource_id))

    def delete(self, type_: str, resource_id: str) -> None:
        self.existing.discard(resource_id)
        self.deleted.append((type_, resource_id))


class _Monitor(runtime_mocks.MockMonitor):
    def __init__(self, harness: StackUpdates, update: Update, stack_outputs: dict | None = None):
        # a StackReference (the registry stack of test and prod) reads what the offline engine serves
        self.mocks_impl = RecordingMocks(stack_outputs)
        super().__init__(self.mocks_impl)
        self.harness = harness
        self.update = update
        self.seen: list[str] = []

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        runtime_mocks._ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        self.seen.append(urn)
        if not request.custom:
            return resource_pb2.RegisterResourceResponse(
                urn=urn, object=runtime_mocks._sync_await(rpc.serialize_properties(inputs, {}))
            )
        if request.type.startswith(DYNAMIC_TYPE):
            id_, outputs, step = self.harness._dynamic(urn, request, _plain_inputs(inputs))
        else:
            id_, outputs, step = self.harness._native(urn, request, inputs, self.mocks_impl)
        self.update.steps.append((request.name, step))
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=id_, object=runtime_mocks._sync_await(rpc.serialize_properties(outputs, {}))
        )


class StackUpdates:
    """One stack's state across successive updates of the real program."""

    def __init__(
        self, stack: str, program: Callable[[], dict], azure: AzureControlPlane, project: str = "mlops-platform"
    ):
        self.stack, self.program, self.azure, self.project = stack, program, azure, project
        self.state: dict[str, Stored] = {}
        self.order: list[str] = []
        self.updates: list[Update] = []
        self._replaced: list[tuple[str, Stored]] = []  # (name, old record) deleted when the update ends

    # -- one update --------------------------------------------------------------------------
    def up(self, config: dict) -> Update:
        import pulumi

        from scripts.offline.program import _as_engine_config
        from scripts.offline.stack import referenced_outputs

        update = Update()
        stack_outputs = referenced_outputs(self.stack, config)
        pulumi.runtime.reset_options(project=self.project, stack=self.stack)
        pulumi.runtime.set_all_config(_as_engine_config(config))
        monitor = _Monitor(self, update, stack_outputs)
        pulumi.runtime.set_mocks(
            monitor.mocks_impl, project=self.project, stack=self.stack, preview=False, monitor=monitor
        )
        holder: dict = {}

        def body():
            return pulumi.Output.from_input(self.program()).apply(holder.update)

        _run(body)
        for name, old in self._replaced:
            _provider(old.outputs).delete(old.id, old.outputs)
            update.steps.append((name, "delete replaced"))
        self._replaced.clear()
        for urn in reversed([u for u in self.order if u not in monitor.seen]):
            self._delete(urn, update)
        update.outputs = holder
        self.updates.append(update)
        return update

    # -- dynamic resources -------------------------------------------------------------------
    def _dynamic(self, urn: str, request, inputs: dict) -> tuple[str, dict, str]:
        provider = _provider(inputs)
        old = self.state.get(urn)
        news = wire(inputs)
        checked = provider.check(old.inputs if old else {}, news)
        if checked.failures:
            reasons = "; ".join(f"{f.property}: {f.reason}" for f in checked.failures)
            raise ValueError(f"{request.type} '{request.name}' failed its provider's check: {reasons}")
        checked_inputs = wire({**checked.inputs, "__provider": inputs["__provider"]})
        if old is None:
            result = provider.create(checked_inputs)
            return self._store(urn, request, result.id, checked_inputs, result.outs, "create")
        diff = provider.diff(old.id, old.outputs, checked_inputs)
        if not diff.changes:
            old.inputs = checked_inputs
            return old.id, old.outputs, "same"
        if diff.replaces:
            if diff.delete_before_replace:
                provider.delete(old.id, old.outputs)
                result = provider.create(checked_inputs)
            else:
                result = provider.create(checked_inputs)
                self._replaced.append((request.name, old))
            return self._store(urn, request, result.id, checked_inputs, result.outs, "replace")
        result = provider.update(old.id, old.outputs, checked_inputs)
        return self._store(urn, request, old.id, checked_inputs, result.outs, "update")

    # -- azure-native resources --------------------------------------------------------------
    def _native(self, urn: str, request, inputs: dict, mocks: RecordingMocks) -> tuple[str, dict, str]:
        old = self.state.get(urn)
        effective = copy.deepcopy(inputs)
        if old is not None:
            for path in request.ignoreChanges:
                present, value = _get_path(old.inputs, path)
                _set_path(effective, path, value, present)
        args = runtime_mocks.MockResourceArgs(typ=request.type, name=request.name, inputs=effective, custom=True)
        id_, outputs = mocks.new_resource(args)
        if old is None:
            self.azure.create(request.type, id_)
            return self._store(urn, request, id_, effective, outputs, "create")
        if _canonical(effective) == _canonical(old.inputs):
            return old.id, old.outputs, "same"
        if any(effective.get(k) != old.inputs.get(k) for k in replace_keys(request.type)):
            if not old.retain_on_delete:
                self.azure.delete(old.type, old.id)
            self.azure.create(request.type, id_)
            return self._store(urn, request, id_, effective, outputs, "replace")
        self.azure.put(request.type, old.id)  # a whole-body PUT of the (effective) inputs
        return self._store(urn, request, old.id, effective, outputs, "update")

    # -- state -------------------------------------------------------------------------------
    def _store(self, urn: str, request, id_: str, inputs: dict, outputs: dict, step: str) -> tuple[str, dict, str]:
        if "__provider" in inputs:  # the dynamic provider host returns the provider it ran with the outputs
            outputs = {**outputs, "__provider": inputs["__provider"]}
        stored_outputs = wire(dict(outputs))
        self.state[urn] = Stored(
            request.type, id_, inputs, stored_outputs, bool(request.retainOnDelete), bool(request.custom)
        )
        if urn not in self.order:
            self.order.append(urn)
        return id_, stored_outputs, step

    def _delete(self, urn: str, update: Update) -> None:
        stored = self.state.pop(urn)
        self.order.remove(urn)
        name = urn.rsplit("::", 1)[-1]
        if stored.custom and not stored.retain_on_delete:
            if stored.type.startswith(DYNAMIC_TYPE):
                _provider(stored.outputs).delete(stored.id, stored.outputs)
            else:
                self.azure.delete(stored.type, stored.id)
            update.steps.append((name, "delete"))
        else:
            update.steps.append((name, "drop" if stored.custom else "delete"))

    def refresh(self) -> list[str]:
        """`pulumi refresh`: each dynamic resource's `read` replaces its recorded state; the names that changed."""
        changed = []
        for urn in list(self.order):
            stored = self.state[urn]
            if not stored.type.startswith(DYNAMIC_TYPE):
                continue
            result = _provider(stored.outputs).read(stored.id, stored.outputs)
            name = urn.rsplit("::", 1)[-1]
            if not result.id:
                self.state.pop(urn)
                self.order.remove(urn)
                changed.append(name)
                continue
            outs = wire({**(result.outs or {}), "__provider": stored.outputs["__provider"]})
            if _canonical(outs) != _canonical(stored.outputs):
                changed.append(name)
            stored.outputs = outs
        return changed

    def resources(self, type_: str) -> dict[str, Stored]:
        return {urn.rsplit("::", 1)[-1]: s for urn, s in self.state.items() if s.type == type_}
