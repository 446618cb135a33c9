"""One field of a workspace's release, read from a stack's outputs as `pulumi stack output --json` prints them.

    pulumi stack output --stack STACK --json | python -m scripts.release_outputs STACK WORKSPACE FIELD

FIELD is one of RELEASE_FIELDS (stacks/composition.py exports them per workspace):
    candidate          the candidate the stack released last: what a later run sets again to keep it
    candidate_version  its model version
    promote_candidate  the next environment's candidate: dev's workspace model, test's registry model
WORKSPACE is a workspace's name or its config path `workspaces[N]`, as CI has it. An empty line when the
workspace has released nothing yet (a new stack). A release without a `candidate` (a stack updated
before the candidate was an output) is an error for `candidate`: keeping it by running without one
would withdraw it. Exit 2
with the reason on outputs that are not JSON, an unknown stack or workspace, or an unknown field.
"""

from __future__ import annotations

import json
import sys
from typing import Any

RELEASE_FIELDS = ("candidate", "candidate_version", "promote_candidate")
USAGE = "usage: pulumi stack output --json | python -m scripts.release_outputs STACK WORKSPACE FIELD"


def release_field(outputs: Any, workspace: str, field: str) -> str:
    """FIELD of `workspace`'s release in a stack's outputs; '' when it has released nothing."""
    if field not in RELEASE_FIELDS:
        raise ValueError(f"FIELD is {field!r}; accepted: one of {', '.join(RELEASE_FIELDS)}")
    if not isinstance(outputs, dict):
        raise ValueError("the stack outputs are not a JSON object; accepted: what `pulumi stack output --json` prints")
    workspaces = outputs.get("workspaces") or {}
    release = (workspaces.get(workspace) or {}).get("release") if isinstance(workspaces, dict) else None
    value = (release or {}).get(field) if isinstance(release, dict) else None
    if field == "candidate" and isinstance(release, dict) and not isinstance(value, str):
        # a stack updated before the candidate was an output: running it without one would withdraw its release
        raise ValueError(
            f"workspace {workspace!r} has a release (live version {release.get('live_version')}) but its outputs name "
            "no candidate; accepted: outputs of a stack that released with this program (run model-release once, "
            "or set workspaces[N].release.candidate by hand), so that keeping the release does not withdraw it"
        )
    return value if isinstance(value, str) else ""


def main(argv: list[str] | None = None, stdin=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(USAGE, file=sys.stderr)
        return 2
    stack, workspace, field = args
    try:
        from scripts.release_version import workspace_settings

        _, settings = workspace_settings(stack, workspace)
        text = (stdin or sys.stdin).read()
        try:
            outputs = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as error:
            raise ValueError(
                f"the stack outputs are not JSON ({error}); accepted: what `pulumi stack output --json` prints"
            ) from None
        print(release_field(outputs, settings.name, field))
    except (LookupError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
