"""RegistryModelVersion: a workspace's model version shared into the estate's Azure ML registry.

Declared by the test stack, whose candidate is the dev workspace's version
(`azureml://subscriptions/<s>/resourceGroups/<g>/workspaces/<dev>/models/<m>/versions/<v>`, the dev
stack's `promote_candidate` output); it runs from test's CI agents, which reach dev's workspace and
the registry. The version goes into the registry under the same name and version
(`gateway.share_model`, azure-ai-ml's `models.share`: an import of the workspace version, its files
copied into the registry's storage), and test and prod then release
`azureml://registries/<r>/models/<m>/versions/<v>`.

  * absent from the registry: shared;
  * held by the registry with the same content (the properties the dev version was registered with:
    content_sha256, source_path): adopted, nothing written. A retried share (an answer lost, an update
    run again) ends here;
  * held with other content: refused. Registry versions are immutable and a deleted one can never be
    created again, so the only way forward is another version;
  * never deleted: deleting the resource leaves the registry version (the audit trail; it could not
    be shared again once gone). `read` reports it gone only when the registry no longer holds it.

Its id is the registry version's id, `azureml://registries/<r>/models/<m>/versions/<v>`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from infra.azureml.errors import AzureMLError
from infra.facts import (
    GUID,
    ML_REGISTRY_NAME,
    RESOURCE_GROUP_ACCEPTED,
    RESOURCE_GROUP_NAME,
    WORKSPACE_MODEL_ACCEPTED,
    full,
)

from .base import RegistryCoordinates, ReleaseProvider, gateway_for
from .fields import FieldReader
from .model_ref import WorkspaceModel, candidate_of, registry_model_uri
from .values import is_unknown, without_engine_keys

RESOURCE = "RegistryModelVersion"
REGISTRY_FIELDS = ("registry_subscription_id", "registry_resource_group", "registry_name")
REPLACE_FIELDS = ("source", "model_name", *REGISTRY_FIELDS)


class RegistryVersionConflict(RuntimeError):
    """The registry holds this version with other content, or refuses to create it (deleted before)."""


def _check_inputs(props: dict) -> tuple[dict, list[tuple[str, str]]]:
    reader = FieldReader(RESOURCE, props)
    checked: dict[str, Any] = {"model_name": reader.name("model_name")}
    source = reader.text("source", accepted=WORKSPACE_MODEL_ACCEPTED)
    checked["registry_subscription_id"] = reader.text(
        "registry_subscription_id", pattern=full(GUID), accepted="a subscription GUID"
    )
    checked["registry_resource_group"] = reader.text(
        "registry_resource_group", pattern=full(RESOURCE_GROUP_NAME), accepted=RESOURCE_GROUP_ACCEPTED
    )
    registry = checked["registry_name"] = reader.text(
        "registry_name", pattern=full(ML_REGISTRY_NAME), accepted="an Azure ML registry name"
    )
    checked["source"] = source
    checked["version"] = checked["registry_model_id"] = None
    if isinstance(source, str) and not is_unknown(source):
        model = candidate_of(source)
        if not isinstance(model, WorkspaceModel):
            reader.fail("source", source, WORKSPACE_MODEL_ACCEPTED)
        elif checked["model_name"] is not None and model.name != checked["model_name"]:
            reader.fail("source", source, f"a version of model {checked['model_name']}")
        else:
            checked["version"] = model.version
            if isinstance(registry, str) and not is_unknown(registry):
                checked["registry_model_id"] = registry_model_uri(registry, model.name, model.version)
            else:
                checked["registry_model_id"] = registry
    elif is_unknown(source):
        checked["version"] = checked["registry_model_id"] = source
    return checked, reader.failures


def _source(spec: dict) -> WorkspaceModel:
    model = candidate_of(spec["source"])
    assert isinstance(model, WorkspaceModel)  # check_inputs accepts nothing else
    return model


def _outputs(spec: dict, shared) -> dict:
    return {
        **spec,
        "registry_model_id": shared.id,
        "content_sha256": shared.properties.get("content_sha256"),
        "job_name": shared.job_name,
        "registry_tags": dict(shared.tags),
    }


def share(spec: dict):
    """The registry's version of the source: shared when absent, adopted when it holds the same content."""
    source = _source(spec)
    gateway = gateway_for(source.workspace)
    try:
        return gateway.share_model(source.name, source.version, spec["registry_name"])
    except AzureMLError as error:
        if error.status != 409:
            raise
        raise RegistryVersionConflict(
            f"registry {spec['registry_name']} cannot take {source.name}:{source.version} from "
            f"{source.workspace.workspace_name}: {error.service_message}. Registry versions are never "
            "overwritten and a deleted one is never created again: release another version (train "
            "again, or change what the version is made of)"
        ) from error


class RegistryModelVersionProvider(ReleaseProvider):
    """Engine lifecycle of a shared registry version. Holds nothing: every method builds its gateway."""

    resource = RESOURCE
    replace_fields = REPLACE_FIELDS

    def check_inputs(self, props: dict, *, previewing: bool = False) -> tuple[dict, list[tuple[str, str]]]:
        return _check_inputs(props)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        spec = self.spec(props)
        shared = share(spec)
        return dynamic.CreateResult(shared.id, _outputs(spec, shared))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        spec = self.spec(news)
        return dynamic.UpdateResult(_outputs(spec, share(spec)))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        state = without_engine_keys(props)
        source = _source(state)
        shared = gateway_for(source.workspace).get_registry_model_version(
            state["registry_name"], source.name, source.version
        )
        if shared is None:
            return dynamic.ReadResult("", {})
        return dynamic.ReadResult(shared.id, _outputs(state, shared))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Registry versions are the audit trail and can never be created again once deleted: kept."""


class RegistryModelVersion(dynamic.Resource, module="release", name="RegistryModelVersion"):
    """Workspace model version `source` shared into `registry` under the same name and version."""

    version: pulumi.Output[str]
    registry_model_id: pulumi.Output[str]  # azureml://registries/<r>/models/<m>/versions/<v>
    content_sha256: pulumi.Output[str]
    job_name: pulumi.Output[str | None]
    registry_tags: pulumi.Output[dict]

    def __init__(
        self,
        resource_name: str,
        *,
        registry: RegistryCoordinates,
        model_name: pulumi.Input[str],
        source: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            **registry.as_props(),
            "model_name": model_name,
            "source": source,
            "version": None,
            "registry_model_id": None,
            "content_sha256": None,
            "job_name": None,
            "registry_tags": None,
        }
        super().__init__(RegistryModelVersionProvider(), resource_name, props, opts)
