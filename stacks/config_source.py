"""The selected stack's configuration, as Pulumi hands it to the program.

The Pulumi engine passes config to the Python program as strings (objects and lists JSON
encoded), keyed `<project>:<key>`; under the mock runtime the same map is set with
`pulumi.runtime.set_all_config`. This module is the only one below the entry point that reads it.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import config as runtime_config


def project_config(project: str) -> dict[str, Any]:
    """Every `<project>:<key>` setting, keyed by `<key>`, with JSON values decoded."""
    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{project}:"
    return {key[len(prefix):]: _decode(value) for key, value in merged.items() if key.startswith(prefix)}


def _decode(value: Any) -> Any:
    """Objects and lists arrive JSON encoded; scalars stay strings for the settings to read."""
    if not isinstance(value, str) or value.lstrip()[:1] not in ("{", "["):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
