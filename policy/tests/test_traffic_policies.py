"""What an endpoint serves has one owner: the endpoint (a ServingEndpoint) declares no traffic, no
azure-native endpoint or deployment is declared, only one release resource sets the traffic; in
production the endpoint is private and its slots have no public egress."""

import copy

import pytest
from pulumi_policy import StackValidationArgs

from harness import NATIVE_DEPLOYMENT, NATIVE_ENDPOINT, policy_resource, violations_of
from mlops_policies import ENDPOINT_PRIVATE_POLICY, ENDPOINT_TRAFFIC_POLICY, SINGLE_TRAFFIC_OWNER_POLICY


def traffic_resource(name, endpoint="hate-speech-prod", workspace="mlw-prod", traffic=None):
    """The release provider's EndpointTraffic as the engine sees it: `traffic` is None in its inputs
    (an output placeholder) and the live map in its outputs."""
    return {
        "type": "pulumi-python:dynamic/release:EndpointTraffic",
        "name": name,
        "inputs": {"endpoint_name": endpoint, "workspace_name": workspace, "traffic": traffic},
    }


def stack_violations(resources, stack="prod"):
    found = []
    args = StackValidationArgs([policy_resource(r, stack) for r in resources])
    SINGLE_TRAFFIC_OWNER_POLICY.validate(args, lambda message, urn=None: found.append((message, urn)))
    return found


# --- the endpoint declares no traffic, nothing azure-native serves ------------------------------


def test_serving_endpoint_without_traffic_passes(secure):
    assert violations_of(ENDPOINT_TRAFFIC_POLICY, secure["endpoint"], "prod") == []


@pytest.mark.parametrize("field", ["traffic", "mirror_traffic"])
def test_serving_endpoint_that_declares_traffic_is_caught(secure, field):
    endpoint = secure["endpoint"]
    endpoint["inputs"][field] = {"blue": 100.0}
    found = violations_of(ENDPOINT_TRAFFIC_POLICY, endpoint)
    assert len(found) == 1 and f"{field} is {{'blue': 100.0}}" in found[0]
    assert "'hatespeech-endpoint-online'" in found[0]


def test_serving_endpoint_with_zero_traffic_map_passes(secure):
    secure["endpoint"]["inputs"]["traffic"] = {"blue": 0.0}
    assert violations_of(ENDPOINT_TRAFFIC_POLICY, secure["endpoint"]) == []


@pytest.mark.parametrize(
    "resource, kind", [(NATIVE_ENDPOINT, "OnlineEndpoint"), (NATIVE_DEPLOYMENT, "OnlineDeployment")]
)
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_an_azure_native_endpoint_or_deployment_is_caught_even_when_it_ignores_what_the_release_owns(
    resource, kind, stack
):
    found = violations_of(ENDPOINT_TRAFFIC_POLICY, copy.deepcopy(resource), stack)
    assert len(found) == 1
    assert f"{kind} '{resource['name']}'" in found[0] and "whole-body PUT" in found[0]
    assert "ServingEndpoint" in found[0] and "EndpointTraffic" in found[0]


def test_other_resources_are_not_the_endpoint_policys_business(secure):
    assert violations_of(ENDPOINT_TRAFFIC_POLICY, secure["traffic"]) == []
    assert violations_of(ENDPOINT_TRAFFIC_POLICY, secure["workspace"]) == []


# --- one traffic owner per endpoint ---------------------------------------------------------------


def test_one_traffic_owner_per_endpoint_passes(secure):
    resources = [secure["endpoint"], traffic_resource("traffic"), traffic_resource("other", endpoint="second")]
    assert stack_violations(resources) == []


def test_the_serving_endpoint_is_no_traffic_owner_even_with_a_traffic_map(secure):
    """Its `traffic` is what its provider reads back; the provider never writes traffic."""
    secure["endpoint"]["inputs"]["traffic"] = {"blue": 100.0}
    assert stack_violations([secure["endpoint"], traffic_resource("traffic")]) == []


def test_two_traffic_owners_of_one_endpoint_are_caught(secure):
    resources = [secure["endpoint"], traffic_resource("traffic"), traffic_resource("hotfix", traffic={"green": 100})]
    found = stack_violations(resources)
    assert len(found) == 2
    assert all("endpoint 'hate-speech-prod' of workspace 'mlw-prod' has 2 traffic owners" in m for m, _ in found)
    assert {urn.rsplit("::", 1)[1] for _, urn in found} == {"traffic", "hotfix"}


def test_a_plain_resource_with_a_traffic_map_is_an_owner_too(secure):
    other = {
        "type": "azure-native:resources:Deployment",
        "name": "arm-template",
        "inputs": {"endpointName": "hate-speech-prod", "workspaceName": "mlw-prod", "traffic": {"blue": 100}},
    }
    found = stack_violations([secure["endpoint"], traffic_resource("traffic"), other])
    assert len(found) == 2


def test_a_plain_resource_without_traffic_is_no_owner(secure):
    other = {"type": "azure-native:resources:Deployment", "name": "x", "inputs": {"traffic": None}}
    assert stack_violations([secure["endpoint"], traffic_resource("traffic"), other]) == []


def test_same_endpoint_name_in_two_workspaces_is_two_endpoints():
    resources = [traffic_resource("a", workspace="mlw-1"), traffic_resource("b", workspace="mlw-2")]
    assert stack_violations(resources) == []


# --- production: private endpoint, no public egress -----------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_private_endpoint_and_slots_pass(secure, stack):
    for name in ("endpoint", "traffic"):
        assert violations_of(ENDPOINT_PRIVATE_POLICY, secure[name], stack) == [], name


@pytest.mark.parametrize("public", ["enabled", None])
def test_a_public_or_unset_endpoint_access_is_caught_in_production_only(secure, public):
    endpoint = secure["endpoint"]
    if public is None:
        del endpoint["inputs"]["public_network_access"]
    else:
        endpoint["inputs"]["public_network_access"] = public
    found = violations_of(ENDPOINT_PRIVATE_POLICY, endpoint, "prod")
    expected = "not set" if public is None else f"'{public}'"
    assert len(found) == 1 and f"public_network_access is {expected}" in found[0] and "'disabled'" in found[0]
    assert violations_of(ENDPOINT_PRIVATE_POLICY, endpoint, "dev") == []


def test_public_slot_egress_is_caught_in_production_only(secure):
    traffic = secure["traffic"]
    traffic["inputs"]["serving"]["egress_public_network_access"] = "enabled"
    found = violations_of(ENDPOINT_PRIVATE_POLICY, traffic, "prod")
    assert len(found) == 1 and "serving.egress_public_network_access is 'enabled'" in found[0]
    assert violations_of(ENDPOINT_PRIVATE_POLICY, traffic, "test") == []


def test_slot_egress_left_to_the_managed_network_passes(secure):
    """Unset egress is not sent: with a managed network the workspace's isolation mode governs outbound.
    A 'disabled' egress is not public either; that a managed network refuses it is the
    managed-network-deployments-no-egress policy's (test_private_network_policies.py)."""
    traffic = secure["traffic"]
    assert "egress_public_network_access" not in traffic["inputs"]["serving"]
    assert violations_of(ENDPOINT_PRIVATE_POLICY, traffic, "prod") == []
    traffic["inputs"]["serving"]["egress_public_network_access"] = "disabled"
    assert violations_of(ENDPOINT_PRIVATE_POLICY, traffic, "prod") == []


def test_production_stacks_come_from_the_policy_config(secure):
    endpoint = secure["endpoint"]
    endpoint["inputs"]["public_network_access"] = "enabled"
    config = {"productionStacks": ["live"]}
    assert len(violations_of(ENDPOINT_PRIVATE_POLICY, endpoint, "live", config)) == 1
    assert violations_of(ENDPOINT_PRIVATE_POLICY, endpoint, "prod", config) == []
