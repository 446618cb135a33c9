"""Storage accounts: TLS 1.2 or later, HTTPS only, no anonymous blob access; and in locked-down stacks
Entra ID only: no shared key on the account, identity-based datastores on the workspaces using it.

A stack is locked down for a resource when it is a production stack (the `productionStacks` config,
production.py) or the resource's public network access is off. Azure's default for
`allowSharedKeyAccess` is true (an unset value lets the account key in), and a workspace's
`systemDatastoresAuthMode` defaults to the account key, so both must be set explicitly.
"""

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from .production import PRODUCTION_CONFIG_SCHEMA, is_production
from .resource_props import MISSING, lookup, shown

STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
WORKSPACE = "azure-native:machinelearningservices:Workspace"
ACCEPTED_TLS = ("TLS1_2", "TLS1_3")
IDENTITY_AUTH = "identity"


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


def _locked_down(args: ResourceValidationArgs) -> bool:
    return is_production(args.urn, args.get_config()) or lookup(args.props, "publicNetworkAccess") == "Disabled"


def validate_shared_keys_off(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type not in (STORAGE_ACCOUNT, WORKSPACE) or not _locked_down(args):
        return
    if args.resource_type == STORAGE_ACCOUNT:
        shared_key = lookup(args.props, "allowSharedKeyAccess")
        if shared_key is not False:
            report_violation(
                f"Storage account '{args.name}' in a locked-down stack: allowSharedKeyAccess is {shown(shared_key)}; "
                "it must be false, set explicitly (Azure's default lets the account key in)."
            )
        return
    mode = lookup(args.props, "systemDatastoresAuthMode")
    if not isinstance(mode, str) or mode.lower() != IDENTITY_AUTH:
        report_violation(
            f"ML workspace '{args.name}' in a locked-down stack: systemDatastoresAuthMode is {shown(mode)}; it must be "
            "'Identity' (its datastores then use Entra ID, and the storage account can refuse shared keys)."
        )


SHARED_KEY_POLICY = ResourceValidationPolicy(
    name="storage-shared-key-off",
    description="In production stacks, and wherever public network access is off, storage accounts refuse "
    "shared keys and ML workspaces reach their datastores by identity.",
    validate=validate_shared_keys_off,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PRODUCTION_CONFIG_SCHEMA,
    remediation_steps="Set allow_shared_key_access=False on the storage account and "
    "system_datastores_auth_mode='Identity' on the workspace; grant data roles instead (infra/data_access.py).",
)
