"""Shared services of one environment: the resource group and what every workspace links to.

Log Analytics, workspace-based Application Insights, Key Vault, Container Registry and Storage
are created once per stack and shared by all its Azure ML workspaces. Secure settings are the
defaults; a stack loosens network exposure only through its `network` settings.

Storage takes Entra ID only: shared key access is off in every stack (nothing the platform runs
signs with the account key: the workspaces' datastores authenticate by identity, the serving code
goes up with its code version through azure-ai-ml, infra/serving_assets.py), and the portal
defaults to Entra ID too. Who may read or write its data is infra/data_access.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import (
    applicationinsights,
    authorization,
    containerregistry,
    keyvault,
    operationalinsights,
    resources,
    storage,
)

from infra.facts import SERVICE_GROUP_IDS
from infra.private_endpoints import PrivateLinkTarget


@dataclass(frozen=True)
class SharedServicesArgs:
    """What the shared services read: their Azure names, SKUs, retention and network exposure."""

    location: str
    tags: Mapping[str, str]
    resource_group_name: str
    log_analytics_name: str
    app_insights_name: str
    key_vault_name: str
    registry_name: str
    storage_account_name: str
    registry_sku: str
    storage_sku: str
    key_vault_retention_days: int
    log_retention_days: int
    public_network_access: bool = False
    allowed_ip_ranges: tuple[str, ...] = ()


class SharedServices(pulumi.ComponentResource):
    resource_group_name: pulumi.Output[str]
    resource_group_id: pulumi.Output[str]
    key_vault_id: pulumi.Output[str]
    key_vault_uri: pulumi.Output[str]
    app_insights_id: pulumi.Output[str]
    registry_id: pulumi.Output[str]
    registry_login_server: pulumi.Output[str]
    storage_account_id: pulumi.Output[str]
    storage_account_name: pulumi.Output[str]
    code_container_id: pulumi.Output[str]
    # Services whose public endpoint is on but denies by default: reachable from a workspace's managed
    # network only through a private endpoint it is given (Azure adds one by itself only where public access
    # is off or outbound is approved-only: infra/workspace.py).
    firewalled_targets: tuple[PrivateLinkTarget, ...]

    def __init__(self, name: str, args: SharedServicesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:SharedServices", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags, location, public = dict(args.tags), args.location, args.public_network_access
        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))

        group = resources.ResourceGroup(
            "resource-group", resource_group_name=args.resource_group_name, location=location, tags=tags, opts=child
        )

        logs = operationalinsights.Workspace(
            "log-analytics",
            workspace_name=args.log_analytics_name,
            resource_group_name=group.name,
            location=location,
            sku={"name": "PerGB2018"},
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child,
        )

        insights = applicationinsights.Component(
            "app-insights",
            resource_name_=args.app_insights_name,
            resource_group_name=group.name,
            location=location,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=logs.id,
            disable_local_auth=True,
            tags=tags,
            opts=child,
        )

        vault_properties: keyvault.VaultPropertiesArgsDict = {
            "tenant_id": client.tenant_id,
            "sku": {"family": "A", "name": keyvault.SkuName.STANDARD},
            "enable_rbac_authorization": True,
            "enable_soft_delete": True,
            "soft_delete_retention_in_days": args.key_vault_retention_days,
            "enable_purge_protection": True,
            "public_network_access": "Enabled" if public else "Disabled",
            "network_acls": {
                "default_action": "Deny",
                "bypass": "AzureServices",
                "ip_rules": [{"value": cidr} for cidr in args.allowed_ip_ranges],
            },
        }
        vault = keyvault.Vault(
            "key-vault",
            vault_name=args.key_vault_name,
            resource_group_name=group.name,
            location=location,
            properties=vault_properties,
            tags=tags,
            opts=child,
        )

        registry = containerregistry.Registry(
            "container-registry",
            registry_name=args.registry_name,
            resource_group_name=group.name,
            location=location,
            sku={"name": args.registry_sku},
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Enabled" if public else "Disabled",
            tags=tags,
            opts=child,
        )

        storage_network_rules: storage.NetworkRuleSetArgsDict = {
            "default_action": storage.DefaultAction.ALLOW
            if public and not args.allowed_ip_ranges
            else storage.DefaultAction.DENY,
            "bypass": "AzureServices",
            "ip_rules": [
                {"i_p_address_or_range": cidr, "action": storage.Action.ALLOW} for cidr in args.allowed_ip_ranges
            ],
        }
        account = storage.StorageAccount(
            "storage",
            account_name=args.storage_account_name,
            resource_group_name=group.name,
            location=location,
            kind="StorageV2",
            sku={"name": args.storage_sku},
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            public_network_access="Enabled" if public else "Disabled",
            network_rule_set=storage_network_rules,
            tags=tags,
            opts=child,
        )

        # Where code versions were uploaded before they went up with their registration: a slot may still
        # run one of them, so the container stays (a control-plane resource: no shared key involved).
        code_container = storage.BlobContainer(
            "serving-code",
            container_name="serving-code",
            account_name=account.name,
            resource_group_name=group.name,
            public_access=storage.PublicAccess.NONE,
            opts=child,
        )

        self.resource_group_name = group.name
        self.resource_group_id = group.id
        self.key_vault_id = vault.id
        self.key_vault_uri = vault.properties.vault_uri
        self.app_insights_id = insights.id
        self.registry_id = registry.id
        self.registry_login_server = registry.login_server
        self.storage_account_id = account.id
        self.storage_account_name = account.name
        self.code_container_id = code_container.id
        self.firewalled_targets = _firewalled_targets(args, vault.id, account.id)
        self.register_outputs(
            {
                "resource_group_name": self.resource_group_name,
                "key_vault_uri": self.key_vault_uri,
                "registry_login_server": self.registry_login_server,
            }
        )


def _firewalled_targets(
    args: SharedServicesArgs, vault_id: pulumi.Input[str], account_id: pulumi.Input[str]
) -> tuple[PrivateLinkTarget, ...]:
    """The private-link targets of the services whose public endpoint is on but denies by default, named
    as the managed-network rules that reach them: the vault, whose network ACLs always deny, and the
    storage where IP rules narrow it. None when public access is off (Azure adds those rules itself)."""
    if not args.public_network_access:
        return ()
    vault = tuple(PrivateLinkTarget("private-key-vault", vault_id, group) for group in SERVICE_GROUP_IDS["key vault"])
    storage_groups = SERVICE_GROUP_IDS["storage account"] if args.allowed_ip_ranges else ()
    return vault + tuple(PrivateLinkTarget(f"private-storage-{group}", account_id, group) for group in storage_groups)
