"""Typed, validated settings of one stack, read from its `Pulumi.<stack>.yaml` configuration.

The models below are the configuration's shape: frozen pydantic models with the YAML's camelCase
keys, unknown keys forbidden, each field saying what it accepts (stacks/fields.py). `parse_settings`
checks everything (keys and namespaces, types, sizes, ranges, names, the production rules) and
raises one `SettingsError` listing every problem before any resource is declared. Per-environment
differences live in the YAML; the production rules apply to any stack whose `tier` is `prod`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infra.facts import (
    ASSET_NAME,
    CANDIDATE_ACCEPTED,
    CI_AGENT_DELEGATIONS,
    GUID,
    JOB_OUTPUT_ACCEPTED,
    JOB_OUTPUT_PATH,
    LOCAL_ARTIFACT_ACCEPTED,
    MAX_HOLD_SECONDS,
    MAX_MIRROR_PERCENT,
    REGISTRY_MODEL_ACCEPTED,
    REGISTRY_MODEL_PATH,
    VERSION_LENGTH,
    WORKSPACE_MODEL_ACCEPTED,
    WORKSPACE_MODEL_PATH,
)
from infra.facts import full as compiled
from model.compare_settings import BOUNDS, DEFAULTS, Bounds
from stacks.config_keys import ProjectConfig, misplaced_keys
from stacks.fields import (
    ADDRESS_ACCEPTED,
    CIDR_ACCEPTED,
    PRODUCTION,
    Boolean,
    Cidr,
    IPv4Address,
    Number,
    Whole,
    as_whole,
    bounded,
    described,
    flag,
    full,
    in_production,
    one_of,
    text,
    whole_number,
    within,
)
from stacks.naming import RULES, StackNames
from stacks.network_rules import network_problems
from stacks.validation import Problem, SettingsError, invalid, is_secure, problems_of, required, unique

PROJECT = "mlops-platform"

Tier = Literal["dev", "test", "prod"]
IsolationMode = Literal["AllowInternetOutbound", "AllowOnlyApprovedOutbound"]
RegistrySku = Literal["Basic", "Standard", "Premium"]
# The SKUs of a general-purpose v2 account (kind StorageV2), as azure-native's storage.SkuName has
# them; Azure's storage account overview lists LRS, GRS, RA-GRS, ZRS, GZRS and RA-GZRS for it.
StorageSku = Literal[
    "Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS"
]
ZONE_REDUNDANT_STORAGE = ("Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS")
AuthMode = Literal["key", "aad_token"]
if TYPE_CHECKING:  # a Literal built from CI_AGENT_DELEGATIONS' keys at run time is one mypy cannot read
    CiAgentKind = str
else:
    CiAgentKind = Literal[tuple(CI_AGENT_DELEGATIONS)]
TIERS, ISOLATION_MODES, REGISTRY_SKUS, STORAGE_SKUS, AUTH_MODES, CI_AGENT_KINDS = (
    get_args(t) for t in (Tier, IsolationMode, RegistrySku, StorageSku, AuthMode, CiAgentKind)
)

REGION = r"[a-z]+[a-z0-9]*"
REGION_ACCEPTED = "an Azure region name such as westeurope"
VM_SIZE = r"Standard_[A-Z]{1,4}\d{1,3}[a-z]*(_[A-Z]\d{1,4})?(_v\d)?"
VM_SIZE_ACCEPTED = "an Azure VM size such as Standard_DS3_v2, Standard_F4s_v2 or Standard_NC4as_T4_v3"
GPU_VM_SIZE = r"Standard_N[A-Z]{0,2}\d{1,3}[a-z]*(_[A-Z]\d{1,4})?(_v\d)?"
GPU_VM_SIZE_ACCEPTED = "a GPU (N-series) VM size such as Standard_NC4as_T4_v3 or Standard_NC24ads_A100_v4"
CIDR = r"(\d{1,3}\.){3}\d{1,3}(/\d{1,2})?"
PERCENT = Bounds("a whole percentage", 1, 99, whole=True)
STEPS = f"percentages from {PERCENT.low:g} to {PERCENT.high:g}"

NamePrefix = Annotated[str, text(r"[a-z][a-z0-9]{1,7}", "2-8 lowercase letters and digits, starting with a letter")]
NameSuffix = Annotated[str, text(r"[a-z0-9]{2,6}", "2-6 lowercase letters and digits")]
WorkspaceName = Annotated[
    str, text(r"[a-z][a-z0-9]{1,11}", "2-12 lowercase letters and digits, starting with a letter")
]
GroupIdList = tuple[Annotated[str, Field(pattern=full(GUID))], ...]  # Entra ID group object ids
# Entra ID groups given a role: a prod-tier stack names at least one
GroupIds = Annotated[
    GroupIdList,
    in_production(bool, f"at least one Entra ID group object id {PRODUCTION}", missing=True),
]
GROUP_IDS_ACCEPTED = "a list of Entra ID group object ids (GUIDs)"
Percent = Annotated[int, Strict(), bounded(PERCENT)]  # canary steps arrive inside a list: as numbers


def _version(value: Any) -> Any:
    """`pulumi config set --path` without `--type string` stores an all-digit version as a number,
    dropping leading zeros: read it back as the digits of a content version (VERSION_LENGTH wide),
    which is what every released version is."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value).zfill(VERSION_LENGTH)
    return value


# limits inside the conversion: the schema of `X | None` keeps them only there
LatencyRepeats = Annotated[int, Strict(), within(BOUNDS["latency_repeats"]), BeforeValidator(as_whole)]
Version = Annotated[str, Field(pattern=full(r"[a-zA-Z0-9_.-]{1,64}")), BeforeValidator(_version)]

MODEL_CONFIG = ConfigDict(
    frozen=True, extra="forbid", alias_generator=to_camel, validate_default=True, regex_engine="python-re"
)


def _unset_section() -> Any:
    """The default of a section left out: an empty mapping, which `validate_default` validates into the
    section's model with the validation context (the production rules), as a section in the YAML is."""
    return {}


class Settings(BaseModel):
    model_config = MODEL_CONFIG

    @model_validator(mode="before")
    @classmethod
    def _empty_means_unset(cls, data: Any) -> Any:
        """A key with an empty value (`key:` in YAML) is a key not set. A section is never a secret."""
        if is_secure(data):
            raise invalid("a mapping of settings (a plain value: settings are not secrets)")
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, Mapping) else data


class SubnetSettings(Settings):
    """The subnets of the stack's virtual network, each an IPv4 range inside its address space."""

    private_endpoints: Cidr | None = described(f"{CIDR_ACCEPTED}: the private endpoints of every service", None)
    ci_agents: Cidr | None = described(f"{CIDR_ACCEPTED}: the CI agents that deploy the stack", None)
    jump_hosts: Cidr | None = described(f"{CIDR_ACCEPTED}: the VMs people work from", None)
    bastion: Cidr | None = described(f"{CIDR_ACCEPTED}, at least a /26: Azure Bastion", None)


class NetworkSettings(Settings):
    """How the estate is reached: public endpoints (from which ranges) or the private network only.
    Network rules across these fields (ranges inside the address space, no overlaps, a private
    endpoint subnet when public access is off, hub DNS zones) are stacks/network_rules.py's."""

    public_network_access: Annotated[Boolean, in_production(lambda v: v is False, f"false {PRODUCTION}")] = flag()
    isolation_mode: Annotated[
        IsolationMode,
        in_production(lambda v: v == "AllowOnlyApprovedOutbound", f"AllowOnlyApprovedOutbound {PRODUCTION}"),
    ] = one_of(ISOLATION_MODES)
    allowed_ip_ranges: tuple[Annotated[str, Field(pattern=full(CIDR))], ...] = described(
        "a list of IPv4 addresses or CIDR ranges", ()
    )
    # the stack's virtual network: none without an address space
    address_space: tuple[Cidr, ...] = described(f"a list of IPv4 CIDR ranges ({CIDR_ACCEPTED})", ())
    subnets: SubnetSettings = Field(default_factory=_unset_section)
    ci_agent_kind: CiAgentKind = one_of(CI_AGENT_KINDS, "selfHosted")
    # ranges of other networks (a hub, on-premises) whose clients may reach the private endpoints
    hub_client_ranges: tuple[Cidr, ...] = described(f"a list of IPv4 CIDR ranges ({CIDR_ACCEPTED})", ())
    dns_servers: tuple[IPv4Address, ...] = described(f"a list of IPv4 addresses ({ADDRESS_ACCEPTED})", ())
    # a hub's private DNS zones, by zone name: the stack then declares only its endpoints' zone groups
    private_dns_zone_ids: dict[str, str] = described("a mapping of private DNS zone name to its resource id", {})

    @property
    def private(self) -> bool:
        """Public access is off: every service is reached through its private endpoints."""
        return not self.public_network_access


class ComputeAccessSettings(Settings):
    """Loosenings of the compute defaults; both stay off unless a stack names them."""

    node_public_ip: Annotated[Boolean, in_production(lambda v: v is False, f"false {PRODUCTION}")] = flag(False)
    ssh_public_key: Annotated[str | None, in_production(lambda v: v is None, f"no SSH key {PRODUCTION}", "<set>")] = (
        text(r"ssh-(rsa|ed25519) \S+( .*)?", "an OpenSSH public key (ssh-rsa or ssh-ed25519)", None)
    )

    @property
    def ssh(self) -> bool:
        return self.ssh_public_key is not None


class AccessSettings(Settings):
    """The Entra ID groups given the platform's custom roles."""

    data_scientist_group_ids: GroupIds = described(GROUP_IDS_ACCEPTED, ())
    mlops_deployer_group_ids: GroupIds = described(GROUP_IDS_ACCEPTED, ())
    # The groups of the identity that shares this stack's models into the registry (the next stack's
    # deployers, e.g. test's): read-only, on each workspace. None: nobody promotes from this stack.
    model_promoter_group_ids: GroupIdList = described(
        f"{GROUP_IDS_ACCEPTED} that may read this stack's models to share them into the registry", ()
    )


class ClusterSettings(Settings):
    """A compute cluster: its VM size and how it scales."""

    vm_size: str = text(VM_SIZE, VM_SIZE_ACCEPTED)
    max_nodes: Whole = whole_number(1, 100)  # before minNodes, which is checked against it
    min_nodes: Whole = whole_number(0, 100, 0)
    idle_seconds: Whole = whole_number(60, 86400, 900)
    low_priority: Boolean = flag(False)

    @field_validator("min_nodes")
    @classmethod
    def _at_most_max_nodes(cls, min_nodes: int, info: ValidationInfo) -> int:
        max_nodes = info.data.get("max_nodes")
        if max_nodes is not None and min_nodes > max_nodes:
            raise invalid(f"at most maxNodes ({max_nodes})")
        return min_nodes


class GpuClusterSettings(ClusterSettings):
    """The GPU cluster: an N-series VM size."""

    vm_size: str = text(GPU_VM_SIZE, GPU_VM_SIZE_ACCEPTED)


class EndpointSettings(Settings):
    """The workspace's online endpoint and the size of its deployments."""

    auth_mode: AuthMode = one_of(AUTH_MODES, "key")
    instance_type: str = text(VM_SIZE, VM_SIZE_ACCEPTED)
    instance_count: Whole = whole_number(1, 20, 1)


def _increasing(steps: tuple[int, ...]) -> tuple[int, ...]:
    if list(steps) != sorted(set(steps)):
        raise invalid(f"strictly increasing {STEPS} (100 is always the last step)")
    return steps


class RolloutSettings(Settings):
    """How a release moves traffic to the new slot: mirror share, canary steps, wait after each step."""

    mirror_percent: Whole = whole_number(0, MAX_MIRROR_PERCENT, 0)
    canary_percents: Annotated[tuple[Percent, ...], AfterValidator(_increasing)] = described(
        f"a list of increasing {STEPS}", ()
    )
    # wait after the mirror and each canary step, before the next step checks the slot again
    hold_seconds: Whole = whole_number(0, MAX_HOLD_SECONDS, 0)


EVALUATION_DATA_ACCEPTED = "a labelled CSV (path) to compare champion and challenger on"
# Each remote form of a candidate, by the prefix that says which one was meant: its own pattern and message.
CANDIDATE_FORMS = (
    ("azureml://jobs/", compiled(JOB_OUTPUT_PATH), JOB_OUTPUT_ACCEPTED),
    ("azureml://subscriptions/", compiled(WORKSPACE_MODEL_PATH), WORKSPACE_MODEL_ACCEPTED),
    ("azureml://registries/", compiled(REGISTRY_MODEL_PATH), REGISTRY_MODEL_ACCEPTED),
)


def check_candidate(candidate: str, model_name: str | None) -> str:
    """A candidate in one of its forms (CANDIDATE_ACCEPTED), a model reference naming `model_name`.
    Whether the folder holds an artifact is the release provider's check (it reads the files); whether
    the registry a workspace or registry model needs is there, the composition's."""
    for prefix, pattern, accepted in CANDIDATE_FORMS:
        if candidate.startswith(prefix):
            found = pattern.fullmatch(candidate)
            if found is None:
                raise invalid(accepted)
            named = found.groupdict().get("name")
            if named is not None and model_name is not None and named != model_name:
                raise invalid(f"{accepted}, of model {model_name} (modelName)")
            return candidate
    if "://" in candidate:
        raise invalid(CANDIDATE_ACCEPTED)
    if not candidate.strip():
        raise invalid(LOCAL_ARTIFACT_ACCEPTED)
    return candidate


def compared(name: str) -> Any:
    """A comparison setting of the release: its range and default are model.compare_settings'."""
    return bounded(BOUNDS[name], DEFAULTS[name])


class ReleaseSettings(Settings):
    """How a workspace's endpoint releases models. The candidate (and its evaluation data) is set
    per run, by the model workflow or `pulumi config set --path`; without one, nothing is released
    and the endpoint keeps what it serves."""

    model_name: str = text(ASSET_NAME, "an Azure ML model name")
    candidate: str | None = described(CANDIDATE_ACCEPTED, None)
    evaluation_data: str | None = described(EVALUATION_DATA_ACCEPTED, None)  # required with a candidate
    rollout: RolloutSettings = Field(default_factory=_unset_section)
    require_approval: Annotated[Boolean, in_production(bool, f"true {PRODUCTION}")] = flag(False)
    approved_version: Version | None = described("a model version string", None)
    # the serving spec a require-approval stack may put live (the plan shows it)
    approved_serving_version: Version | None = described("a model version string", None)
    alpha: Number = compared("alpha")
    min_delta: Number = compared("min_delta")
    max_category_recall_drop: Number = compared("max_category_recall_drop")
    max_latency_factor: Number = compared("max_latency_factor")
    # None: model.compare_settings.CompareSettings' default
    latency_repeats: LatencyRepeats | None = described(BOUNDS["latency_repeats"].accepted, None)
    latency_tolerance_ms: Annotated[Number, within(BOUNDS["latency_tolerance_ms"])] | None = described(
        BOUNDS["latency_tolerance_ms"].accepted, None
    )

    @field_validator("candidate")
    @classmethod
    def _a_candidate_form(cls, candidate: str | None, info: ValidationInfo) -> str | None:
        return None if candidate is None else check_candidate(candidate, info.data.get("model_name"))

    @field_validator("evaluation_data")
    @classmethod
    def _needed_with_a_candidate(cls, evaluation_data: str | None, info: ValidationInfo) -> str | None:
        if evaluation_data is None and info.data.get("candidate") is not None:
            raise required(EVALUATION_DATA_ACCEPTED)
        return evaluation_data


class WorkspaceSettings(Settings):
    """One Azure ML workspace: its clusters, its online endpoint and how models are released to it."""

    name: WorkspaceName
    description: str = described("a string", "")
    gpu_cluster: GpuClusterSettings
    cpu_cluster: ClusterSettings
    endpoint: EndpointSettings
    release: ReleaseSettings | None = None


def _standard_tags(tags: dict[str, str], info: ValidationInfo) -> dict[str, str]:
    context = info.context or {}
    return {
        "environment": context.get("stack", ""),
        "managed-by": "pulumi",
        "project": context.get("project", ""),
        **tags,
    }


def _plain_mapping(value: Any) -> Any:
    if is_secure(value):
        raise invalid("a mapping of string to string (a plain value: tags are not secrets)")
    return value


# the stack's standard tags (environment, managed-by, project), then these
Tags = Annotated[dict[str, str], BeforeValidator(_plain_mapping), AfterValidator(_standard_tags)]
TAGS_ACCEPTED = "a mapping of string to string"

# A stack of another project (or this one) by its fully qualified name, as `pulumi.StackReference`
# takes it: `<organization>/<project>/<stack>`, the organization `organization` on a self-managed
# backend (Pulumi docs, "Stacks": names of alphanumerics, '-', '_' and '.').
QUALIFIED_STACK = r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*"
QUALIFIED_STACK_ACCEPTED = (
    "a fully qualified stack name <organization>/<project>/<stack> (organization/<project>/<stack> "
    "on a self-managed backend such as azblob://)"
)


class TopLevelSettings(Settings):
    """What every kind of stack's settings know besides their fields: the stack and project they are of."""

    _project: str = PrivateAttr("")
    _stack: str = PrivateAttr("")

    def model_post_init(self, context: Any) -> None:
        self._project, self._stack = (context or {}).get("project", ""), (context or {}).get("stack", "")

    @property
    def project(self) -> str:
        return self._project

    @property
    def stack(self) -> str:
        return self._stack


SettingsModel = TypeVar("SettingsModel", bound=TopLevelSettings)


class RegistryReferenceSettings(Settings):
    """The Azure ML registry an environment stack promotes models through: the stack that declares it
    (a `registry` stack, stacks/registry_settings.py), read through a StackReference."""

    stack: str = text(QUALIFIED_STACK, QUALIFIED_STACK_ACCEPTED)


class StackSettings(TopLevelSettings):
    """The settings of one environment stack (the `mlops-platform:` keys of its `config:`)."""

    kind: Literal["environment"] = described(
        "environment (the default) or registry: the stack's program", "environment"
    )
    tier: Tier = one_of(TIERS)
    location: str = text(REGION, REGION_ACCEPTED)
    name_prefix: NamePrefix
    name_suffix: NameSuffix
    tags: Tags = described(TAGS_ACCEPTED, {})
    network: NetworkSettings
    registry_sku: Annotated[
        RegistrySku, in_production(lambda v: v == "Premium", f"Premium {PRODUCTION} (private endpoints need it)")
    ] = one_of(REGISTRY_SKUS, "Basic")
    storage_sku: Annotated[
        StorageSku,
        in_production(
            lambda v: v in ZONE_REDUNDANT_STORAGE,
            f"a zone-redundant SKU ({', '.join(ZONE_REDUNDANT_STORAGE)}) {PRODUCTION}",
        ),
    ] = one_of(STORAGE_SKUS, "Standard_ZRS")
    key_vault_retention_days: Whole = whole_number(7, 90, 90)
    log_retention_days: Whole = whole_number(30, 730, 30)
    high_business_impact: Annotated[Boolean, in_production(bool, f"true {PRODUCTION}")] = flag(False)
    compute_access: ComputeAccessSettings = Field(default_factory=_unset_section)
    access: AccessSettings = Field(default_factory=_unset_section)
    # none: the stack uses no Azure ML registry (it registers models in its own workspaces only)
    model_registry: RegistryReferenceSettings | None = None
    workspaces: tuple[WorkspaceSettings, ...] = described("a list of workspaces", min_length=1)

    @property
    def names(self) -> StackNames:
        return StackNames(self.name_prefix, self.stack, self.name_suffix)

    @property
    def is_prod(self) -> bool:
        return self.tier == "prod"


def parse_settings(stack: str, config: Mapping[str, Any], project: str = PROJECT) -> StackSettings:
    """Turn the project's configuration (keys without the `project:` prefix) into settings.

    A `ProjectConfig` (stacks/config_keys.py) also brings the stack's keys of other namespaces, which
    are checked too, and says which keys are secrets (no problem shows their values).
    Raises `SettingsError` naming every bad key, its value and what is accepted.
    """
    return validated(StackSettings, stack, config, project, _across_sections)


def validated(
    model: type[SettingsModel],
    stack: str,
    config: Mapping[str, Any],
    project: str,
    across: Callable[[str, Mapping[str, Any], str], list[Problem]],
) -> SettingsModel:
    """`config` as settings of `model`, with the problems of the rules across its fields (`across`),
    every problem in one `SettingsError`."""
    context = {"stack": stack, "project": project, "tier": config.get("tier")}
    problems: list[Problem] = []
    settings = None
    try:
        settings = model.model_validate(dict(config), context=context)
    except ValidationError as error:
        problems += problems_of(error, model, project)
    problems += across(stack, config, project)
    secret_keys: frozenset[str] = frozenset()
    if isinstance(config, ProjectConfig):
        problems = misplaced_keys(config.other_keys, project, top_level_keys(model)) + problems
        secret_keys = config.secret_keys
    if problems or settings is None:
        raise SettingsError(stack, [problem.line(secret_keys) for problem in problems])
    return settings


def top_level_keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _across_sections(stack: str, config: Mapping[str, Any], project: str) -> list[Problem]:
    """Rules across sections: unique workspace names, and physical names that fit Azure's rules.
    Each reads only those of its inputs that are valid, so its problems come with all the others."""
    items = config.get("workspaces")
    names = [
        (f"workspaces[{index}].name", _valid(WorkspaceName, item.get("name")))
        for index, item in enumerate(items if isinstance(items, list) else [])
        if isinstance(item, Mapping)
    ]
    named = [(key, name) for key, name in names if name is not None]
    problems = unique(named, "workspace name", project) + network_problems(config, project)
    prefix, suffix = _valid(NamePrefix, config.get("namePrefix")), _valid(NameSuffix, config.get("nameSuffix"))
    if prefix and suffix:
        workspaces = list(dict.fromkeys(name for _, name in named))
        for kind, name in StackNames(prefix, stack, suffix).all_names(workspaces):
            rule = RULES[kind]
            if not rule.check(name):
                problems.append(
                    Problem(
                        f"{project}:namePrefix/nameSuffix/workspaces",
                        f"names whose {kind} name fits Azure's rule ({rule.accepted}); shorten them",
                        name,
                    )
                )
    return problems


def _valid(kind: Any, value: Any) -> Any:
    """`value` if it is a valid `kind`, else None."""
    try:
        return _adapter(kind).validate_python(value)
    except ValidationError:
        return None


@cache
def _adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind, config=ConfigDict(regex_engine="python-re"))
