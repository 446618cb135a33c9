"""Online endpoints in production: no public network access, and slots without public egress.

The endpoint's access is the ServingEndpoint's ``public_network_access``; what its slots run is the
release's EndpointTraffic ``serving`` spec, whose ``egress_public_network_access`` the deployments get
(unset: not sent, the workspace's managed network governs outbound). Both are spelled as azure-ai-ml
spells them (``enabled``/``disabled``), see infra/release/serving_endpoint.py and serving_spec.py.
"""

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from .production import PRODUCTION_CONFIG_SCHEMA, is_production
from .resource_props import MISSING, lookup, shown
from .traffic import RELEASE_TRAFFIC_SUFFIX, SERVING_ENDPOINT_SUFFIX, is_release_resource

PRIVATE = "disabled"


def validate_endpoint_private(args: ResourceValidationArgs, report_violation) -> None:
    serving_endpoint = is_release_resource(args.resource_type, SERVING_ENDPOINT_SUFFIX)
    release_traffic = is_release_resource(args.resource_type, RELEASE_TRAFFIC_SUFFIX)
    if not (serving_endpoint or release_traffic) or not is_production(args.urn, args.get_config()):
        return
    if serving_endpoint:
        public = lookup(args.props, "public_network_access")
        if public != PRIVATE:
            report_violation(
                f"Serving endpoint '{args.name}' in a production stack: public_network_access is {shown(public)}; "
                f"it must be '{PRIVATE}' (score through the workspace's private endpoint)."
            )
        return
    serving = lookup(args.props, "serving")
    if serving is MISSING or serving is None:
        return  # no serving spec: the release deploys nothing
    egress = lookup(serving, "egress_public_network_access", None)
    if egress not in (PRIVATE, None):
        report_violation(
            f"Endpoint traffic '{args.name}' in a production stack: serving.egress_public_network_access is "
            f"{shown(egress)}; it must be '{PRIVATE}' or unset (the workspace's managed network then governs "
            "outbound), so no slot reaches the internet directly."
        )


ENDPOINT_PRIVATE_POLICY = ResourceValidationPolicy(
    name="online-endpoint-private",
    description="In production stacks, online endpoints have no public network access and the slots the "
    "release deploys have no public egress.",
    validate=validate_endpoint_private,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PRODUCTION_CONFIG_SCHEMA,
    remediation_steps="Set network.publicNetworkAccess to false in the production stack: the ServingEndpoint then "
    "gets public_network_access='disabled' and is scored through the workspace's private endpoint; leave the "
    "serving spec's egress_public_network_access unset (the managed network governs outbound).",
)
