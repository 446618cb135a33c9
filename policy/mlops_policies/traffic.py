"""What an online endpoint serves has one owner: the release resource.

The endpoint is the release provider's ServingEndpoint, which declares only the endpoint's own
settings (auth mode, public access, description, tags) and no traffic. Its slots' deployments and
the traffic between them belong to the release provider's EndpointTraffic, which creates and
changes them from its ``serving`` spec. An azure-native ``OnlineEndpoint`` or ``OnlineDeployment`` is a
second writer of the same endpoint: its update is a whole-body PUT built from its stored inputs
(``ignore_changes`` sends the old stored value, not the live one), which puts back a stale model,
spec or traffic over what the release set (DESIGN decision 5).

Per endpoint, exactly one resource may own the traffic: the release provider's EndpointTraffic
(known by its type: its ``traffic`` is an output, and an input that is None never reaches the
engine), any other dynamic resource with a top-level ``traffic`` property, or any other resource with
a ``traffic`` map. Two writers of the same endpoint's traffic would undo each other on every
``pulumi up`` (an endpoint PUT replaces the whole body, last writer wins).
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

DYNAMIC_PREFIX = "pulumi-python:dynamic"
SERVING_ENDPOINT_SUFFIX = ":ServingEndpoint"
RELEASE_TRAFFIC_SUFFIX = ":EndpointTraffic"
NATIVE_SERVING = (
    "azure-native:machinelearningservices:OnlineEndpoint",
    "azure-native:machinelearningservices:OnlineDeployment",
)
ENDPOINT_TRAFFIC_FIELDS = ("traffic", "mirror_traffic")
ENDPOINT_KEYS = ("endpointName", "endpoint_name", "endpoint")
WORKSPACE_KEYS = ("workspaceName", "workspace_name", "workspace")


def is_release_resource(resource_type: str, suffix: str) -> bool:
    return resource_type.startswith(DYNAMIC_PREFIX) and resource_type.endswith(suffix)


def _declares_traffic(value) -> bool:
    return isinstance(value, Mapping) and any(v not in (0, 0.0, None) for v in value.values())


def validate_endpoint_served_by_release(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type in NATIVE_SERVING:
        kind = args.resource_type.rsplit(":", 1)[1]
        report_violation(
            f"{kind} '{args.name}' ({args.resource_type}): an azure-native online endpoint or deployment must not be "
            "declared; its update is a whole-body PUT of its stored inputs, which overwrites the model, serving "
            "spec or traffic the release set. Declare the endpoint as a ServingEndpoint (infra/endpoint.py) and "
            "let the release's EndpointTraffic create the deployments from its `serving` spec."
        )
        return
    if not is_release_resource(args.resource_type, SERVING_ENDPOINT_SUFFIX):
        return
    for field in ENDPOINT_TRAFFIC_FIELDS:
        value = lookup(args.props, field)
        if value is not MISSING and _declares_traffic(value):
            report_violation(
                f"Serving endpoint '{args.name}': {field} is {shown(dict(value))}; the endpoint must not declare "
                "traffic (only the release resource moves traffic)."
            )


def _first(props, keys):
    for key in keys:
        value = lookup(props, key)
        if value is not MISSING:
            return value
    return MISSING


def traffic_target(resource_type: str, props) -> tuple | None:
    """(workspace, endpoint) a resource sets traffic on, or None if it sets no traffic."""
    if is_release_resource(resource_type, SERVING_ENDPOINT_SUFFIX):
        return None  # its `traffic` is an output the provider reads back; it never writes traffic
    is_release_traffic = is_release_resource(resource_type, RELEASE_TRAFFIC_SUFFIX)
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
    name="endpoint-served-by-release",
    description="Online endpoints are ServingEndpoints that declare no traffic; no azure-native online endpoint "
    "or deployment is declared, so only the release sets what an endpoint serves.",
    validate=validate_endpoint_served_by_release,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Declare the endpoint with infra.release.ServingEndpoint (no traffic) and its deployments "
    "through the release's EndpointTraffic `serving` spec; remove azure-native OnlineEndpoint and "
    "OnlineDeployment resources (`pulumi state delete` keeps them in Azure).",
)

SINGLE_TRAFFIC_OWNER_POLICY = StackValidationPolicy(
    name="single-traffic-owner",
    description="At most one resource may set the traffic of each online endpoint.",
    validate=validate_single_traffic_owner,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)
