"""`python -m scripts.plan --stack dev [--json | --diff <stack or git ref>] [--config PATH=VALUE ...] [--champion DIR]`

Runs the real program of a stack under the Pulumi SDK's mock runtime with the stack's YAML
config: no Pulumi CLI, no credentials, no Azure. Prints the resources as a tree, as JSON, or
as a Markdown diff against another stack or against the same stack at a git ref. `--config`
changes a setting of the planned stack for this plan only (e.g. a release candidate). With a
candidate, the tree and the diff also preview the release (release.py): what `up` would fail on,
what it would do in words, and with `--champion DIR` the champion/challenger decision itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pulumi

from scripts.offline import PROJECT_DIR
from scripts.offline.mocks import DynamicCheckFailed
from scripts.offline.stack import run_stack, stack_config
from scripts.plan.at_ref import RefError, plan_at_commit, resolve_commit
from scripts.plan.config_path import ConfigPathError, with_assignments
from scripts.plan.diff import diff_plans, render_markdown
from scripts.plan.release import Preview, ReleasePreviewError, preview_releases
from scripts.plan.tree import render_tree
from stacks.validation import SettingsError


def planned_config(stack: str, project_dir: Path = PROJECT_DIR, assignments: Sequence[str] = ()) -> dict:
    """The stack's YAML config with this plan's `--config` settings."""
    return with_assignments(stack_config(stack, project_dir), list(assignments))


def plan_json(
    stack: str, project_dir: Path = PROJECT_DIR, assignments: Sequence[str] = (), config: dict | None = None
) -> dict:
    if config is None and assignments:
        config = planned_config(stack, project_dir, assignments)
    plan = run_stack(stack, project_dir, config=config).to_json()
    plan["resources"].sort(key=lambda r: (r["parent"] or "", r["type"], r["name"]))
    return plan


def release_markdown(preview: Preview) -> str:
    """The release preview under a plan diff: each release resource's words, then any decision."""
    if not preview.notes:
        return ""
    lines = ["", "#### Release preview", ""]
    lines += [f"- **{name}**: {words}" for name, words in preview.notes.items()]
    if preview.decisions:
        lines += ["", "```text", *preview.decisions, "```"]
    return "\n".join(lines) + "\n"


def known_stacks(project_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def diff_base(stack: str, target: str, project_dir: Path) -> tuple[Callable[[], dict], str]:
    """What `--diff target` compares the plan with, and the diff's title. A ref is resolved here,
    before any plan runs, so a bad one fails at once."""
    stacks = known_stacks(project_dir)
    if target in stacks and target != stack:
        return (lambda: plan_json(target, project_dir)), f"Plan diff: stack `{target}` → `{stack}`"
    commit = resolve_commit(target, project_dir, [s for s in stacks if s != stack])
    shown = target.replace("`", "'")
    return (
        lambda: plan_at_commit(stack, commit, project_dir)
    ), f"Plan diff for stack `{stack}`: `{shown}` → working tree"


class _Parser(argparse.ArgumentParser):
    """Usage mistakes as one `error:` line, like every other error of the plan."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see python -m scripts.plan --help)\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m scripts.plan", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="stack name: the Pulumi.<stack>.yaml to read")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the plan as JSON")
    output.add_argument(
        "--diff",
        metavar="STACK_OR_REF",
        help="print a Markdown diff from another stack, or from this stack at a git ref",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="set a setting of the planned stack for this plan only, with the path syntax of "
        "`pulumi config set --path` (e.g. 'workspaces[0].release.candidate=model-out'); "
        "repeatable",
    )
    parser.add_argument(
        "--champion",
        metavar="DIR",
        help="the local artifact folder of the model in production: decide the release "
        "offline against it (model.compare, as the ChampionSelection does at `up`)",
    )
    args = parser.parse_args(argv)
    if args.json and args.champion is not None:
        parser.error(
            "--champion previews a release in the tree or the --diff output; --json prints the declared resources only"
        )
    project_dir = PROJECT_DIR
    try:
        base = diff_base(args.stack, args.diff, project_dir) if args.diff is not None else None
        config = planned_config(args.stack, project_dir, args.config)
        head = plan_json(args.stack, project_dir, config=config)
        if args.json:
            print(json.dumps(head, indent=2, sort_keys=False))
            return 0
        preview = preview_releases(head, config, args.stack, args.champion)
        if base is not None:
            base_plan, title = base
            print(render_markdown(diff_plans(base_plan(), head), title) + release_markdown(preview), end="")
        else:
            print("\n".join([render_tree(head, preview.notes), *preview.decisions]))
    except (
        SettingsError,
        pulumi.RunError,  # a program's own clean error (e.g. stacks.registry_reference's)
        FileNotFoundError,
        ConfigPathError,
        DynamicCheckFailed,
        RefError,
        ReleasePreviewError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
