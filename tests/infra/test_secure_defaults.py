import pytest

from tests.infra.conftest import STACKS

ML = "azure-native:machinelearningservices"
SERVING_ENDPOINT = "pulumi-python:dynamic/release:ServingEndpoint"
TRAFFIC = "pulumi-python:dynamic/release:EndpointTraffic"


@pytest.mark.parametrize("stack", STACKS)
def test_key_vault(plans, stack):
    vault = plans[stack].one("azure-native:keyvault:Vault")
    assert vault.input("properties.enableRbacAuthorization") is True
    assert vault.input("properties.enableSoftDelete") is True
    assert vault.input("properties.enablePurgeProtection") is True
    assert 7 <= vault.input("properties.softDeleteRetentionInDays") <= 90
    assert vault.input("properties.networkAcls.defaultAction") == "Deny"
    assert vault.input("properties.networkAcls.bypass") == "AzureServices"
    assert vault.input("properties.tenantId") == "11111111-1111-1111-1111-111111111111"
    assert not vault.input("properties.accessPolicies")


@pytest.mark.parametrize("stack", STACKS)
def test_container_registry(plans, stack):
    registry = plans[stack].one("azure-native:containerregistry:Registry")
    assert registry.inputs["adminUserEnabled"] is False
    assert registry.inputs["anonymousPullEnabled"] is False


def test_prod_registry_is_premium_and_private(plans):
    registry = plans["prod"].one("azure-native:containerregistry:Registry")
    assert registry.input("sku.name") == "Premium"
    assert registry.inputs["publicNetworkAccess"] == "Disabled"


@pytest.mark.parametrize("stack", STACKS)
def test_storage_account(plans, stack):
    account = plans[stack].one("azure-native:storage:StorageAccount")
    assert account.inputs["minimumTlsVersion"] == "TLS1_2"
    assert account.inputs["enableHttpsTrafficOnly"] is True
    assert account.inputs["allowBlobPublicAccess"] is False
    assert account.inputs["allowCrossTenantReplication"] is False
    assert account.inputs["allowSharedKeyAccess"] is False, "Entra ID only: no stack keeps the account key"
    assert account.inputs["defaultToOAuthAuthentication"] is True
    container = plans[stack].one("azure-native:storage:BlobContainer")
    assert container.inputs["publicAccess"] == "None"


@pytest.mark.parametrize("stack", STACKS)
def test_app_insights_is_workspace_based(plans, stack):
    insights = plans[stack].one("azure-native:applicationinsights:Component")
    logs = plans[stack].one("azure-native:operationalinsights:Workspace")
    assert insights.inputs["ingestionMode"] == "LogAnalytics"
    assert insights.inputs["workspaceResourceId"].endswith(f"/workspaces/{logs.inputs['workspaceName']}")
    assert insights.inputs["disableLocalAuth"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_workspace_links_shared_services_with_its_own_identity(plans, stack):
    plan = plans[stack]
    workspace = plan.one(f"{ML}:Workspace")
    assert workspace.input("identity.type") == "SystemAssigned"
    assert workspace.inputs["systemDatastoresAuthMode"] == "Identity"
    assert workspace.inputs["keyVault"].endswith(
        "/vaults/" + plan.one("azure-native:keyvault:Vault").inputs["vaultName"]
    )
    assert workspace.inputs["containerRegistry"].endswith(
        "/registries/" + plan.one("azure-native:containerregistry:Registry").inputs["registryName"]
    )
    assert workspace.inputs["storageAccount"].endswith(
        "/storageAccounts/" + plan.one("azure-native:storage:StorageAccount").inputs["accountName"]
    )
    assert workspace.inputs["applicationInsights"].endswith(
        "/components/" + plan.one("azure-native:applicationinsights:Component").inputs["resourceName"]
    )
    assert workspace.input("managedNetwork.isolationMode") in ("AllowInternetOutbound", "AllowOnlyApprovedOutbound")


def test_prod_workspace_is_isolated(plans):
    workspace = plans["prod"].one(f"{ML}:Workspace")
    assert workspace.inputs["publicNetworkAccess"] == "Disabled"
    assert workspace.input("managedNetwork.isolationMode") == "AllowOnlyApprovedOutbound"
    assert workspace.inputs["hbiWorkspace"] is True
    assert workspace.inputs["imageBuildCompute"] == "cpu-cluster"


@pytest.mark.parametrize("stack", STACKS)
def test_clusters_scale_to_zero_without_public_ip_or_ssh(plans, stack):
    clusters = plans[stack].of_type(f"{ML}:Compute")
    assert sorted(c.inputs["computeName"] for c in clusters) == ["cpu-cluster", "gpu-cluster"]
    for cluster in clusters:
        assert cluster.input("identity.type") == "SystemAssigned"
        assert cluster.input("properties.computeType") == "AmlCompute"
        assert cluster.input("properties.disableLocalAuth") is True
        aml = cluster.input("properties.properties")
        assert aml["scaleSettings"]["minNodeCount"] == 0
        assert aml["scaleSettings"]["nodeIdleTimeBeforeScaleDown"].startswith("PT")
        assert aml["enableNodePublicIp"] is False
        assert aml["remoteLoginPortPublicAccess"] == "Disabled"
        assert "userAccountCredentials" not in aml


def test_gpu_cluster_uses_a_gpu_size_and_priority_follows_the_stack(plans):
    for stack, low_priority in (("dev", True), ("test", False), ("prod", False)):
        gpu = next(c for c in plans[stack].of_type(f"{ML}:Compute") if c.inputs["computeName"] == "gpu-cluster")
        assert gpu.input("properties.properties.vmSize") == "Standard_NC4as_T4_v3"
        assert gpu.input("properties.properties.vmPriority") == ("LowPriority" if low_priority else "Dedicated")


@pytest.mark.parametrize("stack", STACKS)
def test_the_endpoint_declares_no_traffic_and_no_azure_native_resource_serves(plans, released_plans, stack):
    """What an endpoint serves has one owner, the release (DESIGN decision 5): the ServingEndpoint
    declares only the endpoint's own settings, and no azure-native endpoint or deployment exists to
    PUT a stale body over what the release set."""
    endpoint = plans[stack].one(SERVING_ENDPOINT)
    assert endpoint.parent == "hatespeech-endpoint"
    assert not {"traffic", "mirror_traffic"} & set(endpoint.inputs)
    for plan in (plans[stack], released_plans[stack]):
        assert not plan.of_type(f"{ML}:OnlineEndpoint") and not plan.of_type(f"{ML}:OnlineDeployment")


@pytest.mark.parametrize("stack", STACKS)
def test_the_release_runs_blue_and_green_under_the_declared_serving_spec(released_plans, stack):
    from infra.release.traffic.serving_spec import serving_version
    from infra.release.values import plain

    plan = released_plans[stack]
    endpoint = plan.one(SERVING_ENDPOINT)
    traffic = plan.one(TRAFFIC)
    assert traffic.inputs["slots"] == ["blue", "green"]
    assert traffic.inputs["endpoint_name"] == endpoint.inputs["endpoint_name"]
    environment = plan.one("pulumi-python:dynamic/release:AssetVersion", "hatespeech-serving-environment")
    code = plan.one("pulumi-python:dynamic/release:AssetVersion", "hatespeech-serving-code")
    serving = traffic.input("serving")
    assert serving["environment_id"].endswith(
        f"/environments/{environment.inputs['name']}/versions/{environment.inputs['version']}"
    )
    assert serving["code_id"].endswith(f"/codes/{code.inputs['name']}/versions/{code.inputs['version']}")
    assert {"hatespeech-serving-code", "hatespeech-serving-environment"} <= set(traffic.dependencies), (
        "the assets exist before the release deploys a slot onto them"
    )
    assert serving["scoring_script"] == "score.py"
    assert serving["app_insights_enabled"] is True
    concurrent = serving["max_concurrent_requests_per_instance"]
    assert concurrent >= 1 and serving["environment_variables"]["WORKER_COUNT"] == str(int(concurrent)), (
        "the inference server runs one worker per concurrent request"
    )
    assert serving["environment_variables"]["GUNICORN_CMD_ARGS"] == "--config python:gunicorn_config", (
        "gunicorn loads serving/gunicorn_config.py (read deadlines for slow clients) in Azure as locally"
    )
    assert serving["liveness_probe"]["initial_delay"] > serving["readiness_probe"]["initial_delay"]
    assert traffic.checked["serving_version"] == serving_version(plain(serving)), (
        "the plan shows the serving version an approval names"
    )


def test_endpoint_sizes_auth_and_access_follow_settings(plans, released_plans):
    for stack, auth, public, instance, count in (
        ("dev", "key", "enabled", "Standard_DS3_v2", 1),
        ("test", "aad_token", "disabled", "Standard_DS3_v2", 1),
        ("prod", "aad_token", "disabled", "Standard_F4s_v2", 2),
    ):
        endpoint = plans[stack].one(SERVING_ENDPOINT)
        assert (endpoint.inputs["auth_mode"], endpoint.inputs["public_network_access"]) == (auth, public), stack
        serving = released_plans[stack].one(TRAFFIC).input("serving")
        assert (serving["instance_type"], serving["instance_count"]) == (instance, count), stack
        assert serving.get("egress_public_network_access") is None, f"{stack}: the managed network governs egress"
