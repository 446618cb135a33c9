"""Container registries: no admin user, no anonymous pull; no public network access in production."""

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from .production import PRODUCTION_CONFIG_SCHEMA, is_production
from .resource_props import lookup, shown

REGISTRY = "azure-native:containerregistry:Registry"


def validate_registry(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type != REGISTRY:
        return
    props = args.props
    admin = lookup(props, "adminUserEnabled")
    if admin is True:
        report_violation(
            f"Container registry '{args.name}': adminUserEnabled is {shown(admin)}; it must be false "
            "(pull and push with Entra ID identities and AcrPull/AcrPush roles, not the shared admin password)."
        )
    anonymous = lookup(props, "anonymousPullEnabled")
    if anonymous is True:
        report_violation(
            f"Container registry '{args.name}': anonymousPullEnabled is {shown(anonymous)}; it must be false."
        )
    if is_production(args.urn, args.get_config()):
        public = lookup(props, "publicNetworkAccess")
        if public != "Disabled":
            report_violation(
                f"Container registry '{args.name}' in a production stack: publicNetworkAccess is {shown(public)}; "
                "it must be 'Disabled' (Premium SKU with private endpoints; Azure's default is 'Enabled')."
            )


REGISTRY_POLICY = ResourceValidationPolicy(
    name="container-registry-locked-down",
    description="Container registries must have the admin user and anonymous pull disabled, "
    "and no public network access in production stacks.",
    validate=validate_registry,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PRODUCTION_CONFIG_SCHEMA,
    remediation_steps="Set admin_user_enabled=False; in production set public_network_access='Disabled'.",
)
