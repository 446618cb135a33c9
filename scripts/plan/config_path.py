"""`--config 'workspaces[0].release.candidate=DIR'`: one stack setting changed for a plan only, by
the same path syntax as `pulumi config set --path`."""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from scripts.offline.stack import yaml_problem

_SEGMENT = re.compile(r"\.?([A-Za-z_][\w-]*)|\[(\d+)\]")


class ConfigPathError(ValueError):
    pass


_INTEGER = re.compile(r"[+-]?\d+")


def parse_value(raw: str) -> Any:
    """A value as `pulumi config set --path` stores it: true/false as booleans, base-10 digits as an
    integer (leading zeros and all, never octal), anything else as the string given. A value that
    starts with `[` or `{` is read as YAML, to set a whole list or map in one go."""
    if raw in ("true", "false"):
        return raw == "true"
    if _INTEGER.fullmatch(raw):
        return int(raw, 10)
    if raw.startswith(("[", "{")):
        return yaml.safe_load(raw)
    return raw


def parse_assignment(text: str) -> tuple[list[str | int], Any]:
    """`a.b[0].c=value` as (['a', 'b', 0, 'c'], value); the value is read by `parse_value`."""
    path, separator, raw = text.partition("=")
    if not separator or not path:
        raise ConfigPathError(f"--config {text!r}: expected PATH=VALUE, e.g. workspaces[0].release.candidate=DIR")
    namespace, _, key_path = path.rpartition(":")
    segments: list[str | int] = []
    position = 0
    while position < len(key_path):
        match = _SEGMENT.match(key_path, position)
        if match is None or (position == 0 and match.group(2) is not None):
            raise ConfigPathError(
                f"--config {text!r}: {key_path!r} is not a config path; accepted: "
                "key, key.sub or key[0].sub, as in `pulumi config set --path`"
            )
        segments.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    segments[0] = f"{namespace or 'mlops-platform'}:{segments[0]}"
    try:
        return segments, parse_value(raw)
    except yaml.YAMLError as error:
        place, problem = yaml_problem(error)
        where = "" if place is None else f" at line {place[0]}, column {place[1]} of the value"
        raise ConfigPathError(f"--config {text!r}: the value is not valid YAML{where}: {problem}") from None


def with_assignments(config: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """A copy of a stack's config map with each `PATH=VALUE` set, creating maps on the way."""
    config = copy.deepcopy(config)
    for text in assignments:
        segments, value = parse_assignment(text)
        node: Any = config
        for segment, following in zip(segments, segments[1:], strict=False):
            if isinstance(segment, int):
                if not isinstance(node, list) or segment >= len(node):
                    raise ConfigPathError(f"--config {text!r}: there is no item [{segment}] in the stack's config")
            elif not isinstance(node.get(segment), (dict, list)):
                node[segment] = [] if isinstance(following, int) else {}
            node = node[segment]
        last = segments[-1]
        if isinstance(last, int) and (not isinstance(node, list) or last >= len(node)):
            raise ConfigPathError(f"--config {text!r}: there is no item [{last}] in the stack's config")
        node[last] = value
    return config
