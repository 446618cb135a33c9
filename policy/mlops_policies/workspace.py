"""Azure ML workspaces have a managed identity everywhere, and network isolation in production."""

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from .production import PRODUCTION_CONFIG_SCHEMA, is_production
from .resource_props import lookup, shown

WORKSPACE = "azure-native:machinelearningservices:Workspace"
ACCEPTED_IDENTITIES = ("SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned")
ISOLATED_MODES = ("AllowOnlyApprovedOutbound",)


def validate_workspace(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type != WORKSPACE:
        return
    props = args.props
    identity = lookup(props, "identity.type")
    if identity not in ACCEPTED_IDENTITIES:
        report_violation(
            f"ML workspace '{args.name}': identity.type is {shown(identity)}; "
            f"accepted: {', '.join(ACCEPTED_IDENTITIES)} (the workspace reaches Key Vault, storage and "
            "the registry with its own identity, never with keys)."
        )
    if not is_production(args.urn, args.get_config()):
        return
    public = lookup(props, "publicNetworkAccess")
    if public != "Disabled":
        report_violation(
            f"ML workspace '{args.name}' in a production stack: publicNetworkAccess is {shown(public)}; "
            "it must be 'Disabled' (reach it through private endpoints)."
        )
    isolation = lookup(props, "managedNetwork.isolationMode")
    if isolation not in ISOLATED_MODES:
        report_violation(
            f"ML workspace '{args.name}' in a production stack: managedNetwork.isolationMode is {shown(isolation)}; "
            f"accepted: {', '.join(ISOLATED_MODES)} (a managed virtual network whose outbound traffic goes "
            "only to approved destinations, as the stack settings require of prod)."
        )


WORKSPACE_POLICY = ResourceValidationPolicy(
    name="ml-workspace-identity-isolation",
    description="Azure ML workspaces must have a managed identity, and in production no public network "
    "access and a managed network with approved outbound only.",
    validate=validate_workspace,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PRODUCTION_CONFIG_SCHEMA,
    remediation_steps="Set identity type SystemAssigned; in production set public_network_access='Disabled' "
    "and managed_network.isolation_mode='AllowOnlyApprovedOutbound'.",
)
