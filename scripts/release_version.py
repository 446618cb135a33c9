"""The versions a release is approved by, as CI prints them before setting them in a stack's config.

    python -m scripts.release_version CANDIDATE
        the model version a release of CANDIDATE registers: approvedVersion. A local artifact folder's
        is its content version (infra/release/content.py); a workspace or registry model reference's is
        the version in it. A job output's is its files' content version, which only Azure ML can read:
        `pulumi preview` shows it, and the stack's `release.candidate_version` output after `up`
    python -m scripts.release_version --serving STACK WORKSPACE
        the serving version WORKSPACE's slots run in STACK (infra/release/serving_spec.py):
        approvedServingVersion; WORKSPACE is a name or its config path `workspaces[N]`, as CI has it

Exit 2 with the reason when CANDIDATE is none of these or the stack or workspace is unknown.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from infra.facts import CANDIDATE_ACCEPTED
from infra.release.content import ARTIFACT_ACCEPTED, ARTIFACT_FILE, content_sha256, is_artifact, version_of
from infra.release.model_ref import JobOutput, LocalFolder, candidate_of

USAGE = (
    "usage: python -m scripts.release_version ARTIFACT_FOLDER|azureml://...\n"
    "       python -m scripts.release_version --serving STACK WORKSPACE"
)


def workspace_settings(stack: str, workspace_name: str):
    """(settings, workspace settings) of WORKSPACE (a name or `workspaces[N]`) in STACK; LookupError if none."""
    from scripts.offline.stack import stack_config
    from stacks.settings import parse_settings

    project = "mlops-platform"
    config = {
        key.split(":", 1)[1]: value for key, value in stack_config(stack).items() if key.startswith(f"{project}:")
    }
    settings = parse_settings(stack, config, project)
    index = re.fullmatch(r"workspaces\[(\d+)\]", workspace_name)
    if index and int(index.group(1)) < len(settings.workspaces):
        workspace_name = settings.workspaces[int(index.group(1))].name
    workspace = next((w for w in settings.workspaces if w.name == workspace_name), None)
    if workspace is None:
        raise LookupError(
            f"stack {stack} has no workspace {workspace_name!r}; accepted: "
            f"{', '.join(w.name for w in settings.workspaces)}"
        )
    return settings, workspace


def candidate_version(candidate: str) -> str:
    """The version a release of `candidate` registers; ValueError saying why when it cannot be told here."""
    kind = candidate_of(candidate)
    if kind is None:
        raise ValueError(f"{candidate} is not a release candidate; accepted: {CANDIDATE_ACCEPTED}")
    if isinstance(kind, JobOutput):
        raise ValueError(
            f"{candidate} is a job's output: its version is the content version of the files the job wrote, "
            "read through Azure ML at `pulumi preview` and `up` (the stack's release.candidate_version output)"
        )
    if isinstance(kind, LocalFolder):
        path = str(Path(candidate).expanduser())
        if not is_artifact(path):
            raise ValueError(f"{path} holds no {ARTIFACT_FILE}; accepted: {ARTIFACT_ACCEPTED}")
        return version_of(content_sha256(path))  # ValueError for an artifact.json that is no JSON object
    return kind.version


def serving_version_of(stack: str, workspace_name: str) -> str:
    """What `pulumi up` of STACK deploys on WORKSPACE's slots, by version (no ARM id enters it)."""
    from infra.endpoint import serving_spec_of
    from infra.release.traffic.serving_spec import serving_version
    from infra.serving_assets import CODE_ASSET, ENVIRONMENT_ASSET, ServingSource
    from stacks.component_args import slot_serving_args

    settings, workspace = workspace_settings(stack, workspace_name)
    source = ServingSource.read()
    spec = serving_spec_of(
        slot_serving_args(settings, workspace),
        f"codes/{CODE_ASSET}/versions/{source.code_version}",
        f"environments/{ENVIRONMENT_ASSET}/versions/{source.environment_version}",
    )
    return serving_version(spec)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--serving"]:
        if len(args) != 3:
            print(USAGE, file=sys.stderr)
            return 2
        try:
            print(serving_version_of(args[1], args[2]))
        except (LookupError, FileNotFoundError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        return 0
    if len(args) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        print(candidate_version(args[0]))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
