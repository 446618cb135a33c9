"""What a slot runs besides its model: scoring code, environment, instance type, request settings, probes.

The release owns all of it (design decision 5): a change to any field but `instance_count` is a
release of the live model with the new spec, through the idle slot, the smoke test and the rollout.
`instance_count` is capacity only: it is applied to the live slot in place.

The serving version is the first 12 hex digits of a SHA-256 over the spec without `instance_count`
(canonical JSON, sorted keys), the code and environment taken by `<name>/versions/<version>` (their
content versions), not by ARM id: the same spec has the same version in every workspace, and
`python -m scripts.release_version --serving STACK WORKSPACE` computes it offline for an approval. Each deployment the release writes carries it as the tag
`serving-version`, so what a slot runs is read back from Azure, not remembered.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from infra.azureml.gateway import Deployment, DeploymentSpec, Probe
from infra.facts import VERSION_LENGTH

from ..fields import FieldReader
from ..values import as_int, is_unknown, plain

SERVING_VERSION_TAG = "serving-version"
CAPACITY_FIELD = "instance_count"
PROBE_FIELDS = ("initial_delay", "period", "timeout", "failure_threshold", "success_threshold")
EGRESS = ("enabled", "disabled")
_ASSET_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices/"
    r"workspaces/[^/]+/(?P<kind>codes|environments)/[^/]+/versions/[^/]+$",
    re.IGNORECASE,
)
_INSTANCE_TYPE = re.compile(r"^Standard_[A-Za-z0-9_]{2,40}$")
_SCRIPT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,200}\.py$")
ACCEPTED = (
    "an object with code_id and environment_id (ARM ids of a code and an environment version), "
    "scoring_script, instance_type, instance_count >= 1, environment_variables, request_timeout_ms, "
    "max_concurrent_requests_per_instance, liveness_probe and readiness_probe ({"
    + ", ".join(PROBE_FIELDS)
    + "} in seconds), app_insights_enabled and egress_public_network_access "
    "(enabled, disabled or null)"
)


def _positive_int(value: Any) -> bool:
    value = as_int(value)
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _probe_ok(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == set(PROBE_FIELDS)
        and all(_positive_int(value[key]) for key in PROBE_FIELDS)
    )


def read_serving(reader: FieldReader, field: str = "serving") -> dict | Any:
    """The checked serving spec (numbers as ints), or the unknown value of a preview."""
    value = reader.props.get(field)
    if is_unknown(value):
        return value
    value = plain(value) if isinstance(value, dict) else value
    if isinstance(value, dict):  # the SDK drops None values at every depth: an unset egress arrives missing
        value = {"egress_public_network_access": None, **value}
    fields = {
        "code_id",
        "environment_id",
        "scoring_script",
        "instance_type",
        CAPACITY_FIELD,
        "environment_variables",
        "request_timeout_ms",
        "max_concurrent_requests_per_instance",
        "liveness_probe",
        "readiness_probe",
        "app_insights_enabled",
        "egress_public_network_access",
    }
    ok = (
        isinstance(value, dict)
        and set(value) == fields
        and all(
            [
                all(
                    isinstance(value[k], str) and (m := _ASSET_ID.match(value[k])) and m.group("kind") == kind
                    for k, kind in (("code_id", "codes"), ("environment_id", "environments"))
                ),
                isinstance(value["scoring_script"], str) and bool(_SCRIPT.match(value["scoring_script"])),
                isinstance(value["instance_type"], str) and bool(_INSTANCE_TYPE.match(value["instance_type"])),
                _positive_int(value[CAPACITY_FIELD]),
                isinstance(value["environment_variables"], dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in value["environment_variables"].items()),
                _positive_int(value["request_timeout_ms"]),
                _positive_int(value["max_concurrent_requests_per_instance"]),
                _probe_ok(value["liveness_probe"]),
                _probe_ok(value["readiness_probe"]),
                isinstance(value["app_insights_enabled"], bool),
                value["egress_public_network_access"] in (*EGRESS, None),
            ]
        )
    )
    if not ok:
        reader.fail(field, value, ACCEPTED)
        return None
    return value


def serving_version(serving: dict) -> str:
    """The version of everything a slot runs besides its model and its capacity."""
    runs = {k: v for k, v in plain(serving).items() if k != CAPACITY_FIELD}
    for key in ("code_id", "environment_id"):
        runs[key] = "/".join(str(runs[key]).split("/")[-3:])
    text = json.dumps(runs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:VERSION_LENGTH]


def deployment_spec(serving: dict, model_id: str, slot: str) -> DeploymentSpec:
    """The whole deployment a slot gets for `model_id` under this spec."""
    return DeploymentSpec(
        model_id=model_id,
        code_id=serving["code_id"],
        scoring_script=serving["scoring_script"],
        environment_id=serving["environment_id"],
        instance_type=serving["instance_type"],
        instance_count=int(serving[CAPACITY_FIELD]),
        environment_variables=dict(serving["environment_variables"]),
        request_timeout_ms=int(serving["request_timeout_ms"]),
        max_concurrent_requests_per_instance=int(serving["max_concurrent_requests_per_instance"]),
        liveness_probe=Probe(**{k: int(serving["liveness_probe"][k]) for k in PROBE_FIELDS}),
        readiness_probe=Probe(**{k: int(serving["readiness_probe"][k]) for k in PROBE_FIELDS}),
        app_insights_enabled=bool(serving["app_insights_enabled"]),
        egress_public_network_access=serving["egress_public_network_access"],
        tags={SERVING_VERSION_TAG: serving_version(serving), "slot": slot},
    )


def runs_spec(deployment: Deployment | None, serving: dict) -> bool:
    """The deployment runs this spec (its tag, and the code, environment and size it reports)."""
    if deployment is None:
        return False
    return (
        deployment.tags.get(SERVING_VERSION_TAG) == serving_version(serving)
        and _same_id(deployment.code_id, serving["code_id"])
        and _same_id(deployment.environment_id, serving["environment_id"])
        and deployment.instance_type == serving["instance_type"]
    )


def _same_id(live: str | None, declared: str) -> bool:
    return bool(live and live.lower() == declared.lower())
