"""Each resource policy: the secure resource passes, every insecure variant is caught with a message
that names the field and the bad value."""

import pytest

from harness import violations_of
from mlops_policies import (
    COMPUTE_POLICY,
    CUSTOM_ROLE_POLICY,
    KEY_VAULT_POLICY,
    REGISTRY_POLICY,
    RESOURCE_POLICIES,
    SHARED_KEY_POLICY,
    STORAGE_POLICY,
    WORKSPACE_POLICY,
)
from mlops_policies.roles import is_subscription_or_broader

SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_every_secure_resource_passes_every_policy(secure, stack):
    for resource in secure.values():
        for policy in RESOURCE_POLICIES:
            assert violations_of(policy, resource, stack) == [], (policy.name, resource["name"])


# --- Key Vault ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("enableRbacAuthorization", False, "properties.enableRbacAuthorization is False"),
        ("enableRbacAuthorization", None, "properties.enableRbacAuthorization is not set"),
        ("enablePurgeProtection", False, "properties.enablePurgeProtection is False"),
        ("enablePurgeProtection", None, "properties.enablePurgeProtection is not set"),
        ("enableSoftDelete", False, "properties.enableSoftDelete is False"),
    ],
)
def test_key_vault_insecure_settings_are_caught(secure, field, value, expected):
    vault = secure["vault"]
    if value is None:
        del vault["inputs"]["properties"][field]
    else:
        vault["inputs"]["properties"][field] = value
    found = violations_of(KEY_VAULT_POLICY, vault)
    assert len(found) == 1 and expected in found[0] and "'kv'" in found[0]


def test_key_vault_soft_delete_may_be_left_to_azures_default(secure):
    del secure["vault"]["inputs"]["properties"]["enableSoftDelete"]
    assert violations_of(KEY_VAULT_POLICY, secure["vault"]) == []


# --- Container registry ------------------------------------------------------------------------


def test_registry_admin_user_is_caught_in_every_stack(secure):
    secure["registry"]["inputs"]["adminUserEnabled"] = True
    for stack in ("dev", "prod"):
        found = violations_of(REGISTRY_POLICY, secure["registry"], stack)
        assert len(found) == 1 and "adminUserEnabled is True" in found[0]


def test_registry_anonymous_pull_is_caught(secure):
    secure["registry"]["inputs"]["anonymousPullEnabled"] = True
    assert "anonymousPullEnabled is True" in violations_of(REGISTRY_POLICY, secure["registry"])[0]


@pytest.mark.parametrize("public", ["Enabled", None])
def test_registry_public_access_is_caught_in_prod_only(secure, public):
    registry = secure["registry"]
    if public is None:
        del registry["inputs"]["publicNetworkAccess"]
    else:
        registry["inputs"]["publicNetworkAccess"] = public
    assert violations_of(REGISTRY_POLICY, registry, "dev") == []
    found = violations_of(REGISTRY_POLICY, registry, "prod")
    assert len(found) == 1 and "publicNetworkAccess is" in found[0] and "'Disabled'" in found[0]


def test_production_stacks_come_from_policy_config(secure):
    registry = secure["registry"]
    registry["inputs"]["publicNetworkAccess"] = "Enabled"
    config = {"productionStacks": ["live"]}
    assert len(violations_of(REGISTRY_POLICY, registry, "live", config)) == 1
    assert violations_of(REGISTRY_POLICY, registry, "prod", config) == []


def test_bad_production_stacks_config_names_the_key(secure):
    with pytest.raises(ValueError, match="productionStacks is 'prod'"):
        violations_of(REGISTRY_POLICY, secure["registry"], "prod", {"productionStacks": "prod"})


# --- Storage -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("minimumTlsVersion", "TLS1_0", "minimumTlsVersion is 'TLS1_0'"),
        ("minimumTlsVersion", "TLS1_1", "minimumTlsVersion is 'TLS1_1'"),
        ("minimumTlsVersion", None, "minimumTlsVersion is not set"),
        ("enableHttpsTrafficOnly", False, "enableHttpsTrafficOnly is False"),
        ("allowBlobPublicAccess", True, "allowBlobPublicAccess is True"),
        ("allowBlobPublicAccess", None, "allowBlobPublicAccess is not set"),
    ],
)
def test_storage_insecure_settings_are_caught(secure, field, value, expected):
    storage = secure["storage"]
    if value is None:
        del storage["inputs"][field]
    else:
        storage["inputs"][field] = value
    found = violations_of(STORAGE_POLICY, storage, "dev")
    assert len(found) == 1 and expected in found[0]


@pytest.mark.parametrize(
    "stack, public, caught",
    [("prod", "Enabled", True), ("prod", "Disabled", True), ("dev", "Disabled", True), ("dev", "Enabled", False)],
)
def test_shared_keys_are_refused_where_the_stack_is_locked_down(secure, stack, public, caught):
    """Locked down: a production stack, or public network access off. A dev account open to the
    network may keep its key (the platform's stacks turn it off everywhere, which also passes)."""
    storage = secure["storage"]
    storage["inputs"].update(publicNetworkAccess=public, allowSharedKeyAccess=True)
    found = violations_of(SHARED_KEY_POLICY, storage, stack)
    assert (
        found
        == [
            "Storage account 'st' in a locked-down stack: allowSharedKeyAccess is True; it must be "
            "false, set explicitly (Azure's default lets the account key in)."
        ]
    ) is caught
    storage["inputs"]["allowSharedKeyAccess"] = False
    assert violations_of(SHARED_KEY_POLICY, storage, stack) == []


@pytest.mark.parametrize(
    "mode, caught",
    [("Identity", False), ("identity", False), ("AccessKey", True), ("UserDelegationSAS", True), (None, True)],
)
def test_locked_down_workspaces_must_reach_their_datastores_by_identity(secure, mode, caught):
    workspace = secure["workspace"]
    if mode is None:
        del workspace["inputs"]["systemDatastoresAuthMode"]
    else:
        workspace["inputs"]["systemDatastoresAuthMode"] = mode
    assert bool(violations_of(SHARED_KEY_POLICY, workspace, "prod")) is caught
    workspace["inputs"]["publicNetworkAccess"] = "Enabled"
    assert violations_of(SHARED_KEY_POLICY, workspace, "dev") == [], "a public dev workspace is not locked down"


def test_storage_accepts_tls13_and_default_https(secure):
    storage = secure["storage"]
    storage["inputs"]["minimumTlsVersion"] = "TLS1_3"
    del storage["inputs"]["enableHttpsTrafficOnly"]
    assert violations_of(STORAGE_POLICY, storage) == []


# --- ML workspace ------------------------------------------------------------------------------


@pytest.mark.parametrize("identity", [None, {"type": "None"}])
def test_workspace_without_identity_is_caught_in_every_stack(secure, identity):
    workspace = secure["workspace"]
    if identity is None:
        del workspace["inputs"]["identity"]
    else:
        workspace["inputs"]["identity"] = identity
    for stack in ("dev", "prod"):
        found = violations_of(WORKSPACE_POLICY, workspace, stack)
        assert len(found) == 1 and "identity.type is" in found[0]


def test_workspace_network_isolation_is_required_in_prod_only(secure):
    workspace = secure["workspace"]
    workspace["inputs"]["publicNetworkAccess"] = "Enabled"
    workspace["inputs"]["managedNetwork"]["isolationMode"] = "Disabled"
    assert violations_of(WORKSPACE_POLICY, workspace, "dev") == []
    found = violations_of(WORKSPACE_POLICY, workspace, "prod")
    assert len(found) == 2
    assert "publicNetworkAccess is 'Enabled'" in found[0]
    assert "managedNetwork.isolationMode is 'Disabled'" in found[1]


def test_workspace_without_managed_network_is_caught_in_prod(secure):
    del secure["workspace"]["inputs"]["managedNetwork"]
    found = violations_of(WORKSPACE_POLICY, secure["workspace"], "prod")
    assert found and "managedNetwork.isolationMode is not set" in found[0]


# --- Compute -----------------------------------------------------------------------------------


def test_compute_sdk_defaults_are_caught_in_prod(secure):
    spec = secure["compute"]["inputs"]["properties"]["properties"]
    spec["enableNodePublicIp"] = True  # what the SDK fills in when the program says nothing
    spec["remoteLoginPortPublicAccess"] = "NotSpecified"
    assert violations_of(COMPUTE_POLICY, secure["compute"], "dev") == []
    found = violations_of(COMPUTE_POLICY, secure["compute"], "prod")
    assert len(found) == 2
    assert "enableNodePublicIp is True" in found[0]
    assert "remoteLoginPortPublicAccess is 'NotSpecified'" in found[1]


def test_compute_instance_public_ssh_is_caught_in_prod(secure):
    instance = {
        "type": "azure-native:machinelearningservices:Compute",
        "name": "ci-alice",
        "inputs": {
            "properties": {
                "computeType": "ComputeInstance",
                "properties": {
                    "vmSize": "Standard_DS3_v2",
                    "enableNodePublicIp": False,
                    "sshSettings": {"sshPublicAccess": "Enabled", "adminPublicKey": "ssh-rsa AAAA"},
                },
            }
        },
    }
    found = violations_of(COMPUTE_POLICY, instance, "prod")
    assert len(found) == 1 and "sshPublicAccess is 'Enabled'" in found[0]


# --- Custom roles ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope, broad",
    [
        ("/", True),
        (SUBSCRIPTION, True),
        (SUBSCRIPTION + "/", True),
        ("/providers/Microsoft.Management/managementGroups/platform", True),
        (SUBSCRIPTION + "/resourceGroups/rg-mlops-dev", False),
        (SUBSCRIPTION + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w", False),
    ],
)
def test_scope_breadth(scope, broad):
    assert is_subscription_or_broader(scope) is broad


def test_star_action_is_caught_even_at_resource_group_scope(secure):
    secure["role"]["inputs"]["permissions"][0]["actions"].append("*")
    found = violations_of(CUSTOM_ROLE_POLICY, secure["role"])
    assert len(found) == 1 and "permissions[0].actions contains '*'" in found[0]


def test_subscription_assignable_role_with_wildcards_is_caught(secure):
    role = secure["role"]
    role["inputs"]["assignableScopes"] = [SUBSCRIPTION]
    found = violations_of(CUSTOM_ROLE_POLICY, role)
    assert len(found) == 2
    assert f"assignable scope '{SUBSCRIPTION}'" in found[0]
    assert "wildcard 'Microsoft.MachineLearningServices/workspaces/jobs/*'" in found[1]


def test_wildcard_data_actions_are_checked_too(secure):
    role = secure["role"]
    role["inputs"]["assignableScopes"] = ["/"]
    role["inputs"]["permissions"] = [{"actions": [], "dataActions": ["Microsoft.Storage/*"]}]
    found = violations_of(CUSTOM_ROLE_POLICY, role)
    assert any("permissions[0].dataActions contains the wildcard 'Microsoft.Storage/*'" in m for m in found)


def test_role_scope_is_used_when_assignable_scopes_are_absent(secure):
    role = secure["role"]
    del role["inputs"]["assignableScopes"]
    role["inputs"]["scope"] = SUBSCRIPTION
    assert violations_of(CUSTOM_ROLE_POLICY, role)
