"""What a stack file can get wrong besides a setting's value: YAML syntax, keys outside the
project's namespace, secrets where plain values belong, and that every problem is reported at once
in the project's own words (never pydantic's)."""

import re
import subprocess
import sys

import pulumi
import pytest

from scripts.offline import PROJECT_DIR
from scripts.offline.stack import StackFileError, run_stack, stack_config
from scripts.plan.config_path import ConfigPathError, parse_assignment
from stacks import SettingsError, parse_settings
from stacks.config_keys import ProjectConfig
from tests.infra.test_plan import copy_project

P = "mlops-platform:"
ACCEPTED_KEYS = "accepted: mlops-platform:<setting> or azure-native:location"


def problems(config, stack="dev") -> list[str]:
    with pytest.raises(SettingsError) as raised:
        parse_settings(stack, ProjectConfig.split(config, "mlops-platform"))
    return raised.value.problems


def plan(project, *args):
    return subprocess.run(
        [sys.executable, "-m", "scripts.plan", "--stack", "dev", *args], cwd=project, capture_output=True, text=True
    )


# --- YAML syntax ------------------------------------------------------------------------------


def test_a_yaml_syntax_error_in_a_stack_file_is_one_line_naming_the_file_line_and_column(tmp_path):
    (tmp_path / "Pulumi.x.yaml").write_text("config:\n  a: [\n", encoding="utf-8")
    with pytest.raises(StackFileError) as raised:
        stack_config("x", tmp_path)
    assert str(raised.value) == (
        f"{tmp_path / 'Pulumi.x.yaml'}:3:1: not valid YAML: expected the node content, "
        "but found '<stream end>' (while parsing a flow node)"
    )


def test_the_plan_reports_a_broken_stack_file_in_one_line_without_a_traceback(tmp_path):
    project = copy_project(tmp_path)
    path = project / "Pulumi.dev.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    broken = next(i for i, line in enumerate(lines) if "maxNodes: 1" in line)
    lines[broken] = lines[broken].replace("maxNodes: 1", "maxNodes: 1\n\tlowPriority: true")  # a tab starts no token
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = plan(project)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {path}:{broken + 2}:1: not valid YAML: found character '\\t' that cannot "
        "start any token (while scanning for the next token)\n"
    )


def test_a_yaml_syntax_error_in_a_config_value_is_one_line_naming_the_column():
    with pytest.raises(ConfigPathError) as raised:
        parse_assignment("workspaces[0].release.rollout.canaryPercents=[10, 20")
    assert str(raised.value) == (
        "--config 'workspaces[0].release.rollout.canaryPercents=[10, 20': the value is not valid YAML at line 1, "
        "column 8 of the value: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence that starts "
        "at line 1, column 1)"
    )
    result = plan(PROJECT_DIR, "--config", "tags={team: [}")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --config 'tags={team: [}': the value is not valid YAML at line 1, column 9 of the "
        "value: expected the node content, but found '}' (while parsing a flow node)\n"
    )


@pytest.mark.parametrize("text", ["- config\n", "config: [1]\n", "config: text\n"])
def test_a_stack_file_without_a_config_mapping_is_one_line(tmp_path, text):
    (tmp_path / "Pulumi.x.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(StackFileError, match=r"^\S+Pulumi\.x\.yaml: accepted: a mapping with a `config:` mapping"):
        stack_config("x", tmp_path)


# --- namespaces ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, expected",
    [
        (
            "mlops-platfrom:logRetentionDays",
            f"mlops-platfrom:logRetentionDays: unknown namespace 'mlops-platfrom' (value 30); "
            f"closest known key: mlops-platform:logRetentionDays; {ACCEPTED_KEYS}",
        ),
        (
            "logRetentionDays",
            f"logRetentionDays: a key without a namespace (value 30); closest known key: mlops-platform:logRetentionDays; "
            f"{ACCEPTED_KEYS}",
        ),
        (
            "azure-native:locaton",
            f"azure-native:locaton: unknown setting (value 30); closest known key: azure-native:location; {ACCEPTED_KEYS}",
        ),
        ("acme:budget", f"acme:budget: unknown namespace 'acme' (value 30); {ACCEPTED_KEYS}"),
    ],
)
def test_a_key_outside_the_projects_namespace_is_an_error_naming_the_closest_known_key(config_of, key, expected):
    config = config_of("dev")
    config[key] = 30
    assert problems(config) == [expected]


def test_the_stack_files_keys_of_other_namespaces_are_allowed(config_of):
    for stack in ("dev", "test", "prod"):
        config = config_of(stack)
        assert config["azure-native:location"] == "westeurope"
        assert parse_settings(stack, ProjectConfig.split(config, "mlops-platform")).stack == stack


def test_the_program_reports_misplaced_keys_with_every_other_problem(config_of):
    """The real entry path (runtime config -> project_config -> parse_settings) sees every key."""
    config = config_of("dev")
    config["mlops-platfrom:logRetentionDays"] = 30
    config[f"{P}keyVaultRetentionDays"] = 3
    with pytest.raises(SettingsError) as raised:
        run_stack("dev", config=config)
    assert [line.split(":")[0] for line in raised.value.problems] == ["mlops-platfrom", "mlops-platform"]
    assert "closest known key: mlops-platform:logRetentionDays" in raised.value.problems[0]


# --- secrets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "place, key",
    [
        (lambda c: c.update({f"{P}namePrefix": {"secure": "v1:CIPHERTEXT"}}), "mlops-platform:namePrefix"),
        (lambda c: c.update({f"{P}tags": {"secure": "v1:CIPHERTEXT"}}), "mlops-platform:tags"),
        (lambda c: c.update({f"{P}network": {"secure": "v1:CIPHERTEXT"}}), "mlops-platform:network"),
        (
            lambda c: c[f"{P}workspaces"][0]["endpoint"].update(instanceType={"secure": "v1:CIPHERTEXT"}),
            "mlops-platform:workspaces[0].endpoint.instanceType",
        ),
        (lambda c: c.update({"mlops-platfrom:token": {"secure": "v1:CIPHERTEXT"}}), "mlops-platfrom:token"),
    ],
)
def test_a_secure_value_where_a_plain_one_belongs_never_shows_its_ciphertext(config_of, place, key):
    config = config_of("dev")
    place(config)
    with pytest.raises(SettingsError) as raised:
        run_stack("dev", config=config)
    assert "CIPHERTEXT" not in str(raised.value)
    assert any(
        line.startswith(f"{key}: [secret] is not valid")
        or line.startswith(f"{key}: unknown namespace")
        and "(value [secret])" in line
        for line in raised.value.problems
    ), raised.value.problems


def test_the_value_of_a_key_pulumi_holds_as_a_secret_is_never_shown(config_of):
    """The engine hands secrets over decrypted, naming their keys (pulumi.runtime.config
    is_config_secret / PULUMI_CONFIG_SECRET_KEYS): their values must stay out of the error."""
    config = config_of("dev")
    config[f"{P}nameSuffix"] = "SEKRIT_VALUE"
    config["mlops-platfrom:token"] = "SEKRIT_TOKEN"
    pulumi.runtime.set_all_config({}, secret_keys=[f"{P}nameSuffix", "mlops-platfrom:token"])
    try:
        with pytest.raises(SettingsError) as raised:
            run_stack("dev", config=config)
    finally:
        pulumi.runtime.set_all_config({}, secret_keys=[])
    message = str(raised.value)
    assert "SEKRIT" not in message
    assert f"{P}nameSuffix: [secret] is not valid; accepted: 2-6 lowercase letters and digits" in message
    assert "mlops-platfrom:token: unknown namespace 'mlops-platfrom' (value [secret])" in message


# --- every problem, in the project's words -------------------------------------------------------

LINE = re.compile(
    r"[\w.-]+:[\w.\[\]/]+: (.+ is not valid; accepted: .+|is required; accepted: .+"
    r"|unknown setting \(value .+\); accepted settings here: .+)"
)


def test_every_problem_is_one_line_in_the_projects_words_and_none_in_pydantics(config_of):
    config = config_of("prod")
    workspace = config[f"{P}workspaces"][0]
    config.update(
        {
            f"{P}tier": 3,
            f"{P}location": ["westeurope"],
            f"{P}tags": {"team": True},
            f"{P}registrySku": None,
            f"{P}logRetentionDays": 12.5,
            f"{P}highBusinessImpact": 1,
            f"{P}computeAccess": "none",
            f"{P}colour": "blue",
        }
    )
    config[f"{P}network"].update(allowedIpRanges="10.0.0.0/8", isolationMode=True)
    config[f"{P}access"].update(dataScientistGroupIds=[5])
    workspace["gpuCluster"].update(vmSize="Standard_DS3_v2", minNodes=9, maxNodes=4, lowPriority="no")
    workspace["cpuCluster"].pop("vmSize")
    workspace["endpoint"].update(instanceCount="two", authMode=None)
    workspace["release"].update(
        alpha="0.05", minDelta=True, rollout={"canaryPercents": [50.5]}, latencyRepeats=0, approvedVersion=-1
    )
    found = problems(config, stack="prod")
    assert len(found) == 20, "\n".join(found)
    for line in found:
        assert LINE.fullmatch(line), line
        assert not re.search(r"Input should|validation error|pydantic|type=|\[type", line), line
    for expected in (
        "mlops-platform:tags.team: true is not valid; accepted: a mapping of string to string",
        "mlops-platform:highBusinessImpact: 1 is not valid; accepted: true or false, not an integer",
        "mlops-platform:workspaces[0].gpuCluster.minNodes: 9 is not valid; accepted: at most maxNodes (4)",
        "mlops-platform:workspaces[0].gpuCluster.vmSize: 'Standard_DS3_v2' is not valid",
        "mlops-platform:workspaces[0].cpuCluster.vmSize: is required; accepted: an Azure VM size",
        "mlops-platform:workspaces[0].release.minDelta: true is not valid; accepted: a number from 0 up "
        "to (not including) 1",
        "mlops-platform:workspaces[0].release.rollout.canaryPercents[0]: 50.5 is not valid",
    ):
        assert any(line.startswith(expected) for line in found), expected


def test_rules_across_sections_are_reported_with_the_problems_inside_them(config_of):
    """Unique names and Azure's name lengths read only their valid inputs, so a bad value elsewhere
    (even in the same workspace) does not hide them."""
    config = config_of("dev")
    config[f"{P}namePrefix"], config[f"{P}nameSuffix"] = "platform", "abcdef"
    workspace = config[f"{P}workspaces"][0]
    workspace["name"] = "hatespeechpt"
    workspace["gpuCluster"]["vmSize"] = "DS3"
    config[f"{P}workspaces"].append({**workspace, "cpuCluster": "small"})
    found = problems(config)
    assert [line.split(":")[1].split(" ")[0] for line in found] == [
        "workspaces[0].gpuCluster.vmSize",
        "workspaces[1].gpuCluster.vmSize",
        "workspaces[1].cpuCluster",
        "workspaces[1].name",
        "namePrefix/nameSuffix/workspaces",
    ]
