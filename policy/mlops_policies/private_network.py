"""Locked-down services are reachable, and managed-network deployments leave egress alone.

``private-endpoint-for-closed-services`` (stack policy): a Key Vault, container registry, storage
account, Azure ML workspace or Azure ML registry whose public network access is disabled can only be
reached through a private endpoint (Azure docs; the first blob upload of a stack without one fails).
So each needs, in the same stack, a private endpoint per group id it serves (``vault``, ``registry``,
``blob`` and, for a workspace's storage, ``file``, ``amlworkspace``, ``amlregistry``) whose
connection targets it, and a DNS zone group on that endpoint covering the group id's private DNS
zones: zones declared in the stack (each linked to a virtual network) or a hub's zones, given by id.

The estate's Azure ML registry is declared by a stack of its own and used by others, so its private
endpoints are in the stacks that use it. A closed registry in a stack without a workspace (the
registry stack) is left to them; in a stack that uses a registry (a workspace's managed network
reaches it by a private-endpoint outbound rule, subresource ``amlregistry``, or a private endpoint
with that group id targets it), the policy asks for both ways in: a closed workspace's stack has a
private endpoint to the registry with a zone group as above (its CI agents and people reach the
workspace, and so the registry, only through the stack's network: Azure docs, "Network isolation with
Azure Machine Learning registries"), and every managed-network workspace of a stack with such an
endpoint has the outbound rule (Azure creates managed-network endpoints only to the workspace's own
services: Azure docs, "Workspace Managed Virtual Network Isolation", List of required rules). The
registry's id comes from another stack's outputs, which a preview knows (a StackReference is read
during previews); an id still unknown matches any registry.

``managed-network-deployments-no-egress`` (stack policy): a deployment of a workspace with a managed
network must not set ``egressPublicNetworkAccess``: Azure ML no longer applies it there and refuses
to change it on an existing deployment (Azure docs, "Network isolation with managed online
endpoints"). That is the release's EndpointTraffic ``serving.egress_public_network_access``, and an
azure-native OnlineDeployment's ``properties.egressPublicNetworkAccess``, which pulumi-azure-native
3.29 fills in as 'Enabled' when it is not given (machinelearningservices/_inputs.py,
OnlineDeploymentArgs).

During a preview a new service's id is not known yet; an endpoint whose target id is unknown
counts for the service its ``privateLinkServiceConnections`` depend on, and a zone config whose id
is unknown for the zone it depends on, as the engine reports (property dependencies), so the
policy stays mandatory in previews of new stacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pulumi_policy import EnforcementLevel, PolicyResource, Severity, StackValidationArgs, StackValidationPolicy
from pulumi_policy.proxy import UnknownValueError

from .resource_props import MISSING, as_list, lookup
from .traffic import RELEASE_TRAFFIC_SUFFIX, is_release_resource

PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
PRIVATE_ZONE = "azure-native:privatedns:PrivateZone"
ZONE_LINK = "azure-native:privatedns:VirtualNetworkLink"
WORKSPACE = "azure-native:machinelearningservices:Workspace"
ML_REGISTRY = "azure-native:machinelearningservices:Registry"
REGISTRY_GROUP_ID = "amlregistry"
NATIVE_DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment"
MANAGED_NETWORK_MODES = ("AllowInternetOutbound", "AllowOnlyApprovedOutbound")
UNKNOWN = object()

# The private DNS zones of each group id (the same table as infra/facts.py PRIVATE_DNS_ZONES, which
# the pack cannot import: it runs on its own; policy/tests/test_private_network_policies.py keeps
# them equal).
PRIVATE_DNS_ZONES = {
    "vault": ("privatelink.vaultcore.azure.net",),
    "registry": ("privatelink.azurecr.io",),
    "blob": ("privatelink.blob.core.windows.net",),
    "file": ("privatelink.file.core.windows.net",),
    "amlworkspace": ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
    "amlregistry": ("privatelink.api.azureml.ms",),
}


@dataclass(frozen=True)
class Closable:
    kind: str
    public_path: str  # where the resource says its public network access
    provider_path: str  # the ARM path of its type below the resource group
    name_key: str
    group_ids: tuple[str, ...]


CLOSABLE = {
    "azure-native:keyvault:Vault": Closable(
        "Key Vault", "properties.publicNetworkAccess", "Microsoft.KeyVault/vaults", "vaultName", ("vault",)
    ),
    "azure-native:containerregistry:Registry": Closable(
        "Container registry",
        "publicNetworkAccess",
        "Microsoft.ContainerRegistry/registries",
        "registryName",
        ("registry",),
    ),
    "azure-native:storage:StorageAccount": Closable(
        "Storage account", "publicNetworkAccess", "Microsoft.Storage/storageAccounts", "accountName", ("blob",)
    ),
    WORKSPACE: Closable(
        "ML workspace",
        "publicNetworkAccess",
        "Microsoft.MachineLearningServices/workspaces",
        "workspaceName",
        ("amlworkspace",),
    ),
    ML_REGISTRY: Closable(
        "ML registry",
        "publicNetworkAccess",
        "Microsoft.MachineLearningServices/registries",
        "registryName",
        ("amlregistry",),
    ),
}
# A workspace's storage also serves its file share (AVM avm/ptn/ai-platform/baseline gives it both).
WORKSPACE_STORAGE_GROUP_IDS = ("blob", "file")


def _known(read, default=UNKNOWN):
    """`read()`, or `default` when a preview does not know the value yet."""
    try:
        return read()
    except UnknownValueError:
        return default


def _text(value) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _arm_suffix(resource: PolicyResource, closable: Closable) -> str | None:
    """`/resourcegroups/<group>/providers/<type path>/<name>` of a resource, lowercase (ARM ids are
    case-insensitive; the subscription is not among the inputs)."""
    group = _known(lambda: lookup(resource.props, "resourceGroupName"), None)
    name = _known(lambda: lookup(resource.props, closable.name_key), None)
    if not isinstance(group, str) or not isinstance(name, str):
        return None
    return f"/resourcegroups/{group}/providers/{closable.provider_path}/{name}".lower()


def _closed(resource: PolicyResource) -> bool:
    closable = CLOSABLE[resource.resource_type]
    return _text(_known(lambda: lookup(resource.props, closable.public_path, None), None)) == "disabled"


def _depended(resource: PolicyResource, prop: str, candidates: list[PolicyResource]) -> list[PolicyResource]:
    """The candidates a property of `resource` depends on, as the engine reports it."""
    urns = {d.urn for d in resource.property_dependencies.get(prop, [])}
    return [candidate for candidate in candidates if candidate.urn in urns]


def _by_id(resource: PolicyResource, prop: str, value, services: list[PolicyResource]) -> list[PolicyResource]:
    """The services an id input names: by the id, or while a preview does not know it, by the
    property's dependencies."""
    if value is UNKNOWN:
        return _depended(resource, prop, services)
    text = _text(value)
    return [
        service
        for service in services
        if text and (suffix := _arm_suffix(service, CLOSABLE[service.resource_type])) and text.endswith(suffix)
    ]


def _connections(endpoint: PolicyResource, services: list[PolicyResource]) -> list[tuple[PolicyResource, str]]:
    """(service, group id) of each automatic connection of a private endpoint (a manual one waits
    for someone to approve it)."""
    found = []
    for connection in as_list(_known(lambda: lookup(endpoint.props, "privateLinkServiceConnections", None), [])):
        target = _known(lambda connection=connection: lookup(connection, "privateLinkServiceId", None))
        groups = _known(lambda connection=connection: as_list(lookup(connection, "groupIds", None)), [])
        found += [
            (service, str(group))
            for service in _by_id(endpoint, "privateLinkServiceConnections", target, services)
            for group in groups
        ]
    return found


def _zone_groups_of(endpoints: list[PolicyResource], groups: list[PolicyResource]) -> dict[str, list[PolicyResource]]:
    """Each endpoint's zone groups (endpoint urn -> groups): by the endpoint name the group names, or
    while a preview does not know it, by what that name depends on."""
    by_name = {str(lookup(e.props, "privateEndpointName", e.name)): e for e in endpoints}
    found: dict[str, list[PolicyResource]] = {}
    for group in groups:
        name = _known(lambda group=group: lookup(group.props, "privateEndpointName", None))
        owners = (
            _depended(group, "privateEndpointName", endpoints)
            if name is UNKNOWN
            else ([by_name[name]] if name in by_name else [])
        )
        for owner in owners:
            found.setdefault(owner.urn, []).append(group)
    return found


def _zone_names(group: PolicyResource, zones: list[PolicyResource]) -> set[str]:
    """The zones a zone group writes into: an in-stack zone by its name, a hub zone by its id's last segment."""
    names = set()
    for config in as_list(_known(lambda: lookup(group.props, "privateDnsZoneConfigs", None), [])):
        zone_id = _known(lambda config=config: lookup(config, "privateDnsZoneId", None))
        if zone_id is UNKNOWN:
            names |= {
                _text(lookup(z.props, "privateZoneName", None))
                for z in _depended(group, "privateDnsZoneConfigs", zones)
            }
        elif isinstance(zone_id, str) and "/privatednszones/" in zone_id.lower():
            names.add(zone_id.rsplit("/", 1)[1].lower())
    return names


def _workspace_storage(resources: list[PolicyResource], services: list[PolicyResource]) -> set[str]:
    """The urns of the storage accounts a workspace of the stack uses."""
    accounts = [s for s in services if s.resource_type == "azure-native:storage:StorageAccount"]
    return {
        account.urn
        for workspace in resources
        if workspace.resource_type == WORKSPACE
        for account in _by_id(
            workspace, "storageAccount", _known(lambda w=workspace: lookup(w.props, "storageAccount", None)), accounts
        )
    }


def validate_private_endpoints(args: StackValidationArgs, report_violation) -> None:
    resources = list(args.resources)

    def of_type(type_: str) -> list[PolicyResource]:
        return [r for r in resources if r.resource_type == type_]

    services = [r for r in resources if r.resource_type in CLOSABLE]
    workspace_storage = _workspace_storage(resources, services)
    zones = of_type(PRIVATE_ZONE)
    declared = {_text(lookup(z.props, "privateZoneName", None)) for z in zones}
    linked = {
        _text(lookup(z.props, "privateZoneName", None))
        for link in of_type(ZONE_LINK)
        for z in _referenced_zone(link, zones)
    }
    endpoints = of_type(PRIVATE_ENDPOINT)
    zone_groups = _zone_groups_of(endpoints, of_type(ZONE_GROUP))
    reached: dict[tuple[str, str], list[PolicyResource]] = {}  # (service urn, group id) -> endpoints
    for endpoint in endpoints:
        for service, group_id in _connections(endpoint, services):
            reached.setdefault((service.urn, group_id), []).append(endpoint)

    has_workspace = any(r.resource_type == WORKSPACE for r in resources)
    for service in services:
        if not _closed(service):
            continue
        if service.resource_type == ML_REGISTRY and not has_workspace:
            continue  # the registry stack: the stacks that use the registry hold its endpoints (_registry_reach)
        closable = CLOSABLE[service.resource_type]
        needed = WORKSPACE_STORAGE_GROUP_IDS if service.urn in workspace_storage else closable.group_ids
        where = f"{closable.kind} '{service.name}' has public network access disabled"
        for group_id in needed:
            reaching = reached.get((service.urn, group_id), [])
            if not reaching:
                report_violation(
                    f"{where} but no private endpoint with group id '{group_id}' in the stack targets it; nothing "
                    "(CI, people, data-plane calls) can reach it. Declare a private endpoint to it with that "
                    "group id (infra/private_endpoints.py) or enable public access.",
                    service.urn,
                )
                continue
            problem = _zone_problem(reaching, group_id, zone_groups, zones, declared, linked)
            if problem:
                report_violation(f"{where}; {problem}", service.urn)
    _registry_reach(resources, endpoints, zone_groups, zones, declared, linked, report_violation)


def _zone_problem(
    reaching: list[PolicyResource],
    group_id: str,
    zone_groups: dict[str, list[PolicyResource]],
    zones: list[PolicyResource],
    declared: set,
    linked: set,
) -> str | None:
    """What keeps the `group_id` endpoints `reaching` a service from resolving, or None: no zone group
    covering the group id's zones, or a zone of the stack linked to no network."""
    wanted = set(PRIVATE_DNS_ZONES[group_id])
    if not any(wanted <= _zone_names(group, zones) for e in reaching for group in zone_groups.get(e.urn, [])):
        return (
            f"its '{group_id}' private endpoint has no DNS zone group covering "
            f"{', '.join(sorted(wanted))}, so its name does not resolve to the endpoint. Add a zone group "
            "on the stack's zones or on the hub's zone ids."
        )
    unlinked = sorted(zone for zone in wanted if zone in declared and zone not in linked)
    if unlinked:
        return (
            f"the stack's private DNS zone {', '.join(unlinked)} of its '{group_id}' endpoint is "
            "linked to no virtual network, so no client resolves the endpoint. Add a VirtualNetworkLink "
            "or use the hub's zone."
        )
    return None


def _registry_rules(workspace: PolicyResource) -> list:
    """The registry ids (or UNKNOWN) a workspace's managed network reaches by a private-endpoint rule."""
    rules = _known(lambda: lookup(workspace.props, "managedNetwork.outboundRules", None), None)
    if not isinstance(rules, Mapping):
        return []
    targets = []
    for rule in rules.values():
        kind = _known(lambda rule=rule: lookup(rule, "type", None), None)
        target = _known(lambda rule=rule: lookup(rule, "destination.subresourceTarget", None), None)
        if kind == "PrivateEndpoint" and target == REGISTRY_GROUP_ID:
            targets.append(_known(lambda rule=rule: lookup(rule, "destination.serviceResourceId", None)))
    return targets


def _registry_endpoints(endpoints: list[PolicyResource]) -> list[tuple[PolicyResource, object]]:
    """(endpoint, registry id or UNKNOWN) of each automatic connection with group id amlregistry."""
    found = []
    for endpoint in endpoints:
        for connection in as_list(
            _known(lambda e=endpoint: lookup(e.props, "privateLinkServiceConnections", None), [])
        ):
            groups = _known(lambda connection=connection: as_list(lookup(connection, "groupIds", None)), [])
            if REGISTRY_GROUP_ID in groups:
                found.append(
                    (endpoint, _known(lambda connection=connection: lookup(connection, "privateLinkServiceId", None)))
                )
    return found


def _same_registry(one, other) -> bool:
    return one is UNKNOWN or other is UNKNOWN or _text(one) == _text(other)


def _registry_reach(
    resources: list[PolicyResource],
    endpoints: list[PolicyResource],
    zone_groups: dict[str, list[PolicyResource]],
    zones: list[PolicyResource],
    declared: set,
    linked: set,
    report_violation,
) -> None:
    """An Azure ML registry of another stack that this one uses is reached both ways (module docstring)."""
    workspaces = [r for r in resources if r.resource_type == WORKSPACE]
    by_endpoint = _registry_endpoints(endpoints)
    for workspace in workspaces:
        if not _closed(workspace):
            continue
        for registry in _registry_rules(workspace):
            shown = "an ML registry" if registry is UNKNOWN else f"ML registry '{registry}'"
            where = (
                f"ML workspace '{workspace.name}' has public network access disabled and its managed network "
                f"reaches {shown} by a private endpoint rule"
            )
            reaching = [e for e, target in by_endpoint if _same_registry(target, registry)]
            if not reaching:
                report_violation(
                    f"{where}, but no private endpoint with group id '{REGISTRY_GROUP_ID}' in the stack targets the "
                    "registry; the stack's CI agents and people, who reach the workspace only through its network, "
                    "cannot reach the registry (a release from it, a share into it). Declare a private endpoint to "
                    "it in the stack's private-endpoint subnet (stacks/registry_reference.py).",
                    workspace.urn,
                )
                continue
            problem = _zone_problem(reaching, REGISTRY_GROUP_ID, zone_groups, zones, declared, linked)
            if problem:
                report_violation(f"{where}; {problem}", workspace.urn)
    managed_names = _managed_workspaces(resources)
    managed = [
        w for w in workspaces if _known(lambda w=w: lookup(w.props, "workspaceName", None), None) in managed_names
    ]
    for endpoint, registry in by_endpoint:
        for workspace in managed:
            if not any(_same_registry(registry, rule) for rule in _registry_rules(workspace)):
                shown = "an ML registry" if registry is UNKNOWN else f"ML registry '{registry}'"
                report_violation(
                    f"Private endpoint '{endpoint.name}' reaches {shown} from the stack's network, but the managed network of ML workspace '{workspace.name}' has no "
                    f"private endpoint outbound rule to it (subresource '{REGISTRY_GROUP_ID}'); its deployments and "
                    "jobs, which run there, cannot read the registry's models. Add the rule to the workspace's "
                    "managedNetwork.outboundRules.",
                    workspace.urn,
                )


def _referenced_zone(link: PolicyResource, zones: list[PolicyResource]) -> list[PolicyResource]:
    """The zone a virtual network link belongs to: by its name, or by what that name depends on."""
    name = _known(lambda: lookup(link.props, "privateZoneName", None))
    if name is UNKNOWN:
        return _depended(link, "privateZoneName", zones)
    return [z for z in zones if _text(lookup(z.props, "privateZoneName", None)) == _text(name)]


def _managed_workspaces(resources: list[PolicyResource]) -> set[str]:
    names = set()
    for workspace in resources:
        if workspace.resource_type != WORKSPACE:
            continue
        mode = _known(lambda w=workspace: lookup(w.props, "managedNetwork.isolationMode", None), None)
        name = _known(lambda w=workspace: lookup(w.props, "workspaceName", None), None)
        if mode in MANAGED_NETWORK_MODES and isinstance(name, str):
            names.add(name)
    return names


def validate_managed_network_egress(args: StackValidationArgs, report_violation) -> None:
    resources = list(args.resources)
    managed = _managed_workspaces(resources)
    for resource in resources:
        if is_release_resource(resource.resource_type, RELEASE_TRAFFIC_SUFFIX):
            workspace = lookup(resource.props, "workspace_name", None)
            serving = lookup(resource.props, "serving", None)
            egress = lookup(serving, "egress_public_network_access", None) if isinstance(serving, Mapping) else None
            field = "serving.egress_public_network_access"
        elif resource.resource_type == NATIVE_DEPLOYMENT:
            workspace = lookup(resource.props, "workspaceName", None)
            egress = lookup(resource.props, "properties.egressPublicNetworkAccess", None)
            field = "properties.egressPublicNetworkAccess"
        else:
            continue
        if workspace in managed and egress not in (None, MISSING):
            report_violation(
                f"'{resource.name}' deploys to workspace '{workspace}', which has a managed network, and sets "
                f"{field} to {egress!r}; leave it unset: Azure ML ignores it with a managed network (the "
                "workspace's isolation mode governs outbound) and refuses to change it on an existing deployment.",
                resource.urn,
            )


PRIVATE_ENDPOINT_POLICY = StackValidationPolicy(
    name="private-endpoint-for-closed-services",
    description="A Key Vault, registry, storage account, ML workspace or ML registry with public network access "
    "disabled has, in the same stack, a private endpoint per group id it serves and a DNS zone group on "
    "linked zones or the hub's zones; an ML registry of another stack that a stack uses is reached from both "
    "its network (a private endpoint, in a stack of closed workspaces) and its workspaces' managed networks.",
    validate=validate_private_endpoints,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

MANAGED_NETWORK_EGRESS_POLICY = StackValidationPolicy(
    name="managed-network-deployments-no-egress",
    description="Deployments of a workspace with a managed network do not set egressPublicNetworkAccess.",
    validate=validate_managed_network_egress,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)
