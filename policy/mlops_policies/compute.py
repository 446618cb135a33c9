"""Azure ML compute in production: no public node IPs and no SSH from the internet."""

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from .production import PRODUCTION_CONFIG_SCHEMA, is_production
from .resource_props import MISSING, lookup, shown

COMPUTE = "azure-native:machinelearningservices:Compute"


def _check_aml_compute(name: str, spec, report_violation) -> None:
    public_ip = lookup(spec, "enableNodePublicIp")
    if public_ip is not False:
        report_violation(
            f"ML compute cluster '{name}' in a production stack: properties.properties.enableNodePublicIp is "
            f"{shown(public_ip)}; it must be false (Azure's default is true)."
        )
    ssh = lookup(spec, "remoteLoginPortPublicAccess")
    if ssh != "Disabled":
        report_violation(
            f"ML compute cluster '{name}' in a production stack: properties.properties.remoteLoginPortPublicAccess "
            f"is {shown(ssh)}; it must be 'Disabled' ('NotSpecified' opens SSH when an admin user is set)."
        )


def _check_compute_instance(name: str, spec, report_violation) -> None:
    public_ip = lookup(spec, "enableNodePublicIp")
    if public_ip is not False:
        report_violation(
            f"ML compute instance '{name}' in a production stack: properties.properties.enableNodePublicIp is "
            f"{shown(public_ip)}; it must be false (Azure's default is true)."
        )
    ssh = lookup(spec, "sshSettings.sshPublicAccess")
    if ssh is not MISSING and ssh != "Disabled":
        report_violation(
            f"ML compute instance '{name}' in a production stack: properties.properties.sshSettings.sshPublicAccess "
            f"is {shown(ssh)}; it must be 'Disabled' or unset."
        )


def validate_compute(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type != COMPUTE or not is_production(args.urn, args.get_config()):
        return
    compute_type = lookup(args.props, "properties.computeType")
    spec = lookup(args.props, "properties.properties", {})
    if compute_type == "AmlCompute":
        _check_aml_compute(args.name, spec, report_violation)
    elif compute_type == "ComputeInstance":
        _check_compute_instance(args.name, spec, report_violation)


COMPUTE_POLICY = ResourceValidationPolicy(
    name="ml-compute-no-public-access",
    description="Azure ML compute in production stacks must have no public node IP and no public SSH port.",
    validate=validate_compute,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PRODUCTION_CONFIG_SCHEMA,
    remediation_steps="Set enable_node_public_ip=False and remote_login_port_public_access='Disabled' "
    "(compute instances: ssh_settings.ssh_public_access='Disabled').",
)
