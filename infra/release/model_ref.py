"""Reading Azure ML's model ids and a release candidate's reference: which model and version they name.

A candidate (`release.candidate`, the ModelVersion's `path`) is one of:
    LocalFolder      an artifact folder on this machine (its version is its content's, content.py)
    JobOutput        azureml://jobs/<job>/outputs/<output>: a training job's output folder (its version is
                     the content version of the files the job wrote, read through the gateway: sources.py)
    WorkspaceModel   azureml://subscriptions/<s>/resourceGroups/<g>/workspaces/<w>/models/<m>/versions/<v>
    RegistryModel    azureml://registries/<r>/models/<m>/versions/<v>
The version of a workspace or registry model reference is the version in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from infra.azureml.gateway import WorkspaceRef
from infra.azureml.jobs import job_output_uri
from infra.facts import JOB_OUTPUT_PATH, REGISTRY_MODEL_PATH, WORKSPACE_MODEL_PATH, full

_PATH_FORM = re.compile(r"/models/(?P<name>[^/]+)/versions/(?P<version>[^/]+)/?$", re.IGNORECASE)
SHORT_REFERENCE = re.compile(r"^azureml:(?P<name>[^:/]+):(?P<version>[^:/]+)$")
_JOB_OUTPUT = full(JOB_OUTPUT_PATH)
_WORKSPACE_MODEL = full(WORKSPACE_MODEL_PATH)
_REGISTRY_MODEL = full(REGISTRY_MODEL_PATH)


class ModelRef(NamedTuple):
    name: str
    version: str


def parse_model_id(model_id: str | None) -> ModelRef | None:
    """(name, version) of an ARM id, an azureml:// asset path or `azureml:name:version`; None if it is none of these."""
    if not model_id:
        return None
    match = SHORT_REFERENCE.match(model_id) or _PATH_FORM.search(model_id)
    if match is None:
        return None
    return ModelRef(match.group("name"), match.group("version"))


def version_in(model_id: str | None, model_name: str) -> str | None:
    """The version of `model_name` that `model_id` points to, or None if it points elsewhere."""
    ref = parse_model_id(model_id)
    if ref is None or ref.name != model_name:
        return None
    return ref.version


# ---------------------------------------------------------------------------------- candidates
@dataclass(frozen=True)
class LocalFolder:
    path: str


@dataclass(frozen=True)
class JobOutput:
    job: str
    output: str

    @property
    def uri(self) -> str:
        return job_output_uri(self.job, self.output)


@dataclass(frozen=True)
class WorkspaceModel:
    subscription_id: str
    resource_group: str
    workspace_name: str
    name: str
    version: str

    @property
    def workspace(self) -> WorkspaceRef:
        return WorkspaceRef(self.subscription_id, self.resource_group, self.workspace_name)

    @property
    def uri(self) -> str:
        return workspace_model_uri(self.workspace, self.name, self.version)


@dataclass(frozen=True)
class RegistryModel:
    registry: str
    name: str
    version: str

    @property
    def uri(self) -> str:
        return registry_model_uri(self.registry, self.name, self.version)


Candidate = LocalFolder | JobOutput | WorkspaceModel | RegistryModel


def workspace_model_uri(workspace: WorkspaceRef, name: str, version: str) -> str:
    """The azureml:// asset path of a workspace's model version (what the next environment takes)."""
    return (
        f"azureml://subscriptions/{workspace.subscription_id}/resourceGroups/{workspace.resource_group}"
        f"/workspaces/{workspace.workspace_name}/models/{name}/versions/{version}"
    )


def registry_model_uri(registry: str, name: str, version: str) -> str:
    return f"azureml://registries/{registry}/models/{name}/versions/{version}"


def candidate_of(text: str) -> Candidate | None:
    """What a candidate string names; None for an azureml:// (or other URL) form that is none of them."""
    for pattern, kind in (
        (_JOB_OUTPUT, JobOutput),
        (_WORKSPACE_MODEL, WorkspaceModel),
        (_REGISTRY_MODEL, RegistryModel),
    ):
        found = pattern.fullmatch(text)
        if found:
            return kind(**found.groupdict())
    if "://" in text:
        return None
    return LocalFolder(text)


def registry_path_of(model_id: str | None) -> RegistryModel | None:
    """The registry model a model id or path names (a deployment may serve one directly), else None."""
    found = _REGISTRY_MODEL.fullmatch(model_id or "")
    return RegistryModel(**found.groupdict()) if found else None
