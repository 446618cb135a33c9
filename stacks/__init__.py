"""Composition of a stack and its typed settings. `build(settings)` declares one environment,
`build_registry(settings)` the registry stack; `program()` runs the selected stack's kind."""

from stacks.composition import build, program, selected_settings
from stacks.registry_stack import build_registry
from stacks.settings import StackSettings, parse_settings
from stacks.stack_kinds import parse_stack_settings, referenced_stacks
from stacks.validation import SettingsError

__all__ = [
    "build",
    "build_registry",
    "program",
    "parse_settings",
    "parse_stack_settings",
    "referenced_stacks",
    "selected_settings",
    "SettingsError",
    "StackSettings",
]
