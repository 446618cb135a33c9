"""Problems with a stack's configuration, and the one error that lists them all.

Each problem is one line naming the full key (`mlops-platform:workspaces[0].gpuCluster.minNodes`),
the bad value as YAML writes it, and what is accepted. `problems_of` is the one place that turns
pydantic's `ValidationError` of the settings models into such problems: what a field accepts is
its `description` (or the text a validator raised with `invalid`/`required`), so none of
pydantic's own wording reaches the user. Values are never shown for secret keys, nor for secure
(`{secure: ...}`) values, which would print their ciphertext.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

import pulumi
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

NOT_SHOWN = object()
SECRET = "[secret]"  # how Pulumi itself prints a secret


class SettingsError(pulumi.RunError, ValueError):
    """The stack configuration is invalid; the message lists every problem found.

    A `pulumi.RunError`, which the Python language host prints as its message alone; any other exception
    reaches the user as "Program failed with an unhandled exception" and a traceback
    (pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec). A ValueError too, for the tools that read
    settings outside Pulumi.
    """

    def __init__(self, stack: str, problems: list[str]):
        self.stack = stack
        self.problems = list(problems)
        super().__init__(settings_message(stack, self.problems))


def settings_message(stack: str, problems: list[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"invalid configuration for stack '{stack}':\n{lines}"


@dataclass(frozen=True)
class Problem:
    key: str  # the full key, as the stack file writes it
    accepted: str
    value: Any = NOT_SHOWN
    kind: str = "invalid"  # invalid | required | unknown (a setting not read here) | misplaced (see config_keys)
    note: str = ""  # misplaced: why the key is not read

    def line(self, secret_keys: Iterable[str] = ()) -> str:
        secret = re.split(r"[.\[]", self.key, maxsplit=1)[0] in set(secret_keys)
        value = SECRET if secret and self.value is not NOT_SHOWN else show(self.value)
        if self.kind == "required":
            return f"{self.key}: is required; accepted: {self.accepted}"
        if self.kind == "unknown":
            return f"{self.key}: unknown setting (value {value}); accepted settings here: {self.accepted}"
        if self.kind == "misplaced":
            return f"{self.key}: {self.note} (value {value}); {self.accepted}"
        return f"{self.key}: {value} is not valid; accepted: {self.accepted}"


def invalid(accepted: str, shown: Any = NOT_SHOWN) -> PydanticCustomError:
    """For a validator to raise: the value is not valid; `shown` replaces the value in the message."""
    context = {"accepted": accepted} if shown is NOT_SHOWN else {"accepted": accepted, "shown": shown}
    return PydanticCustomError("settings_invalid", "{accepted}", context)


def required(accepted: str) -> PydanticCustomError:
    """For a validator to raise: a value is needed here (and there is none)."""
    return PydanticCustomError("settings_required", "{accepted}", {"accepted": accepted})


def is_secure(value: Any) -> bool:
    """A secure value as a stack file holds it (`{secure: <ciphertext>}`)."""
    return isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get("secure"), str)


def show(value: Any) -> str:
    text = _as_yaml(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _as_yaml(value: Any) -> str:
    if is_secure(value):
        return SECRET
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(_as_yaml, value)) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_as_yaml(k)}: {_as_yaml(v)}" for k, v in value.items()) + "}"
    return repr(value)


def type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def problems_of(error: ValidationError, model: type[BaseModel], namespace: str) -> list[Problem]:
    """One problem per error of `model.model_validate`, keys under `namespace:`."""
    problems = []
    details = error.errors(include_url=False)
    for detail in details:
        loc = _aliased(model, tuple(part for part in detail["loc"] if part != "[key]"))  # "[key]": a mapping's key
        if detail["type"] == "too_short" and any(
            len(other["loc"]) > len(detail["loc"]) and other["loc"][: len(detail["loc"])] == detail["loc"]
            for other in details
        ):
            continue  # pydantic counts only the valid entries: the invalid ones are the problem
        key = f"{namespace}:{_path(loc)}"
        kind, context, value = detail["type"], detail.get("ctx") or {}, detail["input"]
        if kind == "settings_invalid":
            problems.append(Problem(key, context["accepted"], context.get("shown", value)))
        elif kind == "settings_required":
            problems.append(Problem(key, context["accepted"], kind="required"))
        elif kind == "extra_forbidden":
            known = sorted(_aliases(_target(model, loc[:-1])[0]))
            problems.append(Problem(key, ", ".join(known), value, "unknown"))
        elif kind == "missing":
            problems.append(Problem(key, _accepted(model, loc), kind="required"))
        else:
            accepted = _accepted(model, loc)
            if kind == "too_short":
                accepted += f" with at least {context['min_length']} entry"
            if is_secure(value):
                accepted += " (a plain value: this setting is not a secret)"
            problems.append(Problem(key, accepted, value))
    return problems


def unique(values: list[tuple[str, str]], what: str, namespace: str) -> list[Problem]:
    """A problem for every value that appears twice, naming the key of the repeat (keys under `namespace:`)."""
    seen: dict[str, str] = {}
    problems = []
    for key, value in values:
        if value in seen:
            problems.append(
                Problem(f"{namespace}:{key}", f"a {what} not used before (already used at {seen[value]})", value)
            )
        else:
            seen[value] = key
    return problems


def _aliased(model: type[BaseModel], loc: tuple) -> tuple:
    """`loc` with the YAML's key (the alias) for each field name (pydantic names a default's field so)."""
    parts = []
    for index, part in enumerate(loc):
        annotation = _target(model, loc[:index])[0]
        field = _field(annotation, part) if isinstance(part, str) and _is_model(annotation) else None
        parts.append(field.alias or part if field is not None else part)
    return tuple(parts)


def _path(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _accepted(model: type[BaseModel], loc: tuple) -> str:
    annotation, description = _target(model, loc)
    if _is_model(annotation):
        return "a mapping of settings"
    return description or "a valid value"


def _target(model: type[BaseModel], loc: tuple) -> tuple[Any, str | None]:
    """The type at `loc` below `model`, and the description of the nearest field on the way to it."""
    annotation: Any = model
    description = None
    for part in loc:
        annotation, description = _unwrap(annotation, description)
        if isinstance(part, str) and _is_model(annotation):
            field = _field(annotation, part)
            if field is None:
                return None, description
            annotation, description = field.annotation, field.description
        elif get_origin(annotation) in (tuple, list):
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (dict, Mapping):
            annotation = get_args(annotation)[1]
    return _unwrap(annotation, description)


def _unwrap(annotation: Any, description: str | None) -> tuple[Any, str | None]:
    """`X | None` as X; `Annotated[X, Field(description=...)]` as X and that description."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *metadata = get_args(annotation)
            described = [m.description for m in metadata if isinstance(m, FieldInfo) and m.description]
            description = described[-1] if described else description
        elif origin in (Union, types.UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation, description


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field(model: type[BaseModel], key: str) -> FieldInfo | None:
    """The field whose YAML key (alias) or Python name is `key`."""
    return next((f for name, f in model.model_fields.items() if key in (f.alias, name)), None)


def _aliases(model: Any) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()] if _is_model(model) else []
