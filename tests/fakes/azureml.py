"""A faithful in-process fake of the Azure ML control plane (and the online scoring route).

It answers what the real service answers for the calls azure-ai-ml 1.35.2 makes, served through an
azure-core transport, so `MLClient(..., transport=fake.transport)` runs its real code path: ARM
paths, api-versions, whole-body PUT, long-running operations polled through Azure-AsyncOperation,
the service's error body shape, and the scoring URI with endpoint keys.

Modules: this one holds the state, the routes and the test-facing API; azureml_rules (the service's
refusals and error shape), azureml_arm (workspace and datastore documents, systemData clock),
azureml_lro (long-running operations), azureml_storage (model files on the default datastore),
azureml_jobs (command jobs, their lifecycle and run history), azureml_data (data assets),
azureml_registry (registries: discovery, model versions, imports) and http (the in-process
azure-core transport).

Hosts it serves: management.azure.com (the workspace's ARM API), <region>.api.azureml.ms (the
workspace discovery document and run history), eastus.api.azureml.ms (registry discovery),
cert-<region>.experiments.azureml.net/mferp/managementfrontend (a registry's data plane) and
<endpoint>.<region>.inference.ml.azure.com (scoring).

Build it:

    fake = FakeAzureML(subscription_id="0000...", resource_group="rg", workspace_name="mlw",
                       region="westeurope", lro_polls=0, seed=0)
    client = MLClient(fake.credential, fake.subscription_id, fake.resource_group,
                      fake.workspace_name, transport=fake.transport)

State the test sets up directly (none of these are logged as requests):

    fake.add_model_version(name, version, path=None, tags=None, properties=None,
                           description="", archived=False, folder=None) -> dict (the ARM resource)
        path defaults to azureml://.../paths/models/<name>/<version>/; folder= uploads a local
        folder to the fake blob store first and registers its URI (so it can be downloaded)
    fake.add_endpoint(name, traffic=None, mirror_traffic=None, auth_mode="Key",
                      description="", tags=None) -> dict
        traffic may name existing deployments only, so the usual order is add_endpoint,
        add_deployment (each slot), then set_traffic
    fake.add_deployment(endpoint, name, model_id=None, instance_type="Standard_DS3_v2",
                        instance_count=1, scorer=None) -> dict
        model_id: an ARM id such as fake.model_version_id(name, version) (checked to exist)
    fake.set_scorer(endpoint, deployment, scorer)   # scorer(payload: parsed JSON) -> JSON-serialisable
    fake.scorer_factory = lambda endpoint, deployment: scorer   # for deployments created by the code under test
    fake.add_code_version(name, version, code_uri=""), fake.add_environment_version(name, version, image="")
        code and environment versions (what azure-native declares); a deployment PUT naming one of this
        workspace that does not exist is refused (400). fake.remove_asset_version(id), fake.asset_version(id)
        A POST to fake.scoring_uri(endpoint) needs "Authorization: Bearer <credential>": an endpoint
        key (authMode Key), the endpoint's token (AMLToken) or an Entra token for ml.azure.com
        (AADToken, from the credential, not the ARM one); the
        azureml-model-deployment header picks the deployment, otherwise traffic weights do (seeded
        random) and the mirror deployment gets a copy with its mirror percentage. A scorer that
        raises gives 500 with the exception text (as azmlinfsrv does); an unhealthy deployment
        answers its scoring_status.
    fake.set_traffic(endpoint, traffic, mirror_traffic=None)   # a "manual change" made outside the code under test
    fake.remove_deployment(endpoint, name)   # out-of-band delete; refused while it has traffic
    fake.mark_unhealthy(endpoint, deployment, scoring_status=503, provisioning_state="Failed")
    fake.mark_healthy(endpoint, deployment)
        unhealthy lasts until mark_healthy or the deployment's next accepted PUT (a redeploy)
    fake.hold_endpoint_updating(endpoint, writes=1)   # endpoint shows "Updating"; the next `writes`
                                                      # writes to it or its deployments answer 409
    fake.lro_polls = n          # every new long-running operation stays InProgress for n more requests
                                # (each request to the fake is one unit of time; polls are requests)
    fake.complete_operations()  # finish every long-running operation still in progress

Jobs, data assets and registries (test setup; none of these are logged as requests):

    fake.add_compute(name, vm_size="Standard_NC6s_v3", max_nodes=4) -> dict; fake.compute_id(name)
        a job PUT naming a compute that does not exist, or more nodes than it has, is refused (400)
    fake.plan_job(name, status="Completed", error=None)   # how a job ends by itself (before or after
                                                          # its submission): Completed, Failed, NotResponding
    fake.advance_job(name, steps=1) -> status;  fake.finish_job(name, status, error=None, outputs=None)
        a job is created NotStarted and takes one step per request to the fake (NotStarted, Queued,
        Preparing, Running, then its planned end); fake.auto_advance_jobs = False holds every job
        where it is until advance_job/finish_job. finish_job ends it now with any terminal status
        (Completed, Failed, Canceled, NotResponding); outputs={output: local folder} stores the files
        the job wrote (under azureml/<job>/<output>/ of the default datastore, Azure ML's default
        output path), which download_folder then serves for azureml://jobs/<job>/outputs/<output>.
    fake.job_output_uri(job, output) -> "azureml://jobs/<job>/outputs/<output>"
    fake.add_data_version(name, version, path, data_type="uri_file", description="", tags=None) -> dict
    fake.data_version_id(name, version)
    fake.add_registry(name, regions=None, resource_group=None, subscription_id=None) -> discovery dict
        regions default to the workspace's; the first is the registry's primary region
    fake.add_registry_model_version(registry, name, version, path=None, tags=None, properties=None,
                                    description="", folder=None) -> dict;  fake.registry_model_id(registry, name, version)
        folder= stores a local folder's files as the version's files in the registry's storage
    fake.join_registries(other_fake)   # this fake serves other_fake's registries (the same objects): the
                                       # estate's workspaces (dev, test, prod fakes) reach one registry
    fake.delete_registry_model_version(registry, name, version)   # out of band; never creatable again

Model and data files (the workspace's default datastore, in memory; azure-ai-ml's own blob client
is not served here, so the gateway takes these as its uploader and downloader):

    fake.upload(local_path, name, version) -> azureml:// URI (LocalUpload/<content hash>/<file or folder>[/]);
        a file or a folder: the gateway's uploader (fake.upload_folder(local_dir, ...) accepts folders only)
    fake.download_folder(azureml_uri, target_dir)  # FileNotFoundError when nothing is stored there;
                                                   # also reads azureml://jobs/<job>/outputs/<output> and
                                                   # azureml://registries/<r>/models/<m>/versions/<v>
    fake.blobs       -> {datastore path: bytes};  fake.blob_calls -> [("upload"|"download", uri)]

Faults (checked before the request is applied; a faulted request changes nothing):

    fake.fail(operation, status, times=1, message=None, code=None, retry_after=None, path_contains=None)
        operation: one of OPERATIONS below; status: any HTTP status (429 gets Retry-After: retry_after
        or 1 second), or None to drop the connection without an answer (azure-core raises
        ServiceRequestError); times: how many matching requests fail (None: all of them);
        path_contains: only requests whose path contains this text.
    fake.lose_response(operation, times=1, path_contains=None)
        the service handles the request (a write is applied) but the answer is lost: the connection
        drops and azure-core raises ServiceResponseError; Call.response_lost marks it.
    fake.fail_lro(operation, times=1, message=None, path_contains=None)
        the request is accepted (201/202) but its long-running operation ends "Failed": an endpoint keeps
        its previous traffic and shows provisioningState "Failed"; a deployment records the requested
        spec, shows "Failed" and its scoring route answers 503; a job cancellation (jobs.cancel) leaves
        the job CancelRequested (its Location answers 400 OperationFailed); a registry import
        (registry_assets.import) copies nothing.
    fake.clear_faults()   # disarm every fault armed with fail, lose_response and fail_lro

A gateway wired to the fake (fake credential, transport and blob store; `sleep` records into
fake.gateway_sleeps unless given):

    gateway = gateway_for(fake, retry=None, sleep=None)   # uploader=/downloader= override the blob store
    fake.workspace_ref() -> infra.azureml.gateway.WorkspaceRef of this workspace

Reading what happened:

    fake.calls            -> list[Call]: every request (operation, method, path, api_version, query, body, status)
    fake.writes()         -> [(method, path)] of requests that change state (PUT/PATCH/DELETE and POST
                             actions other than listKeys/token/listSecrets); a rejected write is included.
    fake.calls_to(operation) -> list[Call]
    fake.endpoint(name), fake.deployment(endpoint, name), fake.model_version(name, version),
    fake.job(name), fake.data_version(name, version), fake.registry_model_version(registry, name, version)
                          -> the stored resource (dict) or None
    fake.keys(endpoint)   -> {"primaryKey", "secondaryKey"} (the secrets; test-only)
    fake.scored           -> [(endpoint, deployment, payload)] requests that reached a scorer (live)
    fake.mirrored         -> [(endpoint, deployment, payload)] copies sent to the mirror deployment
    fake.transport.sleeps -> delays azure-core asked for (LRO polling, its own retries); no real sleep
    fake.gateway_sleeps   -> delays the gateway's retries asked for (when built by gateway_for)

Operations (names used by `fail`, `calls_to` and Call.operation):
    workspaces.get, datastores.list, datastores.get, datastores.list_secrets,
    model_containers.list, model_containers.get, model_containers.put,
    model_versions.list, model_versions.get, model_versions.put, model_versions.delete,
    online_endpoints.list, online_endpoints.get, online_endpoints.put, online_endpoints.delete,
    online_endpoints.list_keys, online_endpoints.get_token,
    online_deployments.list, online_deployments.get, online_deployments.put, online_deployments.delete,
    jobs.list, jobs.get, jobs.put, jobs.cancel, run_history.get_details, workspaces.discovery,
    environment_versions.get, environment_versions.put, code_versions.get, code_versions.put,
    data_containers.list, data_containers.get, data_versions.list, data_versions.get, data_versions.put,
    registries.discovery, registry_model_versions.list, registry_model_versions.get,
    registry_model_versions.put, registry_temp_data_refs.put, registry_assets.import,
    operations.get (async operation status and results, workspace and registry), score (POST to a scoring URI)

What azure-ai-ml 1.35.2 sends for them (operations/_job_operations.py, _data_operations.py,
_model_operations.py, _utils/_registry_utils.py, _ml_client.py):
    jobs.create_or_update(command job): an anonymous environment PUT .../environments/
        CliV2AnonymousEnvironment/versions/<content hash> (2023-04-01-preview) for an inline environment,
        then PUT .../jobs/{name} (2025-01-01-preview); jobs.get and list: 2024-01-01-preview;
        jobs.begin_cancel: POST .../jobs/{name}/cancel (2023-04-01-preview, 202 + Location);
        run details: GET https://<region>.api.azureml.ms/history/v1.0<workspace id>/runs/{name}/details
        (v1.0), after the workspace's discoveryUrl; a Code with an azureml:// path: PUT .../codes/{n}/
        versions/{v} (2023-04-01).
    data.create_or_update / get with an explicit version: PUT / GET .../data/{n}/versions/{v} (2023-04-01-preview).
    An MLClient(registry_name=r): GET eastus.api.azureml.ms/registrymanagement/v1.0/registries/{r}/discovery,
        then the registry's MFE endpoint with 2021-10-01-dataplanepreview: models/{m}/versions?$orderBy&$top
        and models/{m}/versions/{v}; models.share's copy (a WorkspaceAssetReference) is POST .../registries/
        {r}/import, polled like an ARM operation, then a GET of the new version; a Model created in a
        registry is PUT tempdatarefs/{m}/versions/{v} (a SAS; 409 when the asset exists) and PUT
        models/{m}/versions/{v}.

Rules it enforces (as the service does): traffic values are integers 0..100 summing to 100 or all 0,
naming existing deployments only; mirror traffic goes to at most one existing deployment, at most
50 %, and not to a deployment that takes live traffic; a deployment with live or mirror traffic
cannot be deleted (400); deployment names are 3-32 lowercase letters, digits and '-' starting with
a letter; writes to an endpoint (or its deployments) while it is Creating/Updating answer 409; a
model version's modelUri cannot change once created (400 "Asset paths cannot be updated."); a model
PUT replaces the whole version (tags, properties, isArchived); unknown api-versions answer 400
NoRegisteredProviderFound; missing resources answer 404 with code ResourceNotFound.
Jobs: a job PUT must name existing code, environment, compute and input data versions of this
workspace (400), at most the compute's max nodes, and PyTorch distribution only; a PUT on an existing
job may change its tags, description and display name only (409 otherwise); terminal statuses never
change, and a failed run's error is in its run history (error.error.message). A model registered
from azureml://jobs/<job>/outputs/<output> needs that job and output (400) and records the job as its
jobName (lineage). Data and code versions cannot change their path (400 "Asset paths cannot be
updated."); environment versions cannot change their image or conda file (400). A registry refuses
to import a version it holds (409), refuses any version that was deleted (409: registry versions
cannot be recreated) and a path change (400); an import copies the workspace version's description,
tags, properties, type and job lineage, and its files into the registry's own storage (its modelUri an
https:// blob URI). A workspace model version may be registered from a registry model version
(modelUri azureml://registries/<r>/models/<m>/versions/<v>, the Azure ML docs' "Supported paths" of
"Work with registered models"), which must exist (400); so may a deployment's model (400 otherwise).

Not faithful (documented limits): error message texts are close to but not verbatim the service's;
no RBAC, ETags, throttling by rate, quota or capacity; deployments start at once (no image build);
the scoring route calls a Python callable, not a container, and answers errors as plain text;
azure-ai-ml's own blob upload/download (azure-storage-blob with its own transport, after a
datastores GET and listSecrets) is not served: the gateway's uploader/downloader hooks stand in
for it; for a registry's storage the downloader hook reads the files an import copied there
(tempdatarefs answers a SAS nothing listens on: a version created in a registry from local files has
no files the fake can serve). Jobs run nothing: their
status moves by requests or by advance_job/finish_job, run history has no logs or metrics, and
a canceled job ends Canceled once its cancel operation is polled. Registry discovery answers the
registry's primary region only (no workspace_location routing); registries serve models only
(no data, code or environment versions). Time advances one step per request, not with the clock.
azure-core pollers poll from their own thread; the fake serialises requests with a lock.
"""

from __future__ import annotations

import copy
import random
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tests.fakes.azureml_arm import Clock, datastore_resource, model_version_properties, workspace_resource
from tests.fakes.azureml_data import DataAssets
from tests.fakes.azureml_jobs import Jobs, output_datastore_path
from tests.fakes.azureml_lro import Operations
from tests.fakes.azureml_registry import DISCOVERY_HOST, MFE_PREFIX, REGISTRY_API_VERSION, Registry, mfe_host
from tests.fakes.azureml_rules import (  # the name patterns are re-exported for tests that check names
    ASSET_NAME,
    ASSET_VERSION,
    BUSY_STATES,
    DATASTORE_URI,
    DEPLOYMENT_NAME,
    ENDPOINT_NAME,
    LONG_ASSET_VERSION,
    ConnectionDropped,
    ServiceError,
    busy_refusal,
    check_asset_name_and_version,
    check_asset_uri,
    check_auth_mode,
    check_deployment_name,
    check_endpoint_name,
    check_traffic,
    default_code,
    error_body,
    filter_archived,
    refuse,
    require_properties,
    tags_match,
)
from tests.fakes.azureml_storage import DatastoreFiles, write_files
from tests.fakes.http import InProcessTransport, Request, Response

ARM_HOST = "management.azure.com"
PROVIDER = "Microsoft.MachineLearningServices"

# api-versions azure-ai-ml 1.35.2 uses for these resources, plus nearby released ones.
SUPPORTED_API_VERSIONS = frozenset(
    {
        "2022-02-01-preview",
        "2022-05-01",
        "2022-10-01",
        "2022-10-01-preview",
        "2023-04-01",
        "2023-04-01-preview",
        "2023-06-01-preview",
        "2023-08-01-preview",
        "2023-10-01",
        "2024-01-01-preview",
        "2024-04-01-preview",
        "2024-10-01-preview",
        "2025-01-01-preview",
    }
)

# Operations that are not ARM workspace calls carry their own api-versions (None: no api-version sent).
API_VERSIONS = {
    "workspaces.discovery": None,
    "registries.discovery": frozenset({"v1.0"}),
    "run_history.get_details": frozenset({"v1.0"}),
    "registry_model_versions.list": frozenset({REGISTRY_API_VERSION}),
    "registry_model_versions.get": frozenset({REGISTRY_API_VERSION}),
    "registry_model_versions.put": frozenset({REGISTRY_API_VERSION}),
    "registry_temp_data_refs.put": frozenset({REGISTRY_API_VERSION}),
    "registry_assets.import": frozenset({REGISTRY_API_VERSION}),
    "operations.get": SUPPORTED_API_VERSIONS | {REGISTRY_API_VERSION},
}
LRO_OPERATIONS = ("online_endpoints.put", "online_deployments.put", "jobs.cancel", "registry_assets.import")
JOB_OUTPUT_URI = re.compile(r"^azureml://jobs/(?P<job>[^/]+)/outputs/(?P<output>[^/]+)/?$")
REGISTRY_MODEL_URI = re.compile(
    r"^azureml://registries/(?P<registry>[^/]+)/models/(?P<name>[^/]+)/versions/(?P<version>[^/]+)$"
)
WORKSPACE_ASSET_ID = re.compile(
    r"^azureml://locations/(?P<loc>[^/]+)/workspaces/(?P<guid>[^/]+)/(?P<kind>[^/]+)/(?P<name>[^/]+)"
    r"/versions/(?P<version>[^/]+)$"
)

READ_ONLY_ACTIONS = frozenset({"listKeys", "token", "listSecrets"})
__all__ = [
    "ASSET_NAME",
    "ASSET_VERSION",
    "DATASTORE_URI",
    "DEPLOYMENT_NAME",
    "ENDPOINT_NAME",
    "OPERATIONS",
    "Call",
    "FakeAzureML",
    "FakeCredential",
    "ServiceError",
    "error_body",
    "gateway_for",
]


ENTRA_ML_SCOPE = "https://ml.azure.com/.default"


class FakeCredential:
    """Credential with `get_token`, as azure-core's bearer policy needs; records the scopes asked."""

    def __init__(self):
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        self.scopes.append(tuple(scopes))
        return AccessToken(self.token_for(scopes), int(datetime.now(UTC).timestamp()) + 3600)

    @staticmethod
    def token_for(scopes) -> str:
        """A distinct token per audience, so the fake can tell an ARM token from an Azure ML one."""
        return "fake-entra-token:" + ",".join(scopes)


@dataclass
class Call:
    operation: str
    method: str
    path: str
    api_version: str | None
    query: dict
    body: Any
    status: int | None = 0  # None: the connection was dropped before the request reached the service
    response_lost: bool = False  # the service handled it, the answer was lost


@dataclass
class _Fault:
    operation: str
    status: int | None
    remaining: int | None
    message: str | None
    code: str | None
    retry_after: float | None
    path_contains: str | None

    def matches(self, operation: str, path: str) -> bool:
        if self.operation != operation or self.remaining == 0:
            return False
        return self.path_contains is None or self.path_contains in path


@dataclass
class _Health:
    scoring_status: int
    provisioning_state: str


class FakeAzureML:
    def __init__(
        self,
        subscription_id: str = "00000000-1111-2222-3333-444444444444",
        resource_group: str = "rg-mlops-test",
        workspace_name: str = "mlw-test",
        region: str = "westeurope",
        lro_polls: int = 0,
        seed: int = 0,
    ):
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.workspace_name = workspace_name
        self.region = region
        self.lro_polls = lro_polls
        self._lock = threading.RLock()  # azure-core LRO pollers poll from their own thread
        self.transport = InProcessTransport(self._handle)
        self.credential = FakeCredential()
        self.calls: list[Call] = []
        self.scored: list[tuple[str, str, Any]] = []
        self.mirrored: list[tuple[str, str, Any]] = []
        self.gateway_sleeps: list[float] = []
        self._random = random.Random(seed)
        self._clock = Clock()
        self._api_version: str | None = None
        self._workspace_guid = str(uuid.UUID(int=random.Random(workspace_name).getrandbits(128)))
        self._faults: list[_Fault] = []
        self._lro_faults: list[_Fault] = []
        self._lost_responses: list[_Fault] = []
        self._models: dict[str, dict] = {}  # name -> {"container": resource, "versions": {version: resource}}
        self._assets: dict[str, dict] = {}  # ARM id (lowercase) of a code or environment version -> resource
        self._endpoints: dict[str, dict] = {}
        self._deployments: dict[tuple[str, str], dict] = {}
        self._keys: dict[str, dict] = {}
        self._tokens: dict[str, str] = {}
        self._scorers: dict[tuple[str, str], Callable[[Any], Any]] = {}
        # scorer_factory(endpoint, deployment) -> scorer: for deployments the code under test creates
        self.scorer_factory: Callable[[str, str], Callable[[Any], Any]] | None = None
        self._health: dict[tuple[str, str], _Health] = {}
        self._busy_writes: dict[str, int] = {}
        self._datastores = {
            name: datastore_resource(self.workspace_id, workspace_name, self._workspace_guid, name, default)
            for name, default in (("workspaceblobstore", True), ("workspacefilestore", False))
        }
        self._files = DatastoreFiles(self.datastore_uri, self._datastores)
        self._operations = Operations(f"https://{ARM_HOST}", subscription_id, region, self._clock.tick)
        self._computes: dict[str, dict] = {}
        self._jobs = Jobs(self.workspace_id, workspace_name, region, self._clock.tick, self._clock.system_data)
        self._data = DataAssets(self.workspace_id, workspace_name, self._datastores, self._clock.system_data)
        self._registries: dict[str, Registry] = {}
        self._registry_operations: dict[str, Operations] = {}  # MFE host -> its long-running operations

    # ------------------------------------------------------------------ ids and helpers
    @property
    def workspace_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{PROVIDER}/workspaces/{self.workspace_name}"
        )

    def workspace_ref(self):
        """The gateway's WorkspaceRef for this fake's workspace."""
        from infra.azureml.gateway import WorkspaceRef

        return WorkspaceRef(self.subscription_id, self.resource_group, self.workspace_name)

    def model_version_id(self, name: str, version: str) -> str:
        return f"{self.workspace_id}/models/{name}/versions/{version}"

    def endpoint_id(self, name: str) -> str:
        return f"{self.workspace_id}/onlineEndpoints/{name}"

    def scoring_uri(self, endpoint: str) -> str:
        return f"https://{endpoint}.{self.region}.inference.ml.azure.com/score"

    def datastore_uri(self, path: str, datastore: str = "workspaceblobstore") -> str:
        return (
            f"azureml://subscriptions/{self.subscription_id}/resourcegroups/{self.resource_group}"
            f"/workspaces/{self.workspace_name}/datastores/{datastore}/paths/{path}"
        )

    # ------------------------------------------------------------------ test setup API
    def add_model_version(
        self, name, version, path=None, tags=None, properties=None, description="", archived=False, folder=None
    ) -> dict:
        if folder is not None:
            path = self.upload_folder(folder, name, str(version))
        body = {
            "properties": {
                "description": description,
                "tags": dict(tags or {}),
                "properties": dict(properties or {}),
                "modelType": "custom_model",
                "modelUri": path or self.datastore_uri(f"models/{name}/{version}/"),
                "isAnonymous": False,
                "isArchived": archived,
            }
        }
        resource, _ = self._put_model_version(name, str(version), body)
        return resource

    def code_version_id(self, name: str, version: str) -> str:
        return f"{self.workspace_id}/codes/{name}/versions/{version}"

    def environment_version_id(self, name: str, version: str) -> str:
        return f"{self.workspace_id}/environments/{name}/versions/{version}"

    def add_code_version(self, name, version, code_uri="") -> dict:
        return self._add_asset(self.code_version_id(name, str(version)), {"codeUri": code_uri})

    def add_environment_version(self, name, version, image="", conda_file="") -> dict:
        return self._add_asset(
            self.environment_version_id(name, str(version)), {"image": image, "condaFile": conda_file}
        )

    def remove_asset_version(self, asset_id: str) -> None:
        """An out-of-band delete of a code or environment version (what an ARM DELETE of it does)."""
        self._assets.pop(asset_id.lower(), None)

    def asset_version(self, asset_id: str) -> dict | None:
        return self._assets.get(asset_id.lower())

    def _add_asset(self, asset_id: str, properties: dict) -> dict:
        kind = "Code" if asset_id.split("/")[-4].lower() == "codes" else "Environment"
        check_asset_name_and_version(asset_id.split("/")[-3], asset_id.split("/")[-1], kind, LONG_ASSET_VERSION)
        resource = {
            "id": asset_id,
            "name": asset_id.split("/")[-1],
            "properties": dict(properties),
            "systemData": self._clock.system_data(None),
        }
        self._assets[asset_id.lower()] = resource
        return resource

    def add_endpoint(self, name, traffic=None, mirror_traffic=None, auth_mode="Key", description="", tags=None) -> dict:
        body = {
            "location": self.region,
            "kind": "Managed",
            "tags": dict(tags or {}),
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "authMode": auth_mode,
                "description": description,
                "traffic": dict(traffic or {}),
                "mirrorTraffic": dict(mirror_traffic or {}),
            },
        }
        self._validate_endpoint(name, body)
        resource = self._store_endpoint(name, body)
        self._stamp_endpoint_properties(resource)
        resource["properties"]["provisioningState"] = "Succeeded"
        return resource

    def add_deployment(
        self, endpoint, name, model_id=None, instance_type="Standard_DS3_v2", instance_count=1, scorer=None
    ) -> dict:
        body = self._deployment_body(model_id, instance_type, instance_count)
        for asset in (self.code_version_id("score", "1"), self.environment_version_id("onnx-serving", "1")):
            if self.asset_version(asset) is None:  # a hand-made deployment's own code and environment
                self._add_asset(asset, {})
        self._validate_deployment(endpoint, name, body)
        resource = self._store_deployment(endpoint, name, body)
        resource["properties"]["provisioningState"] = "Succeeded"
        if scorer is not None:
            self._scorers[(endpoint, name)] = scorer
        return resource

    def _deployment_body(self, model_id, instance_type, instance_count) -> dict:
        return {
            "location": self.region,
            "kind": "Managed",
            "tags": {},
            "sku": {"name": "Default", "capacity": instance_count},
            "properties": {
                "endpointComputeType": "Managed",
                "model": model_id,
                "instanceType": instance_type,
                "scaleSettings": {"scaleType": "Default"},
                "requestSettings": {"requestTimeout": "PT5S", "maxConcurrentRequestsPerInstance": 1},
                "environmentId": self.environment_version_id("onnx-serving", "1"),
                "codeConfiguration": {
                    "codeId": self.code_version_id("score", "1"),
                    "scoringScript": "score.py",
                },
                "environmentVariables": {},
                "appInsightsEnabled": False,
                "egressPublicNetworkAccess": "Enabled",
                "properties": {},
            },
        }

    def set_scorer(self, endpoint: str, deployment: str, scorer: Callable[[Any], Any]) -> None:
        self._require_deployment(endpoint, deployment)
        self._scorers[(endpoint, deployment)] = scorer

    def set_traffic(self, endpoint: str, traffic: dict, mirror_traffic: dict | None = None) -> None:
        resource = self._require_endpoint(endpoint)
        body = {
            **resource,
            "properties": {
                **resource["properties"],
                "traffic": dict(traffic),
                "mirrorTraffic": dict(mirror_traffic or {}),
            },
        }
        self._validate_endpoint(endpoint, body)
        resource["properties"]["traffic"] = dict(traffic)
        resource["properties"]["mirrorTraffic"] = dict(mirror_traffic or {})
        resource["systemData"] = self._clock.system_data(resource["systemData"])

    def remove_deployment(self, endpoint: str, name: str) -> None:
        """Delete a deployment out of band (as someone in the portal would); refused, as by the
        service, while it has live or mirror traffic."""
        self._require_deployment(endpoint, name)
        props = self._endpoints[endpoint]["properties"]
        if props["traffic"].get(name) or props["mirrorTraffic"].get(name):
            raise ServiceError(400, "UserError", f"Deployment '{name}' cannot be deleted while it receives traffic.")
        del self._deployments[(endpoint, name)]
        self._scorers.pop((endpoint, name), None)
        self._health.pop((endpoint, name), None)

    def mark_unhealthy(
        self, endpoint: str, deployment: str, scoring_status: int = 503, provisioning_state: str = "Failed"
    ) -> None:
        resource = self._require_deployment(endpoint, deployment)
        self._health[(endpoint, deployment)] = _Health(scoring_status, provisioning_state)
        resource["properties"]["provisioningState"] = provisioning_state

    def mark_healthy(self, endpoint: str, deployment: str) -> None:
        resource = self._require_deployment(endpoint, deployment)
        self._health.pop((endpoint, deployment), None)
        resource["properties"]["provisioningState"] = "Succeeded"

    def hold_endpoint_updating(self, endpoint: str, writes: int = 1) -> None:
        resource = self._require_endpoint(endpoint)
        resource["properties"]["provisioningState"] = "Updating"
        self._busy_writes[endpoint] = writes

    # ------------------------------------------------------------------ jobs, data and registries (test setup)
    def compute_id(self, name: str) -> str:
        return f"{self.workspace_id}/computes/{name}"

    def add_compute(self, name: str, vm_size: str = "Standard_NC6s_v3", max_nodes: int = 4) -> dict:
        """An AmlCompute cluster jobs may run on (what azure-native declares)."""
        resource = {
            "id": self.compute_id(name),
            "name": name,
            "type": f"{PROVIDER}/workspaces/computes",
            "location": self.region,
            "properties": {
                "computeType": "AmlCompute",
                "provisioningState": "Succeeded",
                "properties": {"vmSize": vm_size, "scaleSettings": {"minNodeCount": 0, "maxNodeCount": max_nodes}},
            },
        }
        self._computes[name] = resource
        return resource

    @property
    def auto_advance_jobs(self) -> bool:
        return self._jobs.auto_advance

    @auto_advance_jobs.setter
    def auto_advance_jobs(self, value: bool) -> None:
        self._jobs.auto_advance = bool(value)

    def plan_job(self, name: str, status: str = "Completed", error: str | None = None) -> None:
        self._jobs.plan(name, status, error)

    def advance_job(self, name: str, steps: int = 1) -> str:
        return self._jobs.advance(name, steps)

    def finish_job(
        self, name: str, status: str = "Completed", error: str | None = None, outputs: dict | None = None
    ) -> None:
        """End a job now; outputs={output name: local folder} stores the files the job wrote there."""
        for output, folder in (outputs or {}).items():
            if output not in self._jobs.declared_outputs(name):
                raise KeyError(f"finish_job: job {name!r} declares no output {output!r}")
            self._files.write_folder(folder, output_datastore_path(name, output))
        self._jobs.finish(name, status, error)

    def job_output_uri(self, job: str, output: str) -> str:
        return f"azureml://jobs/{job}/outputs/{output}"

    def data_version_id(self, name: str, version: str) -> str:
        return self._data.version_id(name, str(version))

    def add_data_version(
        self,
        name: str,
        version,
        path: str,
        data_type: str = "uri_file",
        description: str = "",
        tags: dict | None = None,
    ) -> dict:
        body = {
            "properties": {"dataType": data_type, "dataUri": path, "description": description, "tags": dict(tags or {})}
        }
        return self._data.put_version(name, str(version), body)[0]

    def add_registry(
        self,
        name: str,
        regions: tuple | None = None,
        resource_group: str | None = None,
        subscription_id: str | None = None,
    ) -> dict:
        """An Azure ML registry (what azure-native's machinelearningservices.Registry declares); its
        discovery document is returned."""
        registry = Registry(
            name,
            subscription_id or self.subscription_id,
            resource_group or self.resource_group,
            tuple(regions or (self.region,)),
            self._clock.system_data,
        )
        self._registries[name] = registry
        host = mfe_host(registry.regions[0])
        if host not in self._registry_operations:
            self._registry_operations[host] = Operations(
                f"https://{host}{MFE_PREFIX}", registry.subscription_id, registry.regions[0], self._clock.tick
            )
        return registry.discovery()

    def add_registry_model_version(
        self,
        registry: str,
        name: str,
        version,
        path: str | None = None,
        tags: dict | None = None,
        properties: dict | None = None,
        description: str = "",
        folder=None,
    ) -> dict:
        """folder= stores a local folder's files as the version's files in the registry's storage."""
        reg = self._require_registry_known(registry)
        body = {
            "properties": {
                "modelUri": path or reg.storage_uri(name, str(version)),
                "tags": dict(tags or {}),
                "properties": dict(properties or {}),
                "description": description,
                "modelType": "custom_model",
            }
        }
        resource = reg.put_version(name, str(version), body)[0]
        if folder is not None:
            root = Path(folder)
            reg.store_files(
                name,
                str(version),
                {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()},
            )
        return resource

    def join_registries(self, other: FakeAzureML) -> None:
        """Serve the registries of `other` (the very same ones): a registry is one service every
        workspace of the estate reaches, so a version shared from one fake workspace is found by another."""
        self._registries = other._registries
        self._registry_operations = other._registry_operations

    def delete_registry_model_version(self, registry: str, name: str, version) -> None:
        """An out-of-band delete; the version can never be created again in that registry."""
        self._require_registry_known(registry).delete_version(name, str(version))

    def registry_model_id(self, registry: str, name: str, version) -> str:
        return self._require_registry_known(registry).model_id(name, str(version))

    def fail(
        self,
        operation: str,
        status: int | None,
        times: int | None = 1,
        message: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        path_contains: str | None = None,
    ) -> None:
        self._check_operation_name(operation)
        self._faults.append(_Fault(operation, status, times, message, code, retry_after, path_contains))

    def lose_response(self, operation: str, times: int | None = 1, path_contains: str | None = None) -> None:
        self._check_operation_name(operation)
        self._lost_responses.append(_Fault(operation, 0, times, None, None, None, path_contains))

    def fail_lro(
        self, operation: str, times: int | None = 1, message: str | None = None, path_contains: str | None = None
    ) -> None:
        if operation not in LRO_OPERATIONS:
            raise ValueError(
                f"fail_lro: operation {operation!r} is not long-running; accepted: {', '.join(LRO_OPERATIONS)}"
            )
        self._lro_faults.append(_Fault(operation, 0, times, message, None, None, path_contains))

    def clear_faults(self) -> None:
        """Disarm every fault armed with fail, lose_response and fail_lro (the service recovered)."""
        self._faults.clear()
        self._lost_responses.clear()
        self._lro_faults.clear()

    def complete_operations(self) -> None:
        for operations in (self._operations, *self._registry_operations.values()):
            operations.complete_all()

    # ------------------------------------------------------------------ workspace blob storage
    def upload_folder(self, local_dir, name: str, version: str) -> str:
        if not Path(local_dir).is_dir():
            raise FileNotFoundError(f"upload_folder: {local_dir} is not a folder")
        return self._files.upload(local_dir, name, version)

    def upload(self, local_path, name: str, version: str) -> str:
        """A local file or folder, laid out as azure-ai-ml uploads it; the gateway's `uploader`."""
        return self._files.upload(local_path, name, version)

    def download_folder(self, uri: str, target_dir) -> None:
        """Also reads a job's output (azureml://jobs/<job>/outputs/<o>) from where the job wrote it, and a
        registry's model version (azureml://registries/<r>/models/<m>/versions/<v>) from its storage."""
        write_files(self._files_at(uri), target_dir)
        self._files.calls.append(("download", uri))

    def _files_at(self, uri: str) -> dict[str, bytes]:
        """{relative path: bytes} under a datastore URI, a job output or a registry model version;
        FileNotFoundError when nothing is stored there."""
        if REGISTRY_MODEL_URI.match(uri):
            found = REGISTRY_MODEL_URI.match(uri)
            registry = self._registries.get(found.group("registry"))
            files = {} if registry is None else registry.files_of(found.group("name"), found.group("version"))
            if not files:
                raise FileNotFoundError(f"download_folder: no files under {uri}")
            return files
        job_output = JOB_OUTPUT_URI.match(uri)
        if job_output:
            uri = self.datastore_uri(output_datastore_path(job_output.group("job"), job_output.group("output")))
        return self._files.files_under(uri)

    @property
    def blobs(self) -> dict[str, bytes]:
        return self._files.blobs

    @property
    def blob_calls(self) -> list[tuple[str, str]]:
        return self._files.calls

    # ------------------------------------------------------------------ inspection API
    def writes(self) -> list[tuple[str, str]]:
        return [(c.method, c.path) for c in self.calls if _is_write(c.method, c.path)]

    def calls_to(self, operation: str) -> list[Call]:
        return [c for c in self.calls if c.operation == operation]

    def endpoint(self, name: str) -> dict | None:
        return self._endpoints.get(name)

    def deployment(self, endpoint: str, name: str) -> dict | None:
        return self._deployments.get((endpoint, name))

    def model_version(self, name: str, version: str) -> dict | None:
        return self._models.get(name, {}).get("versions", {}).get(str(version))

    def job(self, name: str) -> dict | None:
        return self._jobs.job(name)

    def data_version(self, name: str, version) -> dict | None:
        return self._data.version(name, str(version))

    def registry_model_version(self, registry: str, name: str, version) -> dict | None:
        return self._require_registry_known(registry).version(name, str(version))

    def keys(self, endpoint: str) -> dict:
        self._require_endpoint(endpoint)
        return dict(self._keys[endpoint])

    # ------------------------------------------------------------------ dispatch
    def _handle(self, request: Request) -> Response:
        with self._lock:
            return self._handle_locked(request)

    def _handle_locked(self, request: Request) -> Response:
        if request.host == ARM_HOST:
            route = self._route_arm(request)
        elif request.host in (f"{self.region}.api.azureml.ms", DISCOVERY_HOST):
            route = self._route_api(request)
        elif request.host in self._registry_operations:
            route = self._route_registry(request)
        elif request.host.endswith(f".{self.region}.inference.ml.azure.com"):
            route = ("score", lambda: self._score(request))
        else:
            route = ("unknown", lambda: refuse(404, "NoRoute", f"fake: no service at host {request.host}"))
        operation, action = route
        for operations in (self._operations, *self._registry_operations.values()):
            operations.advance()
        self._jobs.tick()
        api_version = request.query.get("api-version")
        self._api_version = api_version  # long-running operations echo it in their URLs
        call = Call(operation, request.method, request.path, api_version, request.query, request.body)
        self.calls.append(call)
        try:
            self._check_api_version(operation, api_version)
            self._inject_fault(operation, request.path)
            response = action()
        except ServiceError as err:
            response = Response(err.status, error_body(err.code, err.message), err.headers)
        except ConnectionDropped:
            response = Response(None)
        call.status = response.status
        if response.status is not None and self._take(self._lost_responses, operation, request.path):
            call.response_lost = True
            return Response(response.status, lost=True)
        return response

    @staticmethod
    def _take(faults: list, operation: str, path: str):
        for fault in faults:
            if fault.matches(operation, path):
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def _check_api_version(self, operation: str, api_version: str | None) -> None:
        supported = API_VERSIONS.get(operation, SUPPORTED_API_VERSIONS)
        if operation in ("score", "unknown") or supported is None:
            return
        if not api_version:
            refuse(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if api_version not in supported:
            refuse(
                400,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for location '{self.region}' and API version "
                f"'{api_version}' for {operation}. The supported api-versions are "
                f"'{', '.join(sorted(supported))}'.",
            )

    def _inject_fault(self, operation: str, path: str) -> None:
        for fault in self._faults:
            if fault.matches(operation, path):
                if fault.remaining is not None:
                    fault.remaining -= 1
                headers = {}
                if fault.status == 429:
                    headers["Retry-After"] = str(int(fault.retry_after if fault.retry_after is not None else 1))
                elif fault.retry_after is not None:
                    headers["Retry-After"] = str(int(fault.retry_after))
                if fault.status is None:
                    raise ConnectionDropped()
                code = fault.code or default_code(fault.status)
                message = fault.message or f"fake: injected {fault.status} for {operation}"
                raise ServiceError(fault.status, code, message, headers)

    def _route_arm(self, request: Request):
        path = request.path
        method = request.method
        op_match = re.match(
            rf"^/subscriptions/[^/]+/providers/{PROVIDER}/locations/[^/]+"
            r"/(?P<kind>mfeOperationsStatus|mfeOperationResults)/(?P<op>[^/]+)$",
            path,
            re.IGNORECASE,
        )
        if op_match and method == "GET":
            results = op_match.group("kind").lower() == "mfeoperationresults"
            return "operations.get", lambda: self._operations.answer(op_match.group("op"), results=results)
        prefix = re.match(
            rf"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/{PROVIDER}/workspaces/([^/]+)(/.*)?$",
            path,
            re.IGNORECASE,
        )
        if not prefix or (prefix.group(1).lower(), prefix.group(2).lower(), prefix.group(3).lower()) != (
            self.subscription_id.lower(),
            self.resource_group.lower(),
            self.workspace_name.lower(),
        ):
            return "unknown", lambda: refuse(404, "ResourceNotFound", f"The Resource '{path}' was not found.")
        rest = [p for p in (prefix.group(4) or "").split("/") if p]
        body = request.body if isinstance(request.body, dict) else {}
        lowered = [p.lower() for p in rest]
        table: list[tuple[list[str], str, str, Callable]] = [
            (
                [],
                "GET",
                "workspaces.get",
                lambda: Response(
                    200,
                    workspace_resource(
                        self.workspace_id,
                        self.subscription_id,
                        self.resource_group,
                        self.workspace_name,
                        self.region,
                        self._workspace_guid,
                    ),
                ),
            ),
            (["datastores"], "GET", "datastores.list", lambda: self._list_datastores(request)),
            (["datastores", "*"], "GET", "datastores.get", lambda: self._get_datastore(rest[1])),
            (
                ["datastores", "*", "listsecrets"],
                "POST",
                "datastores.list_secrets",
                lambda: self._datastore_secrets(rest[1]),
            ),
            (["models"], "GET", "model_containers.list", lambda: self._list_model_containers(request)),
            (["models", "*"], "GET", "model_containers.get", lambda: self._get_model_container(rest[1])),
            (["models", "*"], "PUT", "model_containers.put", lambda: self._put_model_container(rest[1], body)),
            (
                ["models", "*", "versions"],
                "GET",
                "model_versions.list",
                lambda: self._list_model_versions(rest[1], request),
            ),
            (
                ["models", "*", "versions", "*"],
                "GET",
                "model_versions.get",
                lambda: self._get_model_version(rest[1], rest[3]),
            ),
            (
                ["models", "*", "versions", "*"],
                "PUT",
                "model_versions.put",
                lambda: self._http_put_model_version(rest[1], rest[3], body),
            ),
            (
                ["models", "*", "versions", "*"],
                "DELETE",
                "model_versions.delete",
                lambda: self._delete_model_version(rest[1], rest[3]),
            ),
            (["onlineendpoints"], "GET", "online_endpoints.list", lambda: self._list_endpoints()),
            (["onlineendpoints", "*"], "GET", "online_endpoints.get", lambda: self._get_endpoint(rest[1])),
            (["onlineendpoints", "*"], "PUT", "online_endpoints.put", lambda: self._put_endpoint(rest[1], body)),
            (["onlineendpoints", "*"], "DELETE", "online_endpoints.delete", lambda: self._delete_endpoint(rest[1])),
            (
                ["onlineendpoints", "*", "listkeys"],
                "POST",
                "online_endpoints.list_keys",
                lambda: self._list_keys(rest[1]),
            ),
            (["onlineendpoints", "*", "token"], "POST", "online_endpoints.get_token", lambda: self._get_token(rest[1])),
            (
                ["onlineendpoints", "*", "deployments"],
                "GET",
                "online_deployments.list",
                lambda: self._list_deployments(rest[1]),
            ),
            (
                ["onlineendpoints", "*", "deployments", "*"],
                "GET",
                "online_deployments.get",
                lambda: self._get_deployment(rest[1], rest[3]),
            ),
            (
                ["onlineendpoints", "*", "deployments", "*"],
                "PUT",
                "online_deployments.put",
                lambda: self._put_deployment(rest[1], rest[3], body),
            ),
            (
                ["onlineendpoints", "*", "deployments", "*"],
                "DELETE",
                "online_deployments.delete",
                lambda: self._delete_deployment(rest[1], rest[3]),
            ),
            (
                ["jobs"],
                "GET",
                "jobs.list",
                lambda: Response(200, {"value": self._jobs.list(request.query.get("listViewType")), "nextLink": None}),
            ),
            (["jobs", "*"], "GET", "jobs.get", lambda: Response(200, self._jobs.get(rest[1]))),
            (["jobs", "*"], "PUT", "jobs.put", lambda: self._put_job(rest[1], body)),
            (["jobs", "*", "cancel"], "POST", "jobs.cancel", lambda: self._cancel_job(rest[1])),
            (
                ["environments", "*", "versions", "*"],
                "GET",
                "environment_versions.get",
                lambda: self._get_asset(self.environment_version_id(rest[1], rest[3])),
            ),
            (
                ["environments", "*", "versions", "*"],
                "PUT",
                "environment_versions.put",
                lambda: self._put_asset(
                    self.environment_version_id(rest[1], rest[3]), body, ("image", "condaFile", "build")
                ),
            ),
            (
                ["codes", "*", "versions", "*"],
                "GET",
                "code_versions.get",
                lambda: self._get_asset(self.code_version_id(rest[1], rest[3])),
            ),
            (
                ["codes", "*", "versions", "*"],
                "PUT",
                "code_versions.put",
                lambda: self._put_asset(self.code_version_id(rest[1], rest[3]), body, ("codeUri",)),
            ),
            (
                ["data"],
                "GET",
                "data_containers.list",
                lambda: Response(
                    200, {"value": self._data.list_containers(request.query.get("listViewType")), "nextLink": None}
                ),
            ),
            (["data", "*"], "GET", "data_containers.get", lambda: Response(200, self._data.get_container(rest[1]))),
            (
                ["data", "*", "versions"],
                "GET",
                "data_versions.list",
                lambda: Response(
                    200,
                    {"value": self._data.list_versions(rest[1], request.query.get("listViewType")), "nextLink": None},
                ),
            ),
            (
                ["data", "*", "versions", "*"],
                "GET",
                "data_versions.get",
                lambda: Response(200, self._data.get_version(rest[1], rest[3])),
            ),
            (
                ["data", "*", "versions", "*"],
                "PUT",
                "data_versions.put",
                lambda: self._put_data_version(rest[1], rest[3], body),
            ),
        ]
        return _match(table, method, lowered, path)

    def _route_api(self, request: Request):
        """The workspace's and the registries' discovery, and run history (the data-plane host)."""
        path, method = request.path, request.method
        if request.host == DISCOVERY_HOST:
            found = re.match(r"^/registrymanagement/v1\.0/registries/([^/]+)/discovery$", path)
            if found and method == "GET":
                return "registries.discovery", lambda: Response(200, self._require_registry(found.group(1)).discovery())
        if request.host == f"{self.region}.api.azureml.ms":
            if path == "/discovery" and method == "GET":
                return "workspaces.discovery", lambda: Response(200, self._discovery_document())
            found = re.match(
                rf"^/history/v1\.0{re.escape(self.workspace_id)}/runs/([^/]+)/details$", path, re.IGNORECASE
            )
            if found and method == "GET":
                return "run_history.get_details", lambda: Response(200, self._jobs.run_details(found.group(1)))
        return "unknown", lambda: refuse(404, "NoRoute", f"fake: no route for {method} {request.host}{path}")

    def _route_registry(self, request: Request):
        """A registry's data-plane (MFE) endpoint: its model versions, imports and their operations."""
        method = request.method
        path = request.path[len(MFE_PREFIX) :] if request.path.startswith(MFE_PREFIX) else ""
        operations = self._registry_operations[request.host]
        op_match = re.match(
            rf"^/subscriptions/[^/]+/providers/{PROVIDER}/locations/[^/]+"
            r"/(?P<kind>mfeOperationsStatus|mfeOperationResults)/(?P<op>[^/]+)$",
            path,
            re.IGNORECASE,
        )
        if op_match and method == "GET":
            results = op_match.group("kind").lower() == "mfeoperationresults"
            return "operations.get", lambda: operations.answer(op_match.group("op"), results=results)
        prefix = re.match(
            rf"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/{PROVIDER}/registries/([^/]+)(/.*)?$",
            path,
            re.IGNORECASE,
        )
        registry = self._registries.get(prefix.group(3)) if prefix else None
        if registry is None or (prefix.group(1).lower(), prefix.group(2).lower()) != (
            registry.subscription_id.lower(),
            registry.resource_group.lower(),
        ):
            return "unknown", lambda: refuse(404, "ResourceNotFound", f"The Resource '{request.path}' was not found.")
        rest = [p for p in (prefix.group(4) or "").split("/") if p]
        body = request.body if isinstance(request.body, dict) else {}
        top = request.query.get("$top")
        table = [
            (
                ["models", "*", "versions"],
                "GET",
                "registry_model_versions.list",
                lambda: Response(
                    200,
                    {
                        "value": registry.list_versions(
                            rest[1], request.query.get("$orderBy", ""), int(top) if top else None
                        ),
                        "nextLink": None,
                    },
                ),
            ),
            (
                ["models", "*", "versions", "*"],
                "GET",
                "registry_model_versions.get",
                lambda: Response(200, registry.get_version(rest[1], rest[3])),
            ),
            (
                ["models", "*", "versions", "*"],
                "PUT",
                "registry_model_versions.put",
                lambda: self._put_registry_model_version(registry, rest[1], rest[3], body, operations),
            ),
            (
                ["tempdatarefs", "*", "versions", "*"],
                "PUT",
                "registry_temp_data_refs.put",
                lambda: Response(200, registry.temporary_reference(rest[1], rest[3])),
            ),
            (
                ["import"],
                "POST",
                "registry_assets.import",
                lambda: self._import_to_registry(registry, body, operations, request.path),
            ),
        ]
        return _match(table, method, [p.lower() for p in rest], request.path)

    def _check_operation_name(self, operation: str) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; accepted: {', '.join(sorted(OPERATIONS))}")

    # ------------------------------------------------------------------ workspace and datastores
    def _list_datastores(self, request: Request) -> Response:
        items = list(self._datastores.values())
        if request.query.get("isDefault", "").lower() == "true":
            items = [d for d in items if d["properties"]["isDefault"]]
        names = request.query.get("names")
        if names:
            wanted = set(names.split(","))
            items = [d for d in items if d["name"] in wanted]
        return Response(200, {"value": items, "nextLink": None})

    def _get_datastore(self, name: str) -> Response:
        if name not in self._datastores:
            refuse(404, "ResourceNotFound", f"Datastore '{name}' not found in workspace '{self.workspace_name}'.")
        return Response(200, self._datastores[name])

    def _datastore_secrets(self, name: str) -> Response:
        self._get_datastore(name)
        return Response(200, {"secretsType": "AccountKey", "key": "ZmFrZS1zdG9yYWdlLWtleQ=="})

    # ------------------------------------------------------------------ models
    def _model_container(self, name: str) -> dict:
        entry = self._models.get(name)
        if entry is None:
            refuse(
                404,
                "ResourceNotFound",
                f"Could not find asset with name '{name}' in workspace '{self.workspace_name}'.",
            )
        return entry

    def _get_model_container(self, name: str) -> Response:
        return Response(200, self._model_container(name)["container"])

    def _put_model_container(self, name: str, body: dict) -> Response:
        props = body.get("properties") or {}
        entry = self._models.get(name)
        created = entry is None
        if created:
            entry = self._models[name] = {"container": self._new_container(name), "versions": {}}
        container = entry["container"]
        container["properties"].update(
            description=props.get("description"),
            tags=dict(props.get("tags") or {}),
            properties=dict(props.get("properties") or {}),
            isArchived=bool(props.get("isArchived", False)),
        )
        container["systemData"] = self._clock.system_data(container.get("systemData"))
        return Response(201 if created else 200, container)

    def _new_container(self, name: str) -> dict:
        return {
            "id": f"{self.workspace_id}/models/{name}",
            "name": name,
            "type": f"{PROVIDER}/workspaces/models",
            "properties": {
                "description": None,
                "tags": {},
                "properties": {},
                "isArchived": False,
                "latestVersion": None,
                "nextVersion": "1",
                "provisioningState": "Succeeded",
            },
            "systemData": self._clock.system_data(),
        }

    def _list_model_containers(self, request: Request) -> Response:
        items = [e["container"] for e in self._models.values()]
        items = filter_archived(items, request.query.get("listViewType"))
        return Response(200, {"value": items, "nextLink": None})

    def _get_model_version(self, name: str, version: str) -> Response:
        resource = self.model_version(name, version)
        if resource is None:
            refuse(
                404,
                "ResourceNotFound",
                f"Could not find asset with ID: azureml://locations/{self.region}/workspaces/"
                f"{self._workspace_guid}/models/{name}/versions/{version}",
            )
        return Response(200, resource)

    def _list_model_versions(self, name: str, request: Request) -> Response:
        entry = self._models.get(name)
        items = list(entry["versions"].values()) if entry else []
        items = filter_archived(items, request.query.get("listViewType"))
        if "version" in request.query:
            items = [i for i in items if i["name"] == request.query["version"]]
        if "tags" in request.query:
            items = [i for i in items if tags_match(i["properties"]["tags"], request.query["tags"])]
        if request.query.get("$orderBy", "").lower().startswith("createdtime"):
            items.sort(
                key=lambda i: i["systemData"]["createdAt"], reverse=request.query["$orderBy"].lower().endswith("desc")
            )
        skip = int(request.query.get("$skip", "0") or 0)
        top = int(request.query["$top"]) if "$top" in request.query else None
        page_size = 100
        window = items[skip:]
        if top is not None:
            window = window[:top]
            next_link = None
        else:
            next_link = None
            if len(window) > page_size:
                next_link = _replace_query(request.url, {"$skip": str(skip + page_size)})
            window = window[:page_size]
        return Response(200, {"value": window, "nextLink": next_link})

    def _http_put_model_version(self, name: str, version: str, body: dict) -> Response:
        resource, created = self._put_model_version(name, version, body)
        return Response(201 if created else 200, resource)

    def _put_model_version(self, name: str, version: str, body: dict) -> tuple[dict, bool]:
        check_asset_name_and_version(name, version)
        props = require_properties(body)
        uri = props.get("modelUri")
        check_asset_uri(uri, "modelUri", "Model", self._datastores)
        job_output = JOB_OUTPUT_URI.match(uri)
        if job_output and (
            not self._jobs.exists(job_output.group("job"))
            or job_output.group("output") not in self._jobs.declared_outputs(job_output.group("job"))
        ):
            refuse(400, "UserError", f"modelUri '{uri}' names no output of an existing job.")
        registry_model = REGISTRY_MODEL_URI.match(uri)
        if registry_model and self._registry_version_of(uri) is None:
            refuse(400, "UserError", f"modelUri '{uri}' names no model version of a registry this workspace reaches.")
        entry = self._models.get(name)
        if entry is None:
            entry = self._models[name] = {"container": self._new_container(name), "versions": {}}
        previous = entry["versions"].get(version)
        if previous is not None and previous["properties"]["modelUri"] != uri:
            refuse(400, "UserError", "Asset paths cannot be updated.")
        resource = {
            "id": self.model_version_id(name, version),
            "name": version,
            "type": f"{PROVIDER}/workspaces/models/versions",
            "properties": model_version_properties(
                props, uri, job_output.group("job") if job_output else props.get("jobName")
            ),
            "systemData": self._clock.system_data(previous["systemData"] if previous else None),
        }
        entry["versions"][version] = resource
        container = entry["container"]["properties"]
        container["latestVersion"] = version
        numeric = [int(v) for v in entry["versions"] if v.isdigit()]
        container["nextVersion"] = str(max(numeric) + 1) if numeric else "1"
        return resource, previous is None

    def _delete_model_version(self, name: str, version: str) -> Response:
        entry = self._models.get(name)
        if not entry or version not in entry["versions"]:
            return Response(204)
        del entry["versions"][version]
        return Response(200)

    # ------------------------------------------------------------------ endpoints
    def _require_endpoint(self, name: str) -> dict:
        resource = self._endpoints.get(name)
        if resource is None:
            refuse(404, "ResourceNotFound", f"Online endpoint '{name}' not found in workspace '{self.workspace_name}'.")
        return resource

    def _require_deployment(self, endpoint: str, name: str) -> dict:
        self._require_endpoint(endpoint)
        resource = self._deployments.get((endpoint, name))
        if resource is None:
            refuse(404, "ResourceNotFound", f"Deployment '{name}' not found on online endpoint '{endpoint}'.")
        return resource

    def _get_endpoint(self, name: str) -> Response:
        return Response(200, self._require_endpoint(name))

    def _list_endpoints(self) -> Response:
        return Response(200, {"value": list(self._endpoints.values()), "nextLink": None})

    def _refuse_if_busy(self, endpoint: str, deployment: str | None = None) -> None:
        resource = self._endpoints.get(endpoint)
        if resource is None:
            return
        state = resource["properties"].get("provisioningState")
        if state in BUSY_STATES:
            if endpoint in self._busy_writes:
                self._busy_writes[endpoint] -= 1
                if self._busy_writes[endpoint] <= 0:
                    del self._busy_writes[endpoint]
                    resource["properties"]["provisioningState"] = "Succeeded"
            raise busy_refusal(endpoint, state, deployment)

    def _validate_endpoint(self, name: str, body: dict) -> None:
        check_endpoint_name(name)
        props = require_properties(body)
        check_auth_mode(props.get("authMode"))
        existing = {d for (e, d) in self._deployments if e == name}
        check_traffic(name, props.get("traffic") or {}, props.get("mirrorTraffic") or {}, existing)

    def _store_endpoint(self, name: str, body: dict) -> dict:
        previous = self._endpoints.get(name)
        props = body["properties"]
        identity = dict(body.get("identity") or {"type": "SystemAssigned"})
        if identity.get("type", "").lower().startswith("systemassigned"):
            old = (previous or {}).get("identity") or {}
            identity["principalId"] = old.get("principalId") or str(uuid.uuid4())
            identity["tenantId"] = old.get("tenantId") or str(uuid.UUID(int=2))
        resource = {
            "id": self.endpoint_id(name),
            "name": name,
            "type": f"{PROVIDER}/workspaces/onlineEndpoints",
            "location": body.get("location") or self.region,
            "kind": body.get("kind") or "Managed",
            "tags": dict(body.get("tags") or {}),
            "identity": identity,
            "properties": {
                "authMode": props.get("authMode"),
                "description": props.get("description"),
                "properties": dict(props.get("properties") or {}),
                "traffic": {d: v for d, v in (props.get("traffic") or {}).items()},
                "mirrorTraffic": {d: v for d, v in (props.get("mirrorTraffic") or {}).items()},
                "publicNetworkAccess": props.get("publicNetworkAccess") or "Enabled",
                "scoringUri": self.scoring_uri(name),
                "swaggerUri": self.scoring_uri(name).replace("/score", "/swagger.json"),
                "provisioningState": "Creating" if previous is None else "Updating",
            },
            "systemData": self._clock.system_data(previous["systemData"] if previous else None),
        }
        if props.get("compute"):
            resource["properties"]["compute"] = props["compute"]
        self._endpoints[name] = resource
        if name not in self._keys:
            self._keys[name] = {"primaryKey": secrets.token_urlsafe(24), "secondaryKey": secrets.token_urlsafe(24)}
        return resource

    def _put_endpoint(self, name: str, body: dict) -> Response:
        creating = name not in self._endpoints
        self._refuse_if_busy(name)
        self._validate_endpoint(name, body)
        previous = None if creating else _copy(self._endpoints[name])
        lro_fault = self._take_lro_fault("online_endpoints.put", self.endpoint_id(name))
        resource = self._store_endpoint(name, body)
        self._stamp_endpoint_properties(resource)

        def finish(succeeded: bool) -> None:
            current = self._endpoints.get(name)
            if current is None:
                return
            if succeeded:
                current["properties"]["provisioningState"] = "Succeeded"
            else:
                if previous is not None:
                    current["properties"]["traffic"] = previous["properties"]["traffic"]
                    current["properties"]["mirrorTraffic"] = previous["properties"]["mirrorTraffic"]
                current["properties"]["provisioningState"] = "Failed"

        return self._accepted(resource, finish, lro_fault)

    def _delete_endpoint(self, name: str) -> Response:
        if name not in self._endpoints:
            return Response(204)
        self._refuse_if_busy(name)
        self._endpoints[name]["properties"]["provisioningState"] = "Deleting"

        def finish(succeeded: bool) -> None:
            self._endpoints.pop(name, None)
            for key in [k for k in self._deployments if k[0] == name]:
                del self._deployments[key]

        return self._accepted_delete(finish)

    def _list_keys(self, name: str) -> Response:
        resource = self._require_endpoint(name)
        if resource["properties"]["authMode"] != "Key":
            refuse(400, "UserError", f"Endpoint '{name}' does not use key authentication.")
        return Response(200, dict(self._keys[name]))

    def _get_token(self, name: str) -> Response:
        resource = self._require_endpoint(name)
        if resource["properties"]["authMode"] != "AMLToken":
            refuse(400, "UserError", f"Endpoint '{name}' does not use AMLToken authentication.")
        token = self._tokens.setdefault(name, secrets.token_urlsafe(24))
        expiry = int(datetime.now(UTC).timestamp()) + 3600
        return Response(
            200,
            {"accessToken": token, "expiryTimeUtc": expiry, "refreshAfterTimeUtc": expiry - 600, "tokenType": "Bearer"},
        )

    # ------------------------------------------------------------------ deployments
    def _get_deployment(self, endpoint: str, name: str) -> Response:
        return Response(200, self._require_deployment(endpoint, name))

    def _list_deployments(self, endpoint: str) -> Response:
        self._require_endpoint(endpoint)
        items = [d for (e, _), d in self._deployments.items() if e == endpoint]
        return Response(200, {"value": items, "nextLink": None})

    def _validate_deployment(self, endpoint: str, name: str, body: dict) -> None:
        self._require_endpoint(endpoint)
        check_deployment_name(name)
        props = require_properties(body)
        if props.get("endpointComputeType") not in ("Managed", "Kubernetes"):
            refuse(
                400,
                "UserError",
                f"endpointComputeType '{props.get('endpointComputeType')}' is invalid; accepted: Managed, Kubernetes.",
            )
        model = props.get("model")
        if model and model.lower().startswith(self.workspace_id.lower() + "/models/"):
            parts = model.split("/")
            if self.model_version(parts[-3], parts[-1]) is None:
                refuse(400, "UserError", f"Model '{model}' referenced by deployment '{name}' does not exist.")
        if model and REGISTRY_MODEL_URI.match(model) and self._registry_version_of(model) is None:
            refuse(400, "UserError", f"Model '{model}' referenced by deployment '{name}' does not exist.")
        for field_name, asset in (
            ("codeConfiguration.codeId", (props.get("codeConfiguration") or {}).get("codeId")),
            ("environmentId", props.get("environmentId")),
        ):
            if (
                asset
                and asset.lower().startswith(self.workspace_id.lower() + "/")
                and asset.lower() not in self._assets
            ):
                refuse(400, "UserError", f"{field_name} '{asset}' of deployment '{name}' does not exist.")
        capacity = (body.get("sku") or {}).get("capacity", 1)
        if not isinstance(capacity, int) or capacity < 1:
            refuse(400, "UserError", f"sku.capacity (instance count) is {capacity!r}; it must be an integer >= 1.")

    def _store_deployment(self, endpoint: str, name: str, body: dict) -> dict:
        previous = self._deployments.get((endpoint, name))
        props = dict(body["properties"])
        props["provisioningState"] = "Creating" if previous is None else "Updating"
        resource = {
            "id": f"{self.endpoint_id(endpoint)}/deployments/{name}",
            "name": name,
            "type": f"{PROVIDER}/workspaces/onlineEndpoints/deployments",
            "location": body.get("location") or self.region,
            "kind": body.get("kind") or "Managed",
            "tags": dict(body.get("tags") or {}),
            "sku": dict(body.get("sku") or {"name": "Default", "capacity": 1}),
            "properties": props,
            "systemData": self._clock.system_data(previous["systemData"] if previous else None),
        }
        self._deployments[(endpoint, name)] = resource
        return resource

    def _put_deployment(self, endpoint: str, name: str, body: dict) -> Response:
        self._require_endpoint(endpoint)
        self._refuse_if_busy(endpoint, deployment=name)
        previous = self._deployments.get((endpoint, name))
        if previous is not None and previous["properties"].get("provisioningState") in BUSY_STATES:
            refuse(
                409,
                "Conflict",
                f"Conflicting operation: deployment '{name}' is in provisioning state "
                f"'{previous['properties']['provisioningState']}'.",
            )
        self._validate_deployment(endpoint, name, body)
        resource_id = f"{self.endpoint_id(endpoint)}/deployments/{name}"
        lro_fault = self._take_lro_fault("online_deployments.put", resource_id)
        resource = self._store_deployment(endpoint, name, body)
        self._health.pop((endpoint, name), None)

        def finish(succeeded: bool) -> None:
            current = self._deployments.get((endpoint, name))
            if current is None:
                return
            if succeeded:
                current["properties"]["provisioningState"] = "Succeeded"
            else:
                self.mark_unhealthy(endpoint, name, scoring_status=503, provisioning_state="Failed")

        return self._accepted(resource, finish, lro_fault)

    def _delete_deployment(self, endpoint: str, name: str) -> Response:
        self._require_endpoint(endpoint)
        if (endpoint, name) not in self._deployments:
            return Response(204)
        self._refuse_if_busy(endpoint)
        props = self._endpoints[endpoint]["properties"]
        if props["traffic"].get(name) or props["mirrorTraffic"].get(name):
            refuse(
                400,
                "UserError",
                f"Deployment '{name}' cannot be deleted while it receives traffic "
                f"(traffic {props['traffic']}, mirrorTraffic {props['mirrorTraffic']}). "
                "Set its traffic to 0 first.",
            )
        self._deployments[(endpoint, name)]["properties"]["provisioningState"] = "Deleting"

        def finish(succeeded: bool) -> None:
            self._deployments.pop((endpoint, name), None)
            self._scorers.pop((endpoint, name), None)
            self._health.pop((endpoint, name), None)

        return self._accepted_delete(finish)

    # ------------------------------------------------------------------ jobs
    def _put_job(self, name: str, body: dict) -> Response:
        resource, created = self._jobs.put(name, body, self._check_job_references)
        return Response(201 if created else 200, resource)

    def _check_job_references(self, name: str, props: dict) -> None:
        """What the service checks when a job is created: the assets and compute it names exist."""
        prefix = self.workspace_id.lower() + "/"
        for field_name, asset in (("codeId", props.get("codeId")), ("environmentId", props.get("environmentId"))):
            if asset and asset.lower().startswith(prefix) and asset.lower() not in self._assets:
                refuse(400, "UserError", f"{field_name} '{asset}' of job '{name}' does not exist.")
        compute_id = props["computeId"]
        compute = (
            self._computes.get(compute_id.rsplit("/", 1)[-1])
            if compute_id.lower().startswith(prefix + "computes/")
            else None
        )
        if compute is None:
            refuse(
                400,
                "UserError",
                f"Compute '{compute_id}' of job '{name}' was not found in workspace '{self.workspace_name}'.",
            )
        nodes = (props.get("resources") or {}).get("instanceCount", 1)
        max_nodes = compute["properties"]["properties"]["scaleSettings"]["maxNodeCount"]
        if not isinstance(nodes, int) or nodes < 1 or nodes > max_nodes:
            refuse(
                400,
                "UserError",
                f"Job '{name}' asks for {nodes!r} nodes; compute '{compute['name']}' has 1 to {max_nodes}.",
            )
        distribution = props.get("distribution")
        if distribution is not None:
            per_node = distribution.get("processCountPerInstance")
            if distribution.get("distributionType") != "PyTorch" or not isinstance(per_node, int) or per_node < 1:
                refuse(
                    400,
                    "UserError",
                    f"Job '{name}': distribution {distribution} is invalid; accepted here: "
                    "PyTorch with an integer processCountPerInstance >= 1.",
                )
        for input_name, job_input in (props.get("inputs") or {}).items():
            uri = (job_input or {}).get("uri") or ""
            if uri.lower().startswith(prefix + "data/"):
                parts = uri.split("/")
                if self._data.version(parts[-3], parts[-1]) is None:
                    refuse(
                        400, "UserError", f"Input '{input_name}' of job '{name}': data asset '{uri}' does not exist."
                    )

    def _cancel_job(self, name: str) -> Response:
        finish = self._jobs.request_cancel(name)
        fault = self._take_lro_fault("jobs.cancel", f"{self.workspace_id}/jobs/{name}")
        op = self._start_operation(finish, fault)
        return Response(202, None, {"Location": self._operations.results_url(op), "Retry-After": "0"})

    def _discovery_document(self) -> dict:
        """The workspace's discovery URL (GET https://<region>.api.azureml.ms/discovery)."""
        api = f"https://{self.region}.api.azureml.ms"
        return {
            "api": api,
            "catalog": api,
            "experimentation": api,
            "gallery": api,
            "history": api,
            "hyperdrive": api,
            "labeling": api,
            "modelmanagement": api,
            "pipelines": api,
            "studiotrace": api,
            "studio": "https://ml.azure.com",
        }

    # ------------------------------------------------------------------ code, environment and data versions
    def _get_asset(self, asset_id: str) -> Response:
        resource = self._assets.get(asset_id.lower())
        if resource is None:
            refuse(404, "ResourceNotFound", f"Could not find asset '{asset_id}'.")
        return Response(200, resource)

    def _put_asset(self, asset_id: str, body: dict, defining: tuple) -> Response:
        """A code or environment version; what defines it (its path, image, conda file) cannot change."""
        props = require_properties(body)
        if not any(props.get(key) for key in defining):
            refuse(
                400,
                "UserError",
                f"{asset_id.split('/')[-4][:-1].capitalize()} version requires one of {', '.join(defining)}.",
            )
        previous = self._assets.get(asset_id.lower())
        if previous is not None and any(previous["properties"].get(k) != props.get(k) for k in defining):
            refuse(
                400,
                "UserError",
                "Asset paths cannot be updated."
                if "codeUri" in defining
                else f"Environment version '{asset_id}' exists with another definition; environment versions "
                "are immutable.",
            )
        resource = self._add_asset(asset_id, {k: v for k, v in props.items() if v is not None})
        return Response(201 if previous is None else 200, resource)

    def _put_data_version(self, name: str, version: str, body: dict) -> Response:
        resource, created = self._data.put_version(name, version, body)
        return Response(201 if created else 200, resource)

    # ------------------------------------------------------------------ registries
    def _require_registry(self, name: str) -> Registry:
        registry = self._registries.get(name)
        if registry is None:
            refuse(404, "ResourceNotFound", f"Registry '{name}' was not found.")
        return registry

    def _registry_version_of(self, uri: str) -> dict | None:
        """The registry model version an azureml://registries/... URI names, None when there is none."""
        found = REGISTRY_MODEL_URI.match(uri or "")
        registry = self._registries.get(found.group("registry")) if found else None
        return None if registry is None else registry.version(found.group("name"), found.group("version"))

    def _require_registry_known(self, name: str) -> Registry:
        if name not in self._registries:
            raise KeyError(f"no registry named {name!r}; added: {sorted(self._registries)}")
        return self._registries[name]

    def _put_registry_model_version(
        self, registry: Registry, name: str, version: str, body: dict, operations: Operations
    ) -> Response:
        resource, created = registry.put_version(name, version, body)
        op = operations.start(self.lro_polls, lambda succeeded: None, None, REGISTRY_API_VERSION)
        return Response(201 if created else 200, _copy(resource), {"Azure-AsyncOperation": operations.status_url(op)})

    def _import_to_registry(self, registry: Registry, body: dict, operations: Operations, path: str) -> Response:
        """POST .../registries/{r}/import: copy a workspace model version into the registry (models.share)."""
        props = body.get("properties") or {}
        if props.get("referenceType") != "Id":
            refuse(400, "UserError", f"referenceType '{props.get('referenceType')}' is invalid; accepted: Id.")
        source = WORKSPACE_ASSET_ID.match(props.get("sourceAssetId") or "")
        if not source:
            refuse(
                400,
                "UserError",
                f"sourceAssetId '{props.get('sourceAssetId')}' is not an asset id of the form "
                "azureml://locations/<region>/workspaces/<workspace id>/<type>/<name>/versions/<v>.",
            )
        if source.group("kind") != "models":
            refuse(400, "UserError", f"fake: imports of '{source.group('kind')}' are not served (models only).")
        if (source.group("loc"), source.group("guid")) != (self.region, self._workspace_guid):
            refuse(404, "ResourceNotFound", f"Source asset '{props['sourceAssetId']}' was not found.")
        model = self.model_version(source.group("name"), source.group("version"))
        if model is None:
            refuse(404, "ResourceNotFound", f"Source asset '{props['sourceAssetId']}' was not found.")
        name = props.get("destinationName") or source.group("name")
        version = props.get("destinationVersion") or source.group("version")
        registry.check_import(name, version)
        snapshot = _copy(model)
        try:
            files = self._files_at(model["properties"]["modelUri"])
        except FileNotFoundError:
            files = {}  # a version registered without files the fake holds: an import copies nothing
        fault = self._take(self._lro_faults, "registry_assets.import", path)

        def finish(succeeded: bool) -> None:
            if succeeded:
                registry.import_model(name, version, snapshot, files)

        failure = None if fault is None else (fault.message or "fake: the import failed")
        op = operations.start(self.lro_polls, finish, failure, REGISTRY_API_VERSION)
        return Response(
            202, None, {"Azure-AsyncOperation": operations.status_url(op), "Location": operations.results_url(op)}
        )

    # ------------------------------------------------------------------ long-running operations
    def _take_lro_fault(self, operation: str, path: str) -> _Fault | None:
        return self._take(self._lro_faults, operation, path)

    def _stamp_endpoint_properties(self, resource: dict) -> None:
        """The service records these in the endpoint's own properties bag (and clients send them back)."""
        resource["properties"]["properties"]["azureml.onlineendpointid"] = resource["id"].lower()

    def _start_operation(self, finish: Callable[[bool], None], fault: _Fault | None):
        failure = None if fault is None else (fault.message or "fake: the operation failed")
        return self._operations.start(self.lro_polls, finish, failure, self._api_version)

    def _accepted(self, resource: dict, finish, fault) -> Response:
        op = self._start_operation(finish, fault)
        status_url = self._operations.status_url(op)
        if resource.get("type") == f"{PROVIDER}/workspaces/onlineEndpoints":
            resource["properties"]["properties"]["AzureAsyncOperationUri"] = status_url
        headers = {"Azure-AsyncOperation": status_url, "x-ms-async-operation-timeout": "PT1H"}
        # The service answers 201 with Azure-AsyncOperation for creates and updates alike.
        return Response(201, _copy(resource), headers)

    def _accepted_delete(self, finish) -> Response:
        op = self._start_operation(finish, None)
        return Response(
            202,
            None,
            {
                "Azure-AsyncOperation": self._operations.status_url(op),
                "Location": self._operations.results_url(op),
                "x-ms-async-operation-timeout": "PT1H",
            },
        )

    # ------------------------------------------------------------------ scoring (data plane)
    def _score(self, request: Request) -> Response:
        endpoint = request.host.split(".", 1)[0]
        resource = self._endpoints.get(endpoint)
        if resource is None or request.path != "/score" or request.method != "POST":
            return Response(404, "Not Found")
        auth = request.headers.get("authorization", "")
        mode = resource["properties"]["authMode"]
        if mode == "Key":
            valid = {self._keys[endpoint]["primaryKey"], self._keys[endpoint]["secondaryKey"]}
        elif mode == "AADToken":  # an Entra token for the Azure ML data plane, not the ARM one
            valid = {FakeCredential.token_for((ENTRA_ML_SCOPE,))}
        else:
            valid = {self._tokens.get(endpoint)}
        if not auth.startswith("Bearer ") or auth[len("Bearer ") :] not in valid:
            return Response(401, "Unauthorized: invalid or missing key")
        props = resource["properties"]
        chosen = request.headers.get("azureml-model-deployment")
        if chosen:
            if (endpoint, chosen) not in self._deployments:
                return Response(404, f"No deployment '{chosen}' on endpoint '{endpoint}'.")
        else:
            live = {d: v for d, v in props["traffic"].items() if v}
            if not live:
                return Response(503, "No deployment receives traffic on this endpoint.")
            chosen = self._random.choices(list(live), weights=list(live.values()))[0]
            for mirror, pct in props["mirrorTraffic"].items():
                if pct and self._random.random() * 100 < pct and self._healthy(endpoint, mirror):
                    scorer = self._scorer_for(endpoint, mirror)
                    if scorer is not None:
                        self.mirrored.append((endpoint, mirror, request.body))
                        try:
                            scorer(request.body)
                        except Exception:  # mirror responses and failures never reach the caller
                            pass
        if not self._healthy(endpoint, chosen):
            health = self._health.get((endpoint, chosen))
            return Response(
                health.scoring_status if health else 503,
                f"Deployment '{chosen}' is not healthy.",
                {"azureml-model-deployment": chosen},
            )
        scorer = self._scorer_for(endpoint, chosen)
        if scorer is None:
            return Response(500, f"fake: no scorer was set for deployment '{chosen}'.")
        try:
            result = scorer(request.body)
        except Exception as exc:  # the inference server answers 500 with the exception text
            return Response(
                500, f"An unexpected error occurred in scoring script: {exc}", {"azureml-model-deployment": chosen}
            )
        self.scored.append((endpoint, chosen, request.body))
        return Response(200, result, {"azureml-model-deployment": chosen})

    def _scorer_for(self, endpoint: str, deployment: str):
        if (endpoint, deployment) not in self._scorers and self.scorer_factory is not None:
            self._scorers[(endpoint, deployment)] = self.scorer_factory(endpoint, deployment)
        return self._scorers.get((endpoint, deployment))

    def _healthy(self, endpoint: str, deployment: str) -> bool:
        resource = self._deployments.get((endpoint, deployment))
        return (
            resource is not None
            and (endpoint, deployment) not in self._health
            and resource["properties"].get("provisioningState") in ("Succeeded", "Updating")
        )


OPERATIONS = frozenset(
    {
        "workspaces.get",
        "datastores.list",
        "datastores.get",
        "datastores.list_secrets",
        "model_containers.list",
        "model_containers.get",
        "model_containers.put",
        "model_versions.list",
        "model_versions.get",
        "model_versions.put",
        "model_versions.delete",
        "online_endpoints.list",
        "online_endpoints.get",
        "online_endpoints.put",
        "online_endpoints.delete",
        "online_endpoints.list_keys",
        "online_endpoints.get_token",
        "online_deployments.list",
        "online_deployments.get",
        "online_deployments.put",
        "online_deployments.delete",
        "jobs.list",
        "jobs.get",
        "jobs.put",
        "jobs.cancel",
        "run_history.get_details",
        "workspaces.discovery",
        "environment_versions.get",
        "environment_versions.put",
        "code_versions.get",
        "code_versions.put",
        "data_containers.list",
        "data_containers.get",
        "data_versions.list",
        "data_versions.get",
        "data_versions.put",
        "registries.discovery",
        "registry_model_versions.list",
        "registry_model_versions.get",
        "registry_model_versions.put",
        "registry_temp_data_refs.put",
        "registry_assets.import",
        "operations.get",
        "score",
    }
)


_DEFAULT = object()


def gateway_for(fake: FakeAzureML, retry=None, sleep=None, uploader=_DEFAULT, downloader=_DEFAULT):
    """An AzureMLGateway on the fake's workspace, credential and transport; sleeps are recorded in
    fake.gateway_sleeps, not slept; model files go to and come from the fake's blob store."""
    from infra.azureml.gateway import AzureMLGateway, RetryPolicy

    return AzureMLGateway(
        fake.workspace_ref(),
        credential=fake.credential,
        transport=fake.transport,
        retry=retry or RetryPolicy(),
        sleep=sleep or fake.gateway_sleeps.append,
        uploader=fake.upload if uploader is _DEFAULT else uploader,
        downloader=fake.download_folder if downloader is _DEFAULT else downloader,
    )


def _match(table: list, method: str, lowered: list, path: str):
    """The (operation, action) of the first route whose pattern ('*' matches one segment) and verb fit."""
    for pattern, verb, operation, action in table:
        if (
            verb == method
            and len(pattern) == len(lowered)
            and all(p == "*" or p == seg for p, seg in zip(pattern, lowered, strict=False))
        ):
            return operation, action
    return "unknown", lambda: refuse(
        405 if any(len(p) == len(lowered) for p, *_ in table) else 404, "NoRoute", f"fake: no route for {method} {path}"
    )


def _is_write(method: str, path: str) -> bool:
    if method in ("PUT", "PATCH", "DELETE"):
        return True
    if method == "POST":
        return path.rstrip("/").rsplit("/", 1)[-1] not in READ_ONLY_ACTIONS and "/subscriptions/" in path
    return False


def _replace_query(url: str, updates: dict) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(updates)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _copy(resource: dict) -> dict:
    return copy.deepcopy(resource)
