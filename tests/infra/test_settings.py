"""Bad configuration stops the program before any resource is declared, with one message that
names every bad key, its value and what is accepted."""

import pytest

from scripts.offline.stack import run_stack
from stacks import SettingsError, parse_settings

P = "mlops-platform:"


def settings_error(config, stack="dev") -> str:
    with pytest.raises(SettingsError) as raised:
        parse_settings(stack, {k[len(P) :]: v for k, v in config.items() if k.startswith(P)})
    return str(raised.value)


def workspace(config, index=0):
    return config[f"{P}workspaces"][index]


def test_the_real_configs_are_valid():
    for stack in ("dev", "test", "prod"):
        from scripts.offline.stack import stack_config

        settings = parse_settings(stack, {k[len(P) :]: v for k, v in stack_config(stack).items() if k.startswith(P)})
        assert settings.stack == stack and settings.tier == stack


@pytest.mark.parametrize(
    "breakage, expected",
    [
        (
            lambda c: c.update({f"{P}colour": "blue"}),
            "mlops-platform:colour: unknown setting (value 'blue'); accepted settings here: access, computeAccess",
        ),
        (
            lambda c: workspace(c)["gpuCluster"].update(colour="red"),
            "mlops-platform:workspaces[0].gpuCluster.colour: unknown setting (value 'red'); accepted settings here: "
            "idleSeconds, lowPriority, maxNodes, minNodes, vmSize",
        ),
        (
            lambda c: workspace(c)["cpuCluster"].update(maxNodes="four"),
            "mlops-platform:workspaces[0].cpuCluster.maxNodes: 'four' is not valid; accepted: a whole number from 1 to 100",
        ),
        (
            lambda c: c[f"{P}network"].update(publicNetworkAccess="yes"),
            "mlops-platform:network.publicNetworkAccess: 'yes' is not valid; accepted: true or false, not a string",
        ),
        (
            lambda c: workspace(c)["cpuCluster"].update(vmSize="DS3_v2"),
            "mlops-platform:workspaces[0].cpuCluster.vmSize: 'DS3_v2' is not valid; accepted: an Azure VM size such as",
        ),
        (
            lambda c: workspace(c)["gpuCluster"].update(vmSize="Standard_DS3_v2"),
            "mlops-platform:workspaces[0].gpuCluster.vmSize: 'Standard_DS3_v2' is not valid; accepted: a GPU (N-series) VM size",
        ),
        (
            lambda c: workspace(c)["gpuCluster"].update(minNodes=3, maxNodes=2),
            "mlops-platform:workspaces[0].gpuCluster.minNodes: 3 is not valid; accepted: at most maxNodes (2)",
        ),
        (
            lambda c: workspace(c)["endpoint"].update(instanceCount=0),
            "mlops-platform:workspaces[0].endpoint.instanceCount: 0 is not valid; accepted: a whole number from 1 to 20",
        ),
        (
            lambda c: workspace(c)["endpoint"].update(authMode="password"),
            "mlops-platform:workspaces[0].endpoint.authMode: 'password' is not valid; accepted: one of key, aad_token",
        ),
        (
            lambda c: c.update({f"{P}workspaces": []}),
            "mlops-platform:workspaces: [] is not valid; accepted: a list of workspaces with at least 1 entry",
        ),
        (lambda c: c.pop(f"{P}workspaces"), "mlops-platform:workspaces: is required; accepted: a list of workspaces"),
        (
            lambda c: c[f"{P}workspaces"].append(dict(workspace(c))),
            "mlops-platform:workspaces[1].name: 'hatespeech' is not valid; accepted: a workspace name not used before "
            "(already used at workspaces[0].name)",
        ),
        (
            lambda c: c.update({f"{P}namePrefix": "Mlops_Platform"}),
            "mlops-platform:namePrefix: 'Mlops_Platform' is not valid; accepted: 2-8 lowercase letters and digits",
        ),
        (
            lambda c: c[f"{P}access"].update(dataScientistGroupIds=["not-a-guid"]),
            "mlops-platform:access.dataScientistGroupIds[0]: 'not-a-guid' is not valid; accepted: a list of Entra ID group object ids",
        ),
        (
            lambda c: c.update({f"{P}keyVaultRetentionDays": 3}),
            "mlops-platform:keyVaultRetentionDays: 3 is not valid; accepted: a whole number from 7 to 90",
        ),
        (
            lambda c: workspace(c)["endpoint"].update(bootstrapModel="azureml:hate-speech-pt:1"),
            "mlops-platform:workspaces[0].endpoint.bootstrapModel: unknown setting (value 'azureml:hate-speech-pt:1'); "
            "accepted settings here: authMode, instanceCount, instanceType",
        ),
        (
            lambda c: c.update({f"{P}tier": "staging"}),
            "mlops-platform:tier: 'staging' is not valid; accepted: one of dev, test, prod",
        ),
        (
            lambda c: workspace(c)["release"].update(candidate="/models/candidate"),
            "mlops-platform:workspaces[0].release.evaluationData: is required; accepted: a labelled CSV (path)",
        ),
        (
            lambda c: workspace(c)["release"].update(modelName="hate speech"),
            "mlops-platform:workspaces[0].release.modelName: 'hate speech' is not valid; accepted: an Azure ML model name",
        ),
        (
            lambda c: workspace(c)["release"].update(rollout={"canaryPercents": [50, 10]}),
            "mlops-platform:workspaces[0].release.rollout.canaryPercents: [50, 10] is not valid; "
            "accepted: strictly increasing percentages from 1 to 99",
        ),
        (
            lambda c: workspace(c)["release"].update(rollout={"canaryPercents": [100]}),
            "mlops-platform:workspaces[0].release.rollout.canaryPercents[0]: 100 is not valid; "
            "accepted: a whole percentage from 1 to 99",
        ),
        (
            lambda c: workspace(c)["release"].update(rollout={"mirrorPercent": 60}),
            "mlops-platform:workspaces[0].release.rollout.mirrorPercent: 60 is not valid; accepted: a whole number from 0 to 50",
        ),
        (
            lambda c: workspace(c)["release"].update(rollout={"holdSeconds": 7200}),
            "mlops-platform:workspaces[0].release.rollout.holdSeconds: 7200 is not valid; accepted: a whole number from 0 to 3600",
        ),
        (
            lambda c: workspace(c)["release"].update(alpha=2),
            "mlops-platform:workspaces[0].release.alpha: 2 is not valid; accepted: a significance level strictly between 0 and 1",
        ),
        (
            lambda c: workspace(c)["release"].update(alpha=0),
            "mlops-platform:workspaces[0].release.alpha: 0 is not valid; accepted: a significance level strictly between 0 and 1",
        ),
        (
            lambda c: workspace(c)["release"].update(approvedVersion="v 1"),
            "mlops-platform:workspaces[0].release.approvedVersion: 'v 1' is not valid; accepted: a model version string",
        ),
        (
            lambda c: workspace(c)["release"].update(approvedServingVersion="v 1"),
            "mlops-platform:workspaces[0].release.approvedServingVersion: 'v 1' is not valid; accepted:",
        ),
        (
            lambda c: workspace(c)["release"].update(canidate="/models/x"),
            "mlops-platform:workspaces[0].release.canidate: unknown setting",
        ),
        (
            lambda c: c.update({f"{P}storageSku": "Premium_LRS"}),
            "mlops-platform:storageSku: 'Premium_LRS' is not valid; accepted: one of Standard_LRS, Standard_GRS, "
            "Standard_RAGRS, Standard_ZRS, Standard_GZRS, Standard_RAGZRS",
        ),
    ],
)
def test_bad_config_names_key_value_and_what_is_accepted(config_of, breakage, expected):
    config = config_of("dev")
    breakage(config)
    assert expected in settings_error(config)


@pytest.mark.parametrize(
    "breakage, expected",
    [
        (
            lambda c: c[f"{P}network"].update(publicNetworkAccess=True),
            "mlops-platform:network.publicNetworkAccess: true is not valid; accepted: false on a prod-tier stack",
        ),
        (
            lambda c: c[f"{P}network"].update(isolationMode="AllowInternetOutbound"),
            "mlops-platform:network.isolationMode: 'AllowInternetOutbound' is not valid; accepted: AllowOnlyApprovedOutbound",
        ),
        (
            lambda c: c[f"{P}access"].update(dataScientistGroupIds=[]),
            "mlops-platform:access.dataScientistGroupIds: is required; accepted: at least one Entra ID group object id on a prod-tier stack",
        ),
        (
            lambda c: c.pop(f"{P}access"),
            "mlops-platform:access.mlopsDeployerGroupIds: is required; accepted: at least one Entra ID group object id",
        ),
        (
            lambda c: c.update({f"{P}registrySku": "Basic"}),
            "mlops-platform:registrySku: 'Basic' is not valid; accepted: Premium on a prod-tier stack",
        ),
        (
            lambda c: c.update({f"{P}computeAccess": {"nodePublicIp": True}}),
            "mlops-platform:computeAccess.nodePublicIp: true is not valid; accepted: false on a prod-tier stack",
        ),
        (
            lambda c: c.update({f"{P}computeAccess": {"sshPublicKey": "ssh-ed25519 AAAAC3Nza user"}}),
            "mlops-platform:computeAccess.sshPublicKey: '<set>' is not valid; accepted: no SSH key on a prod-tier stack",
        ),
        (
            lambda c: c.update({f"{P}highBusinessImpact": False}),
            "mlops-platform:highBusinessImpact: false is not valid; accepted: true on a prod-tier stack",
        ),
        (
            lambda c: workspace(c)["release"].update(requireApproval=False),
            "mlops-platform:workspaces[0].release.requireApproval: false is not valid; accepted: true on a prod-tier stack",
        ),
        (
            lambda c: c.update({f"{P}storageSku": "Standard_GRS"}),
            "mlops-platform:storageSku: 'Standard_GRS' is not valid; accepted: a zone-redundant SKU "
            "(Standard_ZRS, Standard_GZRS, Standard_RAGZRS) on a prod-tier stack",
        ),
    ],
)
def test_production_rules(config_of, breakage, expected):
    config = config_of("prod")
    breakage(config)
    assert expected in settings_error(config, stack="prod")


def test_release_candidate_settings_are_read(config_of):
    config = config_of("dev")
    workspace(config)["release"].update(candidate="/models/candidate", evaluationData="/data/evaluation.csv")
    release = (
        parse_settings("dev", {k[len(P) :]: v for k, v in config.items() if k.startswith(P)}).workspaces[0].release
    )
    assert (release.candidate, release.evaluation_data) == ("/models/candidate", "/data/evaluation.csv")
    assert release.approved_serving_version is None


@pytest.mark.parametrize(
    "key, field", [("approvedVersion", "approved_version"), ("approvedServingVersion", "approved_serving_version")]
)
@pytest.mark.parametrize("stored, version", [(123456789012, "123456789012"), (12, "000000000012")])
def test_an_all_digit_approved_version_stored_as_a_number_reads_as_its_digits(config_of, key, field, stored, version):
    config = config_of("prod")
    workspace(config)["release"][key] = stored  # leading zeros dropped by `config set --path`
    release = (
        parse_settings("prod", {k[len(P) :]: v for k, v in config.items() if k.startswith(P)}).workspaces[0].release
    )
    assert getattr(release, field) == version


def test_every_problem_is_reported_at_once(config_of):
    config = config_of("prod")
    config[f"{P}network"]["publicNetworkAccess"] = True
    workspace(config)["gpuCluster"]["minNodes"] = 9
    config[f"{P}colour"] = "blue"
    message = settings_error(config, stack="prod")
    assert message.startswith("invalid configuration for stack 'prod':\n")
    assert len(message.splitlines()) == 4


def test_names_too_long_for_azure_are_rejected(config_of):
    config = config_of("dev")
    config[f"{P}namePrefix"] = "platform"
    config[f"{P}nameSuffix"] = "abcdef"
    workspace(config)["name"] = "hatespeechpt"
    message = settings_error(config)
    assert (
        "mlops-platform:namePrefix/nameSuffix/workspaces: 'mlw-platform-hatespeechpt-dev-abcdef' is not valid; "
        "accepted: names whose machine learning workspace name fits Azure's rule"
    ) in message
    assert len(message.splitlines()) == 2, "the other names still fit"


def test_loosening_is_named_and_allowed_outside_prod(config_of):
    config = config_of("dev")
    config[f"{P}computeAccess"] = {"nodePublicIp": True, "sshPublicKey": "ssh-ed25519 AAAAC3Nza dev@example"}
    plan = run_stack("dev", config=config)
    for cluster in plan.of_type("azure-native:machinelearningservices:Compute"):
        assert cluster.input("properties.properties.enableNodePublicIp") is True
        assert cluster.input("properties.properties.remoteLoginPortPublicAccess") == "Enabled"


def test_bad_config_declares_nothing(config_of):
    from scripts.offline.mocks import RecordingMonitor

    config = config_of("prod")
    config[f"{P}network"]["publicNetworkAccess"] = True
    seen = []
    original = RecordingMonitor.RegisterResource

    def spy(self, request):
        if request.type != "pulumi:pulumi:Stack":
            seen.append(request.type)
        return original(self, request)

    RecordingMonitor.RegisterResource = spy
    try:
        with pytest.raises(SettingsError, match="publicNetworkAccess"):
            run_stack("prod", config=config)
    finally:
        RecordingMonitor.RegisterResource = original
    assert seen == []


def language_host_report(run) -> str:
    """What the Python language host prints when the program raises: a `pulumi.RunError`'s message alone,
    any other exception as an unhandled one with its traceback (pulumi/pulumi
    sdk/python/cmd/pulumi-language-python-exec, `except pulumi.RunError` before `except Exception`)."""
    import traceback

    import pulumi

    try:
        run()
    except pulumi.RunError as error:
        return str(error)
    except Exception:
        return "Program failed with an unhandled exception:\n" + traceback.format_exc()
    return ""


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_bad_config_reaches_the_user_as_its_problems_alone_not_a_traceback(config_of, stack):
    config = config_of(stack)
    workspace(config)["gpuCluster"]["minNodes"] = 9
    report = language_host_report(lambda: run_stack(stack, config=config))
    assert report.startswith(f"invalid configuration for stack '{stack}':\n  - mlops-platform:workspaces[0]")
    assert "Traceback" not in report and "unhandled exception" not in report


def test_engine_strings_are_read_like_yaml_values():
    """The Pulumi engine hands scalars over as strings: 'true' and '30' must read as YAML would."""
    from scripts.offline.program import _as_engine_config
    from scripts.offline.stack import stack_config
    from stacks.config_source import _decode

    raw = stack_config("dev")
    as_engine = {k[len(P) :]: _decode(v) for k, v in _as_engine_config(raw).items() if k.startswith(P)}
    as_yaml = {k[len(P) :]: v for k, v in raw.items() if k.startswith(P)}
    assert parse_settings("dev", as_engine) == parse_settings("dev", as_yaml)


def test_latency_guardrail_settings_reach_the_comparison_only_when_set(config_of):
    from stacks.settings import parse_settings

    config = {k.split(":", 1)[1]: v for k, v in config_of("prod").items() if k.startswith("mlops-platform:")}
    release = config["workspaces"][0]["release"]
    assert parse_settings("prod", config, "mlops-platform").workspaces[0].release.latency_repeats is None
    release.update(latencyRepeats=20, latencyToleranceMs=0.25)
    parsed = parse_settings("prod", config, "mlops-platform").workspaces[0].release
    assert (parsed.latency_repeats, parsed.latency_tolerance_ms) == (20, 0.25)
    release.update(latencyRepeats=0, latencyToleranceMs=-1)
    with pytest.raises(Exception) as failed:
        parse_settings("prod", config, "mlops-platform")
    assert "workspaces[0].release.latencyRepeats" in str(failed.value)
    assert "workspaces[0].release.latencyToleranceMs" in str(failed.value) and "milliseconds from 0 to 1000" in str(
        failed.value
    )


@pytest.mark.parametrize("stack, sku", [("dev", "Standard_GZRS"), ("prod", "Standard_RAGZRS")])
def test_the_storage_account_sku_is_the_stack_setting(config_of, stack, sku):
    """Each stack file names its storage SKU (no `if prod` in the components); prod accepts any
    zone-redundant one."""
    config = config_of(stack)
    config[f"{P}storageSku"] = sku
    (account,) = run_stack(stack, config=config).of_type("azure-native:storage:StorageAccount")
    assert account.input("sku.name") == sku


def network(config):
    return config[f"{P}network"]


HUB_ZONE_ID = (
    "/subscriptions/9b7e1c2d-0000-4000-8000-0000000000a1/resourceGroups/rg-hub/providers/"
    "Microsoft.Network/privateDnsZones/"
)


@pytest.mark.parametrize(
    "breakage, expected",
    [
        (
            lambda c: network(c).update(addressSpace=["10.30.0.1/22"]),
            "mlops-platform:network.addressSpace[0]: '10.30.0.1/22' is not valid; accepted: an IPv4 CIDR range such as "
            "10.30.0.0/24 (address/prefix length, host bits zero)",
        ),
        (
            lambda c: network(c)["subnets"].update(ciAgents="10.30.1.0/33"),
            "mlops-platform:network.subnets.ciAgents: '10.30.1.0/33' is not valid; accepted: an IPv4 CIDR range",
        ),
        (
            lambda c: network(c)["subnets"].update(jumpHosts="10.30.300.0/27"),
            "mlops-platform:network.subnets.jumpHosts: '10.30.300.0/27' is not valid; accepted: an IPv4 CIDR range",
        ),
        (
            lambda c: network(c).update(addressSpace=["10.30.0.0/22", "10.30.2.0/24"]),
            "mlops-platform:network.addressSpace[1]: '10.30.2.0/24' is not valid; accepted: an address-space range that "
            "overlaps no other (overlaps network.addressSpace[0], 10.30.0.0/22)",
        ),
        (
            lambda c: network(c)["subnets"].update(ciAgents="10.40.1.0/24"),
            "mlops-platform:network.subnets.ciAgents: '10.40.1.0/24' is not valid; accepted: a range inside "
            "network.addressSpace (10.30.0.0/22)",
        ),
        (
            lambda c: network(c)["subnets"].update(jumpHosts="10.30.0.32/27"),
            "mlops-platform:network.subnets.jumpHosts: '10.30.0.32/27' is not valid; accepted: a subnet that overlaps no "
            "other (overlaps network.subnets.privateEndpoints, 10.30.0.0/26)",
        ),
        (
            lambda c: network(c)["subnets"].pop("privateEndpoints"),
            "mlops-platform:network.subnets.privateEndpoints: is required; accepted: an IPv4 CIDR range such as 10.30.0.0/24 "
            "(address/prefix length, host bits zero) inside network.addressSpace when network.publicNetworkAccess is false "
            "(the private endpoints need a subnet)",
        ),
        (
            lambda c: network(c).pop("addressSpace"),
            "mlops-platform:network.addressSpace: is required; accepted: a list of IPv4 CIDR ranges when "
            "network.publicNetworkAccess is false (the private endpoints need a network)",
        ),
        (
            lambda c: network(c)["subnets"].update(bastion="10.30.0.128/27"),
            "mlops-platform:network.subnets.bastion: '10.30.0.128/27' is not valid; accepted: a range of at least /26 "
            "(Azure Bastion's smallest subnet)",
        ),
        (
            lambda c: network(c).update(allowedIpRanges=["203.0.113.0/24"]),
            "mlops-platform:network.allowedIpRanges: ['203.0.113.0/24'] is not valid; accepted: an empty list when "
            "network.publicNetworkAccess is false (IP rules apply only to public access)",
        ),
        (
            lambda c: network(c).update(hubClientRanges=["10.30.1.0/25"]),
            "mlops-platform:network.hubClientRanges[0]: '10.30.1.0/25' is not valid; accepted: a range of another network, "
            "outside network.addressSpace (overlaps 10.30.0.0/22)",
        ),
        (
            lambda c: network(c).update(privateDnsZoneIds={"privatelink.database.windows.net": HUB_ZONE_ID + "x"}),
            'mlops-platform:network.privateDnsZoneIds["privatelink.database.windows.net"]: '
            "'privatelink.database.windows.net' is not valid; accepted: a private DNS zone the private endpoints use: "
            "privatelink.vaultcore.azure.net, privatelink.azurecr.io, privatelink.blob.core.windows.net, "
            "privatelink.file.core.windows.net, privatelink.api.azureml.ms, privatelink.notebooks.azure.net",
        ),
        (
            lambda c: network(c).update(
                privateDnsZoneIds={"privatelink.azurecr.io": HUB_ZONE_ID + "privatelink.blob.core.windows.net"}
            ),
            'mlops-platform:network.privateDnsZoneIds["privatelink.azurecr.io"]: \'/subscriptions/9b7e1c2d-0000-4000-8000-',
        ),
        (
            lambda c: network(c).update(privateDnsZoneIds={"privatelink.azurecr.io": "privatelink.azurecr.io"}),
            "accepted: the resource id of the hub's private DNS zone privatelink.azurecr.io (/subscriptions/<id>/resourceGroups/"
            "<group>/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io)",
        ),
        (
            lambda c: network(c).update(dnsServers=["10.0.0.256"]),
            "mlops-platform:network.dnsServers[0]: '10.0.0.256' is not valid; accepted: an IPv4 address such as 10.0.0.4",
        ),
        (
            lambda c: network(c).update(ciAgentKind="hosted"),
            "mlops-platform:network.ciAgentKind: 'hosted' is not valid; accepted: one of selfHosted, managedDevOpsPool, "
            "githubHosted",
        ),
        (
            lambda c: network(c)["subnets"].update(gateway="10.30.3.0/27"),
            "mlops-platform:network.subnets.gateway: unknown setting (value '10.30.3.0/27'); accepted settings here: "
            "bastion, ciAgents, jumpHosts, privateEndpoints",
        ),
        (
            lambda c: c.update({f"{P}tier": "test", f"{P}registrySku": "Standard"}),
            "mlops-platform:registrySku: 'Standard' is not valid; accepted: Premium when network.publicNetworkAccess is false "
            "(only a Premium registry has private endpoints)",
        ),
    ],
)
def test_bad_network_settings_are_one_problem_each(config_of, breakage, expected):
    config = config_of("prod")
    breakage(config)
    message = settings_error(config, stack="prod")
    assert expected in message
    assert len(message.splitlines()) == 2, message


def test_a_public_stack_needs_no_network_but_its_subnets_need_an_address_space(config_of):
    config = config_of("dev")
    network(config).update(subnets={"jumpHosts": "10.10.0.0/27"})
    message = settings_error(config)
    assert (
        "mlops-platform:network.addressSpace: is required; accepted: a list of IPv4 CIDR ranges holding network.subnets"
    ) in message and len(message.splitlines()) == 2
    dev = parse_settings("dev", {k[len(P) :]: v for k, v in config_of("dev").items() if k.startswith(P)})
    assert dev.network.address_space == () and not dev.network.private


def test_every_hub_zone_the_endpoints_use_is_accepted(config_of):
    from stacks.network_rules import USED_ZONES

    config = config_of("prod")
    network(config)["privateDnsZoneIds"] = {zone: HUB_ZONE_ID + zone for zone in USED_ZONES}
    settings = parse_settings("prod", {k[len(P) :]: v for k, v in config.items() if k.startswith(P)})
    assert len(settings.network.private_dns_zone_ids) == 6


def test_each_bad_promoter_group_id_is_one_message(config_of):
    config = config_of("dev")
    config[f"{P}access"]["modelPromoterGroupIds"] = ["not-a-guid", "0a1b2c3d-0000-4000-8000-00000000de02", 7]
    lines = [line for line in settings_error(config).splitlines() if "modelPromoterGroupIds" in line]
    assert lines == [
        "  - mlops-platform:access.modelPromoterGroupIds[0]: 'not-a-guid' is not valid; accepted: a list of Entra ID "
        "group object ids (GUIDs) that may read this stack's models to share them into the registry",
        "  - mlops-platform:access.modelPromoterGroupIds[2]: 7 is not valid; accepted: a list of Entra ID "
        "group object ids (GUIDs) that may read this stack's models to share them into the registry",
    ]


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_promoter_groups_are_optional_on_every_tier(stack):
    from scripts.offline.stack import stack_config

    config = {k[len(P) :]: v for k, v in stack_config(stack).items() if k.startswith(P)}
    config["access"] = {k: v for k, v in config["access"].items() if k != "modelPromoterGroupIds"}
    assert parse_settings(stack, config).access.model_promoter_group_ids == ()
