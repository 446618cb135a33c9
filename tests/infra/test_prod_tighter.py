"""Each stack is at least as strict as the one before it (dev, then test, then prod) on every
setting that exposes or loosens something, and strictly tighter where the settings allow it."""

ML = "azure-native:machinelearningservices"
SERVING_ENDPOINT = "pulumi-python:dynamic/release:ServingEndpoint"
TRAFFIC = "pulumi-python:dynamic/release:EndpointTraffic"

EXPOSURE = {"Enabled": 1, "Disabled": 0}
# The release resources spell it as azure-ai-ml does (infra/release/serving_endpoint.py, serving_spec.py);
# a slot's egress may also be left unset (None), for the workspace's managed network to govern.
RELEASE_EXPOSURE = {"enabled": 1, "disabled": 0}
EGRESS_EXPOSURE = {**RELEASE_EXPOSURE, None: 0}


def exposure(plan, released):
    """`plan` is the stack as configured; `released` the same stack with a candidate, the only plan that
    declares what the slots run (a stack without a candidate declares no deployment)."""
    vault = plan.one("azure-native:keyvault:Vault")
    registry = plan.one("azure-native:containerregistry:Registry")
    account = plan.one("azure-native:storage:StorageAccount")
    workspace = plan.one(f"{ML}:Workspace")
    endpoint = plan.one(SERVING_ENDPOINT)
    serving = released.one(TRAFFIC).input("serving")
    subnets = plan.of_type("azure-native:network:Subnet")
    endpoint_groups = [
        g
        for g in plan.of_type("azure-native:network:NetworkSecurityGroup")
        if g.inputs["networkSecurityGroupName"].endswith("-private-endpoints")
    ]
    group_grants = [
        a
        for a in plan.of_type("azure-native:authorization:RoleAssignment")
        if a.parent.endswith("-data-access") and a.inputs["principalType"] == "Group"
    ]
    return {
        "storage shared key": int(account.inputs.get("allowSharedKeyAccess") is not False),
        "datastores by key": int(str(workspace.inputs.get("systemDatastoresAuthMode", "")).lower() != "identity"),
        "storage open to every network": int(
            account.inputs["publicNetworkAccess"] == "Enabled"
            and account.input("networkRuleSet.defaultAction") == "Allow"
        ),
        "group data access beyond the datastore": sum(
            int("/containers/azureml-blobstore-" not in a.inputs["scope"]) for a in group_grants
        ),
        "vault public": EXPOSURE[vault.input("properties.publicNetworkAccess")],
        "registry public": EXPOSURE[registry.inputs["publicNetworkAccess"]],
        "storage public": EXPOSURE[account.inputs["publicNetworkAccess"]],
        "workspace public": EXPOSURE[workspace.inputs["publicNetworkAccess"]],
        "workspace outbound open": int(workspace.input("managedNetwork.isolationMode") == "AllowInternetOutbound"),
        "not high business impact": int(not workspace.inputs["hbiWorkspace"]),
        "endpoint public": RELEASE_EXPOSURE[endpoint.inputs["public_network_access"]],
        "endpoint key auth": int(endpoint.inputs["auth_mode"] == "key"),
        "node public ip": sum(
            int(c.input("properties.properties.enableNodePublicIp")) for c in plan.of_type(f"{ML}:Compute")
        ),
        "ssh": sum(
            int(c.input("properties.properties.remoteLoginPortPublicAccess") == "Enabled")
            for c in plan.of_type(f"{ML}:Compute")
        ),
        "short vault retention": 90 - vault.input("properties.softDeleteRetentionInDays"),
        "slot egress public": EGRESS_EXPOSURE[serving["egress_public_network_access"]],
        "no private network": int(not plan.of_type("azure-native:network:VirtualNetwork")),
        # of the stack's own five (vault, registry, blob, file, workspace); the estate's ML registry is another stack's
        "services without a private endpoint": 5 - len(own_private_endpoints(plan)),
        "storage ip rules": len(account.input("networkRuleSet.ipRules") or []),
        "subnets without a security group": sum(int(not s.input("networkSecurityGroup.id")) for s in subnets),
        "private endpoints open inbound": sum(
            int(not any(r["name"] == "DenyAllInbound" and r["access"] == "Deny" for r in g.inputs["securityRules"]))
            for g in endpoint_groups
        ),
    }


def own_private_endpoints(plan):
    group = plan.one("azure-native:resources:ResourceGroup").inputs["resourceGroupName"]
    return [
        e
        for e in plan.of_type("azure-native:network:PrivateEndpoint")
        if f"/resourceGroups/{group}/" in e.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"]
    ]


ORDER = ("dev", "test", "prod")  # each at least as strict as the one before


def test_no_stack_is_looser_than_the_one_before(plans, released_plans):
    for looser_stack, stack in zip(ORDER, ORDER[1:], strict=False):
        tighter, looser = (exposure(plans[s], released_plans[s]) for s in (stack, looser_stack))
        for name, value in tighter.items():
            assert value <= looser[name], f"{stack} is looser than {looser_stack} on {name}"


def test_test_strictly_tighter_than_dev_where_it_reaches_only_its_network(plans, released_plans):
    test, dev = exposure(plans["test"], released_plans["test"]), exposure(plans["dev"], released_plans["dev"])
    tighter = {name for name in test if test[name] < dev[name]}
    assert {
        "vault public",
        "registry public",
        "storage public",
        "workspace public",
        "endpoint public",
        "endpoint key auth",
        "no private network",
        "services without a private endpoint",
        "storage open to every network",
        "short vault retention",
    } <= tighter


def test_prod_strictly_tighter_than_test(plans, released_plans):
    prod, test = exposure(plans["prod"], released_plans["prod"]), exposure(plans["test"], released_plans["test"])
    tighter = {name for name in prod if prod[name] < test[name]}
    assert {"workspace outbound open", "not high business impact", "short vault retention"} <= tighter


def test_prod_strictly_tighter_than_dev(plans, released_plans):
    prod, dev = exposure(plans["prod"], released_plans["prod"]), exposure(plans["dev"], released_plans["dev"])
    tighter = [name for name in prod if prod[name] < dev[name]]
    assert {
        "vault public",
        "registry public",
        "storage public",
        "workspace public",
        "workspace outbound open",
        "not high business impact",
        "endpoint public",
        "endpoint key auth",
        "short vault retention",
    } <= set(tighter)
    assert all(value == 0 for name, value in prod.items() if name != "short vault retention")


def test_every_stack_takes_entra_id_only(plans, released_plans):
    """Shared keys off and identity datastores are not a prod tightening: no stack has them."""
    for stack in ORDER:
        measured = exposure(plans[stack], released_plans[stack])
        assert measured["storage shared key"] == measured["datastores by key"] == 0, stack
        assert measured["group data access beyond the datastore"] == 0, stack
