"""Custom roles stay narrow: no `*` action, and neither wildcards nor assignability at subscription scope."""

import re

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from .resource_props import MISSING, as_list, lookup

ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"

_BROAD_SCOPE = re.compile(
    r"^/(subscriptions/[^/]+|providers/microsoft\.management/managementgroups/[^/]+)?/?$", re.IGNORECASE
)


def is_subscription_or_broader(scope: str) -> bool:
    """True for '/', a management group or a whole subscription; False for a resource group or below."""
    return bool(_BROAD_SCOPE.match(scope.strip()))


def _granted_actions(props) -> list[tuple[str, str]]:
    granted = []
    for index, permission in enumerate(as_list(lookup(props, "permissions"))):
        for field in ("actions", "dataActions"):
            for action in as_list(lookup(permission, field)):
                granted.append((f"permissions[{index}].{field}", action))
    return granted


def validate_custom_role(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type != ROLE_DEFINITION:
        return
    props = args.props
    assignable = as_list(lookup(props, "assignableScopes"))
    scope = lookup(props, "scope")
    scopes = assignable or ([scope] if scope is not MISSING else [])
    broad = [s for s in scopes if isinstance(s, str) and is_subscription_or_broader(s)]
    for s in broad:
        report_violation(
            f"Custom role '{args.name}': assignable scope '{s}' is a whole subscription or broader; "
            "assignable scopes must be resource groups or narrower."
        )
    for field, action in _granted_actions(props):
        if not isinstance(action, str):
            continue
        if action.strip() == "*":
            report_violation(
                f"Custom role '{args.name}': {field} contains '*' (every action on every resource provider); "
                "list the Microsoft.MachineLearningServices/... actions the role needs."
            )
        elif "*" in action and broad:
            report_violation(
                f"Custom role '{args.name}': {field} contains the wildcard '{action}' while the role is assignable "
                f"at subscription scope or broader ({', '.join(broad)}); wildcards are accepted only in roles "
                "assignable to a resource group or narrower."
            )


CUSTOM_ROLE_POLICY = ResourceValidationPolicy(
    name="custom-role-least-privilege",
    description="Custom roles must not grant '*', and must not be assignable (or use wildcards) at "
    "subscription scope or broader.",
    validate=validate_custom_role,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Give the role explicit actions and resource-group assignable scopes.",
)
