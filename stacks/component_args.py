"""The typed Args of each infra/ component, built from the stack's settings.

One builder per Args: the only place that knows which settings a component reads and how they
become its inputs (physical names from `settings.names`, tags, sizes, flags). The components
see nothing else, so infra/ imports nothing from stacks/.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import pulumi

from infra.compute import ClusterSize, ComputeClustersArgs
from infra.data_access import (
    DATA_SCIENTISTS,
    DEFAULT_DATASTORE,
    DEPLOYERS,
    ENDPOINT,
    GRANTS,
    KEY_VAULT,
    PROMOTERS,
    REGISTRY,
    SERVING_CODE,
    STORAGE_ACCOUNT,
    WORKSPACE,
    DataAccessArgs,
    DataRoleAssignment,
    slug,
)
from infra.endpoint import OnlineEndpointArgs, SlotServingArgs
from infra.facts import CI_AGENT_DELEGATIONS, SERVICE_GROUP_IDS
from infra.ml_registry import ModelRegistryArgs
from infra.network import PrivateNetwork, PrivateNetworkArgs, SubnetArgs
from infra.private_endpoints import PrivateAccessArgs, PrivateLinkTarget
from infra.rbac import AccessControlArgs, CustomRole, GroupAssignment
from infra.release.base import WorkspaceCoordinates
from infra.role_permissions import (
    DATA_SCIENTIST,
    MLOPS_DEPLOYER,
    MODEL_PROMOTER,
    REGISTRY_PUBLISHER,
    REGISTRY_READER,
    RolePermissions,
)
from infra.serving_assets import ServingAssetsArgs, ServingSource
from infra.shared import SharedServices, SharedServicesArgs
from infra.workspace import MachineLearningWorkspace, MachineLearningWorkspaceArgs
from stacks.naming import SUBNET_NAMES, StackNames
from stacks.network_rules import USED_ZONES
from stacks.registry_reference import RegistryReference
from stacks.registry_settings import RegistrySettings
from stacks.settings import ClusterSettings, StackSettings, WorkspaceSettings

# The estate's registry in an environment stack: its private endpoint's and its outbound rule's name.
MODEL_REGISTRY = "model-registry"
REGISTRY_OUTBOUND_RULE = f"private-{MODEL_REGISTRY}"  # outbound rules are named after what they reach
REGISTRY_GROUP_ID = SERVICE_GROUP_IDS["machine learning registry"][0]


def shared_services_args(settings: StackSettings) -> SharedServicesArgs:
    names = settings.names
    return SharedServicesArgs(
        location=settings.location,
        tags=settings.tags,
        resource_group_name=names.resource_group,
        log_analytics_name=names.log_analytics,
        app_insights_name=names.app_insights,
        key_vault_name=names.key_vault,
        registry_name=names.container_registry,
        storage_account_name=names.storage_account,
        registry_sku=settings.registry_sku,
        storage_sku=settings.storage_sku,
        key_vault_retention_days=settings.key_vault_retention_days,
        log_retention_days=settings.log_retention_days,
        public_network_access=settings.network.public_network_access,
        allowed_ip_ranges=settings.network.allowed_ip_ranges,
    )


def access_control_args(
    settings: StackSettings,
    resource_group_id: pulumi.Input[str],
    workspace_ids: Mapping[str, pulumi.Input[str]],
) -> AccessControlArgs:
    """The two custom roles, each with its stable GUIDs and the groups the settings give it, and, in a
    stack whose models are promoted (`access.modelPromoterGroupIds`), the Model Promoter, assigned to
    those groups at each workspace (`workspace_ids`, by workspace name)."""
    access = settings.access
    roles = custom_roles(
        settings.names,
        ((DATA_SCIENTIST, access.data_scientist_group_ids), (MLOPS_DEPLOYER, access.mlops_deployer_group_ids)),
    )
    return AccessControlArgs(
        scope=resource_group_id,
        roles=roles + promoter_roles(settings.names, access.model_promoter_group_ids, workspace_ids),
    )


def promoter_roles(
    names: StackNames, group_ids: Sequence[str], workspace_ids: Mapping[str, pulumi.Input[str]]
) -> tuple[CustomRole, ...]:
    """The Model Promoter with one assignment per group and workspace, or nothing without groups."""
    if not group_ids:
        return ()
    (role,) = custom_roles(names, ((MODEL_PROMOTER, ()),))
    purpose = MODEL_PROMOTER.purpose
    assignments = tuple(
        GroupAssignment(
            group_id, names.guid("assignment", purpose, group_id, workspace), scope=workspace_id, scope_name=workspace
        )
        for workspace, workspace_id in workspace_ids.items()
        for group_id in group_ids
    )
    return (replace(role, assignments=assignments),)


def registry_access_args(
    settings: RegistrySettings, resource_group_id: pulumi.Input[str], registry_id: pulumi.Input[str]
) -> AccessControlArgs:
    """The registry's publisher and reader roles, assignable at its resource group and assigned at the
    registry itself to the groups the settings give them."""
    access = settings.access
    return AccessControlArgs(
        scope=resource_group_id,
        assignment_scope=registry_id,
        roles=custom_roles(
            settings.names,
            (
                (REGISTRY_PUBLISHER, access.mlops_deployer_group_ids),
                (REGISTRY_READER, access.data_scientist_group_ids),
            ),
        ),
    )


def custom_roles(names: StackNames, groups: Sequence[tuple[RolePermissions, Sequence[str]]]) -> tuple[CustomRole, ...]:
    """Each role with its stable GUIDs and display name, assigned to its groups."""
    return tuple(
        CustomRole(
            permissions=role,
            definition_name=names.guid("role", role.purpose),
            role_name=names.role_name(role.purpose),
            assignments=tuple(
                GroupAssignment(group_id, names.guid("assignment", role.purpose, group_id)) for group_id in group_ids
            ),
        )
        for role, group_ids in groups
    )


def model_registry_args(settings: RegistrySettings) -> ModelRegistryArgs:
    return ModelRegistryArgs(
        registry_name=settings.registry_name,
        resource_group_name=settings.names.resource_group,
        location=settings.location,
        regions=settings.regions,
        storage_sku=settings.storage_sku,
        public_network_access=settings.public_network_access,
        tags=settings.tags,
    )


def workspace_args(
    settings: StackSettings,
    workspace: WorkspaceSettings,
    shared: SharedServices,
    registry: RegistryReference | None = None,
) -> MachineLearningWorkspaceArgs:
    return MachineLearningWorkspaceArgs(
        workspace_name=settings.names.workspace(workspace.name),
        friendly_name=f"{workspace.name} ({settings.stack})",
        description=workspace.description,
        location=settings.location,
        tags=settings.tags,
        resource_group_name=shared.resource_group_name,
        key_vault_id=shared.key_vault_id,
        app_insights_id=shared.app_insights_id,
        registry_id=shared.registry_id,
        storage_account_id=shared.storage_account_id,
        high_business_impact=settings.high_business_impact,
        public_network_access=settings.network.public_network_access,
        isolation_mode=settings.network.isolation_mode,
        private_link_targets=shared.firewalled_targets,
        outbound_private_endpoints=registry_outbound_rules(settings, registry),
    )


def data_access_args(
    settings: StackSettings,
    workspace: WorkspaceSettings,
    subscription_id: pulumi.Input[str],
    shared: SharedServices,
    ml_workspace: MachineLearningWorkspace,
    endpoint_principal_id: pulumi.Input[str | None],
) -> DataAccessArgs:
    """The data roles of one workspace's identities and of the configured groups (infra/data_access.py GRANTS)."""
    scopes = {
        STORAGE_ACCOUNT: shared.storage_account_id,
        DEFAULT_DATASTORE: ml_workspace.default_datastore_id,
        SERVING_CODE: shared.code_container_id,
        KEY_VAULT: shared.key_vault_id,
        REGISTRY: shared.registry_id,
    }
    access = settings.access
    principals = [
        (WORKSPACE, WORKSPACE, ml_workspace.principal_id, "ServicePrincipal"),
        (ENDPOINT, ENDPOINT, endpoint_principal_id, "ServicePrincipal"),
        *((DEPLOYERS, group, group, "Group") for group in access.mlops_deployer_group_ids),
        *((DATA_SCIENTISTS, group, group, "Group") for group in access.data_scientist_group_ids),
        *((PROMOTERS, group, group, "Group") for group in access.model_promoter_group_ids),
    ]
    return DataAccessArgs(
        subscription_id=subscription_id,
        assignments=tuple(
            DataRoleAssignment(
                resource_name=f"{workspace.name}-{slug(key)}-{slug(role)}-{slug(scope)}",
                principal=kind,
                assignment_name=settings.names.guid("data", workspace.name, key, role, scope),
                role=role,
                scope=scopes[scope],
                principal_id=principal_id,
                principal_type=principal_type,
                description=f"{role} on the {scope} of workspace {workspace.name}, for the {kind}"
                + (f" group {key}" if principal_type == "Group" else " identity"),
            )
            for kind, key, principal_id, principal_type in principals
            for role, scope in GRANTS[kind]
        ),
    )


def registry_outbound_rules(
    settings: StackSettings, registry: RegistryReference | None
) -> tuple[PrivateLinkTarget, ...]:
    """The managed network's private endpoint to the estate's registry, in a stack whose workspaces
    could not reach it otherwise: a locked-down stack (its registry's public access may be off, and
    Azure creates private endpoints only to the workspace's own storage, vault, registry and itself:
    Azure docs, "Workspace Managed Virtual Network Isolation", List of required rules) or one whose
    managed network allows only approved outbound traffic."""
    if registry is None:
        return ()
    network = settings.network
    if not (network.private or network.isolation_mode == "AllowOnlyApprovedOutbound"):
        return ()
    return (PrivateLinkTarget(REGISTRY_OUTBOUND_RULE, registry.registry_id, REGISTRY_GROUP_ID),)


def compute_args(
    settings: StackSettings,
    workspace: WorkspaceSettings,
    workspace_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
) -> ComputeClustersArgs:
    return ComputeClustersArgs(
        workspace_name=workspace_name,
        resource_group_name=resource_group_name,
        location=settings.location,
        tags=settings.tags,
        gpu=_cluster_size(workspace.gpu_cluster),
        cpu=_cluster_size(workspace.cpu_cluster),
        node_public_ip=settings.compute_access.node_public_ip,
        ssh_public_key=settings.compute_access.ssh_public_key,
    )


def _cluster_size(cluster: ClusterSettings) -> ClusterSize:
    return ClusterSize(
        vm_size=cluster.vm_size,
        min_nodes=cluster.min_nodes,
        max_nodes=cluster.max_nodes,
        idle_seconds=cluster.idle_seconds,
        low_priority=cluster.low_priority,
    )


def serving_assets_args(source: ServingSource, workspace: WorkspaceCoordinates) -> ServingAssetsArgs:
    return ServingAssetsArgs(source=source, workspace=workspace)


def endpoint_args(
    settings: StackSettings, workspace: WorkspaceSettings, coordinates: WorkspaceCoordinates
) -> OnlineEndpointArgs:
    return OnlineEndpointArgs(
        workspace=coordinates,
        endpoint_name=settings.names.endpoint(workspace.name),
        auth_mode=workspace.endpoint.auth_mode,
        description=f"{workspace.name} scoring ({settings.stack})",
        tags=settings.tags,
        public_network_access=settings.network.public_network_access,
    )


def slot_serving_args(settings: StackSettings, workspace: WorkspaceSettings) -> SlotServingArgs:
    return SlotServingArgs(
        instance_type=workspace.endpoint.instance_type, instance_count=workspace.endpoint.instance_count
    )


def network_args(settings: StackSettings, resource_group_name: pulumi.Input[str]) -> PrivateNetworkArgs | None:
    """The stack's virtual network, or None for a stack without an address space (a public one)."""
    names, net = settings.names, settings.network
    if not net.address_space:
        return None
    cidrs = net.subnets.model_dump(by_alias=True)

    def subnet(role: str) -> SubnetArgs | None:
        return SubnetArgs(SUBNET_NAMES[role], cidrs[role], names.network_security_group(role)) if cidrs[role] else None

    hub_zones = dict(net.private_dns_zone_ids)
    return PrivateNetworkArgs(
        location=settings.location,
        tags=settings.tags,
        resource_group_name=resource_group_name,
        virtual_network_name=names.virtual_network,
        address_space=net.address_space,
        private_endpoints=subnet("privateEndpoints"),
        ci_agents=subnet("ciAgents"),
        ci_agent_delegation=CI_AGENT_DELEGATIONS[net.ci_agent_kind],
        jump_hosts=subnet("jumpHosts"),
        bastion=subnet("bastion"),
        nat_gateway_name=names.nat_gateway,
        bastion_name=names.bastion,
        public_ip_names={owner: names.public_ip(owner) for owner in (names.nat_gateway, names.bastion)},
        hub_client_ranges=net.hub_client_ranges,
        dns_servers=net.dns_servers,
        private_dns_zones=tuple(zone for zone in USED_ZONES if zone not in hub_zones) if net.private else (),
        hub_dns_zone_ids=hub_zones,
    )


def shared_private_services(
    settings: StackSettings, shared: SharedServices, registry: RegistryReference | None = None
) -> list[tuple[str, str, pulumi.Input[str]]]:
    """The shared services that get private endpoints, as (kind, Azure name, resource id); the estate's
    Azure ML registry among them when the stack uses one (in the subnet of the workspaces' endpoints, as
    Azure docs, "Network isolation with Azure Machine Learning registries", say), named for its role:
    its Azure name is an output of the registry stack."""
    names = settings.names
    services: list[tuple[str, str, pulumi.Input[str]]] = [
        ("key vault", names.key_vault, shared.key_vault_id),
        ("container registry", names.container_registry, shared.registry_id),
        ("storage account", names.storage_account, shared.storage_account_id),
    ]
    if registry is not None:
        services.append(("machine learning registry", MODEL_REGISTRY, registry.registry_id))
    return services


def private_access_args(
    settings: StackSettings,
    network: PrivateNetwork,
    resource_group_name: pulumi.Input[str],
    services: list[tuple[str, str, pulumi.Input[str]]],
) -> PrivateAccessArgs:
    """The private endpoints of `services` ((kind, Azure name, resource id), kinds as in
    infra/facts.py SERVICE_GROUP_IDS), one per group id the kind needs, in the endpoint subnet."""
    return PrivateAccessArgs(
        location=settings.location,
        tags=settings.tags,
        resource_group_name=resource_group_name,
        subnet_id=network.subnet_ids["privateEndpoints"],
        dns_zone_ids=network.dns_zone_ids,
        targets=tuple(
            PrivateLinkTarget(settings.names.private_endpoint(name, group), resource_id, group)
            for kind, name, resource_id in services
            for group in SERVICE_GROUP_IDS[kind]
        ),
    )
