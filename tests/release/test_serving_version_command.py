"""`python -m scripts.release_version --serving STACK WORKSPACE` prints what an approval of a serving spec names."""

from __future__ import annotations

import copy

from scripts.offline.stack import run_stack, stack_config
from scripts.release_version import main

TRAFFIC = "pulumi-python:dynamic/release:EndpointTraffic"


def test_the_command_prints_the_serving_version_the_release_checks(models, capsys):
    config = copy.deepcopy(stack_config("prod"))
    config["mlops-platform:workspaces"][0]["release"].update(
        candidate=str(models.good), evaluationData=str(models.evaluation_data)
    )
    checked = run_stack("prod", config=config).one(TRAFFIC).checked
    assert main(["--serving", "prod", "hatespeech"]) == 0
    assert capsys.readouterr().out.strip() == checked["serving_version"]


def test_an_unknown_workspace_or_stack_is_one_error_line(capsys):
    assert main(["--serving", "prod", "nope"]) == 2
    assert capsys.readouterr().err.strip() == "error: stack prod has no workspace 'nope'; accepted: hatespeech"
    assert main(["--serving", "nostack", "hatespeech"]) == 2
    assert capsys.readouterr().err.startswith("error: no stack 'nostack'")
