from infra.private_endpoints import PrivateLinkTarget
from infra.workspace import (
    CPU_CLUSTER_NAME,
    FIREWALL_SKU,
    PACKAGE_FEEDS,
    MachineLearningWorkspace,
    MachineLearningWorkspaceArgs,
)
from tests.infra.components.conftest import TAGS

WORKSPACE = "azure-native:machinelearningservices:Workspace"


def workspace_args(**changes) -> MachineLearningWorkspaceArgs:
    values = dict(
        workspace_name="mlw-unit",
        friendly_name="unit (tests)",
        description="a unit workspace",
        location="northeurope",
        tags=TAGS,
        resource_group_name="rg-unit",
        key_vault_id="/kv",
        app_insights_id="/appi",
        registry_id="/cr",
        storage_account_id="/st",
        high_business_impact=True,
    )
    return MachineLearningWorkspaceArgs(**{**values, **changes})


def test_the_workspace_links_the_services_its_args_name(declare):
    plan = declare(lambda: {"name": MachineLearningWorkspace("ws", workspace_args()).name})
    resource = plan.one(WORKSPACE)
    assert resource.name == "ws-workspace" and resource.parent == "ws"
    assert {
        key: resource.inputs[key]
        for key in (
            "workspaceName",
            "resourceGroupName",
            "friendlyName",
            "description",
            "keyVault",
            "applicationInsights",
            "containerRegistry",
            "storageAccount",
            "hbiWorkspace",
            "tags",
        )
    } == {
        "workspaceName": "mlw-unit",
        "resourceGroupName": "rg-unit",
        "friendlyName": "unit (tests)",
        "description": "a unit workspace",
        "keyVault": "/kv",
        "applicationInsights": "/appi",
        "containerRegistry": "/cr",
        "storageAccount": "/st",
        "hbiWorkspace": True,
        "tags": TAGS,
    }
    assert resource.inputs["identity"] == {"type": "SystemAssigned"}
    assert resource.inputs["systemDatastoresAuthMode"] == "Identity", "datastores by identity, never the account key"
    assert plan.outputs == {"name": "mlw-unit"}


def test_a_private_workspace_is_isolated_and_builds_images_on_its_cluster(declare):
    private = declare(lambda: MachineLearningWorkspace("ws", workspace_args()) and None).one(WORKSPACE)
    assert private.inputs["publicNetworkAccess"] == "Disabled"
    assert private.input("managedNetwork.isolationMode") == "AllowOnlyApprovedOutbound"
    assert private.inputs["imageBuildCompute"] == CPU_CLUSTER_NAME

    public = declare(
        lambda: (
            MachineLearningWorkspace(
                "ws", workspace_args(public_network_access=True, isolation_mode="AllowInternetOutbound")
            )
            and None
        )
    ).one(WORKSPACE)
    assert public.inputs["publicNetworkAccess"] == "Enabled"
    assert public.input("managedNetwork.isolationMode") == "AllowInternetOutbound"
    assert "imageBuildCompute" not in public.inputs


TARGETS = (
    PrivateLinkTarget("private-key-vault", "/kv", "vault"),
    PrivateLinkTarget("private-storage-blob", "/st", "blob"),
)


def _rules(network: dict, type_: str) -> dict:
    return {name: rule for name, rule in (network.get("outboundRules") or {}).items() if rule["type"] == type_}


def test_approved_outbound_allows_the_package_feeds_through_a_firewall_and_leaves_the_private_endpoints_to_azure(
    declare,
):
    network = (
        declare(lambda: MachineLearningWorkspace("ws", workspace_args(private_link_targets=TARGETS)) and None)
        .one(WORKSPACE)
        .inputs["managedNetwork"]
    )
    assert network["isolationMode"] == "AllowOnlyApprovedOutbound"
    fqdn = _rules(network, "FQDN")
    assert sorted(rule["destination"] for rule in fqdn.values()) == sorted(PACKAGE_FEEDS.values())
    assert all(rule["category"] == "UserDefined" for rule in fqdn.values())
    assert network["firewallSku"] == FIREWALL_SKU == "Basic", "FQDN rules run on a managed Azure Firewall"
    # Azure adds these itself in this mode, whatever the services' access; a duplicate would be refused
    assert _rules(network, "PrivateEndpoint") == {}
    assert set(network["outboundRules"]) == set(fqdn)


def test_internet_outbound_reaches_firewalled_services_through_private_endpoints_and_needs_no_firewall(declare):
    network = (
        declare(
            lambda: (
                MachineLearningWorkspace(
                    "ws",
                    workspace_args(
                        public_network_access=True, isolation_mode="AllowInternetOutbound", private_link_targets=TARGETS
                    ),
                )
                and None
            )
        )
        .one(WORKSPACE)
        .inputs["managedNetwork"]
    )
    assert network["isolationMode"] == "AllowInternetOutbound"
    assert _rules(network, "FQDN") == {} and "firewallSku" not in network
    assert {name: rule["destination"] for name, rule in _rules(network, "PrivateEndpoint").items()} == {
        "private-key-vault": {"serviceResourceId": "/kv", "subresourceTarget": "vault", "sparkEnabled": False},
        "private-storage-blob": {"serviceResourceId": "/st", "subresourceTarget": "blob", "sparkEnabled": False},
    }

    bare = declare(
        lambda: (
            MachineLearningWorkspace(
                "ws", workspace_args(public_network_access=True, isolation_mode="AllowInternetOutbound")
            )
            and None
        )
    ).one(WORKSPACE)
    # enableNetworkMonitor: the SDK's ManagedNetworkSettingsArgs fills in its schema default (false)
    assert bare.inputs["managedNetwork"] == {"isolationMode": "AllowInternetOutbound", "enableNetworkMonitor": False}
