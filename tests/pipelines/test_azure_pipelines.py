"""Azure Pipelines: the YAML parses, every template and parameter resolves, and the stages, their
order (dev -> test -> prod) and the deployment jobs with their environments are the ones required."""
from pathlib import Path

import pytest

from tests.pipelines.conftest import AZURE_PIPELINES, load_yaml

PIPELINES = ("pull-request", "deploy", "model-release")
ORDER = ["dev", "test", "prod"]


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
        assert set(passed) <= set(declared), f"{name}: {template.name} has no parameter(s) {set(passed) - set(declared)}"
        for parameter in declared.values():
            if "default" not in parameter:
                assert parameter["name"] in passed, f"{name}: {template.name} needs {parameter['name']}"
            if "values" in parameter and parameter["name"] in passed:
                assert passed[parameter["name"]] in parameter["values"]


def test_deploy_runs_on_main_and_goes_dev_then_test_then_prod_in_deployment_jobs():
    document = pipeline("deploy")
    assert document["trigger"]["branches"]["include"] == ["main"] and document["pr"] == "none"
    by_name = stages(document)
    assert list(by_name) == ["Tests", "Dev", "Test", "Prod"]
    assert [by_name[s.capitalize()]["dependsOn"] for s in ORDER] == ["Tests", "Dev", "Test"]
    for stack in ORDER:
        job = deployment(by_name[stack.capitalize()])
        assert job["environment"] == f"mlops-{stack}"
        parameters = deploy_template_parameters(job)
        assert parameters["stack"] == stack and parameters["command"] == "up"


def test_model_release_trains_then_releases_through_the_environments():
    document = pipeline("model-release")
    assert document["trigger"] == "none"
    by_name = stages(document)
    assert list(by_name) == ["Train", "Dev", "Test", "Prod"]
    assert [by_name[s.capitalize()]["dependsOn"] for s in ORDER] == ["Train", "Dev", "Test"]
    train_steps = by_name["Train"]["jobs"][0]["steps"]
    assert any("-m model train --data data/train.csv" in s.get("script", "") for s in train_steps)
    assert any(s.get("publish") and s.get("artifact") == "model" for s in train_steps)
    for stack in ORDER:
        job = deployment(by_name[stack.capitalize()])
        assert job["environment"] == f"mlops-{stack}"
        parameters = deploy_template_parameters(job)
        assert parameters["stack"] == stack and parameters["releaseCandidate"] is True
        assert parameters.get("approveRelease", False) is (stack == "prod")


def test_pull_request_runs_tests_plan_diff_and_previews_every_stack(stacks):
    document = pipeline("pull-request")
    assert document["pr"]["branches"]["include"] == ["main"] and document["trigger"] == "none"
    by_name = stages(document)
    assert set(by_name) == {"Tests", "Plan", "Preview"}
    plan_script = next(s["script"] for s in by_name["Plan"]["jobs"][0]["steps"] if "scripts.plan" in s.get("script", ""))
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
