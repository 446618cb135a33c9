"""Checking a dynamic resource's inputs: every failure names the field, the bad value and what is accepted.

Providers read their inputs through a `FieldReader`; `check` turns the collected failures into
Pulumi `CheckFailure`s, the other methods raise `InvalidInputs`. A value the engine does not know
yet (a preview) is passed through unchecked: it is checked again once it is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from infra.facts import ASSET_ACCEPTED, ASSET_NAME, full

from .values import as_int, is_unknown, plain

NAME_PATTERN = full(ASSET_NAME)


class InvalidInputs(ValueError):
    """One or more inputs of a release resource are wrong."""

    def __init__(self, resource: str, failures: list[tuple[str, str]]):
        self.resource = resource
        self.failures = failures
        lines = "; ".join(reason for _, reason in failures)
        super().__init__(f"{resource}: {lines}")


class FieldReader:
    """Reads and checks fields of one resource's inputs, collecting every failure."""

    def __init__(self, resource: str, props: dict):
        self.resource = resource
        self.props = props
        self.failures: list[tuple[str, str]] = []

    def fail(self, field: str, value: Any, accepted: str) -> None:
        self.failures.append((field, f"{field} is {plain(value)!r}; accepted: {accepted}"))

    def raise_if_failed(self) -> None:
        if self.failures:
            raise InvalidInputs(self.resource, self.failures)

    def text(
        self,
        field: str,
        *,
        required: bool = True,
        pattern: re.Pattern | None = None,
        accepted: str = "a non-empty string",
        default: str | None = None,
    ) -> str | None:
        value = self.props.get(field, default)
        if is_unknown(value):
            return value
        if value is None or value == "":
            if required:
                self.fail(field, value, accepted)
            return None
        if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
            self.fail(field, value, accepted)
            return None
        return value

    def name(self, field: str, *, required: bool = True) -> str | None:
        return self.text(field, required=required, pattern=NAME_PATTERN, accepted=ASSET_ACCEPTED)

    def choice(self, field: str, choices: Iterable[str], default: str | None = None) -> str | None:
        choices = tuple(choices)
        value = self.props.get(field, default)
        if is_unknown(value):
            return value
        if value not in choices:
            self.fail(field, value, f"one of {list(choices)}")
            return None
        return value

    def boolean(self, field: str, default: bool) -> bool:
        value = self.props.get(field, default)
        if value is None:
            return default
        if is_unknown(value):
            return value
        if not isinstance(value, bool):
            self.fail(field, value, "true or false")
            return default
        return value

    def number(self, field: str, default: float, minimum: float, maximum: float) -> float:
        value = self.props.get(field, default)
        if value is None:
            return default
        if is_unknown(value):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= maximum:
            self.fail(field, value, f"a number from {minimum:g} to {maximum:g}")
            return default
        return as_int(value)

    def mapping(self, field: str, *, required: bool = False) -> dict | None:
        value = self.props.get(field)
        if is_unknown(value):
            return value
        if value is None:
            if required:
                self.fail(field, value, "a mapping")
            return None
        if not isinstance(value, dict):
            self.fail(field, value, "a mapping")
            return None
        return value

    def string_map(self, field: str) -> dict[str, str]:
        value = self.mapping(field)
        if value is None or is_unknown(value):
            return value or {}
        bad = {k: v for k, v in value.items() if not isinstance(v, str)}
        if bad:
            self.fail(field, value, "a mapping of strings to strings (Azure ML tags are strings)")
            return {}
        return dict(value)
