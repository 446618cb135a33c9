"""Azure ML's own rules, as the fake enforces them: service errors, names, traffic, list queries.

Pure functions: each raises ServiceError (status, code, message) the way the service refuses a request.
"""

from __future__ import annotations

import re

BUSY_STATES = frozenset({"Creating", "Updating", "Deleting"})
DEPLOYMENT_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
ENDPOINT_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$")
ASSET_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,254}$")
ASSET_VERSION = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,49}$")
# Code and environment versions: anonymous ones are 64-character content hashes (azure-ai-ml names them so).
LONG_ASSET_VERSION = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,254}$")
DATASTORE_URI = re.compile(
    r"^azureml://subscriptions/[^/]+/resourcegroups/[^/]+/workspaces/[^/]+/datastores/(?P<ds>[^/]+)/paths/.+",
    re.IGNORECASE,
)
AUTH_MODES = ("Key", "AMLToken", "AADToken")


class ServiceError(Exception):
    """A refusal the fake answers with the service's error body."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class ConnectionDropped(Exception):
    """The connection closes without an answer (azure-core raises ServiceRequestError)."""


def error_body(code: str, message: str) -> dict:
    """The ARM error shape Azure ML answers with."""
    return {"error": {"code": code, "message": message, "details": [], "additionalInfo": []}}


def refuse(status: int, code: str, message: str):
    raise ServiceError(status, code, message)


def default_code(status: int) -> str:
    return {
        400: "UserError",
        401: "AuthenticationFailed",
        403: "AuthorizationFailed",
        404: "ResourceNotFound",
        409: "Conflict",
        429: "TooManyRequests",
        500: "InternalServerError",
        502: "BadGateway",
        503: "ServiceUnavailable",
        504: "GatewayTimeout",
    }.get(status, "ServiceError")


def require_properties(body: dict) -> dict:
    props = body.get("properties")
    if not isinstance(props, dict):
        refuse(400, "UserError", "The request body must contain 'properties'.")
    return props


def check_asset_name_and_version(name: str, version: str, kind: str = "Model", version_pattern=ASSET_VERSION) -> None:
    if not ASSET_NAME.match(name):
        refuse(
            400,
            "UserError",
            f"{kind} name '{name}' is invalid: use letters, digits, '-', '_' and '.', "
            "starting with a letter or digit, at most 255 characters.",
        )
    if not version_pattern.match(version):
        longest = version_pattern.pattern.rsplit(",", 1)[-1].split("}")[0]
        refuse(
            400,
            "UserError",
            f"{kind} version '{version}' is invalid: use letters, digits, '-', '_' and "
            f"'.', starting with a letter or digit, at most {int(longest) + 1} characters.",
        )


def check_asset_uri(uri, field_name: str, kind: str, datastores) -> None:
    """An asset's path is required and, when it is a datastore URI, names a datastore that exists."""
    if not uri:
        refuse(400, "UserError", f"{kind} version requires '{field_name}'.")
    ds = DATASTORE_URI.match(uri)
    if ds and ds.group("ds") not in datastores:
        refuse(400, "UserError", f"Datastore '{ds.group('ds')}' referenced by {field_name} does not exist.")


def check_endpoint_name(name: str) -> None:
    if not ENDPOINT_NAME.match(name):
        refuse(
            400,
            "UserError",
            f"Endpoint name '{name}' is invalid: 3-32 characters, letters, digits and "
            "'-', starting with a letter and ending with a letter or digit.",
        )


def check_deployment_name(name: str) -> None:
    if not DEPLOYMENT_NAME.match(name):
        refuse(
            400,
            "UserError",
            f"Deployment name '{name}' is invalid: 3-32 characters, lowercase letters, "
            "digits and '-', starting with a letter and ending with a letter or digit.",
        )


def check_auth_mode(mode) -> None:
    if mode not in AUTH_MODES:
        refuse(400, "UserError", f"authMode '{mode}' is invalid; accepted: {', '.join(AUTH_MODES)}.")


def check_traffic(endpoint: str, traffic: dict, mirror: dict, existing: set) -> None:
    """Shares are integers 0..100 naming existing deployments; live shares sum to 100 or all 0;
    mirror traffic goes to one deployment, at most 50 %, that takes no live traffic."""
    for label, rules in (("traffic", traffic), ("mirrorTraffic", mirror)):
        for deployment, value in rules.items():
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
                refuse(
                    400,
                    "UserError",
                    f"{label} for deployment '{deployment}' is {value!r}; it must be an integer from 0 to 100.",
                )
            if deployment not in existing and value:
                refuse(
                    400,
                    "UserError",
                    f"{label} refers to deployment '{deployment}', which does not exist "
                    f"on endpoint '{endpoint}'. Existing: {sorted(existing)}.",
                )
    total = sum(traffic.values())
    if total not in (0, 100):
        refuse(400, "UserError", f"Traffic values must sum to 100 (or all be 0); got {total} from {traffic}.")
    live_mirror = {d: v for d, v in mirror.items() if v}
    if len(live_mirror) > 1:
        refuse(400, "UserError", f"Mirror traffic can go to one deployment only; got {live_mirror}.")
    for deployment, value in live_mirror.items():
        if value > 50:
            refuse(400, "UserError", f"Mirror traffic to '{deployment}' is {value} %; at most 50 % is allowed.")
        if traffic.get(deployment):
            refuse(400, "UserError", f"Deployment '{deployment}' cannot receive both live traffic and mirror traffic.")


def busy_refusal(endpoint: str, state: str, deployment: str | None) -> ServiceError:
    if deployment is not None:  # the service's wording for deployment writes
        return ServiceError(
            409,
            "Conflict",
            f"Cannot create a deployment in endpoint {endpoint} because it is in {state} provisioning state.",
        )
    return ServiceError(
        409,
        "Conflict",
        f"Conflicting operation: online endpoint '{endpoint}' is in provisioning "
        f"state '{state}'. Wait for the current operation to complete and retry.",
    )


def filter_archived(items: list[dict], view: str | None) -> list[dict]:
    """listViewType: ActiveOnly (the default), ArchivedOnly or All."""
    view = (view or "ActiveOnly").lower()
    if view == "all":
        return items
    want_archived = view == "archivedonly"
    return [i for i in items if bool(i["properties"].get("isArchived")) == want_archived]


def tags_match(tags: dict, query: str) -> bool:
    """The `tags` list filter: comma-separated `key` or `key=value` clauses, all of which must hold."""
    for clause in query.split(","):
        key, _, value = clause.partition("=")
        if key not in tags or (value and tags[key] != value):
            return False
    return True
