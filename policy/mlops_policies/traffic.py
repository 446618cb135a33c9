"""Endpoint traffic has one owner: the release resource.

The online endpoint resource must leave ``properties.traffic`` and ``properties.mirrorTraffic`` alone
(``ignore_changes``) and declare no traffic itself; per endpoint, exactly one other resource (the release provider's traffic resource)
may own the traffic: the release provider's EndpointTraffic (known by its type: its ``traffic`` is an
output, and an input that is None never reaches the engine), any other dynamic resource with a
top-level ``traffic`` property, or any other resource with a ``traffic`` map. Two writers of the same endpoint's traffic would undo each other on every
``pulumi up`` (an endpoint PUT replaces the whole body, last writer wins).

Resource options reach a policy only in part (``args.opts``: protect, ignore_changes,
delete_before_replace, aliases, custom_timeouts, additional_secret_outputs, parent); the engine fills
``ignore_changes`` from the resource's goal state, with the Python SDK's top-level name translation
(``properties.traffic`` stays as written).
"""
from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .resource_props import MISSING, lookup, shown

ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
OWNED_BY_RELEASE = ("properties.traffic", "properties.mirrorTraffic")
ENDPOINT_KEYS = ("endpointName", "endpoint_name", "endpoint")
WORKSPACE_KEYS = ("workspaceName", "workspace_name", "workspace")


def _is_ignored(path: str, ignore_changes) -> bool:
    return any(ignored in ("*", "properties", path) for ignored in ignore_changes)


def _declares_traffic(value) -> bool:
    return isinstance(value, Mapping) and any(v not in (0, 0.0, None) for v in value.values())


def validate_endpoint_ignores_traffic(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type != ENDPOINT:
        return
    ignore_changes = list(args.opts.ignore_changes or []) if args.opts else []
    missing = [path for path in OWNED_BY_RELEASE if not _is_ignored(path, ignore_changes)]
    if missing:
        report_violation(
            f"Online endpoint '{args.name}': ignore_changes is {ignore_changes}; it must include "
            f"{', '.join(repr(p) for p in missing)} so that pulumi up never resets the traffic the release resource set."
        )
    for field in ("traffic", "mirrorTraffic"):
        value = lookup(args.props, f"properties.{field}")
        if value is not MISSING and _declares_traffic(value):
            report_violation(
                f"Online endpoint '{args.name}': properties.{field} is {shown(dict(value))}; the endpoint must not "
                "declare traffic (only the release resource moves traffic)."
            )


def _first(props, keys):
    for key in keys:
        value = lookup(props, key)
        if value is not MISSING:
            return value
    return MISSING


DYNAMIC_PREFIX = "pulumi-python:dynamic"


RELEASE_TRAFFIC_SUFFIX = ":EndpointTraffic"


def traffic_target(resource_type: str, props) -> tuple | None:
    """(workspace, endpoint) a resource sets traffic on, or None if it sets no traffic."""
    is_release_traffic = resource_type.startswith(DYNAMIC_PREFIX) and resource_type.endswith(RELEASE_TRAFFIC_SUFFIX)
    if "traffic" not in props and not is_release_traffic:
        return None
    if not resource_type.startswith(DYNAMIC_PREFIX) and not isinstance(props.get("traffic"), Mapping):
        return None
    endpoint = _first(props, ENDPOINT_KEYS)
    workspace = _first(props, WORKSPACE_KEYS)
    return (None if workspace is MISSING else workspace, None if endpoint is MISSING else endpoint)


def validate_single_traffic_owner(args: StackValidationArgs, report_violation) -> None:
    owners: dict[tuple, list] = {}
    for resource in args.resources:
        if resource.resource_type == ENDPOINT:
            continue
        target = traffic_target(resource.resource_type, resource.props)
        if target is not None:
            owners.setdefault(target, []).append(resource)
    for (workspace, endpoint), resources in owners.items():
        if len(resources) > 1:
            names = ", ".join(f"'{r.name}' ({r.resource_type})" for r in resources)
            where = f"endpoint '{endpoint}'" + (f" of workspace '{workspace}'" if workspace else "")
            for resource in resources:
                report_violation(
                    f"{where} has {len(resources)} traffic owners: {names}; exactly one release resource "
                    "may set an endpoint's traffic.",
                    resource.urn,
                )


ENDPOINT_TRAFFIC_POLICY = ResourceValidationPolicy(
    name="endpoint-traffic-ignored",
    description="Online endpoints must ignore changes to properties.traffic and properties.mirrorTraffic "
    "and declare no traffic of their own.",
    validate=validate_endpoint_ignores_traffic,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Create the endpoint with opts=ResourceOptions(ignore_changes=['properties.traffic', 'properties.mirrorTraffic']) "
    "and no traffic; let the release resource set it.",
)

SINGLE_TRAFFIC_OWNER_POLICY = StackValidationPolicy(
    name="single-traffic-owner",
    description="At most one resource may set the traffic of each online endpoint.",
    validate=validate_single_traffic_owner,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)
