"""The pack as the Pulumi engine drives it: the analyzer servicer PolicyPack would serve, fed protobuf
requests with camelCase properties and resource options (no server, no CLI)."""

import ast

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from harness import NATIVE_DEPLOYMENT, POLICY_DIR, urn
from mlops_policies import PACK_NAME, POLICIES, STACK_POLICIES, pack_arguments


@pytest.fixture
def analyzer():
    args = pack_arguments()
    return _PolicyAnalyzerServicer(
        args["name"],
        "1.0.0",
        args["policies"],
        args["enforcement_level"],
        None,
        args["description"],
        None,
        None,
        args["provider"],
        None,
        None,
    )


def request(resource, stack, ignore_changes=()):
    properties = struct_pb2.Struct()
    properties.update(resource["inputs"])
    return proto.AnalyzeRequest(
        type=resource["type"],
        name=resource["name"],
        urn=urn(stack, resource["type"], resource["name"]),
        properties=properties,
        options=proto.AnalyzerResourceOptions(ignoreChanges=list(ignore_changes)),
    )


def test_every_policy_is_mandatory_and_uniquely_named():
    assert len({p.name for p in POLICIES}) == len(POLICIES)
    assert pack_arguments()["enforcement_level"] is EnforcementLevel.MANDATORY
    assert all(p.enforcement_level is EnforcementLevel.MANDATORY for p in POLICIES)
    assert STACK_POLICIES


def test_analyzer_info_lists_every_policy_as_mandatory(analyzer):
    info = analyzer.GetAnalyzerInfo(None, None)
    assert info.name == PACK_NAME
    assert [p.name for p in info.policies] == [p.name for p in POLICIES]
    assert {p.enforcementLevel for p in info.policies} == {proto.MANDATORY}


def test_secure_resources_pass_through_the_engine_path(analyzer, secure):
    for resource in secure.values():
        response = analyzer.Analyze(request(resource, "prod", resource.get("ignoreChanges", ())), None)
        assert list(response.diagnostics) == [], resource["name"]


def test_violations_come_back_as_mandatory_diagnostics(analyzer, secure):
    vault = secure["vault"]
    vault["inputs"]["properties"]["enableRbacAuthorization"] = False
    response = analyzer.Analyze(request(vault, "dev"), None)
    [diagnostic] = response.diagnostics
    assert diagnostic.policyName == "key-vault-rbac-purge-protection"
    assert diagnostic.enforcementLevel == proto.MANDATORY
    assert "properties.enableRbacAuthorization is False" in diagnostic.message


def test_an_azure_native_deployment_comes_back_as_a_mandatory_diagnostic(analyzer):
    deployment = NATIVE_DEPLOYMENT
    [diagnostic] = analyzer.Analyze(request(deployment, "dev", deployment["ignoreChanges"]), None).diagnostics
    assert diagnostic.policyName == "endpoint-served-by-release"
    assert diagnostic.enforcementLevel == proto.MANDATORY


def test_a_serving_spec_unknown_during_preview_is_advisory(analyzer, secure):
    """A new code version's id is unknown in a preview, so the whole `serving` input is."""
    traffic = secure["traffic"]
    traffic["inputs"]["serving"] = UNKNOWN_STRING_VALUE
    [diagnostic] = analyzer.Analyze(request(traffic, "prod"), None).diagnostics
    assert diagnostic.policyName == "online-endpoint-private"
    assert "can't be known during preview" in diagnostic.message
    assert diagnostic.enforcementLevel == proto.ADVISORY


def test_unknown_values_during_preview_do_not_crash_the_pack(analyzer, secure):
    registry = secure["registry"]
    registry["inputs"]["publicNetworkAccess"] = UNKNOWN_STRING_VALUE
    [diagnostic] = analyzer.Analyze(request(registry, "prod"), None).diagnostics
    assert "can't be known during preview" in diagnostic.message
    assert diagnostic.enforcementLevel == proto.ADVISORY


def test_policy_config_sets_production_stacks(analyzer, secure):
    registry = secure["registry"]
    registry["inputs"]["publicNetworkAccess"] = "Enabled"
    config = proto.PolicyConfig()
    config.properties.update({"productionStacks": ["live"]})
    analyzer.Configure(proto.ConfigureAnalyzerRequest(policyConfig={"container-registry-locked-down": config}), None)
    assert len(analyzer.Analyze(request(registry, "live"), None).diagnostics) == 1
    assert list(analyzer.Analyze(request(registry, "prod"), None).diagnostics) == []


def test_main_builds_the_pack_from_pack_arguments_and_nothing_else():
    tree = ast.parse((POLICY_DIR / "__main__.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "PolicyPack"]
    assert len(calls) == 1
    assert [getattr(k.value.func, "id", None) for k in calls[0].keywords] == ["pack_arguments"]


def test_pack_manifest_and_requirements_match_this_environment():
    import importlib.metadata as md

    manifest = (POLICY_DIR / "PulumiPolicy.yaml").read_text()
    assert "name: python" in manifest and "version:" in manifest
    pins = dict(
        line.split("==")
        for line in (POLICY_DIR / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert pins["pulumi-policy"] == md.version("pulumi-policy")
    assert pins["pulumi"] == md.version("pulumi")


def test_the_pack_serves_the_analyzer_protocol_as_pulumi_starts_it():
    """Start policy/__main__.py the way the CLI does (it prints its port), then Analyze over gRPC."""
    import subprocess
    import sys

    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import analyzer_pb2_grpc

    process = subprocess.Popen(
        [sys.executable, "-u", "__main__.py"], cwd=POLICY_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        port = int(process.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            assert info.name == PACK_NAME and len(info.policies) == len(POLICIES)
            storage = {
                "type": "azure-native:storage:StorageAccount",
                "name": "st",
                "inputs": {"minimumTlsVersion": "TLS1_0", "allowBlobPublicAccess": False},
            }
            response = stub.Analyze(request(storage, "prod"), timeout=30)
            # TLS 1.0, and in prod an account key left to Azure's default (on)
            assert sorted(d.policyName for d in response.diagnostics) == [
                "storage-account-secure-transport",
                "storage-shared-key-off",
            ]
            assert {d.enforcementLevel for d in response.diagnostics} == {proto.MANDATORY}
    finally:
        process.terminate()
        process.wait(timeout=30)
