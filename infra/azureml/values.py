"""Argument checks and value conversions shared by the gateway's modules: one clear ValueError naming
the field and what is accepted, and azure-ai-ml's enum values turned into their text."""

from __future__ import annotations

from enum import Enum
from typing import Any

REMOTE_SCHEMES = ("azureml://", "https://", "http://", "wasbs://", "abfss://")


def is_remote(path: str) -> bool:
    """A path Azure ML reads where it is (no upload): an azureml:// URI or a storage URL."""
    return path.startswith(REMOTE_SCHEMES)


def require_text(field_name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field_name} is {value!r}; accepted: a non-empty string")


def version_text(version: Any) -> str:
    if isinstance(version, bool) or not isinstance(version, (str, int)) or not str(version).strip():
        raise ValueError(
            f"version is {version!r}; accepted: an explicit non-empty string (or int); "
            "versions are never auto-incremented"
        )
    return str(version)


def string_map(field_name: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{field_name} is {type(value).__name__}; accepted: a dict of str to str")
    out = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{field_name} key {key!r} is invalid; accepted: non-empty strings")
        if item is None or isinstance(item, (dict, list, tuple, set)):
            raise ValueError(f"{field_name}[{key!r}] is {item!r}; accepted: a string, number or bool")
        out[key] = str(item)
    return out


def state_text(value: Any) -> str:
    """azure-ai-ml hands REST enums back as Enum members (str() of one is `Class.MEMBER`, not the value)."""
    if isinstance(value, Enum):
        value = value.value
    return str(value) if value is not None else "Unknown"
