from infra.network import PrivateNetwork, PrivateNetworkArgs, SubnetArgs
from infra.private_endpoints import PrivateAccess, PrivateAccessArgs, PrivateLinkTarget
from tests.infra.components.conftest import TAGS

NET = "azure-native:network"
VAULT_ID = "/subscriptions/s/resourceGroups/rg-unit/providers/Microsoft.KeyVault/vaults/kv-unit"
HUB_ZONE = (
    "/subscriptions/9b7e1c2d-0000-4000-8000-0000000000a1/resourceGroups/rg-hub/providers/"
    "Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net"
)


def network_args(**changes) -> PrivateNetworkArgs:
    values = dict(
        location="northeurope",
        tags=TAGS,
        resource_group_name="rg-unit",
        virtual_network_name="vnet-unit",
        address_space=("10.9.0.0/24",),
        private_endpoints=SubnetArgs("snet-pe", "10.9.0.0/27", "nsg-pe"),
        nat_gateway_name="ng-unit",
        bastion_name="bas-unit",
        public_ip_names={"ng-unit": "pip-ng-unit", "bas-unit": "pip-bas-unit"},
    )
    return PrivateNetworkArgs(**{**values, **changes})


def test_a_network_with_only_an_endpoint_subnet_has_no_way_out_or_in(declare):
    """Nothing needs the internet: no NAT gateway, no public IP, no Bastion; no client subnet, so
    nothing but the deny rule on the endpoints' group."""
    plan = declare(lambda: PrivateNetwork("net", network_args()) and None)
    assert {r.parent for r in plan.resources if r.custom} == {"net"}
    assert not plan.of_type(f"{NET}:NatGateway") and not plan.of_type(f"{NET}:PublicIPAddress")
    assert not plan.of_type(f"{NET}:BastionHost")
    [group] = plan.of_type(f"{NET}:NetworkSecurityGroup")
    assert [r["name"] for r in group.inputs["securityRules"]] == ["DenyAllInbound"]
    assert not plan.of_type("azure-native:privatedns:PrivateZone"), "no zones asked for"


def test_subnets_are_written_one_after_another(declare):
    plan = declare(
        lambda: (
            PrivateNetwork(
                "net",
                network_args(
                    ci_agents=SubnetArgs("snet-ci", "10.9.0.64/26", "nsg-ci"),
                    jump_hosts=SubnetArgs("snet-jump", "10.9.0.32/27", "nsg-jump"),
                ),
            )
            and None
        )
    )
    order = [s.name for s in plan.of_type(f"{NET}:Subnet")]
    assert order == ["privateEndpoints-subnet", "ciAgents-subnet", "jumpHosts-subnet"]
    for before, after in zip(order, order[1:], strict=False):
        assert before in plan.one(f"{NET}:Subnet", after).dependencies
    public_ip = plan.one(f"{NET}:PublicIPAddress")
    assert (
        public_ip.inputs["publicIpAddressName"],
        public_ip.input("sku.name"),
        public_ip.inputs["publicIPAllocationMethod"],
    ) == ("pip-ng-unit", "Standard", "Static")


def test_declared_zones_are_linked_and_hub_zones_only_referenced(declare):
    def build():
        network = PrivateNetwork(
            "net",
            network_args(
                private_dns_zones=("privatelink.blob.core.windows.net",),
                hub_dns_zone_ids={"privatelink.vaultcore.azure.net": HUB_ZONE},
            ),
        )
        PrivateAccess(
            "access",
            PrivateAccessArgs(
                location="northeurope",
                tags=TAGS,
                resource_group_name="rg-unit",
                subnet_id=network.subnet_ids["privateEndpoints"],
                dns_zone_ids=network.dns_zone_ids,
                targets=(PrivateLinkTarget("pe-kv-unit-vault", VAULT_ID, "vault"),),
            ),
        )

    plan = declare(build)
    [zone] = plan.of_type("azure-native:privatedns:PrivateZone")
    assert zone.inputs["privateZoneName"] == "privatelink.blob.core.windows.net"
    assert (
        plan.one("azure-native:privatedns:VirtualNetworkLink")
        .input("virtualNetwork.id")
        .endswith("/virtualNetworks/vnet-unit")
    )
    endpoint = plan.one(f"{NET}:PrivateEndpoint")
    assert endpoint.parent == "access"
    assert endpoint.inputs["privateLinkServiceConnections"] == [
        {"name": "pe-kv-unit-vault", "privateLinkServiceId": VAULT_ID, "groupIds": ["vault"]}
    ]
    assert endpoint.input("subnet.id").endswith("/virtualNetworks/vnet-unit/subnets/snet-pe")
    assert endpoint.inputs["customNetworkInterfaceName"] == "pe-kv-unit-vault-nic"
    group = plan.one(f"{NET}:PrivateDnsZoneGroup")
    assert group.inputs["privateEndpointName"] == "pe-kv-unit-vault"
    assert group.inputs["privateDnsZoneConfigs"] == [
        {"name": "privatelink-vaultcore-azure-net", "privateDnsZoneId": HUB_ZONE}
    ]
