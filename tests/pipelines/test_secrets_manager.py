"""Secrets that survive CI: every CI run of a stack decrypts with the secrets manager recorded in the
stack's state, the one it was created with; CI never creates a stack.

What the Pulumi CLI does (pulumi/pulumi source, read at v3.259.0):
- pkg/cmd/pulumi/stack/secrets.go, SecretsManagerLoader.GetSecretsManager: a Pulumi.<stack>.yaml naming a
  cloud `secretsprovider` is used as it is (without its `encryptedkey`, a new data key is made); one with an
  `encryptionsalt` means a passphrase; with neither, and PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER true
  (sdk/go/common/env/env.go), the secrets manager of the stack's snapshot is used; otherwise the backend's
  default, for the azblob:// (DIY) backend a passphrase (pkg/backend/diy/backend.go, DefaultSecretManager).
- The fallback came in 3.134.0 (#17236, commit 189559fa8e; changelog/v3.134.0.md). Since 3.135.0 (#17372,
  commit a9db57cf80, and #17387; changelog/v3.135.0.md) creating a stack stores its secrets manager as the
  stack's initial state (pkg/cmd/pulumi/stack/io.go, CreateStack), so a stack that was only `init`ed already
  has one to fall back to.
- `stack select --create --secrets-provider` creates through the same CreateStack: the provider applies only
  then (pkg/cmd/pulumi/stack/stack_select.go), which is why it cannot be CI's way of choosing the manager.
"""

import re

import pytest

from tests.paths import REPO_ROOT
from tests.pipelines.conftest import AZURE_PIPELINES, WORKFLOWS, load_yaml

FALLBACK = "PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER"
SECRETS_MANAGER_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt")
FIRST_CLI_WITH_THE_RULE = (3, 135, 0)
BOOTSTRAP_SECTION = "Creating a stack for CI"

# project commands that run the CLI: scripts/drift (pulumi preview) and scripts.audit (stack history, export)
RUNS_PULUMI = re.compile(r"(^|[\s;&|(!])pulumi\s|scripts/drift\b|-m scripts\.audit\b")
CREATES_A_STACK = re.compile(
    r"\bpulumi\s+(new\b|stack\s+init\b|stack\s+select\b.*\s(--create|-c)\b)|--secrets-provider"
)


def command_lines(script: str) -> list[str]:
    """The lines of a shell script that run something: not comments and not messages (echo, printf)."""
    lines = (line.strip() for line in script.splitlines())
    return [line for line in lines if line and not line.startswith(("#", "echo ", "printf "))]


def runs_pulumi(script: str) -> bool:
    return any(RUNS_PULUMI.search(line) for line in command_lines(script))


def script_problems(where: str, script: str, env: dict) -> list[str]:
    problems = [f"{where} creates a stack: {line}" for line in command_lines(script) if CREATES_A_STACK.search(line)]
    if str(env.get(FALLBACK)) != "true":
        problems.append(f"{where} runs pulumi without {FALLBACK}=true")
    return problems


# --- GitHub Actions ---


def github_pulumi_steps(document: dict):
    """(where, step, the environment it runs with) for every step of a workflow that runs the Pulumi CLI."""
    for job_id, job in document.get("jobs", {}).items():
        for step in job.get("steps", []):
            action = step.get("uses", "").split("@")[0].lower()
            if (action == "pulumi/actions" and "command" in step.get("with", {})) or runs_pulumi(step.get("run", "")):
                env = {**document.get("env", {}), **job.get("env", {}), **step.get("env", {})}
                yield f"{job_id}: {step.get('name') or step.get('uses')}", step, env


def github_problems(document: dict) -> list[str]:
    problems = []
    for where, step, env in github_pulumi_steps(document):
        inputs = step.get("with", {})
        if str(inputs.get("upsert", "false")).lower() != "false" or "secrets-provider" in inputs:
            problems.append(f"{where} lets pulumi/actions create the stack (upsert, secrets-provider)")
        problems += script_problems(where, step.get("run", ""), env)
    return problems


def test_every_workflow_step_that_runs_pulumi_uses_the_states_secrets_manager_and_creates_no_stack():
    found = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        document = load_yaml(path)
        assert github_problems(document) == [], path.name
        found += [(path.stem, step.get("id") or step.get("name")) for _, step, _ in github_pulumi_steps(document)]
    # the rule is checked where pulumi runs: selecting, setting the candidate, the operation, drift, the audit
    names = {name for workflow, name in found if workflow == "pulumi-stack"}
    assert {
        "select",
        "candidate",
        "Drift check of ${{ inputs.stack }}",
        "pulumi ${{ inputs.command }} ${{ inputs.stack }}",
        "Audit report of the stack (also after a failed update)",
    } <= names, names
    assert {workflow for workflow, _ in found} == {"pulumi-stack"}, "pulumi runs only in the reusable workflow"


@pytest.mark.parametrize(
    "before, after",
    [
        ('pulumi stack select "$STACK"', 'pulumi stack select --create "$STACK"'),
        ('pulumi stack select "$STACK"', 'pulumi stack init --secrets-provider "$P" "$STACK"'),
        (f'{FALLBACK}: "true"', f'{FALLBACK}: "false"'),
        ("          policyPacks: policy\n", "          policyPacks: policy\n          upsert: true\n"),
    ],
)
def test_the_workflow_rule_catches_a_created_stack_or_a_missing_fallback(tmp_path, before, after):
    text = (WORKFLOWS / "pulumi-stack.yml").read_text()
    assert before in text
    (tmp_path / "changed.yml").write_text(text.replace(before, after, 1))
    assert github_problems(load_yaml(tmp_path / "changed.yml")) != []


# --- Azure Pipelines ---


def azure_steps(node):
    """Every step under a pipeline or template node, conditional insertions (${{ if }}) included."""
    if isinstance(node, dict):
        if any(key in node for key in ("script", "bash", "task")):
            yield node
        for value in node.values():
            yield from azure_steps(value)
    elif isinstance(node, list):
        for item in node:
            yield from azure_steps(item)


def azure_script(step: dict) -> str:
    return step.get("script") or step.get("bash") or step.get("inputs", {}).get("inlineScript", "")


def azure_problems(document: dict) -> list[str]:
    return [
        problem
        for step in azure_steps(document)
        if runs_pulumi(azure_script(step))
        for problem in script_problems(step.get("displayName", "a step"), azure_script(step), step.get("env", {}))
    ]


def test_every_azure_step_that_runs_pulumi_uses_the_states_secrets_manager_and_creates_no_stack():
    running = []
    for path in sorted(AZURE_PIPELINES.rglob("*.yml")):
        document = load_yaml(path)
        assert azure_problems(document) == [], path.relative_to(AZURE_PIPELINES)
        running += [
            (path.name, step["displayName"]) for step in azure_steps(document) if runs_pulumi(azure_script(step))
        ]
    assert running == [
        ("pulumi-stack.yml", "pulumi ${{ parameters.command }} ${{ parameters.stack }}"),
        ("pulumi-stack.yml", "Audit report of ${{ parameters.stack }}"),
    ], "pulumi runs only in the template"


@pytest.mark.parametrize(
    "before, after",
    [
        ('pulumi stack select "$STACK"', 'pulumi stack select --create "$STACK"'),
        (f'      {FALLBACK}: "true"\n', ""),
        (f'          {FALLBACK}: "true"\n', ""),
    ],
)
def test_the_azure_rule_catches_a_created_stack_or_a_missing_fallback(tmp_path, before, after):
    text = (AZURE_PIPELINES / "templates" / "pulumi-stack.yml").read_text()
    assert before in text
    (tmp_path / "changed.yml").write_text(text.replace(before, after, 1))
    assert azure_problems(load_yaml(tmp_path / "changed.yml")) != []


# --- the CLI version, the stack files and the bootstrap they point to ---


def test_both_ci_systems_install_one_cli_version_that_has_the_fallback():
    workflow = load_yaml(WORKFLOWS / "pulumi-stack.yml")
    github = workflow["env"]["PULUMI_VERSION"]
    azure = load_yaml(AZURE_PIPELINES / "templates" / "pulumi-cli.yml")["variables"]["PULUMI_VERSION"]
    assert github == azure
    assert tuple(int(n) for n in github.split(".")) >= FIRST_CLI_WITH_THE_RULE
    installs = [s for s in workflow["jobs"]["pulumi"]["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert len(installs) == 2 and all(s["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}" for s in installs)
    template = (AZURE_PIPELINES / "templates" / "pulumi-stack.yml").read_text()
    assert 'sh -s -- --version "$PULUMI_VERSION"' in template and "PULUMI_VERSION: $(PULUMI_VERSION)" in template
    for path in AZURE_PIPELINES.glob("*.yml"):
        text = path.read_text()
        if "templates/pulumi-stack.yml" in text:
            assert {"template": "templates/pulumi-cli.yml"} in load_yaml(path)["variables"], path.name
            assert "PULUMI_VERSION" not in text, f"{path.name} sets its own CLI version"


def test_no_stack_file_names_a_secrets_manager(stacks):
    assert stacks
    for stack in stacks:
        document = load_yaml(REPO_ROOT / f"Pulumi.{stack}.yaml")
        named = sorted(set(document) & set(SECRETS_MANAGER_KEYS))
        assert named == [], (
            f"Pulumi.{stack}.yaml names {named}: CI would use it instead of the manager in the "
            f"stack's state; drop it (README: {BOOTSTRAP_SECTION})"
        )


def test_the_bootstrap_the_errors_point_to_is_in_the_readme():
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index(f"### {BOOTSTRAP_SECTION}\n") :]
    section = section[: section.index("\n## ")]
    commands = section[section.index("```bash\n") : section.index("```\n", section.index("```bash\n") + 1)]
    assert f"export {FALLBACK}=true" in commands
    assert 'pulumi login "azblob://<container>?storage_account=<account>"' in commands
    assert 'pulumi stack init --secrets-provider "azurekeyvault://<vault>.vault.azure.net/keys/<key>" prod' in commands
    assert "git checkout -- Pulumi.prod.yaml" in commands
    for path in (WORKFLOWS / "pulumi-stack.yml", AZURE_PIPELINES / "templates" / "pulumi-stack.yml"):
        assert f"README's '{BOOTSTRAP_SECTION}'" in path.read_text(), path


def test_the_readme_no_longer_offers_ci_a_secrets_provider_variable():
    readme = (REPO_ROOT / "README.md").read_text()
    assert "PULUMI_SECRETS_PROVIDER" not in readme
    for path in [*WORKFLOWS.glob("*.yml"), *AZURE_PIPELINES.rglob("*.yml")]:
        assert "PULUMI_SECRETS_PROVIDER" not in path.read_text(), path
