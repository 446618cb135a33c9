"""The credential the project uses in each environment (infra/azureml/credentials.py), and that the CI ones
exchange a new OIDC token for every new access token, so a run outlives the hour a CLI session lasts.

The token exchanges run through azure-identity's own code (ClientAssertionCredential's AadClient and
AzurePipelinesCredential's OIDC request), served in process: Entra ID's token endpoint
(POST login.microsoftonline.com/<tenant>/oauth2/v2.0/token, client_credentials with a jwt-bearer
client_assertion), GitHub's ID-token endpoint (GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=..., answered
{"value": jwt}) and Azure DevOps' (POST SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=...,
answered {"oidcToken": jwt}). Entra answers expires_in 0, so every get_token needs a new token.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from azure.core.exceptions import ClientAuthenticationError

from infra.azureml.credentials import azure_credential, credential_kind
from tests.fakes.http import InProcessTransport, Response

TENANT = "00000000-0000-4000-8000-00000000aaaa"
CLIENT = "00000000-0000-4000-8000-00000000bbbb"
ARM_SCOPE = "https://management.azure.com/.default"
GITHUB = {
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.actions.example/idtoken?api-version=2.0",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
    "AZURE_CLIENT_ID": CLIENT,
    "AZURE_TENANT_ID": TENANT,
}
PIPELINES = {
    "AZURESUBSCRIPTION_CLIENT_ID": CLIENT,
    "AZURESUBSCRIPTION_TENANT_ID": TENANT,
    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": "c0ffee00-0000-4000-8000-000000000001",
    "SYSTEM_ACCESSTOKEN": "system-access-token",
    "SYSTEM_OIDCREQUESTURI": "https://dev.example/org/project/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken",
}


class Identity:
    """Entra ID's token endpoint and a CI's OIDC endpoint: each OIDC token is new, each access token is
    issued for the assertion it was given."""

    def __init__(self, oidc_status: int = 200):
        self.oidc_status = oidc_status
        self.oidc_requests = []
        self.assertions = []
        self.transport = InProcessTransport(self.handle)

    def handle(self, request):
        if request.host == "login.microsoftonline.com":
            form = {k: v[0] for k, v in parse_qs(request.body).items()}
            assert request.path == f"/{TENANT}/oauth2/v2.0/token" and form["client_id"] == CLIENT
            assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            self.assertions.append(form["client_assertion"])
            return Response(
                200, {"access_token": f"access-for-{form['client_assertion']}", "expires_in": 0, "token_type": "Bearer"}
            )
        self.oidc_requests.append(request)
        if self.oidc_status != 200:
            return Response(self.oidc_status, {"message": "denied"})
        token = f"oidc-{len(self.oidc_requests)}"
        return Response(200, {"oidcToken": token} if request.method == "POST" else {"value": token})


@pytest.mark.parametrize(
    "environ, kind",
    [
        (PIPELINES, "azure-pipelines"),
        ({**PIPELINES, **GITHUB}, "azure-pipelines"),
        (GITHUB, "github-actions"),
        (
            {
                **{k: v for k, v in GITHUB.items() if not k.startswith("AZURE_")},
                "ARM_CLIENT_ID": CLIENT,
                "ARM_TENANT_ID": TENANT,
            },
            "github-actions",
        ),  # what pulumi-stack.yml sets for azure-native
        ({k: v for k, v in GITHUB.items() if k != "AZURE_CLIENT_ID"}, "default"),  # no identity named: the CLI session
        ({k: v for k, v in PIPELINES.items() if k != "SYSTEM_ACCESSTOKEN"}, "default"),  # the token not mapped
        ({"AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token"}, "workload-identity"),
        ({}, "default"),
    ],
)
def test_the_credential_is_chosen_from_the_environment(environ, kind):
    assert credential_kind(environ) == kind


def test_on_github_every_new_access_token_exchanges_a_new_id_token():
    identity = Identity()
    credential = azure_credential(GITHUB, transport=identity.transport)
    first, second = credential.get_token(ARM_SCOPE), credential.get_token(ARM_SCOPE)

    assert [first.token, second.token] == ["access-for-oidc-1", "access-for-oidc-2"]
    assert identity.assertions == ["oidc-1", "oidc-2"]
    request = identity.oidc_requests[0]
    assert request.method == "GET" and request.path == "/idtoken"
    assert request.query == {"api-version": "2.0", "audience": "api://AzureADTokenExchange"}
    assert request.headers["authorization"] == "Bearer request-token"


def test_on_azure_pipelines_every_new_access_token_asks_the_service_connection_for_a_new_oidc_token(monkeypatch):
    for name, value in PIPELINES.items():  # AzurePipelinesCredential reads SYSTEM_OIDCREQUESTURI from os.environ
        monkeypatch.setenv(name, value)
    identity = Identity()
    credential = azure_credential(PIPELINES, transport=identity.transport)
    credential.get_token(ARM_SCOPE)
    credential.get_token(ARM_SCOPE)

    assert identity.assertions == ["oidc-1", "oidc-2"]
    request = identity.oidc_requests[0]
    assert request.method == "POST" and request.url.startswith(PIPELINES["SYSTEM_OIDCREQUESTURI"])
    assert request.query["serviceConnectionId"] == PIPELINES["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"]
    assert request.headers["authorization"] == "Bearer system-access-token"


def test_a_refused_github_id_token_is_an_authentication_error_that_shows_no_token():
    identity = Identity(oidc_status=403)
    credential = azure_credential(GITHUB, transport=identity.transport)
    with pytest.raises(ClientAuthenticationError) as caught:
        credential.get_token(ARM_SCOPE)
    assert "id-token: write" in str(caught.value) and "request-token" not in str(caught.value)
    assert identity.assertions == []
