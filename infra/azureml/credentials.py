"""The one place the project chooses its Azure credential: the gateway (so every release provider),
`python -m model submit` and the scripts get theirs from `azure_credential()`.

Why not DefaultAzureCredential alone: in CI its chain ends at the CLI session that azure/login (GitHub)
or AzureCLI@2 (Azure Pipelines) left, made from one OIDC token that the CLI cannot renew. Its access
token lasts about an hour; after that every call fails with AADSTS700024 "Client assertion is not
within its valid time range" (Azure/login#180, #290). A training job waited on for hours, or a long
`pulumi up`, outlives it. The CI credentials below exchange a fresh OIDC token whenever they need a
new access token: azure-identity's ClientAssertionCredential "will call [func] every time it acquires
a new token" (azure/identity/_credentials/client_assertion.py), and AzurePipelinesCredential is a
ClientAssertionCredential whose func asks the pipeline's OIDC endpoint (_credentials/azure_pipelines.py).

Chosen from the environment, first match wins (`credential_kind`):
1. "azure-pipelines": an AzureCLI@2 step on a workload-identity-federation service connection. The task
   sets AZURESUBSCRIPTION_CLIENT_ID, AZURESUBSCRIPTION_TENANT_ID and AZURESUBSCRIPTION_SERVICE_CONNECTION_ID,
   the agent SYSTEM_OIDCREQUESTURI; the step maps `SYSTEM_ACCESSTOKEN: $(System.AccessToken)`.
   -> AzurePipelinesCredential (which is not in DefaultAzureCredential's chain).
2. "github-actions": a job with `permissions: id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL and
   ACTIONS_ID_TOKEN_REQUEST_TOKEN) and the identity's AZURE_CLIENT_ID and AZURE_TENANT_ID (or ARM_CLIENT_ID and
   ARM_TENANT_ID, as pulumi-stack.yml sets them). -> ClientAssertionCredential whose assertion is a new GitHub
   ID token for the audience api://AzureADTokenExchange each time. A GitHub ID token lasts 5 minutes; the request
   token that fetches them lasts the job (about 6 hours, azure-cli#28778), which bounds a run.
   WorkloadIdentityCredential does not fit here: it re-reads a token file (at most every 10 minutes,
   _credentials/workload_identity.py TokenFileMixin) that nothing rewrites on a GitHub runner.
3. "workload-identity": AZURE_FEDERATED_TOKEN_FILE (Kubernetes workload identity; the kubelet rotates the
   projected file). -> WorkloadIdentityCredential.
4. "default": DefaultAzureCredential: a developer's `az login`, a managed identity, service principal
   variables. A CI step that lacks the ids above lands here, on its CLI session, good for about an hour.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

ENTRA_TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
PIPELINES_VARIABLES = (
    "AZURESUBSCRIPTION_CLIENT_ID",
    "AZURESUBSCRIPTION_TENANT_ID",
    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
    "SYSTEM_ACCESSTOKEN",
    "SYSTEM_OIDCREQUESTURI",
)
GITHUB_VARIABLES = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")


def _first(environ: Mapping[str, str], *names: str) -> str | None:
    return next((environ[name] for name in names if environ.get(name)), None)


def _github_identity(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    return _first(environ, "AZURE_CLIENT_ID", "ARM_CLIENT_ID"), _first(environ, "AZURE_TENANT_ID", "ARM_TENANT_ID")


def credential_kind(environ: Mapping[str, str] = os.environ) -> str:
    """Which credential `azure_credential` builds in this environment (see the module docstring)."""
    if all(environ.get(name) for name in PIPELINES_VARIABLES):
        return "azure-pipelines"
    if all(environ.get(name) for name in GITHUB_VARIABLES) and all(_github_identity(environ)):
        return "github-actions"
    if environ.get("AZURE_FEDERATED_TOKEN_FILE"):
        return "workload-identity"
    return "default"


def azure_credential(environ: Mapping[str, str] = os.environ, transport: Any = None):
    """The credential for this environment. `transport` (an azure-core transport) carries the token
    requests, to Entra ID and to the CI's OIDC endpoint; tests pass an in-process one."""
    import azure.identity as identity

    options: dict[str, Any] = {} if transport is None else {"transport": transport}
    kind = credential_kind(environ)
    if kind == "azure-pipelines":
        return identity.AzurePipelinesCredential(
            tenant_id=environ["AZURESUBSCRIPTION_TENANT_ID"],
            client_id=environ["AZURESUBSCRIPTION_CLIENT_ID"],
            service_connection_id=environ["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"],
            system_access_token=environ["SYSTEM_ACCESSTOKEN"],
            **options,
        )
    if kind == "github-actions":
        client_id, tenant_id = _github_identity(environ)
        if client_id is None or tenant_id is None:  # credential_kind saw both; kept for the type checker
            raise ValueError("AZURE_CLIENT_ID/ARM_CLIENT_ID and AZURE_TENANT_ID/ARM_TENANT_ID must both be set")
        fetch = github_id_token(
            environ["ACTIONS_ID_TOKEN_REQUEST_URL"], environ["ACTIONS_ID_TOKEN_REQUEST_TOKEN"], transport
        )
        return identity.ClientAssertionCredential(tenant_id, client_id, fetch, **options)
    if kind == "workload-identity":
        return identity.WorkloadIdentityCredential(**options)
    return identity.DefaultAzureCredential(**options)


def github_id_token(request_url: str, request_token: str, transport: Any = None) -> Callable[[], str]:
    """A function that asks GitHub's OIDC provider for a new ID token (audience api://AzureADTokenExchange)
    each time it is called: GET <ACTIONS_ID_TOKEN_REQUEST_URL>&audience=... with the request token as bearer,
    answered `{"value": "<jwt>"}` (docs.github.com, "Configuring OpenID Connect in cloud providers")."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.core.pipeline import Pipeline
    from azure.core.pipeline.policies import RetryPolicy
    from azure.core.pipeline.transport import RequestsTransport
    from azure.core.rest import HttpRequest

    separator = "&" if "?" in request_url else "?"
    url = f"{request_url}{separator}audience={quote(ENTRA_TOKEN_EXCHANGE_AUDIENCE, safe='')}"
    pipeline = Pipeline(transport or RequestsTransport(), policies=[RetryPolicy()])

    def fetch() -> str:
        request = HttpRequest(
            "GET", url, headers={"Authorization": f"Bearer {request_token}", "Accept": "application/json"}
        )
        response = pipeline.run(request).http_response
        if response.status_code != 200:
            raise ClientAuthenticationError(
                message=f"GitHub's OIDC token endpoint answered HTTP {response.status_code}: does the job have "
                "`permissions: id-token: write`?"
            )
        try:
            token = response.json().get("value")
        except ValueError:
            token = None
        if not isinstance(token, str) or not token:
            raise ClientAuthenticationError(message="GitHub's OIDC token endpoint answered without a token ('value')")
        return token

    return fetch
