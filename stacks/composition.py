"""The whole environment of one stack, composed from the infra components.

`build(settings)` declares every resource and returns the stack outputs; the Pulumi entry point
exports them. Nothing is declared at import time, so tests and the offline plan call `build`
for any stack, many times in one process.

`registries` gives, per workspace (by name), the estate's Azure ML registry its releases go through
(the registry stack's, infra.release.RegistryCoordinates). A workspace whose candidate is a
workspace model (test: the dev version to share) or a registry model (test, prod) needs one.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import authorization
from pulumi_azure_native.network import PrivateDnsZoneGroup

from infra.compute import ComputeClusters
from infra.endpoint import OnlineEndpoint, slot_serving
from infra.facts import SLOTS
from infra.network import PrivateNetwork
from infra.private_endpoints import PrivateAccess
from infra.rbac import AccessControl
from infra.release import (
    ModelRelease,
    ModelReleaseArgs,
    RegistryCoordinates,
    WorkspaceCoordinates,
    needs_registry,
    register_candidate,
    rollout_steps,
)
from infra.serving_assets import ServingAssets, ServingSource
from infra.shared import SharedServices
from infra.workspace import MachineLearningWorkspace
from stacks.component_args import (
    access_control_args,
    compute_args,
    endpoint_args,
    network_args,
    private_access_args,
    serving_assets_args,
    shared_private_services,
    shared_services_args,
    slot_serving_args,
    workspace_args,
)
from stacks.config_source import project_config
from stacks.settings import PROJECT, ReleaseSettings, StackSettings, parse_settings
from stacks.validation import SettingsError

# Stacks deployed before the estates hold a workspace's components at the root. A URN carries its
# parents' types, so the alias is what keeps each component, and through it every child, under its
# old state instead of replacing them: the engine gives a child an inherited alias when its parent
# was found through one (pulumi/pulumi pkg/resource/deploy/step_generator.go, generateAliases;
# modelled in tests/infra/test_estate_state.py).
FORMERLY_AT_THE_ROOT = pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)


class WorkspaceEstate(pulumi.ComponentResource):
    """One workspace and everything that belongs to it, as one subtree of the plan: the workspace,
    its compute, serving assets and endpoint, and the release of a candidate. `build` declares them
    under it, then registers the workspace's stack outputs as the estate's."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:stacks:WorkspaceEstate", name, None, opts)


def build(
    settings: StackSettings,
    serving: ServingSource | None = None,
    registries: Mapping[str, RegistryCoordinates] | None = None,
) -> dict[str, pulumi.Input]:
    serving = serving or ServingSource.read()
    registries = registries or {}
    _check_registries(settings, registries)
    shared = SharedServices("shared", shared_services_args(settings))
    AccessControl("access", access_control_args(settings, shared.resource_group_id))
    network_settings = network_args(settings, shared.resource_group_name)
    network = PrivateNetwork("network", network_settings) if network_settings else None
    reachable = _private_access(
        "shared-private-access", settings, network, shared, shared_private_services(settings, shared)
    )

    workspaces = {}
    for workspace in settings.workspaces:
        estate = WorkspaceEstate(f"{workspace.name}-estate")
        inside = pulumi.ResourceOptions(parent=estate, aliases=[FORMERLY_AT_THE_ROOT])
        ml_workspace = MachineLearningWorkspace(workspace.name, workspace_args(settings, workspace, shared), inside)
        workspace_reachable = reachable + _private_access(
            f"{workspace.name}-private-access",
            settings,
            network,
            shared,
            [("machine learning workspace", settings.names.workspace(workspace.name), ml_workspace.id)],
            inside,
        )
        after_private_access = pulumi.ResourceOptions(depends_on=workspace_reachable)
        ComputeClusters(
            f"{workspace.name}-compute",
            compute_args(settings, workspace, ml_workspace.name, shared.resource_group_name),
            inside,
        )
        coordinates = WorkspaceCoordinates(_subscription_id(), shared.resource_group_name, ml_workspace.name)
        assets = ServingAssets(
            f"{workspace.name}-serving",
            serving_assets_args(serving, coordinates, shared),
            pulumi.ResourceOptions.merge(inside, after_private_access),
        )
        endpoint = OnlineEndpoint(f"{workspace.name}-endpoint", endpoint_args(settings, workspace, coordinates), inside)
        release = workspace.release
        outputs: dict[str, pulumi.Input] = {
            "workspace_name": ml_workspace.name,
            "workspace_id": ml_workspace.id,
            "endpoint_name": endpoint.name,
            "scoring_uri": endpoint.scoring_uri,
        }
        if release and release.candidate:
            # parse_settings requires evaluation data with a candidate (ReleaseSettings._needed_with_a_candidate)
            assert release.evaluation_data is not None
            candidate = register_candidate(
                workspace.name,
                workspace=coordinates,
                model_name=release.model_name,
                candidate=release.candidate,
                registry=registries.get(workspace.name),
                opts=pulumi.ResourceOptions(parent=ml_workspace, depends_on=workspace_reachable),
            )
            released = ModelRelease(
                f"{workspace.name}-release",
                ModelReleaseArgs(
                    workspace=coordinates,
                    model_version=candidate.model_version,
                    endpoint_name=endpoint.name,
                    model_name=release.model_name,
                    evaluation_data=release.evaluation_data,
                    slots=SLOTS,
                    serving=slot_serving(slot_serving_args(settings, workspace), assets.code_id, assets.environment_id),
                    **_release_options(release),
                ),
                opts=inside,
            )
            outputs["release"] = {
                "candidate": release.candidate,  # what a later run sets again to keep this release
                "candidate_version": released.model_version.version,
                "promote_candidate": candidate.promote_candidate,  # the next environment's candidate
                "winner": released.selection.winner,
                "reason": released.selection.reason,
                "live_version": released.traffic.live_version,
                "staged_version": released.traffic.staged_version,
            }
        estate.register_outputs(outputs)
        workspaces[workspace.name] = outputs

    return {
        "resource_group": shared.resource_group_name,
        "key_vault_uri": shared.key_vault_uri,
        "registry_login_server": shared.registry_login_server,
        "workspaces": workspaces,
    }


def _check_registries(settings: StackSettings, registries: Mapping[str, RegistryCoordinates]) -> None:
    """A candidate released through the registry needs the registry: one problem per workspace without it."""
    problems = []
    for index, workspace in enumerate(settings.workspaces):
        release = workspace.release
        if release and release.candidate and needs_registry(release.candidate) and workspace.name not in registries:
            problems.append(
                f"{PROJECT}:workspaces[{index}].release.candidate: {release.candidate} is not valid here; accepted: "
                "a workspace or registry model only in a stack that has the estate's registry reference (the "
                "registry stack), which this stack lacks; else a local artifact folder or a job output"
            )
    if problems:
        raise SettingsError(settings.stack, problems)


def _private_access(
    name: str,
    settings: StackSettings,
    network: PrivateNetwork | None,
    shared: SharedServices,
    services: list,
    opts: pulumi.ResourceOptions | None = None,
) -> list[PrivateDnsZoneGroup]:
    """The private endpoints of `services` when the stack's public access is off, as what a
    data-plane call (a blob upload, a model registration, the smoke test's scoring) must wait for:
    their DNS zone groups, after which the services' names resolve to the endpoints in the network."""
    if network is None or not settings.network.private:
        return []
    return PrivateAccess(
        name, private_access_args(settings, network, shared.resource_group_name, services), opts
    ).zone_groups


def _subscription_id() -> pulumi.Output[str]:
    return authorization.get_client_config_output().subscription_id


def _release_options(release: ReleaseSettings) -> dict:
    return {
        "rollout": rollout_steps(release.rollout.mirror_percent, release.rollout.canary_percents),
        "hold_seconds": release.rollout.hold_seconds,
        "require_approval": release.require_approval,
        "approved_version": release.approved_version,
        "approved_serving_version": release.approved_serving_version,
        "compare_settings": {
            "alpha": release.alpha,
            "min_delta": release.min_delta,
            "max_category_recall_drop": release.max_category_recall_drop,
            "max_latency_factor": release.max_latency_factor,
            **({"latency_repeats": release.latency_repeats} if release.latency_repeats else {}),
            **(
                {"latency_tolerance_ms": release.latency_tolerance_ms}
                if release.latency_tolerance_ms is not None
                else {}
            ),
        },
    }


def selected_settings() -> StackSettings:
    """The typed settings of the stack Pulumi selected, from its config; raises SettingsError."""
    project = pulumi.get_project()
    return parse_settings(pulumi.get_stack(), project_config(project), project)


def program() -> dict[str, pulumi.Input]:
    """The Pulumi program: the selected stack's settings, then its resources; returns the outputs."""
    return build(selected_settings())
