"""Composition of a stack and its typed settings. `build(settings)` declares one environment."""

from stacks.composition import build, program, selected_settings
from stacks.settings import StackSettings, parse_settings
from stacks.validation import SettingsError

__all__ = ["build", "program", "parse_settings", "selected_settings", "SettingsError", "StackSettings"]
