"""The Model Promoter: what the identity that shares a stack's models into the registry may do there.

Sharing (azure-ai-ml's `models.share`, operations/_model_operations.py, which the gateway's share_model
follows) reads the source workspace and its model version, then imports the version into the
registry, whose service copies the files. The role is checked against the requests the share really
sends to the workspace (through the fake Azure ML service), and against every write it must not have.
"""

import re

import pytest

from infra.azureml import RetryPolicy
from infra.role_permissions import ML, MODEL_PROMOTER, permits
from tests.fakes.azureml import FakeAzureML, gateway_for
from tests.infra.test_rbac import DATA_SCIENTIST_MAY_NOT

REGISTRY = "mlops-registry"
MODEL = "hate-speech-pt"
CONTENT = {"content_sha256": "c0ffee00" * 8, "source_path": "azureml://jobs/train-0a1b2c/outputs/artifact"}
WORKSPACE_PATH = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices/(workspaces/.+)$"
)
VERBS = {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}


def workspace_operation(method: str, path: str) -> str | None:
    """The Azure RBAC operation a workspace request is checked against (`.../workspaces/{w}/models/{m}/
    versions/{v}` GET -> `workspaces/models/versions/read`); None for a request outside any workspace."""
    match = WORKSPACE_PATH.match(path)
    if match is None:
        return None
    segments = match.group(1).split("/")
    if method == "POST":  # an action: .../{type}/{name}/{action}
        return "/".join(("Microsoft.MachineLearningServices", *segments[0:-1:2], segments[-1], "action"))
    return "/".join(("Microsoft.MachineLearningServices", *segments[0::2], VERBS[method]))


def test_the_operation_of_a_request_follows_azure_naming():
    base = "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices"
    assert workspace_operation("GET", f"{base}/workspaces/w") == f"{ML}/read"
    assert workspace_operation("GET", f"{base}/workspaces/w/models/m/versions/1") == f"{ML}/models/versions/read"
    assert workspace_operation("PUT", f"{base}/workspaces/w/models/m") == f"{ML}/models/write"
    assert workspace_operation("POST", f"{base}/workspaces/w/datastores/d/listSecrets") == (
        f"{ML}/datastores/listSecrets/action"
    )
    assert workspace_operation("GET", f"{base}/registries/r/models/m") is None


def test_everything_a_share_asks_of_the_source_workspace_is_granted():
    fake = FakeAzureML()
    fake.add_registry(REGISTRY, resource_group="rg-mlops-registry")
    fake.add_model_version(MODEL, "c0ffee", properties=CONTENT)
    gateway_for(fake, retry=RetryPolicy(attempts=1)).share_model(MODEL, "c0ffee", REGISTRY)
    asked = {workspace_operation(call.method, call.path) for call in fake.calls} - {None}
    assert asked == {f"{ML}/read", f"{ML}/models/versions/read"}, "the share's workspace requests changed"
    assert all(permits(MODEL_PROMOTER, operation) for operation in asked)
    assert fake.calls_to("registry_assets.import"), "the copy itself goes to the registry"


@pytest.mark.parametrize("action", MODEL_PROMOTER.actions)
def test_every_action_is_one_named_read(action):
    assert action.startswith(ML) and action.endswith("/read") and "*" not in action
    assert not MODEL_PROMOTER.not_actions, "an explicit allow-list, not exclusions"


@pytest.mark.parametrize(
    "operation",
    [
        *DATA_SCIENTIST_MAY_NOT,
        f"{ML}/models/write",
        f"{ML}/models/delete",
        f"{ML}/models/versions/write",
        f"{ML}/models/versions/delete",
        f"{ML}/jobs/write",
        f"{ML}/jobs/read",  # what a model is shared for needs no job, connection or endpoint reads
        f"{ML}/connections/read",
        f"{ML}/onlineEndpoints/read",
        f"{ML}/environments/readSecrets/action",
        f"{ML}/data/versions/write",
        "Microsoft.MachineLearningServices/registries/assets/write",  # the registry stack's publisher role
    ],
)
def test_the_promoter_may_not(operation):
    assert not permits(MODEL_PROMOTER, operation)
