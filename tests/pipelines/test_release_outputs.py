"""`python -m scripts.release_outputs STACK WORKSPACE FIELD`: what CI reads of a stack's release from its outputs."""

import io
import json

import pytest

from scripts.release_outputs import main

OUTPUTS = {
    "workspaces": {
        "hatespeech": {
            "release": {
                "candidate": "azureml://jobs/train-1/outputs/artifact",
                "candidate_version": "0a1b2c3d4e5f",
                "promote_candidate": "azureml://subscriptions/s/resourceGroups/g/workspaces/w/models/m/versions/0a1b2c3d4e5f",
            }
        }
    }
}


def run(args, text, capsys):
    code = main(args, io.StringIO(text))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("workspace", ["hatespeech", "workspaces[0]"])
@pytest.mark.parametrize("field", ["candidate", "candidate_version", "promote_candidate"])
def test_prints_the_field_of_the_workspace_named_or_indexed(capsys, workspace, field):
    code, out, err = run(["dev", workspace, field], json.dumps(OUTPUTS), capsys)
    assert (code, err) == (0, "") and out == OUTPUTS["workspaces"]["hatespeech"]["release"][field] + "\n"


@pytest.mark.parametrize("text", ["", "{}", '{"workspaces": {"hatespeech": {"workspace_name": "mlw"}}}'])
def test_a_stack_that_released_nothing_gives_an_empty_line(capsys, text):
    assert run(["dev", "hatespeech", "candidate"], text, capsys) == (0, "\n", "")


@pytest.mark.parametrize(
    "args, text, error",
    [
        (["dev", "hatespeech", "candidate"], "not json", "the stack outputs are not JSON"),
        (["dev", "hatespeech", "candidate"], "[1]", "not a JSON object"),
        (["dev", "hatespeech", "winner"], "{}", "FIELD is 'winner'; accepted: one of candidate, candidate_version"),
        (["dev", "other", "candidate"], "{}", "stack dev has no workspace 'other'; accepted: hatespeech"),
        (["nowhere", "hatespeech", "candidate"], "{}", "no stack 'nowhere'"),
    ],
)
def test_bad_input_is_one_error_line(capsys, args, text, error):
    code, out, err = run(args, text, capsys)
    assert code == 2 and out == "" and err.startswith("error: ") and error in err and err.count("\n") == 1


def test_a_release_without_a_candidate_output_is_an_error_not_an_empty_candidate(capsys):
    """An empty candidate makes CI run the stack without one, which withdraws the release resources."""
    older = {
        "workspaces": {"hatespeech": {"release": {"candidate_version": "0a1b2c3d4e5f", "live_version": "0a1b2c3d4e5f"}}}
    }
    code, out, err = run(["prod", "hatespeech", "candidate"], json.dumps(older), capsys)
    assert code == 2 and out == ""
    assert err.startswith(
        "error: workspace 'hatespeech' has a release (live version 0a1b2c3d4e5f) but its outputs name no"
    )
    assert run(["prod", "hatespeech", "candidate_version"], json.dumps(older), capsys) == (0, "0a1b2c3d4e5f\n", "")
