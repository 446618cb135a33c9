"""Private endpoints of services whose public access is off, each with its private DNS zone group.

One endpoint per (service, group id) in the network's private-endpoint subnet, connected to the
service by its resource id; its zone group writes the endpoint's records into the zones of that
group id (infra/facts.py PRIVATE_DNS_ZONES), whether the stack's own or a hub's. Clients in the
network, or resolving through the hub, then reach the service's usual names (`<vault>.vault.azure.net`,
`<account>.blob.core.windows.net`, the workspace's API and notebooks hosts) at private addresses.
`zone_groups` is what a data-plane call (a blob upload, a model registration) must wait for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from infra.facts import PRIVATE_DNS_ZONES


@dataclass(frozen=True)
class PrivateLinkTarget:
    """A service and one of its group ids, with the name of the endpoint that reaches it."""

    endpoint_name: str
    resource_id: pulumi.Input[str]
    group_id: str


@dataclass(frozen=True)
class PrivateAccessArgs:
    location: str
    tags: Mapping[str, str]
    resource_group_name: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    dns_zone_ids: Mapping[str, pulumi.Input[str]]  # zone name -> id, for every zone of the targets' group ids
    targets: tuple[PrivateLinkTarget, ...]


class PrivateAccess(pulumi.ComponentResource):
    zone_groups: list[network.PrivateDnsZoneGroup]

    def __init__(self, name: str, args: PrivateAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:PrivateAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.zone_groups = []
        for target in args.targets:
            endpoint = network.PrivateEndpoint(
                target.endpoint_name,
                private_endpoint_name=target.endpoint_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                subnet={"id": args.subnet_id},
                custom_network_interface_name=f"{target.endpoint_name}-nic",
                private_link_service_connections=[
                    {
                        "name": target.endpoint_name,
                        "private_link_service_id": target.resource_id,
                        "group_ids": [target.group_id],
                    }
                ],
                tags=dict(args.tags),
                opts=child,
            )
            self.zone_groups.append(
                network.PrivateDnsZoneGroup(
                    f"{target.endpoint_name}-dns",
                    private_dns_zone_group_name="default",
                    private_endpoint_name=endpoint.name,
                    resource_group_name=args.resource_group_name,
                    private_dns_zone_configs=[
                        {"name": zone.replace(".", "-"), "private_dns_zone_id": args.dns_zone_ids[zone]}
                        for zone in PRIVATE_DNS_ZONES[target.group_id]
                    ],
                    opts=child,
                )
            )
        self.register_outputs({})
