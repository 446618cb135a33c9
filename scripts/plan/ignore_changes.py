"""What the Pulumi engine does with a resource's `ignoreChanges` on an update, so a plan diff can tell
an ignored change from a real one.

On an update the engine parses each path (`resource.ParsePropertyPath`, non-strict) and resets it in
the new inputs to the old stored value; a path it cannot parse is skipped, and a path that would add
or remove list elements is only partly reset (pulumi/pulumi `pkg/resource/deploy/step_generator.go`
`processIgnoreChanges`, `sdk/go/common/resource/properties_path.go` `parsePropertyPath` and
`PropertyPath.reset`). This module follows those two functions: `effective_inputs` is what the
engine would diff and send, and a change that is gone from it was ignored.

Paths: `a.b`, `a["key with ."]`, `list[0].x`, `list[*].x`, `*` (every key or element at that level).
"""

from __future__ import annotations

import copy
import re
from typing import Any

WILDCARD = "*"
_INDEX = re.compile(r"[+-]?[0-9]+")  # what Go's strconv.ParseInt(s, 10, 0) reads

Path = tuple[str | int, ...]


def parse_path(text: str) -> Path | None:
    """The elements of a property path, or None where the engine would skip it as unparseable."""
    elements: list[str | int] = []
    if text.startswith("."):
        return None
    rest = text
    while rest:
        if rest[0] == ".":
            rest = rest[1:]
            if not rest:
                return None
        elif rest[0] == "[":
            if rest[1:2] == '"':
                key, i = [], 2
                while True:
                    if i >= len(rest):
                        return None
                    if rest[i] == '"':
                        i += 1
                        break
                    if rest[i] == "\\" and rest[i + 1 : i + 2] == '"':
                        key.append('"')
                        i += 2
                    else:
                        key.append(rest[i])
                        i += 1
                if rest[i : i + 1] != "]":
                    return None
                elements.append("".join(key))
                rest = rest[i + 1 :]
            else:
                close = rest.find("]")
                if close == -1:
                    return None
                segment = rest[1:close]
                if segment == WILDCARD:
                    elements.append(WILDCARD)
                elif _INDEX.fullmatch(segment):
                    elements.append(int(segment, 10))
                else:
                    return None
                rest = rest[close + 1 :]
        else:
            end = min((i for i in (rest.find("."), rest.find("[")) if i != -1), default=len(rest))
            elements.append(rest[:end])
            rest = rest[end:]
    return tuple(elements)


def path_text(path: Path) -> str:
    """A path as the engine prints it (`PropertyPath.String`): `a.b[0]`, keys with other characters
    than letters, digits and `_` in brackets and quotes (`tags["cost-center"]`)."""
    text = ""
    for position, element in enumerate(path):
        if isinstance(element, int):
            text += f"[{element}]"
        elif element and all(c.isascii() and (c.isalnum() or c == "_") for c in element):
            text += element if position == 0 else f".{element}"
        else:
            escaped = element.replace('"', '\\"')
            text += f'["{escaped}"]'
    return text


def _reset(path: Path, old: Any, new: Any) -> bool:
    """`PropertyPath.reset`: set `path` in the containers under `new` to its value under `old`,
    never adding or removing list elements. False on a path error (the rest stays as reset so far)."""
    key, rest = path[0], path[1:]
    if isinstance(key, int):
        if key < 0:
            return False
        if not isinstance(old, list) or not isinstance(new, list):
            return not isinstance(old, list) and not isinstance(new, list)
        if not rest and key >= len(old) and key >= len(new):
            return True
        if key >= len(old) or key >= len(new):
            return False
        if not rest:
            new[key] = copy.deepcopy(old[key])
            return True
        return _reset(rest, old[key], new[key])
    if key == WILDCARD:
        if not rest:
            if isinstance(new, dict):
                if isinstance(old, dict):
                    for name in [name for name in new if name not in old]:
                        del new[name]
                    new.update(copy.deepcopy(old))
                return True
            if isinstance(new, list):
                if isinstance(old, list):
                    for index in range(min(len(old), len(new))):
                        new[index] = copy.deepcopy(old[index])
                    return len(old) == len(new)
                return True
            return False
        if isinstance(old, dict) and isinstance(new, dict):
            return all(name in new and _reset(rest, old[name], new[name]) for name in list(old))
        if isinstance(old, list) and isinstance(new, list):
            return (all(_reset(rest, o, n) for o, n in zip(old, new, strict=False))) and len(old) == len(new)
        return False
    if not rest:
        if isinstance(old, dict) and key in old:
            if not isinstance(new, dict):
                return False
            new[key] = copy.deepcopy(old[key])
        elif isinstance(new, dict):
            new.pop(key, None)
        return True
    if not isinstance(old, dict) or not isinstance(new, dict):
        return not isinstance(old, dict) and not isinstance(new, dict)
    if key not in new:
        return key not in old
    return _reset(rest, old.get(key), new[key])


def effective_inputs(old: dict[str, Any], new: dict[str, Any], ignore_changes: list[str]) -> dict[str, Any]:
    """The inputs the engine diffs and sends on an update from `old`: `new` with every ignored path
    reset to its old value."""
    effective = copy.deepcopy(new)
    for text in ignore_changes:
        path = parse_path(text)
        if path:
            _reset(path, old, effective)
    return effective
