"""Which keys of a stack's configuration are this project's settings, and what the others may be.

Pulumi reads every key of a stack file as `<namespace>:<name>` (a key without a namespace is an
error there: `ParseKey` in pulumi/sdk/go/common/resource/config/key.go) and hands the program all
of them. The program reads its own namespace and allows OTHER_KEYS; any other key is a typo or a
setting nothing reads, so it is reported with the closest known key instead of being ignored.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from stacks.validation import Problem

# Keys of other namespaces a stack file may hold, with what they are (the editor schema shows it).
OTHER_KEYS = {
    "azure-native:location": "the Azure region the azure-native provider uses for a resource that names none",
}


class ProjectConfig(dict):
    """The project's settings as `parse_settings` reads them (keys without the `project:` prefix),
    with the stack's keys of other namespaces (`namespace:name`) and the keys Pulumi holds as
    secrets (`project:key`), whose values no error may show."""

    def __init__(
        self, settings: Mapping[str, Any], other_keys: Mapping[str, Any] | None = None, secret_keys: Iterable[str] = ()
    ):
        super().__init__(settings)
        self.other_keys = dict(other_keys or {})
        self.secret_keys = frozenset(secret_keys)

    @classmethod
    def split(cls, config: Mapping[str, Any], project: str, secret_keys: Iterable[str] = ()) -> ProjectConfig:
        """A stack's whole config (keys `namespace:name`) as the project's settings and the rest."""
        prefix = f"{project}:"
        return cls(
            {key[len(prefix) :]: value for key, value in config.items() if key.startswith(prefix)},
            {key: value for key, value in config.items() if not key.startswith(prefix)},
            secret_keys,
        )


def misplaced_keys(other_keys: Mapping[str, Any], project: str, setting_names: Iterable[str]) -> list[Problem]:
    """A problem for each key outside the project's namespace that is not one of OTHER_KEYS."""
    known = [f"{project}:{name}" for name in setting_names] + list(OTHER_KEYS)
    namespaces = {key.split(":", 1)[0] for key in OTHER_KEYS}
    accepted = f"accepted: {project}:<setting> or {', '.join(OTHER_KEYS)}"
    problems = []
    for key in sorted(set(other_keys) - set(OTHER_KEYS)):
        namespace, colon, _ = key.partition(":")
        if not colon:
            note, probe = "a key without a namespace", f"{project}:{key}"
        elif namespace in namespaces:
            note, probe = "unknown setting", key
        else:
            note, probe = f"unknown namespace '{namespace}'", key
        closest = difflib.get_close_matches(probe, known, n=1)
        hint = f"closest known key: {closest[0]}; " if closest else ""
        problems.append(Problem(key, hint + accepted, other_keys[key], "misplaced", note))
    return problems
