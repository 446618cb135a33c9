"""ModelVersion: registers a model artifact folder as an explicit, content-derived registry version.

Its id is the version's ARM id. Registering a version the registry holds already with the same content
adopts it, which stands in for `pulumi import` (dynamic resources cannot be imported, pulumi/pulumi#16175).

Same content, same version: registering again finds the version and writes nothing. Tags carry the
provenance (commit, training run, data version) and the validation metrics. The `stage` tag belongs
to the traffic resource and is never changed here. Deleting the resource archives the version
(unless it is in use: `production` or `staged`); the registry keeps every version as the audit trail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from .base import WORKSPACE_FIELDS, ReleaseProvider, WorkspaceCoordinates, gateway_for, read_workspace, workspace_ref
from .content import ARTIFACT_ACCEPTED, content_sha256, is_artifact, is_remote, release_tags, version_of
from .fields import FieldReader
from .traffic.stages import PRODUCTION, STAGE_TAG, STAGED
from .values import UNKNOWN, is_unknown, plain, without_engine_keys

RESOURCE = "ModelVersion"
REPLACE_FIELDS = (*WORKSPACE_FIELDS, "model_name", "version")
IN_USE_STAGES = (PRODUCTION, STAGED)
REGISTERED_BY = "mlops-platform infra.release.ModelVersion"


class VersionCollision(RuntimeError):
    """The registry holds this version with other content: versions are never overwritten."""


def _check_inputs(props: dict) -> tuple[dict, list[tuple[str, str]]]:
    reader = FieldReader(RESOURCE, props)
    checked = read_workspace(reader)
    checked["model_name"] = reader.name("model_name")
    path = reader.text("path", accepted="a local artifact folder or an azureml:// path")
    checked["commit"] = reader.text("commit", required=False)
    checked["training_run"] = reader.text("training_run", required=False)
    checked["data_version"] = reader.text("data_version", required=False)
    metrics = reader.mapping("metrics")
    extra_tags = reader.string_map("tags")
    if STAGE_TAG in extra_tags:
        reader.fail("tags", extra_tags, f"tags without '{STAGE_TAG}' (the traffic resource owns the stage tag)")
    checked["metrics"] = metrics
    checked["tags"] = extra_tags
    if isinstance(path, str) and not is_unknown(path) and not is_remote(path):
        folder = Path(path).expanduser().resolve()
        if not is_artifact(str(folder)):
            reader.fail("path", path, ARTIFACT_ACCEPTED)
            path = None
        else:
            path = str(folder)
    checked["path"] = path
    if reader.failures:
        return checked, reader.failures
    assert path is not None  # a required field the reader returns as None is one of its failures
    if is_unknown(path):
        checked.update(content_sha256=UNKNOWN, version=UNKNOWN, release_tags=UNKNOWN)
        return checked, []
    sha = content_sha256(path)
    checked["content_sha256"] = sha
    checked["version"] = version_of(sha)
    if any(is_unknown(checked[k]) for k in ("commit", "training_run", "data_version", "metrics", "tags")):
        checked["release_tags"] = UNKNOWN
    else:
        checked["release_tags"] = release_tags(
            path, checked["commit"], checked["training_run"], checked["data_version"], plain(metrics), extra_tags
        )
    return checked, []


def _own_tags(tags: dict) -> dict:
    return {k: v for k, v in (tags or {}).items() if k != STAGE_TAG}


def _outputs(spec: dict, model) -> dict:
    return {
        **spec,
        "model_id": model.id,
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
        return _check_inputs(props)

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
    """A model artifact registered as version `version` (content-derived) of `model_name`."""

    version: pulumi.Output[str]
    model_id: pulumi.Output[str]
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
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            **workspace.as_props(),
            "model_name": model_name,
            "path": path,
            "commit": commit,
            "training_run": training_run,
            "data_version": data_version,
            "metrics": metrics,
            "tags": tags or {},
            "version": None,
            "model_id": None,
            "content_sha256": None,
            "release_tags": None,
            "registry_tags": None,
            "stage": None,
            "archived": None,
        }
        super().__init__(ModelVersionProvider(), resource_name, props, opts)
