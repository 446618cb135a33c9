"""Reading an untyped configuration tree into typed values, collecting every problem.

A `Section` wraps one mapping of the configuration with its dotted path. Each accessor
returns the value when it is valid and otherwise records one line that names the key, the bad
value and what is accepted, so that the whole configuration is checked before anything is
declared and the user sees all problems at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MISSING = object()


class SettingsError(ValueError):
    """The stack configuration is invalid; the message lists every problem found."""

    def __init__(self, stack: str, problems: list[str]):
        self.stack = stack
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid configuration for stack '{stack}':\n{lines}")


class Problems:
    """The problems found so far, in the order they were found."""

    def __init__(self, namespace: str = "") -> None:
        self.lines: list[str] = []
        self.namespace = f"{namespace}:" if namespace else ""

    def add(self, key: str, value: Any, accepted: str) -> None:
        self.lines.append(f"{self.namespace}{key}: {_show(value)} is not valid; accepted: {accepted}")

    def missing(self, key: str, accepted: str) -> None:
        self.lines.append(f"{self.namespace}{key}: is required; accepted: {accepted}")

    def unknown(self, key: str, value: Any, known: set[str]) -> None:
        self.lines.append(f"{self.namespace}{key}: unknown setting (value {_show(value)}); "
                          f"accepted settings here: {', '.join(sorted(known))}")

    def raise_if_any(self, stack: str) -> None:
        if self.lines:
            raise SettingsError(stack, self.lines)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


class Section:
    """One mapping of the configuration, read key by key."""

    def __init__(self, raw: Any, path: str, problems: Problems, allowed: set[str]):
        self.path = path
        self.problems = problems
        self.valid = isinstance(raw, Mapping)
        self.raw: Mapping[str, Any] = raw if self.valid else {}
        if not self.valid:
            problems.add(path, raw, "a mapping of settings")
            return
        for key in sorted(set(self.raw) - allowed):
            problems.unknown(self.key(key), self.raw[key], allowed)

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def _get(self, name: str, default: Any, accepted: str) -> Any:
        if name in self.raw and self.raw[name] is not None:
            return self.raw[name]
        if default is MISSING:
            if self.valid:
                self.problems.missing(self.key(name), accepted)
            return MISSING
        return default

    def string(self, name: str, default: Any = MISSING, pattern: str | None = None,
               accepted: str = "a string") -> str | None:
        value = self._get(name, default, accepted)
        if value is MISSING or value is None:
            return None
        if not isinstance(value, str) or (pattern and not re.fullmatch(pattern, value)):
            self.problems.add(self.key(name), value, accepted)
            return None
        return value

    def choice(self, name: str, options: tuple[str, ...], default: Any = MISSING) -> str | None:
        accepted = "one of " + ", ".join(options)
        value = self._get(name, default, accepted)
        if value is MISSING:
            return None
        if value not in options:
            self.problems.add(self.key(name), value, accepted)
            return None
        return value

    def boolean(self, name: str, default: Any = MISSING) -> bool | None:
        value = self._get(name, default, "true or false")
        if value is MISSING:
            return None
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            self.problems.add(self.key(name), value, f"true or false, not {_type_name(value)}")
            return None
        return value

    def integer(self, name: str, default: Any = MISSING, minimum: int | None = None,
                maximum: int | None = None) -> int | None:
        bounds = _bounds_text(minimum, maximum)
        value = self._get(name, default, f"a whole number{bounds}")
        if value is MISSING:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.add(self.key(name), value, f"a whole number{bounds}")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.problems.add(self.key(name), value, f"a whole number{bounds}")
            return None
        return value

    def section(self, name: str, allowed: set[str], default: Any = MISSING) -> Section:
        value = self._get(name, default, "a mapping of settings")
        if value is MISSING:
            return Section({}, self.key(name), Problems(self.problems.namespace.rstrip(":")), allowed)
        return Section(value, self.key(name), self.problems, allowed)

    def items(self, name: str, default: Any = MISSING, min_items: int = 0,
              accepted: str = "a list") -> list[tuple[str, Any]]:
        """The entries of a list setting, each with its own key path (`name[i]`)."""
        value = self._get(name, default, accepted)
        if value is MISSING:
            return []
        if not isinstance(value, list):
            self.problems.add(self.key(name), value, accepted)
            return []
        if len(value) < min_items:
            self.problems.add(self.key(name), value, f"{accepted} with at least {min_items} entry")
            return []
        return [(f"{self.key(name)}[{index}]", item) for index, item in enumerate(value)]

    def strings(self, name: str, default: Any = MISSING, pattern: str | None = None,
                accepted: str = "a list of strings") -> tuple[str, ...]:
        values = []
        for key, item in self.items(name, default, accepted=accepted):
            if not isinstance(item, str) or (pattern and not re.fullmatch(pattern, item)):
                self.problems.add(key, item, accepted)
                continue
            values.append(item)
        return tuple(values)

    def mapping_of_strings(self, name: str, default: Any = MISSING) -> dict[str, str]:
        value = self._get(name, default, "a mapping of string to string")
        if value is MISSING:
            return {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            self.problems.add(self.key(name), value, "a mapping of string to string")
            return {}
        return dict(value)

    def check(self, condition: bool, name: str, value: Any, accepted: str) -> None:
        if not condition:
            self.problems.add(self.key(name), value, accepted)


def _bounds_text(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" of at least {minimum}"
    if maximum is not None:
        return f" of at most {maximum}"
    return ""


def unique(values: list[tuple[str, str]], problems: Problems, what: str) -> None:
    """Record every value that appears twice, naming the key of the repeat."""
    seen: dict[str, str] = {}
    for key, value in values:
        if value in seen:
            problems.add(key, value, f"a {what} not used before (already used at {seen[value]})")
        else:
            seen[value] = key

