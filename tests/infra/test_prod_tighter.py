"""Prod is at least as strict as dev on every setting that exposes or loosens something, and
strictly tighter where the settings allow it."""

ML = "azure-native:machinelearningservices"

EXPOSURE = {"Enabled": 1, "Disabled": 0}


def exposure(plan):
    vault = plan.one("azure-native:keyvault:Vault")
    registry = plan.one("azure-native:containerregistry:Registry")
    account = plan.one("azure-native:storage:StorageAccount")
    workspace = plan.one(f"{ML}:Workspace")
    endpoint = plan.one(f"{ML}:OnlineEndpoint")
    return {
        "vault public": EXPOSURE[vault.input("properties.publicNetworkAccess")],
        "registry public": EXPOSURE[registry.inputs["publicNetworkAccess"]],
        "storage public": EXPOSURE[account.inputs["publicNetworkAccess"]],
        "workspace public": EXPOSURE[workspace.inputs["publicNetworkAccess"]],
        "workspace outbound open": int(workspace.input("managedNetwork.isolationMode") == "AllowInternetOutbound"),
        "not high business impact": int(not workspace.inputs["hbiWorkspace"]),
        "endpoint public": EXPOSURE[endpoint.input("properties.publicNetworkAccess")],
        "endpoint key auth": int(endpoint.input("properties.authMode") == "Key"),
        "node public ip": sum(int(c.input("properties.properties.enableNodePublicIp"))
                              for c in plan.of_type(f"{ML}:Compute")),
        "ssh": sum(int(c.input("properties.properties.remoteLoginPortPublicAccess") == "Enabled")
                   for c in plan.of_type(f"{ML}:Compute")),
        "short vault retention": 90 - vault.input("properties.softDeleteRetentionInDays"),
        "slot egress public": sum(EXPOSURE[s.input("properties.egressPublicNetworkAccess")]
                                  for s in plan.of_type(f"{ML}:OnlineDeployment")),
    }


def test_prod_never_looser_than_dev_or_test(plans):
    prod = exposure(plans["prod"])
    for other in ("dev", "test"):
        looser = exposure(plans[other])
        for name, value in prod.items():
            assert value <= looser[name], f"prod is looser than {other} on {name}"


def test_prod_strictly_tighter_than_dev(plans):
    prod, dev = exposure(plans["prod"]), exposure(plans["dev"])
    tighter = [name for name in prod if prod[name] < dev[name]]
    assert {"vault public", "registry public", "storage public", "workspace public", "workspace outbound open",
            "not high business impact", "endpoint public", "endpoint key auth", "short vault retention"} <= set(tighter)
    assert all(value == 0 for name, value in prod.items() if name != "short vault retention")
