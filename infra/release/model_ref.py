"""Reading the model name and version out of the ids Azure ML uses for a model version."""

from __future__ import annotations

import re
from typing import NamedTuple

_PATH_FORM = re.compile(r"/models/(?P<name>[^/]+)/versions/(?P<version>[^/]+)/?$", re.IGNORECASE)
SHORT_REFERENCE = re.compile(r"^azureml:(?P<name>[^:/]+):(?P<version>[^:/]+)$")


class ModelRef(NamedTuple):
    name: str
    version: str


def parse_model_id(model_id: str | None) -> ModelRef | None:
    """(name, version) of an ARM id, an azureml:// asset path or `azureml:name:version`; None if it is none of these."""
    if not model_id:
        return None
    match = SHORT_REFERENCE.match(model_id) or _PATH_FORM.search(model_id)
    if match is None:
        return None
    return ModelRef(match.group("name"), match.group("version"))


def version_in(model_id: str | None, model_name: str) -> str | None:
    """The version of `model_name` that `model_id` points to, or None if it points elsewhere."""
    ref = parse_model_id(model_id)
    if ref is None or ref.name != model_name:
        return None
    return ref.version
