"""Which program a stack runs, from its `kind` setting: an environment (the default) or the registry.

Per-stack differences live in the YAML (DESIGN decision 2), so the program never looks at a stack's
name: `Pulumi.registry.yaml` says `mlops-platform:kind: registry`, the environment stacks say nothing
(or `kind: environment`), and each kind has its own settings model and composition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from stacks.config_keys import ProjectConfig
from stacks.registry_settings import RegistrySettings, parse_registry_settings
from stacks.settings import PROJECT, StackSettings, parse_settings
from stacks.validation import Problem, SettingsError

AnySettings = StackSettings | RegistrySettings
KINDS: dict[str, Callable[[str, Mapping[str, Any], str], AnySettings]] = {
    "environment": parse_settings,
    "registry": parse_registry_settings,
}


def parse_stack_settings(stack: str, config: Mapping[str, Any], project: str = PROJECT) -> AnySettings:
    """The settings of whatever kind of stack `config` (keys without the `project:` prefix) is;
    raises `SettingsError` naming every bad key, or the `kind` itself if it is none of KINDS."""
    kind = config.get("kind", "environment")
    parse = KINDS.get(kind) if isinstance(kind, str) else None
    if parse is None:
        secret_keys = config.secret_keys if isinstance(config, ProjectConfig) else frozenset()
        problem = Problem(f"{project}:kind", f"one of {', '.join(KINDS)} (environment when left out)", kind)
        raise SettingsError(stack, [problem.line(secret_keys)])
    return parse(stack, config, project)


def referenced_stacks(stack: str, config: Mapping[str, Any], project: str = PROJECT) -> list[str]:
    """The fully qualified names of the stacks whose outputs `stack` reads (StackReferences), from its
    whole config (keys `namespace:name`): what the offline engine must plan first."""
    settings = parse_stack_settings(stack, ProjectConfig.split(config, project), project)
    if isinstance(settings, StackSettings) and settings.model_registry is not None:
        return [settings.model_registry.stack]
    return []
