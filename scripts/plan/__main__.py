"""`python -m scripts.plan --stack dev [--json | --diff <stack or git ref>] [--config PATH=VALUE ...]`

Runs the real program of a stack under the Pulumi SDK's mock runtime with the stack's YAML
config: no Pulumi CLI, no credentials, no Azure. Prints the resources as a tree, as JSON, or
as a Markdown diff against another stack or against the same stack at a git ref. `--config`
changes a setting of the planned stack for this plan only (e.g. a release candidate).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.offline import PROJECT_DIR
from scripts.offline.mocks import DynamicCheckFailed
from scripts.offline.stack import run_stack, stack_config
from scripts.plan.config_path import ConfigPathError, with_assignments
from scripts.plan.diff import diff_plans, render_markdown
from scripts.plan.tree import render_tree
from stacks.validation import SettingsError


def plan_json(stack: str, project_dir: Path = PROJECT_DIR, assignments: list[str] = ()) -> dict:
    config = with_assignments(stack_config(stack, project_dir), list(assignments)) if assignments else None
    plan = run_stack(stack, project_dir, config=config).to_json()
    plan["resources"].sort(key=lambda r: (r["parent"] or "", r["type"], r["name"]))
    return plan


def known_stacks(project_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def plan_at_ref(stack: str, ref: str, project_dir: Path) -> dict:
    """The stack's plan as the program at `ref` declares it (an empty plan if the stack did not exist)."""
    with tempfile.TemporaryDirectory(prefix="plan-base-") as tmp:
        archive = subprocess.run(["git", "-C", str(project_dir), "archive", ref], capture_output=True)
        if archive.returncode != 0:
            raise SystemExit(f"--diff: '{ref}' is neither a stack ({', '.join(known_stacks(project_dir))}) "
                             f"nor a git ref here: {archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        if not (Path(tmp) / f"Pulumi.{stack}.yaml").is_file():
            return {"stack": stack, "resources": [], "outputs": {}}
        result = subprocess.run([sys.executable, "-m", "scripts.plan", "--stack", stack, "--json"],
                                cwd=tmp, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"--diff: the plan of '{stack}' at {ref} failed:\n{result.stderr.strip()}")
        return json.loads(result.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.plan", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="stack name: the Pulumi.<stack>.yaml to read")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the plan as JSON")
    output.add_argument("--diff", metavar="STACK_OR_REF",
                        help="print a Markdown diff from another stack, or from this stack at a git ref")
    parser.add_argument("--config", action="append", default=[], metavar="PATH=VALUE",
                        help="set a setting of the planned stack for this plan only, with the path syntax of "
                             "`pulumi config set --path` (e.g. 'workspaces[0].release.candidate=model-out'); "
                             "repeatable")
    args = parser.parse_args(argv)
    project_dir = PROJECT_DIR
    try:
        head = plan_json(args.stack, project_dir, args.config)
        if args.diff:
            if args.diff in known_stacks(project_dir) and args.diff != args.stack:
                base, title = plan_json(args.diff, project_dir), f"Plan diff: stack `{args.diff}` → `{args.stack}`"
            else:
                base, title = plan_at_ref(args.stack, args.diff, project_dir), \
                    f"Plan diff for stack `{args.stack}`: `{args.diff}` → working tree"
            print(render_markdown(diff_plans(base, head), title), end="")
        elif args.json:
            print(json.dumps(head, indent=2, sort_keys=False))
        else:
            print(render_tree(head))
    except (SettingsError, FileNotFoundError, ConfigPathError, DynamicCheckFailed) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
