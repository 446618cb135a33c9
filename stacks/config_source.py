"""The selected stack's configuration, as Pulumi hands it to the program.

The Pulumi engine passes config to the Python program as strings (objects and lists JSON
encoded), keyed `<project>:<key>`, with the list of keys that are secrets; under the mock runtime
the same map is set with `pulumi.runtime.set_all_config`. This module is the only one below the
entry point that reads it.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import config as runtime_config

from stacks.config_keys import ProjectConfig


def project_config(project: str) -> ProjectConfig:
    """Every `<project>:<key>` setting, keyed by `<key>`, with JSON values decoded; the stack's other
    keys and its secret keys come with them, for `parse_settings` to check and to keep out of errors."""
    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {key for key in merged if runtime_config.is_config_secret(key)}
    secret_keys.update(runtime_config.get_config_secret_keys_env())
    return ProjectConfig.split({key: _decode(value) for key, value in merged.items()}, project, secret_keys)


def _decode(value: Any) -> Any:
    """Objects and lists arrive JSON encoded; scalars stay strings for the settings to read."""
    if not isinstance(value, str) or value.lstrip()[:1] not in ("{", "["):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
