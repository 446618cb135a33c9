import pytest

from tests.infra.conftest import STACKS

ML = "azure-native:machinelearningservices"


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
    assert workspace.inputs["keyVault"].endswith("/vaults/" + plan.one("azure-native:keyvault:Vault").inputs["vaultName"])
    assert workspace.inputs["containerRegistry"].endswith(
        "/registries/" + plan.one("azure-native:containerregistry:Registry").inputs["registryName"])
    assert workspace.inputs["storageAccount"].endswith(
        "/storageAccounts/" + plan.one("azure-native:storage:StorageAccount").inputs["accountName"])
    assert workspace.inputs["applicationInsights"].endswith(
        "/components/" + plan.one("azure-native:applicationinsights:Component").inputs["resourceName"])
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
def test_endpoint_does_not_own_traffic(plans, stack):
    endpoint = plans[stack].one(f"{ML}:OnlineEndpoint")
    assert "traffic" not in endpoint.inputs["properties"]
    assert "mirrorTraffic" not in endpoint.inputs["properties"]
    assert set(endpoint.ignore_changes) == {"properties.traffic", "properties.mirrorTraffic"}
    assert endpoint.input("identity.type") == "SystemAssigned"


@pytest.mark.parametrize("stack", STACKS)
def test_blue_and_green_slots(plans, stack):
    plan = plans[stack]
    endpoint = plan.one(f"{ML}:OnlineEndpoint")
    slots = plan.of_type(f"{ML}:OnlineDeployment")
    assert sorted(s.inputs["deploymentName"] for s in slots) == ["blue", "green"]
    environment = plan.one(f"{ML}:EnvironmentVersion")
    code = plan.one(f"{ML}:CodeVersion")
    for slot in slots:
        assert slot.inputs["endpointName"] == endpoint.inputs["endpointName"]
        assert slot.input("properties.endpointComputeType") == "Managed"
        assert slot.input("properties.environmentId").endswith(f"/versions/{environment.inputs['version']}")
        assert slot.input("properties.codeConfiguration.codeId").endswith(f"/versions/{code.inputs['version']}")
        assert slot.input("properties.codeConfiguration.scoringScript") == "score.py"
        assert slot.ignore_changes == ("properties.model",)
        assert slot.input("properties.model")
        concurrent = slot.input("properties.requestSettings.maxConcurrentRequestsPerInstance")
        assert concurrent >= 1 and slot.input("properties.environmentVariables") == {"WORKER_COUNT": str(int(concurrent))}, \
            "the inference server runs one worker per concurrent request"


def test_endpoint_sizes_and_auth_follow_settings(plans):
    for stack, auth, instance, count in (("dev", "Key", "Standard_DS3_v2", 1), ("test", "AADToken", "Standard_DS3_v2", 1),
                                         ("prod", "AADToken", "Standard_F4s_v2", 2)):
        plan = plans[stack]
        assert plan.one(f"{ML}:OnlineEndpoint").input("properties.authMode") == auth
        for slot in plan.of_type(f"{ML}:OnlineDeployment"):
            assert slot.input("properties.instanceType") == instance
            assert slot.input("sku.capacity") == count


def test_serving_versions_follow_the_serving_tree(tmp_path):
    import shutil

    from infra.serving_assets import SERVING_DIR, ServingSource

    copy = tmp_path / "serving"
    shutil.copytree(SERVING_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    original = ServingSource.read(copy)
    assert original == ServingSource.read(copy)
    (copy / "score.py").write_text((copy / "score.py").read_text() + "\n# changed\n")
    changed = ServingSource.read(copy)
    assert changed.code_version != original.code_version
    assert changed.environment_version == original.environment_version
