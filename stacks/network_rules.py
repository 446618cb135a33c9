"""The rules across a stack's `network` settings (and the registry SKU they need), on real IP ranges.

Each range is parsed with `ipaddress` (stacks/fields.py); a malformed one is the field's own problem,
so these rules read only the valid ones and report, one problem each: address-space ranges that
overlap, a subnet outside the address space or overlapping another, a Bastion subnet smaller than
Azure allows, a locked-down stack (public access off) without an address space or a private-endpoint
subnet, IP rules on a stack without public access, a hub client range inside the stack's own
network, hub DNS zone ids for zones no endpoint uses or that are not a zone's id, and a registry
that cannot have a private endpoint.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from infra.facts import (
    BASTION_SUBNET_MAX_PREFIX,
    PRIVATE_DNS_ZONES,
    SERVICE_GROUP_IDS,
    matches,
    private_dns_zone_id,
    private_dns_zone_id_accepted,
)
from stacks.fields import CIDR_ACCEPTED, as_boolean, ipv4_network
from stacks.validation import Problem

SUBNET_ROLES = ("privateEndpoints", "ciAgents", "jumpHosts", "bastion")
# the zones of every endpoint the platform declares for its services
USED_ZONES = tuple(
    dict.fromkeys(
        zone for groups in SERVICE_GROUP_IDS.values() for group in groups for zone in PRIVATE_DNS_ZONES[group]
    )
)


def network_problems(config: Mapping[str, Any], project: str) -> list[Problem]:
    network = config.get("network")
    if not isinstance(network, Mapping):
        return []  # missing or not a mapping: the field's own problem

    def key(name: str) -> str:
        return f"{project}:network.{name}"

    private = as_boolean(network.get("publicNetworkAccess")) is False
    space = _ranges(network.get("addressSpace"))
    subnets_value = network.get("subnets")
    subnets = {
        role: net
        for role in SUBNET_ROLES
        if isinstance(subnets_value, Mapping) and (net := ipv4_network(subnets_value.get(role))) is not None
    }
    problems = _overlaps([(f"addressSpace[{index}]", net) for index, net in space], key, "an address-space range")

    space_text = ", ".join(str(net) for _, net in space)
    if space:
        for role, net in subnets.items():
            if not any(net.subnet_of(outer) for _, outer in space):
                problems.append(
                    Problem(key(f"subnets.{role}"), f"a range inside network.addressSpace ({space_text})", str(net))
                )
    problems += _overlaps([(f"subnets.{role}", net) for role, net in subnets.items()], key, "a subnet")
    bastion = subnets.get("bastion")
    if bastion is not None and bastion.prefixlen > BASTION_SUBNET_MAX_PREFIX:
        problems.append(
            Problem(
                key("subnets.bastion"),
                f"a range of at least /{BASTION_SUBNET_MAX_PREFIX} (Azure Bastion's smallest subnet)",
                str(bastion),
            )
        )

    if not (isinstance(network.get("addressSpace"), list) and network["addressSpace"]):
        if private:
            problems.append(
                Problem(
                    key("addressSpace"),
                    "a list of IPv4 CIDR ranges when network.publicNetworkAccess "
                    "is false (the private endpoints need a network)",
                    kind="required",
                )
            )
        elif subnets:
            problems.append(
                Problem(key("addressSpace"), "a list of IPv4 CIDR ranges holding network.subnets", kind="required")
            )
    if private and not (isinstance(subnets_value, Mapping) and subnets_value.get("privateEndpoints")):
        problems.append(
            Problem(
                key("subnets.privateEndpoints"),
                f"{CIDR_ACCEPTED} inside network.addressSpace when network.publicNetworkAccess is "
                "false (the private endpoints need a subnet)",
                kind="required",
            )
        )
    if private and isinstance(network.get("allowedIpRanges"), list) and network["allowedIpRanges"]:
        problems.append(
            Problem(
                key("allowedIpRanges"),
                "an empty list when network.publicNetworkAccess is false (IP rules apply only to public access)",
                network["allowedIpRanges"],
            )
        )

    for index, net in _ranges(network.get("hubClientRanges")):
        inside = next((str(outer) for _, outer in space if net.overlaps(outer)), None)
        if inside:
            problems.append(
                Problem(
                    key(f"hubClientRanges[{index}]"),
                    f"a range of another network, outside network.addressSpace (overlaps {inside})",
                    str(net),
                )
            )

    problems += _zone_id_problems(network.get("privateDnsZoneIds"), key)
    if private and config.get("registrySku") not in (None, "Premium"):
        problems.append(
            Problem(
                f"{project}:registrySku",
                "Premium when network.publicNetworkAccess is false (only a Premium registry has private endpoints)",
                config["registrySku"],
            )
        )
    return problems


def _ranges(value: Any) -> list[tuple[int, ipaddress.IPv4Network]]:
    """The valid ranges of a list setting, with their index."""
    items = value if isinstance(value, list) else []
    return [(index, net) for index, item in enumerate(items) if (net := ipv4_network(item)) is not None]


def _overlaps(ranges: list[tuple[str, ipaddress.IPv4Network]], key, what: str) -> list[Problem]:
    """A problem for each range that overlaps one named before it."""
    problems = []
    for index, (name, net) in enumerate(ranges):
        earlier = next(((other, prior) for other, prior in ranges[:index] if net.overlaps(prior)), None)
        if earlier:
            problems.append(
                Problem(
                    key(name), f"{what} that overlaps no other (overlaps network.{earlier[0]}, {earlier[1]})", str(net)
                )
            )
    return problems


def _zone_id_problems(zone_ids: Any, key) -> list[Problem]:
    if not isinstance(zone_ids, Mapping):
        return []  # not a mapping: the field's own problem
    problems = []
    for zone, zone_id in zone_ids.items():
        name = f'privateDnsZoneIds["{zone}"]'
        if zone not in USED_ZONES:
            problems.append(
                Problem(key(name), "a private DNS zone the private endpoints use: " + ", ".join(USED_ZONES), zone)
            )
        elif not matches(private_dns_zone_id(zone), zone_id):
            problems.append(Problem(key(name), private_dns_zone_id_accepted(zone), zone_id))
    return problems
