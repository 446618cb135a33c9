"""The whole environment of one stack, composed from the infra components.

`build(settings)` declares every resource and returns the stack outputs; the Pulumi entry point
exports them. Nothing is declared at import time, so tests and the offline plan call `build`
for any stack, many times in one process.

A stack whose `modelRegistry` names the registry stack reads the estate's Azure ML registry from it
(stacks.registry_reference); its workspaces' releases go through that registry. A workspace whose
candidate is a workspace model (test: the dev version to share) or a registry model (test, prod)
needs one.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import authorization
from pulumi_azure_native.network import PrivateDnsZoneGroup

from infra.compute import ComputeClusters
from infra.data_access import DEPLOYERS, ENDPOINT, WORKSPACE, DataAccess
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
    data_access_args,
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
from stacks.registry_reference import reference_registry
from stacks.registry_settings import RegistrySettings
from stacks.registry_stack import build_registry
from stacks.settings import PROJECT, ReleaseSettings, StackSettings
from stacks.stack_kinds import AnySettings, parse_stack_settings
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
    under it, then registers the workspace's stack outputs as the estate's. `registry` is the Azure ML
    registry the workspace's releases promote through (None when the stack uses none)."""

    def __init__(
        self,
        name: str,
        registry: RegistryCoordinates | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops:stacks:WorkspaceEstate", name, None, opts)
        self.registry = registry


def build(settings: StackSettings, serving: ServingSource | None = None) -> dict[str, pulumi.Input]:
    serving = serving or ServingSource.read()
    registry = reference_registry(settings)
    _check_registries(settings, registry is not None)
    shared = SharedServices("shared", shared_services_args(settings))
    network_settings = network_args(settings, shared.resource_group_name)
    network = PrivateNetwork("network", network_settings) if network_settings else None
    reachable = _private_access(
        "shared-private-access", settings, network, shared, shared_private_services(settings, shared, registry)
    )

    workspaces = {}
    workspace_ids: dict[str, pulumi.Output[str]] = {}
    for workspace in settings.workspaces:
        estate = WorkspaceEstate(f"{workspace.name}-estate", registry.coordinates if registry else None)
        inside = pulumi.ResourceOptions(parent=estate, aliases=[FORMERLY_AT_THE_ROOT])
        ml_workspace = MachineLearningWorkspace(
            workspace.name, workspace_args(settings, workspace, shared, registry), inside
        )
        workspace_reachable = reachable + _private_access(
            f"{workspace.name}-private-access",
            settings,
            network,
            shared,
            [("machine learning workspace", settings.names.workspace(workspace.name), ml_workspace.id)],
            inside,
        )
        ComputeClusters(
            f"{workspace.name}-compute",
            compute_args(settings, workspace, ml_workspace.name, shared.resource_group_name),
            inside,
        )
        coordinates = WorkspaceCoordinates(_subscription_id(), shared.resource_group_name, ml_workspace.name)
        endpoint = OnlineEndpoint(f"{workspace.name}-endpoint", endpoint_args(settings, workspace, coordinates), inside)
        data_access = DataAccess(
            f"{workspace.name}-data-access",
            data_access_args(
                settings, workspace, coordinates.subscription_id, shared, ml_workspace, endpoint.principal_id
            ),
            pulumi.ResourceOptions(parent=estate),
        )
        # With the account key off, an upload (the serving code, the candidate's files) needs the private
        # endpoints and the deploying identity's data role (it is in a deployer group); the release's slots
        # then load what was uploaded as the endpoint's identity, which needs its reader role too.
        uploads_after = [*workspace_reachable, *data_access.of(WORKSPACE, DEPLOYERS)]
        release_after = [*uploads_after, *data_access.of(ENDPOINT)]
        assets = ServingAssets(
            f"{workspace.name}-serving",
            serving_assets_args(serving, coordinates),
            pulumi.ResourceOptions.merge(inside, pulumi.ResourceOptions(depends_on=uploads_after)),
        )
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
                registry=estate.registry,
                opts=pulumi.ResourceOptions(parent=ml_workspace, depends_on=uploads_after),
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
                opts=pulumi.ResourceOptions.merge(inside, pulumi.ResourceOptions(depends_on=release_after)),
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
        workspace_ids[workspace.name] = ml_workspace.id

    # after the workspaces: the Model Promoter is assigned at each of them
    AccessControl("access", access_control_args(settings, shared.resource_group_id, workspace_ids))

    return {
        "resource_group": shared.resource_group_name,
        "key_vault_uri": shared.key_vault_uri,
        "registry_login_server": shared.registry_login_server,
        "workspaces": workspaces,
        **({"model_registry": registry.stack_output()} if registry else {}),
    }


def _check_registries(settings: StackSettings, has_registry: bool) -> None:
    """A candidate released through the registry needs the registry: one problem per workspace without it."""
    problems = []
    for index, workspace in enumerate(settings.workspaces):
        release = workspace.release
        if release and release.candidate and needs_registry(release.candidate) and not has_registry:
            problems.append(
                f"{PROJECT}:workspaces[{index}].release.candidate: {release.candidate} is not valid here; accepted: "
                "a workspace or registry model only in a stack whose modelRegistry references the registry "
                "stack, which this stack does not set; else a local artifact folder or a job output"
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


def selected_settings() -> AnySettings:
    """The typed settings of the stack Pulumi selected, of its kind, from its config; raises SettingsError."""
    project = pulumi.get_project()
    return parse_stack_settings(pulumi.get_stack(), project_config(project), project)


def program() -> Mapping[str, pulumi.Input]:
    """The Pulumi program: the selected stack's settings, then the resources of its kind; returns the outputs."""
    settings = selected_settings()
    if isinstance(settings, RegistrySettings):
        return build_registry(settings)
    return build(settings)
