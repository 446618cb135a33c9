"""Typed, validated settings of the `registry` stack: the estate's one Azure ML registry.

A stack file with `mlops-platform:kind: registry` (Pulumi.registry.yaml) declares the registry, its
resource group and its roles; the environment stacks that promote models through it name this stack
in `modelRegistry.stack` (stacks/registry_reference.py). The rules are those of the other settings
(stacks/settings.py): unknown keys are refused, every problem is one line naming the key and what is
accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from infra.facts import ML_REGISTRY_ACCEPTED, ML_REGISTRY_NAME
from stacks.fields import Boolean, described, flag, full, one_of, text
from stacks.naming import RULES, StackNames
from stacks.settings import (
    GROUP_IDS_ACCEPTED,
    PROJECT,
    REGION,
    REGION_ACCEPTED,
    STORAGE_SKUS,
    TAGS_ACCEPTED,
    GroupIdList,
    NamePrefix,
    Settings,
    StorageSku,
    Tags,
    TopLevelSettings,
    _unset_section,
    _valid,
    validated,
)
from stacks.validation import Problem, invalid

Region = Annotated[str, Field(pattern=full(REGION))]
REGIONS_ACCEPTED = f"a list of Azure region names ({REGION_ACCEPTED}), each once, the primary location among them"


def _each_once(regions: tuple[str, ...]) -> tuple[str, ...]:
    repeated = sorted({region for region in regions if regions.count(region) > 1})
    if repeated:
        raise invalid(f"{REGIONS_ACCEPTED} (repeated: {', '.join(repeated)})")
    return regions


class RegistryAccessSettings(Settings):
    """The Entra ID groups given the registry's roles (infra/role_permissions.py)."""

    # who publishes: the groups of the identities that share models into the registry (test's CI, prod's)
    mlops_deployer_group_ids: GroupIdList = described(
        f"{GROUP_IDS_ACCEPTED}, at least one: the registry's publishers", min_length=1
    )
    # who only reads: the data scientists of every environment
    data_scientist_group_ids: GroupIdList = described(f"{GROUP_IDS_ACCEPTED}: the registry's readers", ())


class RegistrySettings(TopLevelSettings):
    """The settings of the registry stack (the `mlops-platform:` keys of Pulumi.registry.yaml)."""

    kind: Literal["registry"] = described("registry: this stack declares the estate's Azure ML registry")
    registry_name: str = text(ML_REGISTRY_NAME, ML_REGISTRY_ACCEPTED)
    name_prefix: NamePrefix  # the resource group is named as every stack's: rg-<namePrefix>-<stack>
    location: str = text(REGION, f"{REGION_ACCEPTED}: the primary region, which can never change")
    # every region an environment stack that uses the registry is in (the registry replicates to each)
    regions: Annotated[tuple[Region, ...], AfterValidator(_each_once)] = described(REGIONS_ACCEPTED, min_length=1)
    # off by default: the environment stacks reach the registry through their private endpoints
    public_network_access: Boolean = flag(False)
    storage_sku: StorageSku = one_of(STORAGE_SKUS, "Standard_ZRS")
    access: RegistryAccessSettings = Field(default_factory=_unset_section)
    tags: Tags = described(TAGS_ACCEPTED, {})

    @field_validator("regions")
    @classmethod
    def _include_the_primary_location(cls, regions: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        location = info.data.get("location")
        if location is not None and location not in regions:
            raise invalid(f"{REGIONS_ACCEPTED}; the primary location {location} is missing")
        return regions

    @property
    def names(self) -> StackNames:
        """The stack's names: only the resource group and the roles' GUIDs use them (no suffix: the
        registry's own name is a setting, being part of every asset id)."""
        return StackNames(self.name_prefix, self.stack, "")


def parse_registry_settings(stack: str, config: Mapping[str, Any], project: str = PROJECT) -> RegistrySettings:
    """The registry stack's configuration (keys without the `project:` prefix) as settings; raises
    `SettingsError` naming every bad key, its value and what is accepted."""
    return validated(RegistrySettings, stack, config, project, _resource_group_name)


def _resource_group_name(stack: str, config: Mapping[str, Any], project: str) -> list[Problem]:
    prefix = _valid(NamePrefix, config.get("namePrefix"))
    if prefix is None:
        return []
    name, rule = StackNames(prefix, stack, "").resource_group, RULES["resource group"]
    if rule.check(name):
        return []
    return [
        Problem(
            f"{project}:namePrefix", f"a prefix whose resource group name fits Azure's rule ({rule.accepted})", name
        )
    ]
