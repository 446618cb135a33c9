import pulumi

from infra.endpoint import OnlineEndpoint, OnlineEndpointArgs, SlotServingArgs, serving_spec_of, slot_serving
from infra.release.base import WorkspaceCoordinates
from scripts.offline.mocks import SUBSCRIPTION_ID
from tests.infra.components.conftest import TAGS

SERVING_ENDPOINT = "pulumi-python:dynamic/release:ServingEndpoint"


def test_the_endpoint_is_declared_in_its_workspace_with_its_own_settings_only(declare):
    args = OnlineEndpointArgs(
        workspace=WorkspaceCoordinates(SUBSCRIPTION_ID, "rg-unit", "mlw-unit"),
        endpoint_name="unit-endpoint",
        auth_mode="aad_token",
        description="unit scoring",
        tags=TAGS,
    )
    plan = declare(lambda: {"name": OnlineEndpoint("ws-endpoint", args).name})
    endpoint = plan.one(SERVING_ENDPOINT)
    assert endpoint.name == "ws-endpoint-online" and endpoint.parent == "ws-endpoint"
    assert endpoint.inputs == {
        "subscription_id": SUBSCRIPTION_ID,
        "resource_group": "rg-unit",
        "workspace_name": "mlw-unit",
        "endpoint_name": "unit-endpoint",
        "auth_mode": "aad_token",
        "public_network_access": "disabled",
        "description": "unit scoring",
        "tags": TAGS,
    }
    assert plan.outputs == {"name": "unit-endpoint"}


def test_every_slot_runs_the_spec_of_its_args_on_the_given_assets(declare):
    args = SlotServingArgs(instance_type="Standard_F4s_v2", instance_count=3)
    spec = serving_spec_of(args, "codes/c/versions/1", "environments/e/versions/2")
    assert (spec["code_id"], spec["environment_id"]) == ("codes/c/versions/1", "environments/e/versions/2")
    assert (spec["instance_type"], spec["instance_count"]) == ("Standard_F4s_v2", 3)
    assert spec["egress_public_network_access"] is None, "a managed network governs egress: never set"
    plan = declare(
        lambda: {
            "spec": slot_serving(args, pulumi.Output.from_input("codes/c/versions/1"), "environments/e/versions/2")
        }
    )
    assert plan.outputs["spec"] == spec, "the Output form resolves to the same spec once the asset ids are known"
