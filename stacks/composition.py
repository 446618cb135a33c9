"""The whole environment of one stack, composed from the infra components.

`build(settings)` declares every resource and returns the stack outputs; the Pulumi entry point
exports them. Nothing is declared at import time, so tests and the offline plan call `build`
for any stack, many times in one process.
"""

from __future__ import annotations

import pulumi

from infra.compute import ComputeClusters
from infra.endpoint import OnlineEndpoint
from infra.rbac import AccessControl
from infra.serving_assets import ServingAssets, ServingSource
from infra.shared import SharedServices
from infra.workspace import MachineLearningWorkspace
from stacks.config_source import project_config
from stacks.settings import StackSettings, parse_settings


def build(settings: StackSettings, serving: ServingSource | None = None) -> dict[str, pulumi.Input]:
    serving = serving or ServingSource.read()
    shared = SharedServices("shared", settings)
    AccessControl("access", settings, shared.resource_group_id)

    workspaces = {}
    for workspace in settings.workspaces:
        ml_workspace = MachineLearningWorkspace(workspace.name, settings, workspace, shared)
        ComputeClusters(f"{workspace.name}-compute", settings, workspace, ml_workspace, shared.resource_group_name)
        assets = ServingAssets(f"{workspace.name}-serving", serving, ml_workspace.name,
                               shared.resource_group_name, shared.storage_account_name,
                               shared.code_container_name)
        endpoint = OnlineEndpoint(f"{workspace.name}-endpoint", settings, workspace, ml_workspace.name,
                                  shared.resource_group_name, model=workspace.endpoint.bootstrap_model,
                                  environment_id=assets.environment_id, code_id=assets.code_id)
        workspaces[workspace.name] = {
            "workspace_name": ml_workspace.name,
            "workspace_id": ml_workspace.id,
            "endpoint_name": endpoint.name,
            "scoring_uri": endpoint.scoring_uri,
        }

    return {
        "resource_group": shared.resource_group_name,
        "key_vault_uri": shared.key_vault_uri,
        "registry_login_server": shared.registry_login_server,
        "workspaces": workspaces,
    }


def program() -> dict[str, pulumi.Input]:
    """The Pulumi program: the selected stack's settings, then its resources; returns the outputs."""
    project = pulumi.get_project()
    return build(parse_settings(pulumi.get_stack(), project_config(project), project))
