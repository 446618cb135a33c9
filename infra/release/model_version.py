"""ModelVersion: registers a release candidate in a workspace under an explicit, content-derived version.

The candidate (`path`, model_ref.py) is
  * an artifact folder on this machine: uploaded and registered under its content version;
  * a training job's output (dev): registered from `azureml://jobs/<job>/outputs/<output>` as it is
    (nothing is uploaded), under the content version of the files the job wrote (sources.py reads them;
    the job must have Completed). The job becomes the version's lineage (`jobName`, read back as
    `job_name`): azure-ai-ml sends no job name (entities/_assets/_artifacts/model.py, _to_rest_object
    builds ModelVersionProperties without it), the service takes it from the azureml://jobs path
    (Azure ML docs, "Work with registered models": that format "establish[es] a lineage between a
    registered model and the job it was trained from");
  * a version in the stack's registry (test, prod): registered in this workspace from
    `azureml://registries/<r>/models/<m>/versions/<v>` (a registry model is one of the paths a model
    is registered from: Azure ML docs, "Work with registered models", Supported paths), under the
    version in that reference, with the content digest and tags the registry version carries. The
    files stay in the registry, and the slots deploy the registry's version itself.
Why a version of its own in each environment's workspace: the `stage` tag (traffic/stages.py) is
each environment's. A registry version is shared by test and prod, so its tags cannot say that it
is `production` in test and `staged` in prod; each workspace's version of it carries that
workspace's stage, written by that environment's traffic resource only, and the registry version
is read, never written, by test's and prod's releases. (The registry version has the tags the dev
version had when it was shared, `stage` included, because an import copies every tag: that is
dev's stage at that moment and nothing reads it.)

Its id is the version's ARM id. Registering a version the workspace holds already with the same
content adopts it, which stands in for `pulumi import` (dynamic resources cannot be imported,
pulumi/pulumi#16175). Same content, same version: registering again finds the version and writes
nothing. Tags carry the provenance (commit, training run, data version) and the validation metrics.
The `stage` tag belongs to the traffic resource and is never changed here. Deleting the resource
archives the version (unless it is in use: `production` or `staged`); the registry keeps every
version as the audit trail, and nothing here touches a registry version.

`check` reads what only Azure knows (a job's files, a registry version's digest) through the gateway:
a real preview knows the version. Where no Azure can be reached (the offline engine) it stays unknown,
except a registry reference's version, which is the one in it. A job output's local copy is cached
(artifacts.py): a job's output never changes once the job has ended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from infra.azureml.errors import AzureMLError
from infra.facts import (
    CANDIDATE_ACCEPTED,
    JOB_OUTPUT_ACCEPTED,
    LOCAL_ARTIFACT_ACCEPTED,
    ML_REGISTRY_NAME,
    REGISTRY_MODEL_ACCEPTED,
    full,
)

from .base import (
    WORKSPACE_FIELDS,
    GatewayUnavailable,
    ReleaseProvider,
    WorkspaceCoordinates,
    gateway_for,
    read_workspace,
    workspace_ref,
)
from .content import is_artifact, release_tags
from .fields import FieldReader
from .model_ref import JobOutput, LocalFolder, RegistryModel, WorkspaceModel, candidate_of, workspace_model_uri
from .sources import SourceFacts, SourceRefused, job_output_facts, local_facts, registered_facts
from .traffic.stages import PRODUCTION, STAGE_TAG, STAGED
from .values import UNKNOWN, is_unknown, plain, without_engine_keys

RESOURCE = "ModelVersion"
REPLACE_FIELDS = (*WORKSPACE_FIELDS, "model_name", "version")
IN_USE_STAGES = (PRODUCTION, STAGED)
REGISTERED_BY = "mlops-platform infra.release.ModelVersion"
RELEASABLE = f"{LOCAL_ARTIFACT_ACCEPTED}, {JOB_OUTPUT_ACCEPTED}, or {REGISTRY_MODEL_ACCEPTED}"
READ_FIELDS = ("content_sha256", "release_tags", "job_name")  # what check reads from the candidate


class VersionCollision(RuntimeError):
    """The registry holds this version with other content: versions are never overwritten."""


def _candidate_problem(candidate, model_name: str | None, registry_name: str | None) -> str | None:
    """What a candidate must be instead, or None when it is one this resource registers."""
    if candidate is None:
        return CANDIDATE_ACCEPTED
    if isinstance(candidate, WorkspaceModel):
        return (
            f"{RELEASABLE}; a workspace's model version is released through the registry (the stack's "
            "RegistryModelVersion shares it, then its registry version is released)"
        )
    if isinstance(candidate, RegistryModel):
        if model_name is not None and candidate.name != model_name:
            return f"a version of model {model_name}"
        if registry_name is None:
            return "a registry path only with registry_name, the stack's registry, set"
        if not is_unknown(registry_name) and candidate.registry != registry_name:
            return (
                f"a model version in the stack's registry {registry_name} "
                f"(azureml://registries/{registry_name}/models/{candidate.name}/versions/<version>)"
            )
    return None


def _read_source(candidate, checked: dict, previewing: bool) -> SourceFacts | None:
    """The candidate's facts, None when they cannot be known yet (no Azure here, or a registry version this
    update shares before registering it)."""
    if isinstance(candidate, LocalFolder):
        return local_facts(checked["path"])
    gateway = gateway_for(workspace_ref(checked))
    if isinstance(candidate, JobOutput):
        return job_output_facts(gateway, candidate)
    model = gateway.get_registry_model_version(candidate.registry, candidate.name, candidate.version)
    if model is None and previewing and checked["awaiting_share"]:
        return None
    return registered_facts(model, candidate.uri)


def _check_inputs(props: dict, previewing: bool = False) -> tuple[dict, list[tuple[str, str]]]:
    reader = FieldReader(RESOURCE, props)
    checked = read_workspace(reader)
    model_name = checked["model_name"] = reader.name("model_name")
    path = reader.text("path", accepted=CANDIDATE_ACCEPTED)
    registry_name = checked["registry_name"] = reader.text(
        "registry_name", required=False, pattern=full(ML_REGISTRY_NAME), accepted="an Azure ML registry name"
    )
    checked["awaiting_share"] = reader.boolean("awaiting_share", False)
    checked["commit"] = reader.text("commit", required=False)
    checked["training_run"] = reader.text("training_run", required=False)
    checked["data_version"] = reader.text("data_version", required=False)
    metrics = reader.mapping("metrics")
    extra_tags = reader.string_map("tags")
    if STAGE_TAG in extra_tags:
        reader.fail("tags", extra_tags, f"tags without '{STAGE_TAG}' (the traffic resource owns the stage tag)")
    checked["metrics"] = metrics
    checked["tags"] = extra_tags
    candidate = None
    if isinstance(path, str) and not is_unknown(path):
        candidate = candidate_of(path)
        problem = _candidate_problem(candidate, model_name, registry_name)
        if problem is not None:
            reader.fail("path", path, problem)
        elif isinstance(candidate, LocalFolder):
            folder = Path(path).expanduser().resolve()
            if not is_artifact(str(folder)):
                reader.fail("path", path, LOCAL_ARTIFACT_ACCEPTED)
            path = str(folder)
    checked["path"] = path
    if reader.failures:
        return checked, reader.failures
    if is_unknown(path):
        checked.update(version=UNKNOWN, **dict.fromkeys(READ_FIELDS, UNKNOWN))
        return checked, []
    try:
        # a preview may not know the registry (a stack reference's output) yet: nothing to read then
        unknown_registry = isinstance(candidate, RegistryModel) and is_unknown(registry_name)
        source = None if unknown_registry else _read_source(candidate, checked, previewing)
    except GatewayUnavailable:
        source = None
    except SourceRefused as refused:
        return checked, [("path", f"path: {refused}")]
    except AzureMLError as error:
        return checked, [("path", f"path: {path} cannot be read from Azure ML: {error}")]
    if source is None:
        version = candidate.version if isinstance(candidate, RegistryModel) else UNKNOWN
        checked.update(version=version, **dict.fromkeys(READ_FIELDS, UNKNOWN))
        return checked, []
    checked["content_sha256"] = source.content_sha256
    checked["version"] = candidate.version if isinstance(candidate, RegistryModel) else source.version
    checked["job_name"] = source.job_name
    if any(is_unknown(checked[k]) for k in ("commit", "training_run", "data_version", "metrics", "tags")):
        checked["release_tags"] = UNKNOWN
    else:
        explicit = release_tags(
            source.facts,
            checked["commit"],
            checked["training_run"],
            checked["data_version"],
            plain(metrics),
            extra_tags,
        )
        checked["release_tags"] = {**source.tags, **explicit}
    return checked, []


def _own_tags(tags: dict) -> dict:
    return {k: v for k, v in (tags or {}).items() if k != STAGE_TAG}


def _outputs(spec: dict, model) -> dict:
    return {
        **spec,
        "model_id": model.id,
        "asset_uri": workspace_model_uri(workspace_ref(spec), spec["model_name"], spec["version"]),
        "job_name": model.job_name or spec.get("job_name"),
        "archived": bool(model.archived),
        "registry_tags": dict(model.tags),
        "stage": model.tags.get(STAGE_TAG),
    }


def _ensure_registered(spec: dict):
    gateway = gateway_for(workspace_ref(spec))
    name, version, wanted = spec["model_name"], spec["version"], spec["release_tags"]
    model = gateway.get_model_version(name, version)
    if model is None:
        return gateway.register_model_version(
            name,
            version,
            spec["path"],
            wanted,
            description=f"{name} {version}, registered from {spec['path']}",
            properties={
                "content_sha256": spec["content_sha256"],
                "source_path": spec["path"],
                "registered_by": REGISTERED_BY,
            },
        )
    recorded = model.properties.get("content_sha256")
    if recorded and recorded != spec["content_sha256"]:
        raise VersionCollision(
            f"model {name} version {version} is already registered with content {recorded}, "
            f"not {spec['content_sha256']} ({spec['path']}); a version is never overwritten"
        )
    stage = {STAGE_TAG: model.tags[STAGE_TAG]} if STAGE_TAG in model.tags else {}
    if model.archived:
        # Registering the same version again with its registered path, properties and description
        # writes it back active (a model PUT sends isArchived false); nothing is uploaded.
        return gateway.register_model_version(
            name, version, model.path, {**wanted, **stage}, description=model.description, properties=model.properties
        )
    if _own_tags(model.tags) != wanted:
        model = gateway.set_model_tags(name, version, {**wanted, **stage})
    return model


class ModelVersionProvider(ReleaseProvider):
    """Engine lifecycle of a registered model version. Holds nothing: every method builds its gateway."""

    resource = RESOURCE
    replace_fields = REPLACE_FIELDS

    def check_inputs(self, props: dict, *, previewing: bool = False) -> tuple[dict, list[tuple[str, str]]]:
        return _check_inputs(props, previewing)

    def changed(self, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        wanted = news.get("release_tags")
        return (
            is_unknown(wanted)
            or plain(wanted) != _own_tags(plain(olds.get("registry_tags")))
            or bool(olds.get("archived"))
            or any(
                plain(news.get(k)) != plain(olds.get(k))
                for k in ("path", "commit", "training_run", "data_version", "metrics", "tags")
            )
        )

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        spec = self.spec(props)
        model = _ensure_registered(spec)
        return dynamic.CreateResult(model.id, _outputs(spec, model))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        spec = self.spec(news)
        model = _ensure_registered(spec)
        return dynamic.UpdateResult(_outputs(spec, model))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        state = without_engine_keys(props)
        model = gateway_for(workspace_ref(state)).get_model_version(state["model_name"], state["version"])
        if model is None:
            return dynamic.ReadResult("", {})
        return dynamic.ReadResult(model.id, _outputs(state, model))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Archive the version, unless the endpoint serves it or it waits for approval (stage tag
        `production` or `staged`): archiving hides a version from the registry's default views, and
        the model in use must stay visible. Either way nothing is ever deleted."""
        state = without_engine_keys(props)
        gateway = gateway_for(workspace_ref(state))
        model = gateway.get_model_version(state["model_name"], state["version"])
        if model is not None and model.tags.get(STAGE_TAG) not in IN_USE_STAGES:
            gateway.archive_model_version(state["model_name"], state["version"])


class ModelVersion(dynamic.Resource, module="release", name="ModelVersion"):
    """A release candidate registered in a workspace as version `version` of `model_name`."""

    version: pulumi.Output[str]
    model_id: pulumi.Output[str]
    asset_uri: pulumi.Output[str]  # azureml://subscriptions/.../workspaces/<w>/models/<m>/versions/<v>
    job_name: pulumi.Output[str | None]
    path: pulumi.Output[str]
    content_sha256: pulumi.Output[str]
    release_tags: pulumi.Output[dict]
    registry_tags: pulumi.Output[dict]
    stage: pulumi.Output[str | None]
    archived: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        workspace: WorkspaceCoordinates,
        model_name: pulumi.Input[str],
        path: pulumi.Input[str],
        commit: pulumi.Input[str] | None = None,
        training_run: pulumi.Input[str] | None = None,
        data_version: pulumi.Input[str] | None = None,
        metrics: pulumi.Input[dict] | None = None,
        tags: pulumi.Input[dict] | None = None,
        registry_name: pulumi.Input[str] | None = None,
        awaiting_share: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`registry_name`: the stack's registry, which a registry path must name; `awaiting_share`: the
        registry version is shared by this same update (a preview may not find it yet)."""
        props = {
            **workspace.as_props(),
            "model_name": model_name,
            "path": path,
            "registry_name": registry_name,
            "awaiting_share": awaiting_share,
            "commit": commit,
            "training_run": training_run,
            "data_version": data_version,
            "metrics": metrics,
            "tags": tags or {},
            "version": None,
            "model_id": None,
            "asset_uri": None,
            "job_name": None,
            "content_sha256": None,
            "release_tags": None,
            "registry_tags": None,
            "stage": None,
            "archived": None,
        }
        super().__init__(ModelVersionProvider(), resource_name, props, opts)
