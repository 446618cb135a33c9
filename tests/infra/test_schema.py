"""The editor schema of the stack files (stacks/stack-config.schema.json) is generated from the
settings models, committed current, referenced by every stack file, and checks what it says."""

import copy
import json

import jsonschema
import pytest
import yaml

from scripts.offline import PROJECT_DIR
from stacks import schema

STACKS = ("dev", "test", "prod", "registry")
REFERENCE = "# yaml-language-server: $schema=./stacks/{}"


def kind_of(stack: str) -> str:
    return stack_file(stack)["config"].get("mlops-platform:kind", "environment")


def committed(kind: str = "environment") -> dict:
    return json.loads(schema.SCHEMAS[kind][1].read_text(encoding="utf-8"))


def stack_file(stack: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))


def errors(document: dict, kind: str = "environment") -> list[str]:
    """Every error, those inside `X | null` (anyOf) included, as an editor lists them."""

    def leaves(found):
        for error in found:
            yield from leaves(error.context) if error.context else [error]

    validator = jsonschema.Draft202012Validator(committed(kind))
    return sorted(
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in leaves(validator.iter_errors(document))
    )


@pytest.mark.parametrize("kind", sorted(schema.SCHEMAS))
def test_the_committed_schema_is_the_generated_one(kind):
    model, path = schema.SCHEMAS[kind]
    assert path.read_text(encoding="utf-8") == schema.render(model), (
        f"stacks/{path.name} is stale: run `venv/bin/python -m stacks.schema --write` and commit it"
    )


def test_the_schema_is_valid_json_schema_and_its_write_replaces_the_file_whole(tmp_path):
    for kind in schema.SCHEMAS:
        jsonschema.Draft202012Validator.check_schema(committed(kind))
    target = tmp_path / "schema.json"
    target.write_text("old", encoding="utf-8")
    schema.write(target)
    assert target.read_text(encoding="utf-8") == schema.render()
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["schema.json"], "no temporary file is left behind"


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_names_the_schema_of_its_kind_on_its_first_line_and_follows_it(stack):
    text = (PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
    kind = kind_of(stack)
    assert text.splitlines()[0] == REFERENCE.format(schema.SCHEMAS[kind][1].name)
    assert errors(stack_file(stack), kind) == []
    assert errors(stack_file(stack), "registry" if kind == "environment" else "environment") != [], (
        "the other kind's schema refuses it"
    )


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda c: c.update({"mlops-platform:regions": []}), "[] should be non-empty"),
        (lambda c: c.update({"mlops-platform:registryName": "-reg"}), "'-reg' does not match"),
        (lambda c: c.update({"mlops-platform:publicNetworkAccess": "no"}), "'no' is not of type 'boolean'"),
        (lambda c: c.update({"mlops-platform:workspaces": []}), "'mlops-platform:workspaces' was unexpected"),
        (lambda c: c["mlops-platform:access"].update(mlopsDeployerGroupIds=[]), "[] should be non-empty"),
    ],
)
def test_the_registry_schema_catches_what_an_editor_should_flag(change, expected):
    document = copy.deepcopy(stack_file("registry"))
    change(document["config"])
    assert any(expected in line for line in errors(document, "registry")), errors(document, "registry")


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda c: c.update({"mlops-platfrom:logRetentionDays": 30}),
            "'mlops-platfrom:logRetentionDays' was unexpected",
        ),
        (lambda c: c.update({"logRetentionDays": 30}), "'logRetentionDays' was unexpected"),
        (lambda c: c.update({"mlops-platform:storageSku": "Premium_LRS"}), "'Premium_LRS' is not one of"),
        (lambda c: c.update({"mlops-platform:keyVaultRetentionDays": 3}), "3 is less than the minimum of 7"),
        (lambda c: c.pop("mlops-platform:network"), "'mlops-platform:network' is a required property"),
        (lambda c: c["mlops-platform:workspaces"][0]["gpuCluster"].update(colour="red"), "'colour' was unexpected"),
        (
            lambda c: c["mlops-platform:workspaces"][0]["gpuCluster"].update(lowPriority="yes"),
            "'yes' is not of type 'boolean'",
        ),
        (
            lambda c: c["mlops-platform:workspaces"][0]["release"]["rollout"].update(mirrorPercent=60),
            "60 is greater than the maximum of 50",
        ),
    ],
)
def test_the_schema_catches_what_an_editor_should_flag(change, expected):
    document = copy.deepcopy(stack_file("prod"))
    change(document["config"])
    assert any(expected in line for line in errors(document)), errors(document)


def test_the_schema_describes_the_whole_stack_file():
    """A Pulumi.<stack>.yaml has `config:` at the top, beside Pulumi's own keys (ProjectStack in
    pulumi/sdk/go/common/workspace/project.go); other top-level keys are typos."""
    document = {"secretsprovider": "azurekeyvault://v.vault.azure.net/keys/k", **stack_file("dev")}
    assert errors(document) == []
    assert errors({"conifg": stack_file("dev")["config"]}) == [
        ": 'config' is a required property",
        ": Additional properties are not allowed ('conifg' was unexpected)",
    ]


def test_the_schema_says_what_each_setting_accepts_as_the_errors_do():
    config = committed()["properties"]["config"]["properties"]
    assert config["mlops-platform:keyVaultRetentionDays"]["description"] == "a whole number from 7 to 90"
    assert config["azure-native:location"]["type"] == "string"
    release = committed()["$defs"]["ReleaseSettings"]["properties"]
    assert release["alpha"]["description"] == "a significance level strictly between 0 and 1"
    assert (release["alpha"]["exclusiveMinimum"], release["alpha"]["exclusiveMaximum"]) == (0, 1)
