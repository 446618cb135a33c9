"""Storage accounts: TLS 1.2 or later, HTTPS only, no anonymous blob access."""

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from .resource_props import MISSING, lookup, shown

STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
ACCEPTED_TLS = ("TLS1_2", "TLS1_3")


def validate_storage_account(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type != STORAGE_ACCOUNT:
        return
    props = args.props
    tls = lookup(props, "minimumTlsVersion")
    if tls not in ACCEPTED_TLS:
        report_violation(
            f"Storage account '{args.name}': minimumTlsVersion is {shown(tls)}; "
            f"accepted: {', '.join(ACCEPTED_TLS)} (set it explicitly: older API versions default to TLS1_0)."
        )
    https_only = lookup(props, "enableHttpsTrafficOnly")
    if https_only is not MISSING and https_only is not True:
        report_violation(
            f"Storage account '{args.name}': enableHttpsTrafficOnly is {shown(https_only)}; "
            "it must be true or left unset (Azure's default is true)."
        )
    public_blobs = lookup(props, "allowBlobPublicAccess")
    if public_blobs is not False:
        report_violation(
            f"Storage account '{args.name}': allowBlobPublicAccess is {shown(public_blobs)}; "
            "it must be false, set explicitly (its default differs between API versions)."
        )


STORAGE_POLICY = ResourceValidationPolicy(
    name="storage-account-secure-transport",
    description="Storage accounts must require TLS 1.2 or later and HTTPS, and forbid anonymous blob access.",
    validate=validate_storage_account,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set minimum_tls_version='TLS1_2', enable_https_traffic_only=True, allow_blob_public_access=False.",
)
