"""The private network of every stack, as its real program declares it from its YAML: which
stacks have one, each private endpoint's target, group id and subnet, each DNS zone and its link
(or a hub's zone ids), the security groups, and the order data-plane calls wait for."""

import ipaddress

import pytest

from infra.facts import BASTION_SUBNET, PRIVATE_DNS_ZONES
from scripts.offline.stack import run_stack
from tests.infra.conftest import STACKS, P

NET = "azure-native:network"
VNET, SUBNET, NSG = f"{NET}:VirtualNetwork", f"{NET}:Subnet", f"{NET}:NetworkSecurityGroup"
ENDPOINT, ZONE_GROUP = f"{NET}:PrivateEndpoint", f"{NET}:PrivateDnsZoneGroup"
ZONE, LINK = "azure-native:privatedns:PrivateZone", "azure-native:privatedns:VirtualNetworkLink"
LOCKED_DOWN = ("test", "prod")
# what each closed service is, in the plan, and the group ids its endpoints must have
SERVICES = {
    "azure-native:keyvault:Vault": ("vaultName", "/providers/Microsoft.KeyVault/vaults/", {"vault"}),
    "azure-native:containerregistry:Registry": (
        "registryName",
        "/providers/Microsoft.ContainerRegistry/registries/",
        {"registry"},
    ),
    "azure-native:storage:StorageAccount": (
        "accountName",
        "/providers/Microsoft.Storage/storageAccounts/",
        {"blob", "file"},
    ),
    "azure-native:machinelearningservices:Workspace": (
        "workspaceName",
        "/providers/Microsoft.MachineLearningServices/workspaces/",
        {"amlworkspace"},
    ),
}
HUB = (
    "/subscriptions/9b7e1c2d-0000-4000-8000-0000000000a1/resourceGroups/rg-hub-dns/providers/Microsoft.Network/"
    "privateDnsZones/"
)


def subnet_of(plan, name):
    return next(s for s in plan.of_type(SUBNET) if s.inputs["subnetName"] == name)


def arm_id(resource_group, suffix):
    return f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{resource_group}{suffix}"


def test_dev_stays_public_without_a_network(plans):
    dev = plans["dev"]
    assert not [r for r in dev.resources if r.type.startswith((NET, "azure-native:privatedns"))]
    assert dev.one("azure-native:storage:StorageAccount").inputs["publicNetworkAccess"] == "Enabled"


@pytest.mark.parametrize("stack", LOCKED_DOWN)
def test_every_closed_service_has_a_private_endpoint_per_group_id_in_the_endpoint_subnet(plans, stack):
    plan = plans[stack]
    group = f"rg-mlops-{stack}"
    vnet = plan.one(VNET).inputs["virtualNetworkName"]
    endpoint_subnet = arm_id(
        group, f"/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/snet-private-endpoints"
    )
    endpoints = plan.of_type(ENDPOINT)
    reached = set()
    for endpoint in endpoints:
        [connection] = endpoint.inputs["privateLinkServiceConnections"]
        [group_id] = connection["groupIds"]
        reached.add((connection["privateLinkServiceId"], group_id))
        assert endpoint.input("subnet.id") == endpoint_subnet, endpoint.name
        assert endpoint.inputs["resourceGroupName"] == group
    expected = set()
    for type_, (name_key, path, group_ids) in SERVICES.items():
        for service in plan.of_type(type_):
            assert (
                service.inputs.get("publicNetworkAccess", service.input("properties.publicNetworkAccess")) == "Disabled"
            ), service.name
            expected |= {(arm_id(group, path + service.inputs[name_key]), group_id) for group_id in group_ids}
    expected.add((plan.outputs["model_registry"]["id"], "amlregistry"))  # the estate's, from the registry stack
    assert reached == expected
    assert len(endpoints) == len(expected) == 6, "vault, registry, blob, file, the workspace, the ML registry"


@pytest.mark.parametrize("stack", LOCKED_DOWN)
def test_each_endpoint_writes_its_records_into_the_zones_of_its_group_id_linked_to_the_network(plans, stack):
    plan = plans[stack]
    vnet = plan.one(VNET)
    zones = {z.inputs["privateZoneName"]: z for z in plan.of_type(ZONE)}
    assert set(zones) == {
        zone for group in ("vault", "registry", "blob", "file", "amlworkspace") for zone in PRIVATE_DNS_ZONES[group]
    }
    assert zones.keys() >= {"privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"}
    for zone in zones.values():
        assert zone.inputs["location"] == "global"
    links = {link.inputs["privateZoneName"]: link for link in plan.of_type(LINK)}
    assert set(links) == set(zones), "every zone is linked to the network"
    for link in links.values():
        assert link.input("virtualNetwork.id").endswith(f"/virtualNetworks/{vnet.inputs['virtualNetworkName']}")
        assert link.inputs["registrationEnabled"] is False
    groups = {g.inputs["privateEndpointName"]: g for g in plan.of_type(ZONE_GROUP)}
    assert set(groups) == {e.inputs["privateEndpointName"] for e in plan.of_type(ENDPOINT)}
    for endpoint in plan.of_type(ENDPOINT):
        [group_id] = endpoint.inputs["privateLinkServiceConnections"][0]["groupIds"]
        group = groups[endpoint.inputs["privateEndpointName"]]
        assert group.inputs["privateDnsZoneGroupName"] == "default"
        assert sorted(c["privateDnsZoneId"] for c in group.inputs["privateDnsZoneConfigs"]) == sorted(
            arm_id(f"rg-mlops-{stack}", f"/providers/Microsoft.Network/privateDnsZones/{zone}")
            for zone in PRIVATE_DNS_ZONES[group_id]
        )
        assert {f"{zone}-link" for zone in PRIVATE_DNS_ZONES[group_id]} <= set(group.dependencies), (
            "a zone group exists only once its zones resolve in the network"
        )


@pytest.mark.parametrize("stack", LOCKED_DOWN)
def test_subnets_lie_in_the_address_space_each_with_its_own_security_group(plans, stack, config_of):
    plan = plans[stack]
    network = config_of(stack)[f"{P}network"]
    space = [ipaddress.ip_network(cidr) for cidr in plan.one(VNET).input("addressSpace.addressPrefixes")]
    assert [str(net) for net in space] == network["addressSpace"]
    subnets = plan.of_type(SUBNET)
    assert sorted(s.inputs["addressPrefix"] for s in subnets) == sorted(network["subnets"].values())
    groups = {g.inputs["networkSecurityGroupName"]: g for g in plan.of_type(NSG)}
    assert len(groups) == len(subnets) == 4
    for subnet in subnets:
        assert any(ipaddress.ip_network(subnet.inputs["addressPrefix"]).subnet_of(net) for net in space)
        assert subnet.input("networkSecurityGroup.id").rsplit("/", 1)[1] in groups, subnet.name
        assert subnet.inputs["defaultOutboundAccess"] is False, "private subnets: outbound only through the NAT gateway"
    assert subnet_of(plan, "snet-private-endpoints").inputs["privateEndpointNetworkPolicies"] == "Enabled", (
        "without it the security group does not apply to the private endpoints"
    )
    bastion = subnet_of(plan, BASTION_SUBNET)
    assert ipaddress.ip_network(bastion.inputs["addressPrefix"]).prefixlen <= 26
    nat = plan.one(f"{NET}:NatGateway")
    for name in ("snet-ci-agents", "snet-jump-hosts"):
        assert subnet_of(plan, name).input("natGateway.id").endswith(f"/natGateways/{nat.inputs['natGatewayName']}")
    assert subnet_of(plan, "snet-private-endpoints").input("natGateway") is None
    host = plan.one(f"{NET}:BastionHost")
    assert host.inputs["ipConfigurations"][0]["subnet"]["id"].endswith(f"/subnets/{BASTION_SUBNET}")
    assert not subnet_of(plan, "snet-ci-agents").inputs.get("delegations"), "selfHosted agents need no delegation"


def rules_of(plan, suffix):
    return {
        r["name"]: r
        for r in next(g for g in plan.of_type(NSG) if g.inputs["networkSecurityGroupName"].endswith(suffix)).inputs[
            "securityRules"
        ]
    }


@pytest.mark.parametrize("stack", LOCKED_DOWN)
def test_only_https_from_the_agents_and_jump_hosts_reaches_the_private_endpoints(plans, stack, config_of):
    subnets = config_of(stack)[f"{P}network"]["subnets"]
    rules = rules_of(plans[stack], "-private-endpoints")
    allowed = [r for r in rules.values() if r["access"] == "Allow"]
    assert {
        (
            r["sourceAddressPrefix"],
            r["destinationAddressPrefix"],
            r["destinationPortRange"],
            r["protocol"],
            r["direction"],
        )
        for r in allowed
    } == {
        (subnets["ciAgents"], subnets["privateEndpoints"], "443", "Tcp", "Inbound"),
        (subnets["jumpHosts"], subnets["privateEndpoints"], "443", "Tcp", "Inbound"),
    }
    deny = rules["DenyAllInbound"]
    assert (deny["access"], deny["direction"], deny["sourceAddressPrefix"], deny["destinationPortRange"]) == (
        "Deny",
        "Inbound",
        "*",
        "*",
    )
    assert all(r["priority"] < deny["priority"] for r in allowed)
    for suffix in ("-ci-agents", "-jump-hosts"):
        machine = rules_of(plans[stack], suffix)
        assert machine["DenyAllInbound"]["access"] == "Deny"
        assert machine["DenySshRdpOutbound"]["destinationPortRanges"] == ["22", "3389"]
        assert machine["AllowHttpsToPrivateEndpoints"]["destinationAddressPrefix"] == subnets["privateEndpoints"]
    jump = rules_of(plans[stack], "-jump-hosts")["AllowSshRdpFromBastion"]
    assert (jump["sourceAddressPrefix"], jump["destinationPortRanges"]) == (subnets["bastion"], ["22", "3389"])


@pytest.mark.parametrize("stack", LOCKED_DOWN)
def test_the_bastion_subnet_has_every_rule_azure_bastion_needs(plans, stack):
    rules = rules_of(plans[stack], "-bastion")
    inbound = {
        (r["sourceAddressPrefix"], r.get("destinationPortRange") or tuple(r["destinationPortRanges"]))
        for r in rules.values()
        if r["direction"] == "Inbound"
    }
    outbound = {
        (r["destinationAddressPrefix"], r.get("destinationPortRange") or tuple(r["destinationPortRanges"]))
        for r in rules.values()
        if r["direction"] == "Outbound"
    }
    assert inbound == {
        ("Internet", "443"),
        ("GatewayManager", "443"),
        ("VirtualNetwork", ("8080", "5701")),
        ("AzureLoadBalancer", "443"),
    }
    assert outbound == {
        ("VirtualNetwork", ("22", "3389")),
        ("AzureCloud", "443"),
        ("VirtualNetwork", ("8080", "5701")),
        ("Internet", "80"),
    }
    for direction in ("Inbound", "Outbound"):
        priorities = [r["priority"] for r in rules.values() if r["direction"] == direction]
        assert len(set(priorities)) == len(priorities) == 4


@pytest.mark.parametrize(
    "kind, delegation",
    [("managedDevOpsPool", "Microsoft.DevOpsInfrastructure/pools"), ("githubHosted", "GitHub.Network/networkSettings")],
)
def test_service_hosted_ci_agents_get_their_subnet_delegated(config_of, kind, delegation):
    config = config_of("prod")
    config[f"{P}network"]["ciAgentKind"] = kind
    [delegated] = subnet_of(run_stack("prod", config=config), "snet-ci-agents").inputs["delegations"]
    assert delegated["serviceName"] == delegation


def test_a_hub_network_brings_its_dns_zones_and_clients(config_of):
    """Hub-and-spoke: the hub holds the zones (only zone groups are declared here), its resolver
    answers the spoke (dnsServers) and its clients reach the private endpoints (hubClientRanges)."""
    config = config_of("prod")
    hub_zones = {zone: HUB + zone for zone in ("privatelink.vaultcore.azure.net", "privatelink.api.azureml.ms")}
    config[f"{P}network"].update(
        privateDnsZoneIds=hub_zones, dnsServers=["10.0.0.4"], hubClientRanges=["10.100.0.0/16", "192.168.0.0/24"]
    )
    plan = run_stack("prod", config=config)
    declared = {z.inputs["privateZoneName"] for z in plan.of_type(ZONE)}
    assert declared.isdisjoint(hub_zones) and "privatelink.azurecr.io" in declared
    assert {link.inputs["privateZoneName"] for link in plan.of_type(LINK)} == declared
    configs = {
        c["name"]: c["privateDnsZoneId"] for g in plan.of_type(ZONE_GROUP) for c in g.inputs["privateDnsZoneConfigs"]
    }
    assert configs["privatelink-vaultcore-azure-net"] == hub_zones["privatelink.vaultcore.azure.net"]
    assert configs["privatelink-api-azureml-ms"] == hub_zones["privatelink.api.azureml.ms"]
    assert configs["privatelink-notebooks-azure-net"].endswith(
        "/rg-mlops-prod/providers/Microsoft.Network/privateDnsZones/privatelink.notebooks.azure.net"
    )
    assert plan.one(VNET).input("dhcpOptions.dnsServers") == ["10.0.0.4"]
    hub = rules_of(plan, "-private-endpoints")["AllowHttpsFromHubClients"]
    assert hub["sourceAddressPrefixes"] == ["10.100.0.0/16", "192.168.0.0/24"] and hub["destinationPortRange"] == "443"


@pytest.mark.parametrize("stack", LOCKED_DOWN)
def test_data_plane_calls_wait_for_every_zone_group(released_plans, stack):
    """Uploads (the serving code, which goes up with its code version, the candidate's files), the
    registrations and the release after them reach storage and the workspace only through the private
    endpoints, once the zone groups put their names there."""
    plan = released_plans[stack]
    zone_groups = {g.name for g in plan.of_type(ZONE_GROUP)}
    assert len(zone_groups) == 6  # the ML registry's too: the release reaches it from the same agents
    assert not plan.of_type("azure-native:storage:Blob"), "no upload outside the asset registrations"
    waiting = [
        plan.one("pulumi-python:dynamic/release:ModelVersion"),
        plan.one("pulumi-python:dynamic/release:AssetVersion", "hatespeech-serving-code"),
        plan.one("pulumi-python:dynamic/release:AssetVersion", "hatespeech-serving-environment"),
        plan.one("pulumi-python:dynamic/release:ChampionSelection"),
        plan.one("pulumi-python:dynamic/release:EndpointTraffic"),
    ]
    for resource in waiting:
        assert zone_groups <= set(resource.dependencies), resource.name


def test_a_public_stack_may_have_a_network_without_private_endpoints(config_of):
    config = config_of("dev")
    config[f"{P}network"].update(addressSpace=["10.10.0.0/24"], subnets={"jumpHosts": "10.10.0.0/27"})
    plan = run_stack("dev", config=config)
    assert plan.one(VNET).inputs["virtualNetworkName"] == "vnet-mlops-dev"
    assert [s.inputs["subnetName"] for s in plan.of_type(SUBNET)] == ["snet-jump-hosts"]
    assert not plan.of_type(ENDPOINT) and not plan.of_type(ZONE)
    assert "AllowSshRdpFromBastion" not in rules_of(plan, "-jump-hosts"), "no Bastion, no way in"


@pytest.mark.parametrize("stack", STACKS)
def test_network_names_carry_the_stack(plans, stack):
    for resource in plans[stack].of_type(VNET) + plans[stack].of_type(NSG):
        name = resource.inputs.get("virtualNetworkName") or resource.inputs["networkSecurityGroupName"]
        assert f"-mlops-{stack}" in name
