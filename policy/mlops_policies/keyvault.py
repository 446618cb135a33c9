"""Key Vaults use Azure RBAC (no access policies), purge protection and soft delete."""

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from .resource_props import MISSING, lookup, shown

VAULT = "azure-native:keyvault:Vault"


def validate_key_vault(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type != VAULT:
        return
    props = args.props
    rbac = lookup(props, "properties.enableRbacAuthorization")
    if rbac is not True:
        report_violation(
            f"Key Vault '{args.name}': properties.enableRbacAuthorization is {shown(rbac)}; "
            "it must be true (Azure RBAC, not vault access policies; Azure's default is false)."
        )
    purge = lookup(props, "properties.enablePurgeProtection")
    if purge is not True:
        report_violation(
            f"Key Vault '{args.name}': properties.enablePurgeProtection is {shown(purge)}; "
            "it must be true so deleted secrets cannot be purged before the retention period ends."
        )
    soft_delete = lookup(props, "properties.enableSoftDelete")
    if soft_delete is not MISSING and soft_delete is not True:
        report_violation(
            f"Key Vault '{args.name}': properties.enableSoftDelete is {shown(soft_delete)}; "
            "it must be true or left unset (Azure's default is true)."
        )


KEY_VAULT_POLICY = ResourceValidationPolicy(
    name="key-vault-rbac-purge-protection",
    description="Key Vaults must use Azure RBAC authorization, purge protection and soft delete.",
    validate=validate_key_vault,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set properties.enable_rbac_authorization=True and enable_purge_protection=True; "
    "do not set enable_soft_delete=False.",
)
