"""An Azure ML workspace linked to the stack's shared services, with its own identity.

Its system datastores (the default blob store, the file store) authenticate by identity, the
workspace's own or the caller's Entra ID, never by the storage account key, which the stack turns
off (Azure ML "Disable shared key access for your workspace's storage account").

Its managed network gets the outbound rules what the platform itself does needs (Azure ML
"Workspace managed network isolation", list of required rules):
- AllowOnlyApprovedOutbound: Azure adds private-endpoint rules to the workspace's storage (blob,
  file), Key Vault and registry whatever their public access, and service-tag rules for Azure ML,
  Entra ID, ARM, Azure Monitor and MCR (the base images). A user-defined rule to the same target is
  refused as a duplicate (review of the managed-network sample, Azure/azureml-examples#2990), so
  none is declared. The image builds of the serving and training environments install from
  conda-forge and PyPI: PACKAGE_FEEDS are FQDN rules, which make Azure deploy a managed Azure
  Firewall of FIREWALL_SKU, billed while the managed network is provisioned; it is not created
  until the first FQDN rule is (README, "Workspace outbound").
- AllowInternetOutbound: the internet is open (only private-endpoint rules are accepted in this
  mode); Azure adds private-endpoint rules only to associated resources whose public access is off,
  so a shared service whose public endpoint denies by default (`private_link_targets`) gets one here.
In either mode a service outside the stack that jobs and deployments use, the estate's model registry
(`outbound_private_endpoints`), gets a private-endpoint rule: Azure adds none for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from infra.private_endpoints import PrivateLinkTarget

CPU_CLUSTER_NAME = "cpu-cluster"
GPU_CLUSTER_NAME = "gpu-cluster"
APPROVED_ONLY = "AllowOnlyApprovedOutbound"
# Where environment image builds download packages (serving/environment/conda.yaml, infra/azureml/jobs.py):
# the conda-forge channel, Anaconda's default channel (conda consults it unless an environment names
# `nodefaults`), the PyPI index and its file host.
PACKAGE_FEEDS = {
    "conda-forge": "conda.anaconda.org",
    "anaconda-defaults": "repo.anaconda.com",
    "pypi-index": "pypi.org",
    "pypi-files": "files.pythonhosted.org",
}
# Azure's default is Standard. Basic is Microsoft's lower-priced version, "like Standard" but with threat
# intelligence in alert mode only, a fixed two-instance scale unit and about 250 Mbps recommended
# (Azure Firewall overview, "Azure Firewall Basic"): enough for package downloads during image builds.
# The managed network offers Basic and Standard (how-to-managed-network, "Select an Azure Firewall version").
FIREWALL_SKU = ml.FirewallSku.BASIC
# The blob container of a workspace's default datastore (workspaceblobstore), named after the workspace's
# immutable id; models and code versions uploaded from local files land there.
DEFAULT_DATASTORE_CONTAINER = "azureml-blobstore-"


@dataclass(frozen=True)
class MachineLearningWorkspaceArgs:
    """The workspace's Azure name and description, its network, and the shared services it links to."""

    workspace_name: str
    friendly_name: str
    description: str
    location: str
    tags: Mapping[str, str]
    resource_group_name: pulumi.Input[str]
    key_vault_id: pulumi.Input[str]
    app_insights_id: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    storage_account_id: pulumi.Input[str]
    high_business_impact: bool
    public_network_access: bool = False
    isolation_mode: str = APPROVED_ONLY
    # shared services whose public endpoint denies by default (SharedServices.firewalled_targets)
    private_link_targets: tuple[PrivateLinkTarget, ...] = ()
    # services outside the stack that its jobs and deployments reach through the managed network in
    # any isolation mode (the estate's model registry): Azure creates private endpoints only to the
    # workspace's own storage, vault, registry and itself (how-to-managed-network, required rules)
    outbound_private_endpoints: tuple[PrivateLinkTarget, ...] = ()


class MachineLearningWorkspace(pulumi.ComponentResource):
    name: pulumi.Output[str]
    id: pulumi.Output[str]
    principal_id: pulumi.Output[str | None]  # None when Azure returns no identity
    default_datastore_id: pulumi.Output[str]  # ARM id of its default datastore's blob container

    def __init__(self, name: str, args: MachineLearningWorkspaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:MachineLearningWorkspace", name, None, opts)
        public = args.public_network_access
        resource = ml.Workspace(
            f"{name}-workspace",
            workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            friendly_name=args.friendly_name,
            description=args.description,
            sku={"name": "Basic", "tier": ml.SkuTier.BASIC},
            identity={"type": "SystemAssigned"},
            key_vault=args.key_vault_id,
            application_insights=args.app_insights_id,
            container_registry=args.registry_id,
            storage_account=args.storage_account_id,
            system_datastores_auth_mode=ml.SystemDatastoresAuthMode.IDENTITY,
            public_network_access="Enabled" if public else "Disabled",
            managed_network=managed_network(args),
            hbi_workspace=args.high_business_impact,
            # With the registry closed to the internet, images are built on the workspace's cluster.
            image_build_compute=None if public else CPU_CLUSTER_NAME,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = resource.name
        self.id = resource.id
        self.principal_id = resource.identity.apply(lambda identity: identity.principal_id if identity else None)
        self.default_datastore_id = pulumi.Output.concat(
            args.storage_account_id,
            "/blobServices/default/containers/",
            DEFAULT_DATASTORE_CONTAINER,
            resource.workspace_id,
        )
        self.register_outputs({"name": self.name, "id": self.id})


def managed_network(args: MachineLearningWorkspaceArgs) -> ml.ManagedNetworkSettingsArgs:
    """The managed network settings: the isolation mode and the user-defined outbound rules it needs.
    The rules are a union-typed input: only the Args classes give the engine their wire (camelCase) names.
    They sit in the workspace's own body, not in ManagedNetworkSettingsRule resources beside it: azure-native
    updates a workspace with a whole-body PUT of its inputs, which would drop rules kept elsewhere."""
    approved_only = args.isolation_mode == APPROVED_ONLY
    rules: dict[str, pulumi.Input[ml.FqdnOutboundRuleArgs] | pulumi.Input[ml.PrivateEndpointOutboundRuleArgs]] = {}
    if approved_only:
        rules.update(
            {
                f"allow-{name}": ml.FqdnOutboundRuleArgs(type="FQDN", category="UserDefined", destination=host)
                for name, host in PACKAGE_FEEDS.items()
            }
        )
    # approved-only: Azure's required rules reach the shared services, and a duplicate is refused (above)
    targets = args.outbound_private_endpoints + (() if approved_only else args.private_link_targets)
    rules.update(
        {
            target.endpoint_name: ml.PrivateEndpointOutboundRuleArgs(
                type="PrivateEndpoint",
                category="UserDefined",
                destination=ml.PrivateEndpointDestinationArgs(
                    service_resource_id=target.resource_id, subresource_target=target.group_id, spark_enabled=False
                ),
            )
            for target in targets
        }
    )
    return ml.ManagedNetworkSettingsArgs(
        isolation_mode=args.isolation_mode,
        outbound_rules=rules or None,
        firewall_sku=FIREWALL_SKU if approved_only else None,
    )
