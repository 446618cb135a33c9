from infra.shared import SharedServices, SharedServicesArgs
from tests.infra.components.conftest import TAGS


def shared_args(**changes) -> SharedServicesArgs:
    values = dict(
        location="northeurope",
        tags=TAGS,
        resource_group_name="rg-unit",
        log_analytics_name="log-unit",
        app_insights_name="appi-unit",
        key_vault_name="kv-unit",
        registry_name="crunit",
        storage_account_name="stunit",
        registry_sku="Premium",
        storage_sku="Standard_ZRS",
        key_vault_retention_days=30,
        log_retention_days=60,
        allowed_ip_ranges=("203.0.113.0/24",),
    )
    return SharedServicesArgs(**{**values, **changes})


def test_the_shared_services_are_declared_from_their_args_alone(declare):
    plan = declare(lambda: {"uri": SharedServices("core", shared_args()).key_vault_uri})
    assert {r.parent for r in plan.resources if r.custom} == {"core"}
    assert plan.one("azure-native:resources:ResourceGroup").inputs == {
        "resourceGroupName": "rg-unit",
        "location": "northeurope",
        "tags": TAGS,
    }
    logs = plan.one("azure-native:operationalinsights:Workspace")
    assert (logs.inputs["workspaceName"], logs.inputs["retentionInDays"]) == ("log-unit", 60)
    assert plan.one("azure-native:applicationinsights:Component").inputs["resourceName"] == "appi-unit"
    vault = plan.one("azure-native:keyvault:Vault")
    assert vault.inputs["vaultName"] == "kv-unit" and vault.input("properties.softDeleteRetentionInDays") == 30
    assert vault.input("properties.networkAcls.ipRules") == [{"value": "203.0.113.0/24"}]
    registry = plan.one("azure-native:containerregistry:Registry")
    assert (registry.inputs["registryName"], registry.input("sku.name")) == ("crunit", "Premium")
    account = plan.one("azure-native:storage:StorageAccount")
    assert (account.inputs["accountName"], account.input("sku.name")) == ("stunit", "Standard_ZRS")
    assert account.input("networkRuleSet.ipRules") == [{"iPAddressOrRange": "203.0.113.0/24", "action": "Allow"}]
    assert plan.outputs == {"uri": "https://kv-unit.vault.azure.net/"}


def test_the_shared_services_are_closed_unless_the_args_open_them(declare):
    plan = declare(lambda: SharedServices("core", shared_args(allowed_ip_ranges=())) and None)
    for type_ in ("containerregistry:Registry", "storage:StorageAccount"):
        assert plan.one(f"azure-native:{type_}").inputs["publicNetworkAccess"] == "Disabled", type_
    assert plan.one("azure-native:keyvault:Vault").input("properties.publicNetworkAccess") == "Disabled"
    assert plan.one("azure-native:storage:StorageAccount").input("networkRuleSet.defaultAction") == "Deny"

    opened = declare(
        lambda: SharedServices("core", shared_args(public_network_access=True, allowed_ip_ranges=())) and None
    )
    assert opened.one("azure-native:storage:StorageAccount").input("networkRuleSet.defaultAction") == "Allow"
    assert opened.one("azure-native:keyvault:Vault").input("properties.publicNetworkAccess") == "Enabled"


def test_storage_takes_entra_id_only_whatever_the_network_args(declare):
    """No shared key in any stack: the datastores authenticate by identity and the serving code goes up
    with its code version by Entra ID, so nothing needs the account key (an azure-native Blob would:
    its create signs with listKeys, pulumi-azure-native custom_storage_blob.go)."""
    for public in (False, True):
        plan = declare(lambda public=public: SharedServices("core", shared_args(public_network_access=public)) and None)
        account = plan.one("azure-native:storage:StorageAccount")
        assert account.inputs["allowSharedKeyAccess"] is False
        assert account.inputs["defaultToOAuthAuthentication"] is True
        assert not plan.of_type("azure-native:storage:Blob")
