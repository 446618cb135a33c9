"""The virtual network of a locked-down stack: its subnets, their security groups, private DNS,
and the ways out (a NAT gateway) and in (Azure Bastion) that people and CI agents use.

Subnets by role: `privateEndpoints` (every service's private endpoint), `ciAgents` (the agents that
deploy the stack), `jumpHosts` (the VMs people work from) and `bastion`. Each has its own network
security group; inbound traffic is denied unless a rule below lets it in, and only HTTPS from the
CI agents, the jump hosts and the hub's client ranges reaches the private endpoints. Subnets are
private (`defaultOutboundAccess: false`): the CI agents and jump hosts reach the internet (GitHub
or Azure DevOps, Entra ID, Azure Resource Manager, package feeds) through the NAT gateway.

The private DNS zones of the endpoints are declared here and linked to the network, except those
a hub holds (given by id): those are only referenced by the endpoints' zone groups
(infra/private_endpoints.py), and the hub links them to its own resolver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

import pulumi
from pulumi_azure_native import network, privatedns

HTTPS = "443"
REMOTE_LOGIN = ("22", "3389")
# The rules Azure Bastion needs on its subnet, all of them (Azure docs, "Configure NSG rules for
# Azure Bastion", learn.microsoft.com/azure/bastion/bastion-nsg): name, direction, source,
# destination, ports, protocol.
BASTION_RULES = (
    ("AllowHttpsInbound", "Inbound", "Internet", "*", (HTTPS,), "Tcp"),
    ("AllowGatewayManagerInbound", "Inbound", "GatewayManager", "*", (HTTPS,), "Tcp"),
    ("AllowBastionHostCommunication", "Inbound", "VirtualNetwork", "VirtualNetwork", ("8080", "5701"), "*"),
    ("AllowAzureLoadBalancerInbound", "Inbound", "AzureLoadBalancer", "*", (HTTPS,), "Tcp"),
    ("AllowSshRdpOutbound", "Outbound", "*", "VirtualNetwork", REMOTE_LOGIN, "*"),
    ("AllowAzureCloudOutbound", "Outbound", "*", "AzureCloud", (HTTPS,), "Tcp"),
    ("AllowBastionCommunication", "Outbound", "VirtualNetwork", "VirtualNetwork", ("8080", "5701"), "*"),
    ("AllowHttpOutbound", "Outbound", "*", "Internet", ("80",), "*"),
)
LAST_PRIORITY = 4096  # the lowest priority a custom rule may have: below every allow, above Azure's defaults


@dataclass(frozen=True)
class SubnetArgs:
    name: str
    cidr: str
    security_group_name: str


@dataclass(frozen=True)
class PrivateNetworkArgs:
    """The network's Azure names and ranges, its subnets by role, and where its DNS zones live."""

    location: str
    tags: Mapping[str, str]
    resource_group_name: pulumi.Input[str]
    virtual_network_name: str
    address_space: tuple[str, ...]
    private_endpoints: SubnetArgs | None = None
    ci_agents: SubnetArgs | None = None
    # Microsoft.DevOpsInfrastructure/pools or GitHub.Network/networkSettings; None for agents on your own VMs
    ci_agent_delegation: str | None = None
    jump_hosts: SubnetArgs | None = None
    bastion: SubnetArgs | None = None
    nat_gateway_name: str = ""
    bastion_name: str = ""
    public_ip_names: Mapping[str, str] = field(default_factory=dict)  # NAT gateway or Bastion name -> its IP's name
    hub_client_ranges: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()  # empty: Azure's resolver (168.63.129.16)
    private_dns_zones: tuple[str, ...] = ()  # zones to declare here and link to the network
    hub_dns_zone_ids: Mapping[str, str] = field(default_factory=dict)  # zones a hub holds, by name


Prefixes = str | Sequence[str]


def _values(value: Prefixes) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _rule(
    name: str,
    priority: int,
    direction: str,
    access: str,
    source: Prefixes,
    destination: Prefixes,
    ports: Prefixes,
    protocol: str = "Tcp",
) -> network.SecurityRuleArgsDict:
    """A security rule; `source`, `destination` and `ports` are one value or a sequence."""
    rule: network.SecurityRuleArgsDict = {
        "name": name,
        "priority": priority,
        "direction": direction,
        "access": access,
        "protocol": protocol,
        "source_port_range": "*",
    }
    sources, destinations, port_ranges = _values(source), _values(destination), _values(ports)
    if len(sources) == 1:
        rule["source_address_prefix"] = sources[0]
    else:
        rule["source_address_prefixes"] = sources
    if len(destinations) == 1:
        rule["destination_address_prefix"] = destinations[0]
    else:
        rule["destination_address_prefixes"] = destinations
    if len(port_ranges) == 1:
        rule["destination_port_range"] = port_ranges[0]
    else:
        rule["destination_port_ranges"] = port_ranges
    return rule


def _deny_all_inbound() -> network.SecurityRuleArgsDict:
    return _rule("DenyAllInbound", LAST_PRIORITY, "Inbound", "Deny", "*", "*", "*", "*")


def security_rules(args: PrivateNetworkArgs) -> dict[str, list[network.SecurityRuleArgsDict]]:
    """The security rules of each subnet's group, by role."""
    rules: dict[str, list[network.SecurityRuleArgsDict]] = {}
    endpoints = args.private_endpoints
    if endpoints:
        clients = [
            ("CiAgents", args.ci_agents.cidr if args.ci_agents else None),
            ("JumpHosts", args.jump_hosts.cidr if args.jump_hosts else None),
            ("HubClients", list(args.hub_client_ranges) or None),
        ]
        rules["privateEndpoints"] = [
            _rule(f"AllowHttpsFrom{who}", 100 + 10 * index, "Inbound", "Allow", source, endpoints.cidr, HTTPS)
            for index, (who, source) in enumerate(clients)
            if source
        ] + [_deny_all_inbound()]
    # The machines of the VNet reach the private endpoints over HTTPS; no SSH or RDP from them to
    # anything (AVM's default group denies it too), no inbound but Bastion's to the jump hosts.
    to_endpoints = (
        [_rule("AllowHttpsToPrivateEndpoints", 100, "Outbound", "Allow", "*", endpoints.cidr, HTTPS)]
        if endpoints
        else []
    )
    no_remote_login = _rule("DenySshRdpOutbound", 200, "Outbound", "Deny", "*", "*", REMOTE_LOGIN, "*")
    if args.ci_agents:
        rules["ciAgents"] = [*to_endpoints, no_remote_login, _deny_all_inbound()]
    if args.jump_hosts:
        from_bastion = (
            [
                _rule(
                    "AllowSshRdpFromBastion",
                    100,
                    "Inbound",
                    "Allow",
                    args.bastion.cidr,
                    args.jump_hosts.cidr,
                    REMOTE_LOGIN,
                )
            ]
            if args.bastion
            else []
        )
        rules["jumpHosts"] = [*from_bastion, *to_endpoints, no_remote_login, _deny_all_inbound()]
    if args.bastion:
        rules["bastion"] = []
        for direction in ("Inbound", "Outbound"):  # priorities 100, 110, ... in each direction
            same_way = [rule for rule in BASTION_RULES if rule[1] == direction]
            rules["bastion"] += [
                _rule(name, 100 + 10 * index, direction, "Allow", source, destination, ports, protocol)
                for index, (name, _, source, destination, ports, protocol) in enumerate(same_way)
            ]
    return rules


class _Placement(TypedDict):
    """Where each of the network's resources goes, and its tags."""

    resource_group_name: pulumi.Input[str]
    location: str
    tags: dict[str, str]


class PrivateNetwork(pulumi.ComponentResource):
    virtual_network_id: pulumi.Output[str]
    subnet_ids: dict[str, pulumi.Output[str]]
    # zone name -> id; a declared zone's id resolves once its link to the network exists, so a zone
    # group built from it exists only when names resolve in the network
    dns_zone_ids: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: PrivateNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:PrivateNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        common: _Placement = {
            "resource_group_name": args.resource_group_name,
            "location": args.location,
            "tags": dict(args.tags),
        }

        vnet = network.VirtualNetwork(
            "virtual-network",
            virtual_network_name=args.virtual_network_name,
            address_space={"address_prefixes": list(args.address_space)},
            dhcp_options={"dns_servers": list(args.dns_servers)} if args.dns_servers else None,
            # No `subnets` here: they are Subnet resources, which azure-native keeps on a VNet update
            # when this property is unset (pulumi/pulumi-azure-native#611, examples/vnet-subnets-resolution).
            **common,
            opts=child,
        )

        outbound = {role for role, subnet in (("ciAgents", args.ci_agents), ("jumpHosts", args.jump_hosts)) if subnet}
        nat = self._nat_gateway(args, common, child) if outbound else None

        rules = security_rules(args)
        self.subnet_ids = {}
        previous: pulumi.Resource | None = None
        for role, subnet in (
            ("privateEndpoints", args.private_endpoints),
            ("ciAgents", args.ci_agents),
            ("jumpHosts", args.jump_hosts),
            ("bastion", args.bastion),
        ):
            if subnet is None:
                continue
            group = network.NetworkSecurityGroup(
                f"{role}-nsg",
                network_security_group_name=subnet.security_group_name,
                security_rules=rules[role],
                **common,
                opts=child,
            )
            delegation = args.ci_agent_delegation if role == "ciAgents" else None
            created = network.Subnet(
                f"{role}-subnet",
                subnet_name=subnet.name,
                virtual_network_name=vnet.name,
                resource_group_name=args.resource_group_name,
                address_prefix=subnet.cidr,
                network_security_group={"id": group.id},
                default_outbound_access=False,
                # Security groups apply to private endpoints only with this set (Azure docs, "Manage
                # network policies for private endpoints").
                private_endpoint_network_policies="Enabled" if role == "privateEndpoints" else None,
                nat_gateway={"id": nat.id} if nat is not None and role in outbound else None,
                delegations=[{"name": delegation.replace("/", "-"), "service_name": delegation}]
                if delegation
                else None,
                # One subnet write at a time: Azure refuses concurrent writes to one VNet's subnets
                # (AnotherOperationInProgress), so each waits for the one before.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous] if previous else None),
            )
            self.subnet_ids[role] = created.id
            previous = created

        if args.bastion:
            self._bastion(args, common, self.subnet_ids["bastion"], child)

        self.dns_zone_ids = dict(args.hub_dns_zone_ids)
        for zone in args.private_dns_zones:
            private_zone = privatedns.PrivateZone(
                zone,
                private_zone_name=zone,
                resource_group_name=args.resource_group_name,
                location="global",
                tags=dict(args.tags),
                opts=child,
            )
            link = privatedns.VirtualNetworkLink(
                f"{zone}-link",
                private_zone_name=private_zone.name,
                virtual_network_link_name=args.virtual_network_name,
                resource_group_name=args.resource_group_name,
                location="global",
                virtual_network={"id": vnet.id},
                registration_enabled=False,
                tags=dict(args.tags),
                opts=child,
            )
            self.dns_zone_ids[zone] = pulumi.Output.all(private_zone.id, link.id).apply(lambda ids: ids[0])

        self.virtual_network_id = vnet.id
        self.register_outputs({"virtual_network_id": self.virtual_network_id, "subnet_ids": self.subnet_ids})

    def _nat_gateway(
        self, args: PrivateNetworkArgs, common: _Placement, child: pulumi.ResourceOptions
    ) -> network.NatGateway:
        address = self._public_ip("nat-gateway", args.public_ip_names[args.nat_gateway_name], common, child)
        return network.NatGateway(
            "nat-gateway",
            nat_gateway_name=args.nat_gateway_name,
            sku={"name": "Standard"},
            public_ip_addresses=[{"id": address.id}],
            **common,
            opts=child,
        )

    def _bastion(
        self, args: PrivateNetworkArgs, common: _Placement, subnet_id: pulumi.Input[str], child: pulumi.ResourceOptions
    ) -> None:
        address = self._public_ip("bastion", args.public_ip_names[args.bastion_name], common, child)
        network.BastionHost(
            "bastion",
            bastion_host_name=args.bastion_name,
            sku={"name": "Basic"},
            ip_configurations=[
                {"name": "bastion", "subnet": {"id": subnet_id}, "public_ip_address": {"id": address.id}}
            ],
            **common,
            opts=child,
        )

    @staticmethod
    def _public_ip(owner: str, name: str, common: _Placement, child: pulumi.ResourceOptions) -> network.PublicIPAddress:
        return network.PublicIPAddress(
            f"{owner}-public-ip",
            public_ip_address_name=name,
            sku={"name": "Standard"},
            public_ip_allocation_method="Static",
            **common,
            opts=child,
        )
