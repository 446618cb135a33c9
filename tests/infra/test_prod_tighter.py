"""Each stack is at least as strict as the one before it (dev, then test, then prod) on every setting
that exposes or loosens something, and strictly tighter where the settings allow it."""

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
    group_grants = [a for a in plan.of_type("azure-native:authorization:RoleAssignment")
                    if a.parent.endswith("-data-access") and a.inputs["principalType"] == "Group"]
    return {
        "storage shared key": int(account.inputs.get("allowSharedKeyAccess") is not False),
        "datastores by key": int(str(workspace.inputs.get("systemDatastoresAuthMode", "")).lower() != "identity"),
        "storage open to every network": int(account.inputs["publicNetworkAccess"] == "Enabled"
                                             and account.input("networkRuleSet.defaultAction") == "Allow"),
        "group data access beyond the datastore": sum(
            int("/containers/azureml-blobstore-" not in a.inputs["scope"]) for a in group_grants),
        "vault public": EXPOSURE[vault.input("properties.publicNetworkAccess")],
        "registry public": EXPOSURE[registry.inputs["publicNetworkAccess"]],
        "storage public": EXPOSURE[account.inputs["publicNetworkAccess"]],
        "workspace public": EXPOSURE[workspace.inputs["publicNetworkAccess"]],
        "workspace outbound open": int(workspace.input("managedNetwork.isolationMode") == "AllowInternetOutbound"),
        "not high business impact": int(not workspace.inputs["hbiWorkspace"]),
        "endpoint public": RELEASE_EXPOSURE[endpoint.inputs["public_network_access"]],
        "endpoint key auth": int(endpoint.inputs["auth_mode"] == "key"),
        "node public ip": sum(int(c.input("properties.properties.enableNodePublicIp"))
                              for c in plan.of_type(f"{ML}:Compute")),
        "ssh": sum(int(c.input("properties.properties.remoteLoginPortPublicAccess") == "Enabled")
                   for c in plan.of_type(f"{ML}:Compute")),
        "short vault retention": 90 - vault.input("properties.softDeleteRetentionInDays"),
        "slot egress public": EGRESS_EXPOSURE[serving["egress_public_network_access"]],
    }


def test_prod_never_looser_than_dev_or_test(plans, released_plans):
    prod = exposure(plans["prod"], released_plans["prod"])
    for other in ("dev", "test"):
        looser = exposure(plans[other], released_plans[other])
        for name, value in prod.items():
            assert value <= looser[name], f"prod is looser than {other} on {name}"


def test_prod_strictly_tighter_than_dev(plans, released_plans):
    prod, dev = exposure(plans["prod"], released_plans["prod"]), exposure(plans["dev"], released_plans["dev"])
    tighter = [name for name in prod if prod[name] < dev[name]]
    assert {"vault public", "registry public", "storage public", "workspace public", "workspace outbound open",
            "not high business impact", "endpoint public", "endpoint key auth", "short vault retention"} <= set(tighter)
    assert all(value == 0 for name, value in prod.items() if name != "short vault retention")


ORDER = ("dev", "test", "prod")


def test_each_stack_is_never_looser_than_the_one_before(plans, released_plans):
    for looser, tighter in zip(ORDER, ORDER[1:]):
        before, after = (exposure(plans[s], released_plans[s]) for s in (looser, tighter))
        for name, value in after.items():
            assert value <= before[name], f"{tighter} is looser than {looser} on {name}"


def test_prod_strictly_tighter_than_test_and_test_than_dev(plans, released_plans):
    dev, test, prod = (exposure(plans[s], released_plans[s]) for s in ORDER)
    assert {name for name in prod if prod[name] < test[name]} >= {
        "vault public", "registry public", "storage public", "workspace public", "workspace outbound open",
        "not high business impact", "endpoint public", "short vault retention"}
    assert {name for name in test if test[name] < dev[name]} >= {
        "storage open to every network", "endpoint key auth", "short vault retention"}
    assert dev["storage shared key"] == dev["datastores by key"] == 0, "Entra ID only, in every stack"
