"""Typed, validated settings of one stack, read from its `Pulumi.<stack>.yaml` configuration.

`parse_settings` is the only place that knows the configuration's shape. It checks everything
(unknown keys, types, sizes, ranges, the production rules) and raises one `SettingsError` listing
every problem before any resource is declared. Per-environment differences live in the YAML;
the production rules apply to any stack whose `tier` is `prod`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.facts import ASSET_NAME, GUID, MAX_HOLD_SECONDS, MAX_MIRROR_PERCENT, VERSION_LENGTH
from stacks.naming import RULES, StackNames
from stacks.validation import MISSING, Problems, Section, unique

PROJECT = "mlops-platform"

TIERS = ("dev", "test", "prod")
ISOLATION_MODES = ("AllowInternetOutbound", "AllowOnlyApprovedOutbound")
REGISTRY_SKUS = ("Basic", "Standard", "Premium")
AUTH_MODES = ("key", "aad_token")

VM_SIZE = r"Standard_[A-Z]{1,4}\d{1,3}[a-z]*(_[A-Z]\d{1,4})?(_v\d)?"
VM_SIZE_ACCEPTED = "an Azure VM size such as Standard_DS3_v2, Standard_F4s_v2 or Standard_NC4as_T4_v3"
GPU_VM_SIZE = r"Standard_N[A-Z]{0,2}\d{1,3}[a-z]*(_[A-Z]\d{1,4})?(_v\d)?"
GPU_VM_SIZE_ACCEPTED = "a GPU (N-series) VM size such as Standard_NC4as_T4_v3 or Standard_NC24ads_A100_v4"
CIDR = r"(\d{1,3}\.){3}\d{1,3}(/\d{1,2})?"
LOCATION = r"[a-z]+[a-z0-9]*"
PREFIX = r"[a-z][a-z0-9]{1,7}"
SUFFIX = r"[a-z0-9]{2,6}"
WORKSPACE_NAME = r"[a-z][a-z0-9]{1,11}"
MODEL_NAME = ASSET_NAME


@dataclass(frozen=True)
class NetworkSettings:
    public_network_access: bool
    isolation_mode: str
    allowed_ip_ranges: tuple[str, ...]


@dataclass(frozen=True)
class ComputeAccessSettings:
    """Loosenings of the compute defaults; both stay off unless a stack names them."""

    node_public_ip: bool
    ssh_public_key: str | None

    @property
    def ssh(self) -> bool:
        return self.ssh_public_key is not None


@dataclass(frozen=True)
class AccessSettings:
    data_scientist_group_ids: tuple[str, ...]
    mlops_deployer_group_ids: tuple[str, ...]


@dataclass(frozen=True)
class ClusterSettings:
    vm_size: str
    min_nodes: int
    max_nodes: int
    idle_seconds: int
    low_priority: bool


@dataclass(frozen=True)
class EndpointSettings:
    auth_mode: str
    instance_type: str
    instance_count: int


@dataclass(frozen=True)
class RolloutSettings:
    mirror_percent: int
    canary_percents: tuple[int, ...]
    hold_seconds: int  # wait after the mirror and each canary step, before the next step checks the slot again


@dataclass(frozen=True)
class ReleaseSettings:
    """How a workspace's endpoint releases models. The candidate (and its evaluation data) is set
    per run, by the model workflow or `pulumi config set --path`; without one, nothing is released
    and the endpoint keeps what it serves."""

    model_name: str
    candidate: str | None
    evaluation_data: str | None
    rollout: RolloutSettings
    require_approval: bool
    approved_version: str | None
    approved_serving_version: str | None  # the serving spec a require-approval stack may put live (the plan shows it)
    alpha: float
    min_delta: float
    max_category_recall_drop: float
    max_latency_factor: float
    latency_repeats: int | None  # None: model.compare.CompareSettings' default
    latency_tolerance_ms: float | None


@dataclass(frozen=True)
class WorkspaceSettings:
    name: str
    description: str
    gpu_cluster: ClusterSettings
    cpu_cluster: ClusterSettings
    endpoint: EndpointSettings
    release: ReleaseSettings | None


@dataclass(frozen=True)
class StackSettings:
    project: str
    stack: str
    tier: str
    location: str
    names: StackNames
    tags: Mapping[str, str]
    network: NetworkSettings
    registry_sku: str
    key_vault_retention_days: int
    log_retention_days: int
    high_business_impact: bool
    compute_access: ComputeAccessSettings
    access: AccessSettings
    workspaces: tuple[WorkspaceSettings, ...] = field(default_factory=tuple)

    @property
    def is_prod(self) -> bool:
        return self.tier == "prod"


TOP_LEVEL_KEYS = {
    "tier", "location", "namePrefix", "nameSuffix", "tags", "network", "registrySku",
    "keyVaultRetentionDays", "logRetentionDays", "highBusinessImpact", "computeAccess",
    "access", "workspaces",
}


def parse_settings(stack: str, config: Mapping[str, Any], project: str = PROJECT) -> StackSettings:
    """Turn the project's configuration (keys without the `project:` prefix) into settings.

    Raises `SettingsError` naming every bad key, its value and what is accepted.
    """
    problems = Problems(project)
    root = Section(dict(config), "", problems, TOP_LEVEL_KEYS)
    tier = root.choice("tier", TIERS)
    location = root.string("location", pattern=LOCATION, accepted="an Azure region name such as westeurope")
    prefix = root.string("namePrefix", pattern=PREFIX,
                         accepted="2-8 lowercase letters and digits, starting with a letter")
    suffix = root.string("nameSuffix", pattern=SUFFIX, accepted="2-6 lowercase letters and digits")
    tags = root.mapping_of_strings("tags", default={})
    network = _network(root.section("network", {"publicNetworkAccess", "isolationMode", "allowedIpRanges"}))
    registry_sku = root.choice("registrySku", REGISTRY_SKUS, default="Basic")
    kv_retention = root.integer("keyVaultRetentionDays", default=90, minimum=7, maximum=90)
    log_retention = root.integer("logRetentionDays", default=30, minimum=30, maximum=730)
    hbi = root.boolean("highBusinessImpact", default=False)
    compute_access = _compute_access(root.section("computeAccess", {"nodePublicIp", "sshPublicKey"}, default={}))
    access = _access(root.section("access", {"dataScientistGroupIds", "mlopsDeployerGroupIds"}, default={}))
    workspaces = tuple(
        _workspace(Section(item, key, problems, WORKSPACE_KEYS), problems)
        for key, item in root.items("workspaces", min_items=1, accepted="a list of workspaces")
    )
    unique([(f"workspaces[{i}].name", w.name) for i, w in enumerate(workspaces) if w and w.name],
           problems, "workspace name")

    names = StackNames(prefix or "x", stack, suffix or "x")
    if prefix and suffix:
        for kind, name in names.all_names([w.name for w in workspaces if w]):
            rule = RULES[kind]
            if not rule.check(name):
                problems.add("namePrefix/nameSuffix/workspaces", name,
                             f"names whose {kind} name fits Azure's rule ({rule.accepted}); shorten them")

    if tier == "prod":
        _production_rules(root, network, registry_sku, hbi, compute_access, access, workspaces, problems)

    problems.raise_if_any(stack)
    return StackSettings(
        project=project, stack=stack, tier=tier, location=location, names=names,
        tags={"environment": stack, "managed-by": "pulumi", "project": project, **tags},
        network=network, registry_sku=registry_sku, key_vault_retention_days=kv_retention,
        log_retention_days=log_retention, high_business_impact=hbi, compute_access=compute_access,
        access=access, workspaces=workspaces,
    )


def _network(section: Section) -> NetworkSettings:
    return NetworkSettings(
        public_network_access=section.boolean("publicNetworkAccess"),
        isolation_mode=section.choice("isolationMode", ISOLATION_MODES),
        allowed_ip_ranges=section.strings("allowedIpRanges", default=[], pattern=CIDR,
                                          accepted="a list of IPv4 addresses or CIDR ranges"),
    )


def _compute_access(section: Section) -> ComputeAccessSettings:
    return ComputeAccessSettings(
        node_public_ip=section.boolean("nodePublicIp", default=False),
        ssh_public_key=section.string("sshPublicKey", default=None, pattern=r"ssh-(rsa|ed25519) \S+( .*)?",
                                      accepted="an OpenSSH public key (ssh-rsa or ssh-ed25519)"),
    )


def _access(section: Section) -> AccessSettings:
    accepted = "a list of Entra ID group object ids (GUIDs)"
    return AccessSettings(
        data_scientist_group_ids=section.strings("dataScientistGroupIds", default=[], pattern=GUID, accepted=accepted),
        mlops_deployer_group_ids=section.strings("mlopsDeployerGroupIds", default=[], pattern=GUID, accepted=accepted),
    )


WORKSPACE_KEYS = {"name", "description", "gpuCluster", "cpuCluster", "endpoint", "release"}
CLUSTER_KEYS = {"vmSize", "minNodes", "maxNodes", "idleSeconds", "lowPriority"}
ENDPOINT_KEYS = {"authMode", "instanceType", "instanceCount"}
RELEASE_KEYS = {"modelName", "candidate", "evaluationData", "rollout", "requireApproval", "approvedVersion",
                "approvedServingVersion",
                "alpha", "minDelta", "maxCategoryRecallDrop", "maxLatencyFactor", "latencyRepeats",
                "latencyToleranceMs"}


def _workspace(section: Section, problems: Problems) -> WorkspaceSettings | None:
    if not section.valid:
        return None
    release = section.raw.get("release")
    return WorkspaceSettings(
        name=section.string("name", pattern=WORKSPACE_NAME,
                            accepted="2-12 lowercase letters and digits, starting with a letter"),
        description=section.string("description", default=""),
        gpu_cluster=_cluster(section.section("gpuCluster", CLUSTER_KEYS), GPU_VM_SIZE, GPU_VM_SIZE_ACCEPTED),
        cpu_cluster=_cluster(section.section("cpuCluster", CLUSTER_KEYS), VM_SIZE, VM_SIZE_ACCEPTED),
        endpoint=_endpoint(section.section("endpoint", ENDPOINT_KEYS)),
        release=_release(section.section("release", RELEASE_KEYS)) if release is not None else None,
    )


def _cluster(section: Section, vm_pattern: str, vm_accepted: str) -> ClusterSettings:
    cluster = ClusterSettings(
        vm_size=section.string("vmSize", pattern=vm_pattern, accepted=vm_accepted),
        min_nodes=section.integer("minNodes", default=0, minimum=0, maximum=100),
        max_nodes=section.integer("maxNodes", minimum=1, maximum=100),
        idle_seconds=section.integer("idleSeconds", default=900, minimum=60, maximum=86400),
        low_priority=section.boolean("lowPriority", default=False),
    )
    if cluster.min_nodes is not None and cluster.max_nodes is not None:
        section.check(cluster.min_nodes <= cluster.max_nodes, "minNodes", cluster.min_nodes,
                      f"at most maxNodes ({cluster.max_nodes})")
    return cluster


def _endpoint(section: Section) -> EndpointSettings:
    return EndpointSettings(
        auth_mode=section.choice("authMode", AUTH_MODES, default="key"),
        instance_type=section.string("instanceType", pattern=VM_SIZE, accepted=VM_SIZE_ACCEPTED),
        instance_count=section.integer("instanceCount", default=1, minimum=1, maximum=20),
    )


def _release(section: Section) -> ReleaseSettings:
    candidate = section.string("candidate", default=None,
                               accepted="a model artifact folder (path) or an azureml:// path")
    rollout = section.section("rollout", {"mirrorPercent", "canaryPercents", "holdSeconds"}, default={})
    mirror = rollout.integer("mirrorPercent", default=0, minimum=0, maximum=MAX_MIRROR_PERCENT)
    hold = rollout.integer("holdSeconds", default=0, minimum=0, maximum=MAX_HOLD_SECONDS)
    canary = tuple(
        value for value in (
            _percent(rollout, key, item) for key, item in rollout.items(
                "canaryPercents", default=[], accepted="a list of increasing percentages from 1 to 99")
        ) if value is not None
    )
    rollout.check(list(canary) == sorted(set(canary)), "canaryPercents", list(canary),
                  "strictly increasing percentages from 1 to 99 (100 is always the last step)")
    return ReleaseSettings(
        model_name=section.string("modelName", pattern=MODEL_NAME, accepted="an Azure ML model name"),
        candidate=candidate,
        evaluation_data=section.string("evaluationData", default=None if candidate is None else MISSING,
                                       accepted="a labelled CSV (path) to compare champion and challenger on"),
        rollout=RolloutSettings(mirror_percent=mirror, canary_percents=canary, hold_seconds=hold),
        require_approval=section.boolean("requireApproval", default=False),
        approved_version=_version(section, "approvedVersion"),
        approved_serving_version=_version(section, "approvedServingVersion"),
        alpha=_number(section, "alpha", 0.05, lambda v: 0 < v < 1, "a significance level strictly between 0 and 1"),
        min_delta=_fraction(section, "minDelta", 0.01),
        max_category_recall_drop=_fraction(section, "maxCategoryRecallDrop", 0.05),
        max_latency_factor=_positive(section, "maxLatencyFactor", 1.5),
        latency_repeats=(None if section.raw.get("latencyRepeats") is None
                         else section.integer("latencyRepeats", minimum=1, maximum=100)),
        latency_tolerance_ms=(None if section.raw.get("latencyToleranceMs") is None else _number(
            section, "latencyToleranceMs", 0.0, lambda v: 0 <= v <= 1000, "milliseconds from 0 to 1000")),
    )


def _percent(section: Section, key: str, value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99:
        section.problems.add(key, value, "a whole percentage from 1 to 99")
        return None
    return value


def _number(section: Section, name: str, default: float, ok, accepted: str) -> float:
    value = section.raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok(value):
        section.problems.add(section.key(name), value, accepted)
        return default
    return float(value)


def _version(section: Section, name: str) -> str | None:
    """A model version. `pulumi config set --path` without `--type string` stores an all-digit one as
    a number, dropping leading zeros: read it back as the digits of a content version
    (VERSION_LENGTH wide), which is what every released version is."""
    value = section.raw.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value).zfill(VERSION_LENGTH)
    return section.string(name, default=None, pattern=r"[a-zA-Z0-9_.-]{1,64}", accepted="a model version string")


def _fraction(section: Section, name: str, default: float) -> float:
    return _number(section, name, default, lambda v: 0 <= v < 1, "a number from 0 up to (not including) 1")


def _positive(section: Section, name: str, default: float) -> float:
    return _number(section, name, default, lambda v: v >= 1, "a number of at least 1")


def _production_rules(root: Section, network: NetworkSettings, registry_sku: str, hbi: bool,
                      compute_access: ComputeAccessSettings, access: AccessSettings,
                      workspaces: tuple[WorkspaceSettings | None, ...], problems: Problems) -> None:
    rule = "on a prod-tier stack"
    if network.public_network_access:
        problems.add("network.publicNetworkAccess", True, f"false {rule}")
    if network.isolation_mode not in (None, "AllowOnlyApprovedOutbound"):
        problems.add("network.isolationMode", network.isolation_mode, f"AllowOnlyApprovedOutbound {rule}")
    if registry_sku not in (None, "Premium"):
        problems.add("registrySku", registry_sku, f"Premium {rule} (private endpoints need it)")
    if hbi is False:
        problems.add("highBusinessImpact", hbi, f"true {rule}")
    if compute_access.node_public_ip:
        problems.add("computeAccess.nodePublicIp", True, f"false {rule}")
    if compute_access.ssh:
        problems.add("computeAccess.sshPublicKey", "<set>", f"no SSH key {rule}")
    if not access.data_scientist_group_ids:
        problems.missing("access.dataScientistGroupIds", f"at least one Entra ID group object id {rule}")
    if not access.mlops_deployer_group_ids:
        problems.missing("access.mlopsDeployerGroupIds", f"at least one Entra ID group object id {rule}")
    for index, workspace in enumerate(workspaces):
        if workspace and workspace.release and not workspace.release.require_approval:
            problems.add(f"workspaces[{index}].release.requireApproval", False, f"true {rule}")
