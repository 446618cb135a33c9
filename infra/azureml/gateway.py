"""The one gateway to Azure Machine Learning: every call the release providers make goes through here.

It builds an azure-ai-ml `MLClient` from a `WorkspaceRef` and a credential (when none is given, the
project's choice for this environment, infra.azureml.credentials, created lazily on first use), hands `transport` to it (tests pass
`tests.fakes.azureml.FakeAzureML().transport`), turns azure-ai-ml's entities into the small frozen
dataclasses below, and wraps every call in bounded retries (429 honouring Retry-After, 5xx,
connection failures, and 409 on endpoint/deployment writes, which Azure ML answers while the
endpoint is still updating). azure-core's own retry policy is switched off (`retry_total=0`) so the
bound and the waits are the gateway's: `RetryPolicy` and the injectable `sleep`. A gateway keeps
its MLClient (and the credential) once built: make one per provider call, never store it on an
object that is pickled.

Semantics callers rely on:
- get_model_version / get_endpoint / get_deployment return None when the resource does not exist;
  every other method raises NotFound (a subclass of AzureMLError) for a missing resource.
- Every failure is an AzureMLError naming the operation, the resource, the HTTP status and the
  service's message; `.status`, `.code`, `.service_message`, `.attempts` hold the parts.
- register_model_version: explicit version only (never auto-increment). `path` is an `azureml://`
  URI (registered as is, no upload) or a local folder. A local folder is uploaded by `uploader` when
  one was given to the gateway (uploader(local_dir, name, version) -> azureml:// URI), otherwise by
  azure-ai-ml itself, which writes to the workspace's default datastore with azure-storage-blob's
  own transport (real Azure only; not served by the fake). Azure ML refuses to change a version's
  path once registered (AzureMLError, HTTP 400): check get_model_version first. Registering an
  existing version with the same path replaces its tags, description and properties and un-archives
  it (azure-ai-ml always sends isArchived false).
- A model PUT replaces the whole version. set_model_tags reads the live version and writes it back
  with only `tags` replaced (the new dict replaces the old one; nothing is merged), keeping
  description, properties, path and the archive flag. Tag values are sent as strings.
- download_model_version(name, version, target) writes the version's files into folder `target`
  (replacing what was there) and returns its path; with `downloader` given to the gateway it calls
  downloader(azureml_uri, folder), otherwise azure-ai-ml's models.download (real storage only). A
  version registered from a registry's model (path azureml://registries/<r>/models/<m>/versions/<v>)
  is downloaded from the registry's storage, by the registry-scoped client.
- download_job_output(job, output, target) writes the files of a job's named output into folder
  `target` the same way (downloader(azureml://jobs/<job>/outputs/<output>, folder), else azure-ai-ml's
  jobs.download(output_name=...)); a job's outputs are read once it has ended.
- archive_model_version sets isArchived (never deletes); archiving an archived version writes nothing.
- list_model_versions lists archived versions too (each carries `archived`), in the service's order
  (do not rely on it); an unknown model gives [].
- Endpoint.traffic / mirror_traffic hold only deployments with a non-zero share; Endpoint.deployments
  lists every deployment of the endpoint.
- set_traffic always GETs the live endpoint, changes only traffic and mirror traffic, PUTs the whole
  endpoint back and waits for the long-running operation; `mirror_traffic=None` means no mirror
  traffic. It always writes (callers skip it when nothing changes). A 409 (endpoint updating) retries
  the whole read-modify-write, so the PUT never carries a stale body.
- create_endpoint PUTs a new endpoint with no traffic and waits; it refuses (AzureMLError 409) to
  touch an endpoint that exists already. update_endpoint GETs the live endpoint, changes only its
  auth mode, description, public network access and tags, and PUTs the whole endpoint back: the
  REST API documents no default for an omitted `traffic` (a whole-body PUT carries what it is
  given), so the live traffic and mirror traffic always travel in the body they were read in.
  delete_endpoint deletes the endpoint and waits (Azure ML deletes its deployments with it).
- put_deployment creates a deployment or replaces everything it serves (model, code, environment,
  instance type, request settings, probes, variables, tags) with a DeploymentSpec in one PUT and
  waits; set_deployment_capacity GETs the live deployment, changes only its instance count and
  PUTs it back. A failed provisioning raises AzureMLError (not retried: the service already tried).
- invoke posts `payload` as JSON to the endpoint's scoring URI with the `azureml-model-deployment`
  header naming `deployment` (azure-ai-ml authenticates by the endpoint's auth mode: the key from
  listKeys, an AMLToken from its token route, or an Entra token for https://ml.azure.com from the
  credential) and returns the
  decoded JSON reply; afterwards it removes the key and deployment name that azure-ai-ml leaves in
  a module-level header dict. A scoring failure whose body is not JSON reaches the caller with status None
  (azure-ai-ml drops the status) and is not retried.
- register_model_version from a job output (`azureml://jobs/<job>/outputs/<output>`) registers the
  path as is (no upload); the service records the job as the version's lineage (ModelVersion.job_name).
- register_data_asset: explicit version only; `path` is a remote URI (registered as is) or a local
  file (uri_file) / folder (uri_folder), uploaded by `uploader` when given, else by azure-ai-ml
  (real storage only). It reads the version first: one that exists with the same path is returned
  unchanged (no write: its tags and description stay), one with another path is refused (AzureMLError
  409, nothing written: a data version's path never changes).
- ensure_code_version(name, version, files) returns a registered version as it is (the caller derives
  versions from the files' content); otherwise it stages exactly `files` in a folder of their own,
  uploads it by `uploader` when given, else leaves the upload to azure-ai-ml (the MLClient's Entra
  credential on an identity-based datastore: no shared key), and registers it.
  ensure_environment_version refuses another image or conda file under a registered version (409).
- submit_job(JobSpec) GETs the job first and PUTs only when it is absent, so a retried submit (after
  a lost answer, a 5xx, or a rerun of the same command) reuses the job of that name whatever its
  status, instead of starting another: name jobs after everything that defines them. A job of that
  name with another command or compute is refused (AzureMLError 409). A local code folder is uploaded
  by `uploader` and registered as code version <job name>:1 (else uploaded by azure-ai-ml itself).
  It returns get_job's view of the job.
- get_job returns None for a missing job; its status, start and end times and a failed run's error
  come from the run's history (what azure-ai-ml's jobs.stream reads), its outputs are named
  azureml://jobs/<job>/outputs/<output>. Waiting is the caller's: poll get_job until Job.terminal.
- cancel_job waits for the cancellation and returns the job; a job that has ended is returned as is
  (no write); a cancellation that fails is final (AzureMLError, not retried).
- share_model copies a workspace model version into a registry the way ml_client.models.share does
  (workspace GET for its GUID and region, then an import of the WorkspaceAssetReference through a
  registry-scoped MLClient that carries this gateway's transport; share() itself builds one without
  it). It reads the registry first: a version it holds with the same properties (content) is
  returned without a write (a retried share reuses it), one with other properties is refused
  (AzureMLError 409). Registry versions cannot be recreated once deleted: the service answers 409.
  It returns the registry's version, whose id is azureml://registries/<r>/models/<m>/versions/<v>;
  get_registry_model_version reads one (None when absent; an unknown registry raises NotFound).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from infra.azureml.errors import AzureMLError, NotFound
from infra.azureml.jobs import Job, JobSpec, command_job, compute_name, job_from_entities, job_output_uri
from infra.azureml.retry import RetryPolicy, call_with_retries
from infra.azureml.values import is_remote
from infra.azureml.values import require_text as _require_text
from infra.azureml.values import state_text as _state
from infra.azureml.values import string_map as _string_map
from infra.azureml.values import version_text as _version_text
from infra.facts import MAX_MIRROR_PERCENT, REGISTRY_MODEL_PATH, full

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

__all__ = [
    "AzureMLError",
    "AzureMLGateway",
    "DataAsset",
    "Job",
    "JobSpec",
    "Deployment",
    "DeploymentSpec",
    "Endpoint",
    "EndpointSettings",
    "ModelVersion",
    "NotFound",
    "RetryPolicy",
    "WorkspaceRef",
]

Uploader = Callable[[str, str, str], str]  # (local folder or file, name, version) -> azureml:// URI of the copy
DATA_TYPES = ("uri_file", "uri_folder")
Downloader = Callable[[str, str], None]  # (azureml:// URI, target_dir): write the files under the URI there


@dataclass(frozen=True)
class WorkspaceRef:
    subscription_id: str
    resource_group: str
    workspace_name: str

    def __post_init__(self):
        for name in ("subscription_id", "resource_group", "workspace_name"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"WorkspaceRef.{name} is {value!r}; accepted: a non-empty string")


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    id: str
    path: str
    tags: dict = field(default_factory=dict)
    properties: dict = field(default_factory=dict)
    archived: bool = False
    description: str = ""
    job_name: str | None = None  # the job whose output it was registered from (its lineage)


@dataclass(frozen=True)
class DataAsset:
    name: str
    version: str
    id: str
    path: str
    type: str
    description: str = ""
    tags: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    name: str
    traffic: dict
    mirror_traffic: dict
    provisioning_state: str
    scoring_uri: str | None
    deployments: tuple = ()
    auth_mode: str | None = None
    public_network_access: str | None = None
    description: str = ""
    tags: dict = field(default_factory=dict)
    principal_id: str | None = None  # the endpoint's system-assigned identity, which its deployments run as


@dataclass(frozen=True)
class EndpointSettings:
    """What an endpoint is, apart from its traffic: azure-ai-ml's spellings (auth_mode key, aad_token or
    aml_token; public_network_access enabled or disabled)."""

    auth_mode: str
    public_network_access: str
    description: str = ""
    tags: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Probe:
    initial_delay: int
    period: int
    timeout: int
    failure_threshold: int
    success_threshold: int


@dataclass(frozen=True)
class DeploymentSpec:
    """Everything a managed deployment serves and runs on, written in one PUT (seconds for durations)."""

    model_id: str
    code_id: str
    scoring_script: str
    environment_id: str
    instance_type: str
    instance_count: int
    environment_variables: dict
    request_timeout_ms: int
    max_concurrent_requests_per_instance: int
    liveness_probe: Probe
    readiness_probe: Probe
    app_insights_enabled: bool = True
    egress_public_network_access: str | None = None  # None: not sent (workspaces with a managed network)
    tags: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Deployment:
    name: str
    endpoint: str
    model_id: str | None
    provisioning_state: str
    instance_type: str | None
    instance_count: int | None
    code_id: str | None = None
    environment_id: str | None = None
    tags: dict = field(default_factory=dict)


_AZURE_ML_IMPORT = threading.Lock()


def _import_azure_ml() -> None:
    """Import azure-ai-ml once, under a lock. The engine calls providers from several threads at once, and
    azure-ai-ml's modules import each other in cycles: two threads importing them for the first time can
    see a partially initialised module ("cannot import name 'Code' ... (most likely due to a circular
    import)")."""
    with _AZURE_ML_IMPORT:
        import azure.ai.ml  # noqa: F401
        import azure.ai.ml.entities  # noqa: F401
        import azure.ai.ml.entities._assets._artifacts.code  # noqa: F401


class AzureMLGateway:
    def __init__(
        self,
        workspace: WorkspaceRef,
        credential=None,
        transport=None,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        uploader: Uploader | None = None,
        downloader: Downloader | None = None,
    ):
        if not isinstance(workspace, WorkspaceRef):
            raise TypeError(f"workspace is {type(workspace).__name__}; accepted: WorkspaceRef")
        if not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry is {type(retry).__name__}; accepted: RetryPolicy")
        _import_azure_ml()
        self.workspace = workspace
        self._credential = credential
        self._transport = transport
        self._retry = retry
        self._sleep = sleep
        self._uploader = uploader
        self._downloader = downloader
        self._ml_client: MLClient | None = None
        self._registry_clients: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"AzureMLGateway({self.workspace!r})"

    # ------------------------------------------------------------------ client
    @property
    def _ml(self) -> MLClient:
        if self._ml_client is None:
            from azure.ai.ml import MLClient

            kwargs: dict[str, Any] = {"retry_total": 0}  # the gateway owns retries and their bound
            if self._transport is not None:
                kwargs["transport"] = self._transport
            self._ml_client = MLClient(
                self._credential_or_default(),
                self.workspace.subscription_id,
                self.workspace.resource_group,
                self.workspace.workspace_name,
                **kwargs,
            )
        return self._ml_client

    def _credential_or_default(self):
        if self._credential is None:
            from infra.azureml.credentials import azure_credential

            self._credential = azure_credential()
        return self._credential

    def _versions(self):
        # azure-ai-ml's Model entity drops isArchived and always sends it as false; its own archive()
        # uses this ARM operations object (GET then whole-version PUT), and so do the reads and the
        # tag update here, so the archive flag survives.
        return self._ml.models._model_versions_operation

    def _scope(self) -> dict:
        return {"resource_group_name": self.workspace.resource_group, "workspace_name": self.workspace.workspace_name}

    def _call(self, operation: str, resource: str, fn: Callable[[], Any], busy_conflicts: bool = False):
        return call_with_retries(
            fn,
            operation=operation,
            resource=resource,
            policy=self._retry,
            sleep=self._sleep,
            conflict_means_busy=busy_conflicts,
        )

    def _maybe(self, operation: str, resource: str, fn: Callable[[], Any]):
        try:
            return self._call(operation, resource, fn)
        except NotFound:
            return None

    # ------------------------------------------------------------------ model registry
    def get_model_version(self, name: str, version: str) -> ModelVersion | None:
        _require_text("name", name)
        version = _version_text(version)
        rest = self._maybe(
            "get_model_version",
            f"model {name}:{version}",
            lambda: self._versions().get(name=name, version=version, **self._scope()),
        )
        return None if rest is None else _model_from_rest(name, rest)

    def register_model_version(
        self, name: str, version: str, path: str, tags: dict, description: str = "", properties: dict | None = None
    ) -> ModelVersion:
        _require_text("name", name)
        version = _version_text(version)
        _require_text("path", path)
        tags = _string_map("tags", tags)
        properties = _string_map("properties", properties or {})
        resource = f"model {name}:{version}"
        uploader = self._uploader
        if not path.startswith("azureml://") and uploader is not None:
            if not os.path.isdir(path):
                raise ValueError(f"path {path!r} is neither an azureml:// URI nor an existing local folder")
            path = self._call("upload_model", resource, lambda: uploader(path, name, version))
            _require_text("uploader result", path)

        def register():
            from azure.ai.ml.entities import Model

            model = Model(
                name=name,
                version=version,
                path=path,
                type="custom_model",
                tags=dict(tags),
                properties=dict(properties),
                description=description or None,
            )
            self._ml.models.create_or_update(model)
            return self._versions().get(name=name, version=version, **self._scope())

        return _model_from_rest(name, self._call("register_model_version", resource, register))

    def set_model_tags(self, name: str, version: str, tags: dict) -> ModelVersion:
        _require_text("name", name)
        version = _version_text(version)
        tags = _string_map("tags", tags)

        def replace_tags():
            rest = self._versions().get(name=name, version=version, **self._scope())
            rest.properties.tags = dict(tags)
            return self._versions().create_or_update(name=name, version=version, body=rest, **self._scope())

        return _model_from_rest(name, self._call("set_model_tags", f"model {name}:{version}", replace_tags))

    def archive_model_version(self, name: str, version: str) -> None:
        _require_text("name", name)
        version = _version_text(version)
        resource = f"model {name}:{version}"
        rest = self._call(
            "archive_model_version", resource, lambda: self._versions().get(name=name, version=version, **self._scope())
        )
        if rest.properties.is_archived:
            return
        self._call("archive_model_version", resource, lambda: self._ml.models.archive(name=name, version=version))

    def download_model_version(self, name: str, version: str, target) -> str:
        """Put exactly the files of a registered version in folder `target` (its previous content is
        replaced only once the download succeeded) and return the folder's path."""
        _require_text("name", name)
        version = _version_text(version)
        target = os.path.abspath(os.fspath(target))
        resource = f"model {name}:{version}"
        model = self.get_model_version(name, version)
        if model is None:
            raise NotFound("download_model_version", resource, 404, "the model version does not exist")
        parent = os.path.dirname(target)
        os.makedirs(parent, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".download-", dir=parent) as staging:
            files = os.path.join(staging, "files")
            downloader = self._downloader
            registry = registry_of(model.path)
            if downloader is not None:
                os.makedirs(files)
                self._call("download_model_version", resource, lambda: downloader(model.path, files))
            else:
                # A version registered from a registry's model keeps its files in the registry's storage:
                # the registry client downloads them (operations/_model_operations.py: download, whose
                # registry branch asks the registry for the storage's SAS).
                client = self._ml if registry is None else self._registry(registry)
                self._call(
                    "download_model_version",
                    resource,
                    lambda: client.models.download(name=name, version=version, download_path=staging),
                )
                files = _single_download(os.path.join(staging, name))
            _move_into_place(files, target, staging)
        return target

    def download_job_output(self, job: str, output: str, target) -> str:
        """Put exactly the files a job wrote to its output `output` in folder `target` (replacing what was
        there once the download succeeded) and return the folder's path. The job must have ended (azure-ai-ml
        refuses a running job's download); callers check that it Completed."""
        _require_text("job", job)
        _require_text("output", output)
        target = os.path.abspath(os.fspath(target))
        resource = f"job {job} output {output}"
        parent = os.path.dirname(target)
        os.makedirs(parent, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".download-", dir=parent) as staging:
            files = os.path.join(staging, "files")
            downloader = self._downloader
            if downloader is not None:
                os.makedirs(files)
                uri = job_output_uri(job, output)
                self._call("download_job_output", resource, lambda: downloader(uri, files))
            else:
                # azure-ai-ml writes a named output to <download_path>/named-outputs/<output>
                # (operations/_job_operations.py: download)
                self._call(
                    "download_job_output",
                    resource,
                    lambda: self._ml.jobs.download(job, download_path=staging, output_name=output),
                )
                files = os.path.join(staging, "named-outputs", output)
                if not os.path.isdir(files):
                    raise NotFound("download_job_output", resource, 404, "the job wrote nothing to this output")
            _move_into_place(files, target, staging)
        return target

    # ------------------------------------------------------------------ code and environment versions
    def _code_entity(self, name: str, version: str):
        # MLClient keeps its CodeOperations private (`_code`)
        return self._maybe(
            "get_code_version", f"code {name}:{version}", lambda: self._ml._code.get(name=name, version=version)
        )

    def _environment_entity(self, name: str, version: str):
        return self._maybe(
            "get_environment_version",
            f"environment {name}:{version}",
            lambda: self._ml.environments.get(name=name, version=version),
        )

    def get_code_version(self, name: str, version: str) -> str | None:
        """The ARM id of code version name:version, None when it is not registered."""
        entity = self._code_entity(name, _version_text(version))
        return None if entity is None else str(entity.id)

    def get_environment_version(self, name: str, version: str) -> str | None:
        entity = self._environment_entity(name, _version_text(version))
        return None if entity is None else str(entity.id)

    def ensure_code_version(self, name: str, version: str, files: Mapping[str, str]) -> str:
        """The ARM id of code version name:version holding `files` ({name inside the code asset: local
        file}): kept as it is when registered (the caller derives the version from the files' content, so
        a registered version holds them already), else the files are uploaded and the version registered."""
        from azure.ai.ml.entities._assets._artifacts.code import Code  # not re-exported by azure.ai.ml.entities

        _require_text("name", name)
        version = _version_text(version)
        files = _code_file_map(files)
        resource = f"code {name}:{version}"
        existing = self._code_entity(name, version)
        if existing is not None:
            return str(existing.id)
        with tempfile.TemporaryDirectory(prefix="aml-code-") as staging:
            folder = _stage_files(os.path.join(staging, name), files)
            path = self._code_path(folder, name, version)
            registered = self._call(
                "register_code_version",
                resource,
                lambda: self._ml._code.create_or_update(Code(name=name, version=version, path=path)),
            )
        if (registered.name, str(registered.version)) != (name, version):
            # azure-ai-ml's create_or_update returns a version that holds the same upload hash instead of
            # creating one (operations/_code_operations.py): a slot would then reference a missing version.
            raise AzureMLError(
                "register_code_version",
                resource,
                409,
                f"azure-ai-ml reused code version {registered.name}:{registered.version}, which holds "
                "the same files, instead of registering this one; register the files under that version",
            )
        return str(registered.id)

    def _code_path(self, folder: str, name: str, version: str) -> str:
        """What a local code folder is registered from: its copy by `uploader`, or the folder itself, which
        azure-ai-ml's Code upload writes to the workspace's default datastore, with the MLClient's Entra
        credential when the datastore is identity-based (_artifacts/_artifact_utilities.py:
        get_datastore_info skips listSecrets for it), never with the storage account's shared key."""
        if self._uploader is None:
            return folder
        uri = self._uploader(folder, name, version)
        _require_text("uploader result", uri)
        return uri

    def ensure_environment_version(self, name: str, version: str, image: str, conda_file: str) -> str:
        """The ARM id of environment version name:version built from `image` and the conda YAML text
        `conda_file`: registered when absent, kept when registered alike; another definition is refused."""
        import yaml
        from azure.ai.ml.entities import Environment

        _require_text("name", name)
        version = _version_text(version)
        _require_text("image", image)
        conda = yaml.safe_load(conda_file)
        resource = f"environment {name}:{version}"
        existing = self._environment_entity(name, version)
        if existing is None:
            existing = self._call(
                "register_environment_version",
                resource,
                lambda: self._ml.environments.create_or_update(
                    Environment(name=name, version=version, image=image, conda_file=conda, os_type="Linux")
                ),
            )
        elif existing.image != image or _conda_of(existing) != conda:
            raise AzureMLError(
                "register_environment_version",
                resource,
                409,
                "registered with another image or conda file; a version is never overwritten",
            )
        return str(existing.id)

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        from azure.ai.ml.constants import ListViewType

        _require_text("name", name)
        items = self._maybe(
            "list_model_versions",
            f"model {name}",
            lambda: list(self._versions().list(name=name, list_view_type=ListViewType.ALL, **self._scope())),
        )
        return [_model_from_rest(name, rest) for rest in items or []]

    # ------------------------------------------------------------------ data assets
    def get_data_asset(self, name: str, version: str) -> DataAsset | None:
        _require_text("name", name)
        version = _version_text(version)
        entity = self._maybe(
            "get_data_asset", f"data {name}:{version}", lambda: self._ml.data.get(name=name, version=version)
        )
        return None if entity is None else _data_from_entity(entity)

    def register_data_asset(
        self,
        name: str,
        version: str,
        path: str,
        description: str = "",
        tags: dict | None = None,
        data_type: str = "uri_file",
    ) -> DataAsset:
        _require_text("name", name)
        version = _version_text(version)
        _require_text("path", path)
        tags = _string_map("tags", tags or {})
        if data_type not in DATA_TYPES:
            raise ValueError(f"data_type is {data_type!r}; accepted: {', '.join(DATA_TYPES)}")
        resource = f"data {name}:{version}"
        if not is_remote(path):
            wanted = os.path.isfile if data_type == "uri_file" else os.path.isdir
            if not wanted(path):
                raise ValueError(
                    f"path {path!r} is neither a remote URI nor an existing local "
                    f"{'file' if data_type == 'uri_file' else 'folder'} ({data_type})"
                )
            uploader = self._uploader
            if uploader is not None:
                path = self._call("upload_data", resource, lambda: uploader(path, name, version))
                _require_text("uploader result", path)

        def register():
            from azure.ai.ml.entities import Data

            if is_remote(path):
                existing = self._maybe_entity(lambda: self._ml.data.get(name=name, version=version))
                if existing is not None:
                    if existing.path != path:
                        raise AzureMLError(
                            "register_data_asset",
                            resource,
                            409,
                            f"the version exists with path {existing.path}, not {path}; a data "
                            "version's path cannot change: register another version",
                        )
                    return existing
            self._ml.data.create_or_update(
                Data(
                    name=name,
                    version=version,
                    path=path,
                    type=data_type,
                    description=description or None,
                    tags=dict(tags),
                )
            )
            return self._ml.data.get(name=name, version=version)

        return _data_from_entity(self._call("register_data_asset", resource, register))

    # ------------------------------------------------------------------ jobs
    def submit_job(self, spec: JobSpec) -> Job:
        if not isinstance(spec, JobSpec):
            raise TypeError(f"spec is {type(spec).__name__}; accepted: JobSpec")
        resource = f"job {spec.name}"

        def submit():
            existing = self._maybe_entity(lambda: self._ml.jobs.get(spec.name))
            if existing is not None:
                if (existing.command, compute_name(existing.compute)) != (spec.command, spec.compute):
                    raise AzureMLError(
                        "submit_job",
                        resource,
                        409,
                        f"a job of this name exists with another definition (command "
                        f"{existing.command!r} on {existing.compute}); name a job after everything "
                        "that defines it",
                    )
                return existing
            return self._ml.jobs.create_or_update(command_job(spec, self._job_code(spec)))

        self._call("submit_job", resource, submit)
        job = self.get_job(spec.name)
        if job is None:
            raise NotFound("submit_job", resource, 404, "the job was accepted but cannot be read back")
        return job

    def _job_code(self, spec: JobSpec) -> str:
        """The code to send: a registered code version as is; a local folder uploaded by `uploader` and
        registered as code version <job name>:1, or (no uploader) left to azure-ai-ml's own upload."""
        if not os.path.isdir(spec.code) or self._uploader is None:
            return spec.code
        from azure.ai.ml.entities._assets._artifacts.code import Code  # not re-exported by azure.ai.ml.entities

        uri = self._code_path(spec.code, spec.name, "1")
        # MLClient keeps its CodeOperations private (`_code`); an anonymous Code would get a random name.
        return self._ml._code.create_or_update(Code(name=spec.name, version="1", path=uri)).id

    def get_job(self, name: str) -> Job | None:
        _require_text("name", name)

        def read():
            entity = self._ml.jobs.get(name)
            # Start and end times and a failed run's error live in run history, where azure-ai-ml's own
            # jobs.stream reads them (operations/_job_ops_helper.py: stream_logs_until_completion).
            return job_from_entities(entity, self._ml.jobs._runs_operations.get_run_details(name))

        return self._maybe("get_job", f"job {name}", read)

    def cancel_job(self, name: str) -> Job:
        """Cancel a job and wait for the cancellation; a job that has ended already is returned as it is."""
        _require_text("name", name)
        resource = f"job {name}"
        job = self.get_job(name)
        if job is None:
            raise NotFound("cancel_job", resource, 404, "the job does not exist")
        if job.terminal:
            return job

        def cancel():
            try:
                self._ml.jobs.begin_cancel(name).result()
            except Exception as err:
                raise _lro_failure("cancel_job", err, resource, "cancellation failed") from err

        self._call("cancel_job", resource, cancel)
        return self.get_job(name) or job

    # ------------------------------------------------------------------ registries
    def get_registry_model_version(self, registry: str, name: str, version: str) -> ModelVersion | None:
        _require_text("registry", registry)
        _require_text("name", name)
        version = _version_text(version)
        client = self._registry(registry)
        rest = self._maybe(
            "get_registry_model_version",
            f"registry {registry} model {name}:{version}",
            lambda: client.models._get(name=name, version=version),
        )
        return None if rest is None else _model_from_rest(name, rest)

    def share_model(
        self,
        name: str,
        version: str,
        registry_name: str,
        share_with_name: str | None = None,
        share_with_version: str | None = None,
    ) -> ModelVersion:
        """Copy a workspace model version into a registry (as name:version unless share_with_* say
        otherwise) and return the registry's version, whose id is azureml://registries/<r>/models/<m>/versions/<v>."""
        _require_text("name", name)
        version = _version_text(version)
        _require_text("registry_name", registry_name)
        target_name = share_with_name or name
        target_version = _version_text(share_with_version or version)
        resource = f"registry {registry_name} model {target_name}:{target_version}"
        source = self.get_model_version(name, version)
        if source is None:
            raise NotFound("share_model", f"model {name}:{version}", 404, "the workspace model version does not exist")
        client = self._registry(registry_name)

        def share():
            from azure.ai.ml.entities._assets.workspace_asset_reference import WorkspaceAssetReference

            existing = self._maybe_entity(lambda: client.models._get(name=target_name, version=target_version))
            if existing is None:
                # What ml_client.models.share does (operations/_model_operations.py: share), with a
                # registry client that carries this gateway's transport: share() builds its own without it.
                workspace = self._ml.workspaces.get(self.workspace.workspace_name)
                asset_id = (
                    f"azureml://locations/{workspace.location}/workspaces/{workspace._workspace_id}"
                    f"/models/{name}/versions/{version}"
                )
                try:
                    client.models.create_or_update(
                        WorkspaceAssetReference(name=target_name, version=target_version, asset_id=asset_id)
                    )
                except Exception as err:
                    raise _lro_failure("share_model", err, resource, "the copy into the registry failed") from err
                existing = client.models._get(name=target_name, version=target_version)
            shared = _model_from_rest(target_name, existing)
            if shared.properties != source.properties:
                raise AzureMLError(
                    "share_model",
                    resource,
                    409,
                    f"the registry holds this version with other content (properties "
                    f"{shared.properties} instead of {source.properties}); registry versions are "
                    "immutable and cannot be recreated once deleted: share another version",
                )
            return shared

        return self._call("share_model", resource, share)

    def _registry(self, registry: str):
        """A registry-scoped MLClient (its constructor asks registry discovery where the registry lives)."""
        if registry not in self._registry_clients:
            from azure.ai.ml import MLClient

            kwargs: dict[str, Any] = {"retry_total": 0}
            if self._transport is not None:
                kwargs["transport"] = self._transport
            self._registry_clients[registry] = self._call(
                "find_registry",
                f"registry {registry}",
                lambda: MLClient(self._credential_or_default(), registry_name=registry, **kwargs),
            )
        return self._registry_clients[registry]

    # ------------------------------------------------------------------ endpoints and deployments
    def get_endpoint(self, name: str) -> Endpoint | None:
        _require_text("name", name)
        entity = self._maybe("get_endpoint", f"online endpoint {name}", lambda: self._ml.online_endpoints.get(name))
        return None if entity is None else _endpoint_from_entity(entity)

    def set_traffic(self, name: str, traffic: dict, mirror_traffic: dict | None = None) -> Endpoint:
        _require_text("name", name)
        traffic = _traffic_map("traffic", traffic)
        mirror = _traffic_map("mirror_traffic", mirror_traffic or {})
        _check_traffic_rules(traffic, mirror)

        def read_modify_write():
            live = self._ml.online_endpoints.get(name)
            # get() fills traffic with 0 for every idle deployment except a mirror target
            deployments = tuple(sorted(set(live.traffic) | set(live.mirror_traffic or {})))
            live.traffic = dict(traffic)
            live.mirror_traffic = dict(mirror)
            done = self._ml.online_endpoints.begin_create_or_update(live).result()
            return _endpoint_from_entity(done, deployments=deployments)

        return self._call("set_traffic", f"online endpoint {name}", read_modify_write, busy_conflicts=True)

    def get_deployment(self, endpoint: str, name: str) -> Deployment | None:
        _require_text("endpoint", endpoint)
        _require_text("name", name)
        entity = self._maybe(
            "get_deployment",
            f"deployment {endpoint}/{name}",
            lambda: self._ml.online_deployments.get(name=name, endpoint_name=endpoint),
        )
        return None if entity is None else _deployment_from_entity(entity, endpoint)

    def create_endpoint(self, name: str, settings: EndpointSettings) -> Endpoint:
        _require_text("name", name)
        resource = f"online endpoint {name}"

        def create():
            from azure.ai.ml.entities import IdentityConfiguration, ManagedOnlineEndpoint

            if self._maybe_entity(lambda: self._ml.online_endpoints.get(name)) is not None:
                raise AzureMLError(
                    "create_endpoint",
                    resource,
                    409,
                    "the endpoint exists already; update_endpoint changes an existing endpoint",
                )
            entity = ManagedOnlineEndpoint(
                name=name,
                auth_mode=settings.auth_mode,
                description=settings.description,
                tags=dict(settings.tags),
                public_network_access=settings.public_network_access,
                identity=IdentityConfiguration(type="system_assigned"),
            )
            return _endpoint_from_entity(self._ml.online_endpoints.begin_create_or_update(entity).result())

        return self._call("create_endpoint", resource, create, busy_conflicts=True)

    def update_endpoint(self, name: str, settings: EndpointSettings) -> Endpoint:
        _require_text("name", name)

        def read_modify_write():
            live = self._ml.online_endpoints.get(name)
            deployments = tuple(sorted(set(live.traffic) | set(live.mirror_traffic or {})))
            live.auth_mode = settings.auth_mode
            live.description = settings.description
            live.public_network_access = settings.public_network_access
            live.tags = dict(settings.tags)
            done = self._ml.online_endpoints.begin_create_or_update(live).result()
            return _endpoint_from_entity(done, deployments=deployments)

        return self._call("update_endpoint", f"online endpoint {name}", read_modify_write, busy_conflicts=True)

    def delete_endpoint(self, name: str) -> None:
        _require_text("name", name)
        self._call(
            "delete_endpoint",
            f"online endpoint {name}",
            lambda: self._ml.online_endpoints.begin_delete(name=name).result(),
            busy_conflicts=True,
        )

    def put_deployment(self, endpoint: str, name: str, spec: DeploymentSpec) -> Deployment:
        _require_text("endpoint", endpoint)
        _require_text("name", name)
        if not isinstance(spec, DeploymentSpec):
            raise TypeError(f"spec is {type(spec).__name__}; accepted: DeploymentSpec")

        def write():
            poller = self._ml.online_deployments.begin_create_or_update(_deployment_entity(endpoint, name, spec))
            try:
                return poller.result()
            except Exception as err:
                raise _lro_failure("put_deployment", err, f"deployment {endpoint}/{name}") from err

        entity = self._call("put_deployment", f"deployment {endpoint}/{name}", write, busy_conflicts=True)
        return _deployment_from_entity(entity, endpoint)

    def set_deployment_capacity(self, endpoint: str, name: str, instance_count: int) -> Deployment:
        _require_text("endpoint", endpoint)
        _require_text("name", name)
        if isinstance(instance_count, bool) or not isinstance(instance_count, int) or instance_count < 1:
            raise ValueError(f"instance_count is {instance_count!r}; accepted: an integer >= 1")

        def read_modify_write():
            live = self._ml.online_deployments.get(name=name, endpoint_name=endpoint)
            live.instance_count = instance_count
            poller = self._ml.online_deployments.begin_create_or_update(live)
            try:
                return poller.result()
            except Exception as err:
                raise _lro_failure("set_deployment_capacity", err, f"deployment {endpoint}/{name}") from err

        entity = self._call(
            "set_deployment_capacity", f"deployment {endpoint}/{name}", read_modify_write, busy_conflicts=True
        )
        return _deployment_from_entity(entity, endpoint)

    def _maybe_entity(self, fn: Callable[[], Any]):
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return fn()
        except ResourceNotFoundError:
            return None

    def invoke(self, endpoint: str, deployment: str, payload: dict) -> Any:
        _require_text("endpoint", endpoint)
        _require_text("deployment", deployment)
        try:
            body = json.dumps(payload)
        except (TypeError, ValueError) as err:
            raise ValueError(f"payload cannot be sent as JSON: {err}") from err
        resource = f"deployment {endpoint}/{deployment}"

        def score():
            with tempfile.TemporaryDirectory(prefix="aml-invoke-") as folder:
                request_file = os.path.join(folder, "request.json")
                with open(request_file, "w", encoding="utf-8") as handle:
                    handle.write(body)
                return self._ml.online_endpoints.invoke(endpoint, request_file=request_file, deployment_name=deployment)

        try:
            text = self._call("invoke", resource, score)
        finally:
            _forget_invoke_headers()
        try:
            return json.loads(text)
        except ValueError as err:
            raise AzureMLError("invoke", resource, 200, f"the scoring reply is not JSON: {text[:200]!r}") from err


def _conda_of(environment: Any) -> Any:
    import yaml

    conda = environment.conda_file
    return yaml.safe_load(conda) if isinstance(conda, str) else conda


def _forget_invoke_headers() -> None:
    """azure-ai-ml's invoke writes the endpoint key and the deployment name into a module-level dict
    it reuses for every later call; drop both so no key lingers and no call inherits a deployment."""
    from azure.ai.ml.constants._endpoint import EndpointInvokeFields

    EndpointInvokeFields.DEFAULT_HEADER.pop(EndpointInvokeFields.AUTHORIZATION, None)
    EndpointInvokeFields.DEFAULT_HEADER.pop(EndpointInvokeFields.MODEL_DEPLOYMENT, None)


def _code_file_map(files: Any) -> dict[str, str]:
    if (
        not isinstance(files, Mapping)
        or not files
        or not all(isinstance(k, str) and k and isinstance(v, str) and os.path.isfile(v) for k, v in files.items())
    ):
        raise ValueError(
            f"files is {files!r}; accepted: a non-empty mapping of names inside the code asset to existing local files"
        )
    return dict(files)


def _stage_files(folder: str, files: dict[str, str]) -> str:
    """A folder holding exactly `files` under their names: what a code version uploads."""
    for name, source in files.items():
        target = os.path.join(folder, *name.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(source, target)
    return folder


def _move_into_place(files: str, target: str, staging: str) -> None:
    """Replace `target` by the folder `files`; the previous content goes into `staging`, removed with it."""
    if os.path.lexists(target):
        os.replace(target, os.path.join(staging, "previous"))
    os.replace(files, target)


def registry_of(path: str) -> str | None:
    """The registry an azureml://registries/<r>/models/<m>/versions/<v> path names, else None."""
    found = _REGISTRY_MODEL_PATH.fullmatch(path or "")
    return found.group("registry") if found else None


_REGISTRY_MODEL_PATH = full(REGISTRY_MODEL_PATH)


def _single_download(folder: str) -> str:
    """azure-ai-ml downloads a folder URI into <download_path>/<name>/<last path segment>/."""
    entries = os.listdir(folder) if os.path.isdir(folder) else []
    if len(entries) == 1 and os.path.isdir(os.path.join(folder, entries[0])):
        return os.path.join(folder, entries[0])
    return folder


# ---------------------------------------------------------------------- conversions
def _model_from_rest(name: str, rest: Any) -> ModelVersion:
    props = rest.properties
    return ModelVersion(
        name=name,
        version=str(rest.name),
        id=str(rest.id),
        path=str(props.model_uri or ""),
        tags=dict(props.tags or {}),
        properties=dict(props.properties or {}),
        archived=bool(props.is_archived),
        description=str(props.description or ""),
        job_name=getattr(props, "job_name", None) or None,
    )


def _data_from_entity(entity: Any) -> DataAsset:
    return DataAsset(
        name=entity.name,
        version=str(entity.version),
        id=str(entity.id),
        path=str(entity.path),
        type=_state(entity.type),
        description=str(entity.description or ""),
        tags=dict(entity.tags or {}),
    )


def _endpoint_from_entity(entity: Any, deployments: tuple | None = None) -> Endpoint:
    traffic = {k: int(v) for k, v in (entity.traffic or {}).items() if int(v)}
    mirror = {k: int(v) for k, v in (entity.mirror_traffic or {}).items() if int(v)}
    if deployments is None:
        deployments = tuple(sorted(set(entity.traffic or {}) | set(entity.mirror_traffic or {})))
    return Endpoint(
        name=entity.name,
        traffic=traffic,
        mirror_traffic=mirror,
        provisioning_state=_state(entity.provisioning_state),
        scoring_uri=entity.scoring_uri,
        deployments=tuple(sorted(deployments)),
        auth_mode=getattr(entity, "auth_mode", None),
        public_network_access=_lower_text(getattr(entity, "public_network_access", None)),
        description=str(getattr(entity, "description", None) or ""),
        tags=dict(getattr(entity, "tags", None) or {}),
        principal_id=getattr(getattr(entity, "identity", None), "principal_id", None) or None,
    )


def _lower_text(value: Any) -> str | None:
    """azure-ai-ml hands a REST enum back as its Enum member (str() of it is `Class.MEMBER`, not the value)."""
    if isinstance(value, Enum):
        value = value.value
    return str(value).lower() if value else None


def _asset_id(value: Any) -> str | None:
    return value if isinstance(value, str) or value is None else getattr(value, "id", None)


def _deployment_from_entity(entity: Any, endpoint: str) -> Deployment:
    code = getattr(entity, "code_configuration", None)
    return Deployment(
        name=entity.name,
        endpoint=endpoint,
        model_id=_asset_id(entity.model),
        provisioning_state=_state(entity.provisioning_state),
        instance_type=entity.instance_type,
        instance_count=entity.instance_count,
        code_id=_asset_id(getattr(code, "code", None)),
        environment_id=_asset_id(getattr(entity, "environment", None)),
        tags=dict(entity.tags or {}),
    )


def _deployment_entity(endpoint: str, name: str, spec: DeploymentSpec):
    from azure.ai.ml.entities import (
        CodeConfiguration,
        DefaultScaleSettings,
        ManagedOnlineDeployment,
        OnlineRequestSettings,
        ProbeSettings,
    )

    def probe(p: Probe) -> ProbeSettings:
        return ProbeSettings(
            initial_delay=p.initial_delay,
            period=p.period,
            timeout=p.timeout,
            failure_threshold=p.failure_threshold,
            success_threshold=p.success_threshold,
        )

    return ManagedOnlineDeployment(
        name=name,
        endpoint_name=endpoint,
        model=spec.model_id,
        code_configuration=CodeConfiguration(code=spec.code_id, scoring_script=spec.scoring_script),
        environment=spec.environment_id,
        instance_type=spec.instance_type,
        instance_count=spec.instance_count,
        environment_variables=dict(spec.environment_variables),
        app_insights_enabled=spec.app_insights_enabled,
        request_settings=OnlineRequestSettings(
            request_timeout_ms=spec.request_timeout_ms,
            max_concurrent_requests_per_instance=spec.max_concurrent_requests_per_instance,
        ),
        liveness_probe=probe(spec.liveness_probe),
        readiness_probe=probe(spec.readiness_probe),
        scale_settings=DefaultScaleSettings(),
        tags=dict(spec.tags),
        # None is the constructor's default and is left out of the request body
        # (azure/ai/ml/entities/_deployment/online_deployment.py: _to_rest_object sends it only when truthy).
        egress_public_network_access=spec.egress_public_network_access,
    )


def _lro_failure(operation: str, err: Exception, resource: str, what: str = "provisioning failed") -> Exception:
    """A long-running operation that ended Failed is final: do not retry it."""
    from azure.core.exceptions import HttpResponseError

    if isinstance(err, HttpResponseError) and err.status_code in (200, 201, 202, None):
        odata = getattr(err, "error", None)
        message = getattr(odata, "message", None) or str(err.message or err).strip().splitlines()[0]
        return AzureMLError(
            operation, resource, err.status_code, f"{what}: {message}", code=getattr(odata, "code", None)
        )
    return err


# ---------------------------------------------------------------------- argument checks
def _traffic_map(field_name: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError(
            f"{field_name} is {type(value).__name__}; accepted: a dict of deployment name to integer percent"
        )
    out = {}
    for key, share in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{field_name} key {key!r} is invalid; accepted: deployment names")
        if isinstance(share, bool) or not isinstance(share, int) or not 0 <= share <= 100:
            raise ValueError(f"{field_name}[{key!r}] is {share!r}; accepted: an integer from 0 to 100")
        out[key] = share
    return out


def _check_traffic_rules(traffic: dict, mirror: dict) -> None:
    total = sum(traffic.values())
    if total not in (0, 100):
        raise ValueError(f"traffic {traffic} sums to {total}; accepted: shares summing to 100 (or all 0)")
    live_mirror = {k: v for k, v in mirror.items() if v}
    if len(live_mirror) > 1:
        raise ValueError(f"mirror_traffic {mirror} names {len(live_mirror)} deployments; accepted: at most one")
    for key, share in live_mirror.items():
        if share > MAX_MIRROR_PERCENT:
            raise ValueError(f"mirror_traffic[{key!r}] is {share}; accepted: at most {MAX_MIRROR_PERCENT}")
        if traffic.get(key):
            raise ValueError(
                f"mirror_traffic[{key!r}] targets a deployment that takes live traffic "
                f"({traffic[key]} %); accepted: a deployment with no live traffic"
            )
