"""Traffic has one owner: the endpoint ignores it, only one release resource sets it."""
from harness import policy_resource, violations_of
from mlops_policies import ENDPOINT_TRAFFIC_POLICY, SINGLE_TRAFFIC_OWNER_POLICY
from pulumi_policy import StackValidationArgs


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


def test_endpoint_that_ignores_traffic_passes(secure):
    assert violations_of(ENDPOINT_TRAFFIC_POLICY, secure["endpoint"], "prod") == []


def test_endpoint_without_ignore_changes_is_caught(secure):
    endpoint = secure["endpoint"]
    endpoint["ignoreChanges"] = ["tags"]
    found = violations_of(ENDPOINT_TRAFFIC_POLICY, endpoint)
    assert len(found) == 1 and "ignore_changes is ['tags']" in found[0]
    assert "'properties.traffic', 'properties.mirrorTraffic'" in found[0]


def test_endpoint_that_ignores_traffic_but_not_mirror_traffic_is_caught(secure):
    endpoint = secure["endpoint"]
    endpoint["ignoreChanges"] = ["properties.traffic"]
    found = violations_of(ENDPOINT_TRAFFIC_POLICY, endpoint)
    assert len(found) == 1 and "must include 'properties.mirrorTraffic'" in found[0]


def test_endpoint_that_declares_traffic_is_caught(secure):
    endpoint = secure["endpoint"]
    endpoint["inputs"]["properties"]["traffic"] = {"blue": 100.0}
    found = violations_of(ENDPOINT_TRAFFIC_POLICY, endpoint)
    assert len(found) == 1 and "properties.traffic is {'blue': 100.0}" in found[0]


def test_endpoint_with_zero_traffic_map_passes(secure):
    secure["endpoint"]["inputs"]["properties"]["traffic"] = {"blue": 0.0}
    assert violations_of(ENDPOINT_TRAFFIC_POLICY, secure["endpoint"]) == []


def test_one_traffic_owner_per_endpoint_passes(secure):
    resources = [secure["endpoint"], traffic_resource("traffic"), traffic_resource("other", endpoint="second")]
    assert stack_violations(resources) == []


def test_two_traffic_owners_of_one_endpoint_are_caught(secure):
    resources = [secure["endpoint"], traffic_resource("traffic"), traffic_resource("hotfix", traffic={"green": 100})]
    found = stack_violations(resources)
    assert len(found) == 2
    assert all("endpoint 'hate-speech-prod' of workspace 'mlw-prod' has 2 traffic owners" in m for m, _ in found)
    assert {urn.rsplit("::", 1)[1] for _, urn in found} == {"traffic", "hotfix"}


def test_a_plain_resource_with_a_traffic_map_is_an_owner_too(secure):
    other = {"type": "azure-native:resources:Deployment", "name": "arm-template",
             "inputs": {"endpointName": "hate-speech-prod", "workspaceName": "mlw-prod", "traffic": {"blue": 100}}}
    found = stack_violations([secure["endpoint"], traffic_resource("traffic"), other])
    assert len(found) == 2


def test_a_plain_resource_without_traffic_is_no_owner(secure):
    other = {"type": "azure-native:resources:Deployment", "name": "x", "inputs": {"traffic": None}}
    assert stack_violations([secure["endpoint"], traffic_resource("traffic"), other]) == []


def test_same_endpoint_name_in_two_workspaces_is_two_endpoints():
    resources = [traffic_resource("a", workspace="mlw-1"), traffic_resource("b", workspace="mlw-2")]
    assert stack_violations(resources) == []
