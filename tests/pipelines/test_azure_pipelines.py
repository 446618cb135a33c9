"""Azure Pipelines: the YAML parses, every template and parameter resolves, and the stages, their
order (registry -> dev -> test -> prod) and the deployment jobs with their environments are the ones required."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipelines.conftest import AZURE_PIPELINES, audit_answers, fake_pulumi, load_yaml

PIPELINES = ("pull-request", "deploy", "model-release", "drift")
ORDER = ["dev", "test", "prod"]  # the environment stacks, which release models
REGISTRY = "registry"  # the estate's Azure ML registry: deployed first, releases nothing


def pipeline(name: str) -> dict:
    return load_yaml(AZURE_PIPELINES / f"{name}.yml")


def template_calls(node, base: Path):
    """Every {template: ..., parameters: ...} under a node, with the template file it names."""
    if isinstance(node, dict):
        if isinstance(node.get("template"), str):
            yield base / node["template"], node.get("parameters") or {}
        for value in node.values():
            yield from template_calls(value, base)
    elif isinstance(node, list):
        for item in node:
            yield from template_calls(item, base)


def stages(document: dict) -> dict[str, dict]:
    return {stage["stage"]: stage for stage in document["stages"]}


def deployment(stage: dict) -> dict:
    [job] = [j for j in stage["jobs"] if "deployment" in j]
    return job


def deploy_template_parameters(job: dict) -> dict:
    [(path, parameters)] = list(template_calls(job["strategy"]["runOnce"]["deploy"]["steps"], AZURE_PIPELINES))
    assert path.name == "pulumi-stack.yml"
    return parameters


def test_every_pipeline_and_template_parses():
    files = sorted(AZURE_PIPELINES.rglob("*.yml"))
    assert {f.stem for f in files} >= set(PIPELINES) | {"pulumi-stack", "setup"}
    for file in files:
        assert isinstance(load_yaml(file), dict), file


@pytest.mark.parametrize("name", PIPELINES + ("templates/pulumi-stack",))
def test_templates_exist_and_get_only_declared_parameters(name):
    file = AZURE_PIPELINES / f"{name}.yml"
    calls = list(template_calls(load_yaml(file), file.parent))
    assert calls, f"{name} uses no template"
    for template, passed in calls:
        assert template.is_file(), f"{name}: template {template} is missing"
        declared = {p["name"]: p for p in load_yaml(template).get("parameters", [])}
        assert set(passed) <= set(declared), (
            f"{name}: {template.name} has no parameter(s) {set(passed) - set(declared)}"
        )
        for parameter in declared.values():
            if "default" not in parameter:
                assert parameter["name"] in passed, f"{name}: {template.name} needs {parameter['name']}"
            if "values" in parameter and parameter["name"] in passed:
                assert passed[parameter["name"]] in parameter["values"]


def test_deploy_runs_on_main_and_goes_registry_then_dev_then_test_then_prod_in_deployment_jobs():
    document = pipeline("deploy")
    assert document["trigger"]["branches"]["include"] == ["main"] and document["pr"] == "none"
    by_name = stages(document)
    assert list(by_name) == ["Tests", "Registry", "Dev", "Test", "Prod"]
    assert [by_name[s.capitalize()]["dependsOn"] for s in [REGISTRY, *ORDER]] == ["Tests", "Registry", "Dev", "Test"]
    for stack in [REGISTRY, *ORDER]:
        job = deployment(by_name[stack.capitalize()])
        assert job["environment"] == f"mlops-{stack}"
        parameters = deploy_template_parameters(job)
        assert parameters["stack"] == stack and parameters["command"] == "up"
    assert "candidate" not in deploy_template_parameters(deployment(by_name["Registry"])), (
        "the registry releases nothing"
    )


def test_model_release_submits_waits_then_releases_one_version_through_the_environments():
    document = pipeline("model-release")
    assert document["trigger"] == "none"
    by_name = stages(document)
    assert list(by_name) == ["Train", "Dev", "Test", "Prod"]
    assert [by_name[s.capitalize()]["dependsOn"] for s in ORDER] == ["Train", "Dev", "Test"]
    [train] = by_name["Train"]["jobs"]
    assert train["timeoutInMinutes"] * 60 > 18000, "the job outlives the wait's own timeout"
    submit, wait = (s for s in train["steps"] if "-m model submit" in s.get("inputs", {}).get("inlineScript", ""))
    assert submit["name"] == "submit" and "--no-wait" in submit["inputs"]["inlineScript"]
    assert "--no-wait" not in wait["inputs"]["inlineScript"] and "--timeout 18000" in wait["inputs"]["inlineScript"]
    assert (
        wait["env"]["SUBMITTED"] == "$(submit.job)"
        and 'if [ "$job" != "$SUBMITTED" ]' in wait["inputs"]["inlineScript"]
    )
    assert "isOutput=true]azureml://jobs/$job/outputs/artifact" in submit["inputs"]["inlineScript"]
    assert by_name["Dev"]["variables"]["candidate"] == "$[ stageDependencies.Train.train.outputs['submit.candidate'] ]"
    for stack, previous in (("test", "dev"), ("prod", "test")):
        variables = by_name[stack.capitalize()]["variables"]
        job = f"release_{previous}"
        assert variables["candidate"] == (
            f"$[ stageDependencies.{previous.capitalize()}.{job}.outputs['{job}.pulumi.promoteCandidate'] ]"
        )
        assert variables["expectedVersion"] == (
            f"$[ stageDependencies.{previous.capitalize()}.{job}.outputs['{job}.pulumi.modelVersion'] ]"
        ), f"{stack} releases exactly the version {previous} released"
    for stack in ORDER:
        job = deployment(by_name[stack.capitalize()])
        assert job["environment"] == f"mlops-{stack}" and job["deployment"] == f"release_{stack}"
        parameters = deploy_template_parameters(job)
        assert parameters["stack"] == stack and parameters["command"] == "up"
        assert parameters["candidate"] == "$(candidate)"
        assert parameters.get("expectedVersion") == (None if stack == "dev" else "$(expectedVersion)")
        assert parameters.get("approveRelease", False) is (stack == "prod")


def test_the_template_step_that_releases_is_the_one_its_outputs_are_read_from():
    task = next(
        s for s in template_steps() if s.get("task") == "AzureCLI@2" and "pulumi up" in s["inputs"]["inlineScript"]
    )
    assert task["name"] == "pulumi"
    script = task["inputs"]["inlineScript"]
    assert "##vso[task.setvariable variable=modelVersion;isOutput=true]$version" in script
    assert "##vso[task.setvariable variable=promoteCandidate;isOutput=true]$promote" in script


def test_pull_request_runs_tests_plan_diff_and_previews_every_stack(stacks):
    document = pipeline("pull-request")
    assert document["pr"]["branches"]["include"] == ["main"] and document["trigger"] == "none"
    by_name = stages(document)
    assert set(by_name) == {"Tests", "Plan", "Preview"}
    plan_script = next(
        s["script"] for s in by_name["Plan"]["jobs"][0]["steps"] if "scripts.plan" in s.get("script", "")
    )
    assert '-m scripts.plan --stack "$stack" --diff "$base"' in plan_script
    previews = [p for _, p in template_calls(by_name["Preview"], AZURE_PIPELINES)]
    assert sorted(p["stack"] for p in previews) == stacks
    assert {p["command"] for p in previews} == {"preview"}


def test_the_stack_template_signs_in_per_stack_and_runs_the_policy_pack():
    text = (AZURE_PIPELINES / "templates" / "pulumi-stack.yml").read_text()
    assert "azureSubscription: mlops-platform-${{ parameters.stack }}" in text
    assert "--policy-pack policy" in text and 'pulumi login "$PULUMI_BACKEND_URL"' in text
    assert "- checkout: self" in text  # deployment jobs do not check out the repository by themselves
    for word in ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "clientSecret", "ARM_CLIENT_SECRET"):
        assert word not in text


# --- the agent pool of each stack's job ---


def pulumi_jobs(document: dict):
    """(stack, job) for every job whose steps run templates/pulumi-stack.yml, in stages or, without, at the top."""
    for stage in document.get("stages") or [document]:
        for job in stage["jobs"]:
            for template, parameters in template_calls(job, AZURE_PIPELINES):
                if template.name == "pulumi-stack.yml":
                    yield parameters["stack"], job


def render(node, variables: dict):
    """Compile-time `${{ if eq(variables.X, '') }}` / `${{ else }}` / `${{ variables.X }}` of a mapping."""
    if not isinstance(node, dict):
        match = re.fullmatch(r"\$\{\{ variables\.(\w+) \}\}", str(node))
        return variables[match.group(1)] if match else node
    rendered, previous = {}, None
    for key, value in node.items():
        condition = re.fullmatch(r"\$\{\{ if eq\(variables\.(\w+), ''\) \}\}", key)
        if condition:
            previous = variables[condition.group(1)] == ""
            if previous:
                rendered.update(render(value, variables))
        elif key == "${{ else }}":
            assert previous is not None, "else without if"
            if not previous:
                rendered.update(render(value, variables))
        else:
            rendered[key] = render(value, variables)
    return rendered


def test_agent_pools_are_declared_once_for_every_stack(stacks):
    pools = load_yaml(AZURE_PIPELINES / "templates" / "agent-pools.yml")["variables"]
    assert pools == {f"pulumiPool{stack.capitalize()}": "" for stack in stacks}
    text = (AZURE_PIPELINES / "templates" / "agent-pools.yml").read_text()
    header = text[: text.index("\nvariables:")]
    assert "self-hosted" in header and "pulumiPoolProd" in header, "the header must say what to set"


@pytest.mark.parametrize("name", PIPELINES)
def test_each_stack_job_runs_in_its_stacks_agent_pool_or_on_hosted_ubuntu(name, stacks):
    document = pipeline(name)
    assert {"template": "templates/agent-pools.yml"} in document["variables"]
    found = dict(pulumi_jobs(document))
    # a model release goes through the environment stacks only: the registry stack releases nothing
    assert sorted(found) == (sorted(ORDER) if name == "model-release" else stacks)
    for stack, job in found.items():
        variable = f"pulumiPool{stack.capitalize()}"
        hosted = {v: "" for v in (f"pulumiPool{s.capitalize()}" for s in stacks)}
        assert render(job["pool"], hosted) == {"vmImage": "ubuntu-24.04"}, (name, stack)
        private = {**hosted, variable: f"mlops-{stack}-agents"}
        assert render(job["pool"], private) == {"name": f"mlops-{stack}-agents"}, (name, stack)


# --- the stack template's script, run with stand-ins for pulumi, az and curl ---


def template_script() -> tuple[str, dict]:
    steps = load_yaml(AZURE_PIPELINES / "templates" / "pulumi-stack.yml")["steps"]
    task = next(s for s in steps if s.get("task") == "AzureCLI@2")
    return task["inputs"]["inlineScript"], task["env"]


def run_template_script(tmp_path: Path, env: dict, pulumi_answers: dict | None = None):
    """The template's script with a stand-in pulumi (answers as conftest.fake_pulumi) and do-nothing az and curl;
    returns the result and the pulumi calls."""
    script, _ = template_script()
    script = re.sub(r"\$\(Build\.ArtifactStagingDirectory\)", str(tmp_path / "staging"), script)
    script = re.sub(r"\$\(Agent\.TempDirectory\)", str(tmp_path / "agent"), script)
    script = re.sub(r"\$\((Build|System)\.[\w.]+\)", "x", script)  # macros the agent expands
    (tmp_path / "staging").mkdir(exist_ok=True)
    (tmp_path / "agent").mkdir(exist_ok=True)
    bin_dir = tmp_path / "bin"
    fake_pulumi(bin_dir, tmp_path / "calls", pulumi_answers)
    for tool in ("az", "curl"):
        (bin_dir / tool).write_text(f"#!/bin/sh\necho \"{tool} $*\" >> '{tmp_path}/other-calls'\n")
        (bin_dir / tool).chmod(0o755)
    # the script runs venv/bin/python -m scripts.release_version and ./scripts/drift: the virtualenv running
    # these tests, and the repository's code (scripts/ imports infra/, stacks/, serving/ and, through
    # stacks/, model/compare_settings)
    root = AZURE_PIPELINES.parent
    links = {
        "venv": Path(sys.executable).parents[1],
        "infra": root / "infra",
        "scripts": root / "scripts",
        **{name: root / name for name in ("stacks", "model", "serving", "Pulumi.prod.yaml", "Pulumi.test.yaml")},
    }
    for link, target in links.items():
        if not (tmp_path / link).exists():
            (tmp_path / link).symlink_to(target)
    base = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "STACK": "prod",
        "COMMAND": "preview",
        "CANDIDATE": "",
        "EXPECTED_VERSION": "",
        "APPROVE": "False",
        "RELEASE_PATH": "workspaces[0].release",
        "PULUMI_BACKEND_URL": "azblob://state?storage_account=s",
        "EVALUATION_DATA_URL": "https://e/eval.csv",
        "PULUMI_VERSION": "3.272.0",
    }
    result = subprocess.run(
        ["bash", "-c", script], env={**base, **env}, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
    return result, calls


def test_the_template_selects_the_stack_before_anything_else_and_never_creates_it(tmp_path):
    result, calls = run_template_script(tmp_path, {})
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls[:2] == ["pulumi login azblob://state?storage_account=s", "pulumi stack select prod"]
    assert calls[2].startswith("pulumi preview --stack prod --policy-pack policy")


def test_a_stack_that_cannot_be_selected_stops_the_template_with_the_bootstrap_command(tmp_path):
    result, calls = run_template_script(tmp_path, {}, {"stack select": (255, "error: no stack named 'prod' found\n")})
    assert result.returncode == 1
    assert "no stack named 'prod' found" in result.stdout
    [error] = [line for line in result.stdout.splitlines() if line.startswith("##vso[task.logissue type=error]")]
    assert "Creating a stack for CI" in error
    assert "pulumi stack init --secrets-provider azurekeyvault://<vault>.vault.azure.net/keys/<key> prod" in error
    assert calls == ["pulumi login azblob://state?storage_account=s", "pulumi stack select prod"]
    assert "stackSelected" not in result.stdout, "no audit report for a stack that was not selected"


REGISTRY_MODEL = "azureml://registries/mlopsregistry/models/hate-speech-pt/versions/0a1b2c3d4e5f"


def test_current_before_a_stacks_first_release_runs_without_a_candidate(tmp_path):
    result, calls = run_template_script(tmp_path, {"CANDIDATE": "current"}, {"stack output": (0, "{}")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "has released nothing yet" in result.stdout
    assert not any(" config set " in c for c in calls)


def test_current_sets_again_what_the_stack_released_last(tmp_path):
    outputs = {
        "workspaces": {"hatespeech": {"release": {"candidate": REGISTRY_MODEL, "candidate_version": "0a1b2c3d4e5f"}}}
    }
    result, calls = run_template_script(
        tmp_path, {"CANDIDATE": "current", "APPROVE": "True"}, {"stack output": (0, json.dumps(outputs))}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"pulumi config set --stack prod --path workspaces[0].release.candidate {REGISTRY_MODEL}" in calls
    assert (
        "pulumi config set --stack prod --path --type string workspaces[0].release.approvedVersion 0a1b2c3d4e5f"
        in calls
    )


def test_a_candidate_from_the_chain_is_set_and_approved_as_that_exact_version(tmp_path):
    result, calls = run_template_script(
        tmp_path, {"CANDIDATE": REGISTRY_MODEL, "EXPECTED_VERSION": "0a1b2c3d4e5f", "APPROVE": "True"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"pulumi config set --stack prod --path workspaces[0].release.candidate {REGISTRY_MODEL}" in calls
    assert (
        "pulumi config set --stack prod --path --type string workspaces[0].release.approvedVersion 0a1b2c3d4e5f"
        in calls
    )
    from scripts.release_version import serving_version_of

    assert (
        f"pulumi config set --stack prod --path --type string workspaces[0].release.approvedServingVersion "
        f"{serving_version_of('prod', 'hatespeech')}"
    ) in calls


def test_a_candidate_of_another_version_than_the_previous_environments_stops_the_stage(tmp_path):
    result, calls = run_template_script(
        tmp_path, {"CANDIDATE": REGISTRY_MODEL, "EXPECTED_VERSION": "ffffffffffff", "APPROVE": "True"}
    )
    assert result.returncode == 1
    [error] = [line for line in result.stdout.splitlines() if line.startswith("##vso[task.logissue type=error]")]
    assert "is version 0a1b2c3d4e5f, but the previous environment released ffffffffffff" in error
    assert not any(" config set " in c for c in calls) and not any(c.startswith("pulumi up") for c in calls)


def test_a_candidate_the_previous_stage_did_not_set_stops_the_stage(tmp_path):
    result, calls = run_template_script(tmp_path, {"CANDIDATE": "$(candidate)", "COMMAND": "up"})
    assert result.returncode == 1 and "was not set by the previous stage" in result.stdout
    assert not any(c.startswith("pulumi up") for c in calls)


def test_after_an_up_the_stage_outputs_the_version_released_and_the_next_candidate(tmp_path):
    outputs = {
        "workspaces": {
            "hatespeech": {"release": {"candidate_version": "0a1b2c3d4e5f", "promote_candidate": REGISTRY_MODEL}}
        }
    }
    dev_model = (
        "azureml://subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-mlops-dev/workspaces/"
        "mlw-mlops-hatespeech-dev-a1/models/hate-speech-pt/versions/0a1b2c3d4e5f"
    )
    result, calls = run_template_script(
        tmp_path,
        {"STACK": "test", "COMMAND": "up", "CANDIDATE": dev_model, "EXPECTED_VERSION": "0a1b2c3d4e5f"},
        {"stack output": (0, json.dumps(outputs))},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert any(c.startswith("pulumi up --stack test --policy-pack policy --yes") for c in calls)
    lines = result.stdout.splitlines()
    assert "##vso[task.setvariable variable=modelVersion;isOutput=true]0a1b2c3d4e5f" in lines
    assert f"##vso[task.setvariable variable=promoteCandidate;isOutput=true]{REGISTRY_MODEL}" in lines


# --- each stack keeps what it released; no pipeline artifact carries the model ---


def test_deploy_previews_and_drift_keep_what_each_stack_released_last():
    for name in ("deploy", "pull-request", "drift"):
        document = pipeline(name)
        assert "resources" not in document, f"{name}: no pipeline resource, the stacks' own outputs say it"
        for stack, job in pulumi_jobs(document):
            [(_, parameters)] = list(template_calls(job, AZURE_PIPELINES))
            if parameters["stack"] == REGISTRY:
                assert "candidate" not in parameters and "approveRelease" not in parameters, "it releases nothing"
                continue
            assert parameters["candidate"] == "current" and parameters["approveRelease"] is True, (name, stack)


def test_no_pipeline_publishes_or_downloads_a_model_artifact():
    for file in AZURE_PIPELINES.rglob("*.yml"):
        text = file.read_text()
        assert "retention/leases" not in text, f"{file.name}: no run is kept for its model any more"
        for step in re.findall(r"-\s+(publish|download):\s*(\S+)", text):
            assert step in (("download", "none"), ("publish", "$(Build.ArtifactStagingDirectory)/audit")), (
                file.name,
                step,
            )


def test_every_step_that_runs_model_submit_or_pulumi_maps_the_access_token_for_the_ci_credential():
    """infra/azureml/credentials.py picks AzurePipelinesCredential (a fresh OIDC token for each access token)
    from the ids AzureCLI@2 sets, the agent's SYSTEM_OIDCREQUESTURI and SYSTEM_ACCESSTOKEN, which a step maps."""
    from infra.azureml.credentials import PIPELINES_VARIABLES, credential_kind

    found = []
    for file in AZURE_PIPELINES.rglob("*.yml"):
        for step in _all_steps(load_yaml(file)):
            script = step.get("inputs", {}).get("inlineScript", "")
            if "-m model submit" in script or "pulumi up" in script:
                found.append(file.name)
                assert step["task"] == "AzureCLI@2", file.name
                assert step["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)", file.name
                # what the step's process sees: its env, the ids AzureCLI@2 sets on a workload-identity
                # connection, and the agent's OIDC request URI (a predefined variable every step gets)
                environment = {
                    **{name: "x" for name in step["env"]},
                    **{name: "x" for name in PIPELINES_VARIABLES if name.startswith("AZURESUBSCRIPTION_")},
                    "SYSTEM_OIDCREQUESTURI": "x",
                }
                assert credential_kind(environment) == "azure-pipelines", file.name
    assert sorted(found) == ["model-release.yml", "model-release.yml", "pulumi-stack.yml"]


def _all_steps(node):
    if isinstance(node, dict):
        if "task" in node or "script" in node:
            yield node
        for value in node.values():
            yield from _all_steps(value)
    elif isinstance(node, list):
        for item in node:
            yield from _all_steps(item)


def template_steps() -> list[dict]:
    """The stack template's steps, those under conditional insertions (${{ if }}) included."""
    template = load_yaml(AZURE_PIPELINES / "templates" / "pulumi-stack.yml")
    return [
        step
        for item in template["steps"]
        for step in (
            next(iter(item.values())) if len(item) == 1 and str(next(iter(item))).startswith("${{") else [item]
        )
    ]


def test_the_audit_report_runs_after_a_failed_update_but_only_once_the_stack_was_selected():
    flattened = template_steps()
    pulumi_step = next(s for s in flattened if "pulumi stack select" in s.get("inputs", {}).get("inlineScript", ""))
    script = pulumi_step["inputs"]["inlineScript"]
    assert script.index("pulumi stack select") < script.index("variable=stackSelected]true") < script.index("pulumi up")
    audit = [
        s
        for s in flattened
        if "scripts.audit" in s.get("inputs", {}).get("inlineScript", "")
        or str(s.get("artifact", "")).startswith("audit-")
    ]
    assert len(audit) == 2
    assert all(s["condition"] == "and(always(), eq(variables['stackSelected'], 'true'))" for s in audit)


@pytest.mark.parametrize("message_size", [0, 1_200_000])
def test_the_audit_step_uploads_a_run_summary_of_at_most_1_mib(tmp_path, message_size):
    [step] = [s for s in template_steps() if "scripts.audit" in s.get("inputs", {}).get("inlineScript", "")]
    macros = {
        "Agent.TempDirectory": str(tmp_path / "agent"),
        "Build.ArtifactStagingDirectory": str(tmp_path / "staging"),
        "System.CollectionUri": "https://dev.azure.com/acme/",
        "System.TeamProjectId": "6f1c0a2e",
        "Build.BuildId": "77",
    }
    script = re.sub(r"\$\(([\w.]+)\)", lambda macro: macros[macro.group(1)], step["inputs"]["inlineScript"])
    (tmp_path / "agent").mkdir()
    fake_pulumi(tmp_path / "bin", tmp_path / "calls", audit_answers(message_size))
    for name in ("venv", "scripts"):  # venv/bin/python -m scripts.audit, run in the checkout
        (tmp_path / name).symlink_to(
            Path(sys.executable).parents[1] if name == "venv" else AZURE_PIPELINES.parent / name
        )
    env = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "STACK": "prod",
        "PULUMI_BACKEND_URL": "azblob://s",
    }
    result = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    summary_file = tmp_path / "agent" / "audit-summary-prod.md"
    assert f"##vso[task.uploadsummary]{summary_file}" in result.stdout.splitlines()
    report, summary = (tmp_path / "staging" / "audit" / "audit-prod.md").read_text(), summary_file.read_text()
    if not message_size:
        assert summary == report
        return
    assert len(report.encode()) > 1024 * 1024 >= len(summary.encode()) and "## Timeline" not in summary
    assert "(https://dev.azure.com/acme/6f1c0a2e/_build/results?buildId=77&view=artifacts)" in summary


# --- drift: a scheduled preview --refresh --expect-no-changes of every stack ---


def test_drift_runs_every_day_on_main_even_without_changes_for_every_stack(stacks):
    document = pipeline("drift")
    assert document["trigger"] == "none" and document["pr"] == "none"
    [schedule] = document["schedules"]
    assert re.fullmatch(r"\d+ \d+ \* \* \*", schedule["cron"]), "once a day"
    assert schedule["branches"]["include"] == ["main"] and schedule["always"] is True
    assert "resources" not in document, "each stack keeps what it released: no pipeline resource"
    jobs = dict(
        pulumi_jobs(document)
    )  # each in its stack's agent pool: test_each_stack_job_runs_in_its_stacks_agent_pool
    assert sorted(jobs) == stacks
    deploy = {p["stack"]: p for _, p in template_calls(pipeline("deploy")["stages"], AZURE_PIPELINES) if "stack" in p}
    for stack, job in jobs.items():
        assert "deployment" not in job and "environment" not in job, "a scheduled check must not wait for approvers"
        [(_, parameters)] = list(template_calls(job, AZURE_PIPELINES))
        assert parameters["stack"] == stack and parameters["command"] == "drift"
        for key in ("candidate", "approveRelease"):
            assert parameters.get(key) == deploy[stack].get(key), (stack, key)


def test_the_template_drift_check_uploads_its_summary_and_fails_on_drift(tmp_path):
    diff = "    ~ tags: (update)\nerror: no changes were expected for preview but changes were proposed\n"
    result, calls = run_template_script(tmp_path, {"COMMAND": "drift"}, {"preview": (255, diff)})
    assert result.returncode == 255
    summary = tmp_path / "staging" / "drift-prod.md"
    assert f"##vso[task.uploadsummary]{summary}" in result.stdout.splitlines()
    assert summary.read_text().startswith("## Drift in prod:") and "~ tags: (update)" in summary.read_text()
    assert (
        "##vso[task.logissue type=error]The drift check of prod failed: the run summary has its output" in result.stdout
    )
    assert calls[-1].startswith("pulumi preview --stack prod --policy-pack policy --refresh --expect-no-changes --diff")


def test_the_template_drift_check_passes_without_drift_and_still_uploads_the_summary(tmp_path):
    result, _ = run_template_script(tmp_path, {"COMMAND": "drift"}, {"preview": (0, "Resources:\n    42 unchanged\n")})
    assert result.returncode == 0, result.stdout + result.stderr
    summary = tmp_path / "staging" / "drift-prod.md"
    assert f"##vso[task.uploadsummary]{summary}" in result.stdout.splitlines()
    assert summary.read_text().startswith("## No drift in prod") and "logissue" not in result.stdout
