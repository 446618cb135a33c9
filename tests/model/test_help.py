"""`python -m model <command> --help` (issue 18 item 4): every setting with its meaning and default, and the presets."""

import dataclasses
import re

import pytest

from model.__main__ import main
from model.compare_settings import CompareSettings
from model.settings import PRESET_PURPOSES, PRESETS, SplitSettings, TrainSettings, cpus_per_process, meaning


def help_text(capsys, *argv) -> str:
    """The --help output of a command, its lines joined (argparse wraps them to the terminal's width)."""
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def option_help(text: str, name: str) -> str:
    """What the options section says of --<name>, up to the next option."""
    options = text.split(" options: ", 1)[1]
    found = re.search(rf"(?:^| )--{name.replace('_', '-')} (.*?)(?= --[a-z]| presets \(|$)", options)
    assert found, f"--help has no --{name.replace('_', '-')}"
    return found.group(1)


def as_option(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)


@pytest.mark.parametrize("command", ["train", "submit"])
def test_every_training_setting_says_what_it_means_and_its_default_in_each_preset(capsys, command):
    text = help_text(capsys, command)
    for field in dataclasses.fields(TrainSettings):
        described = option_help(text, field.name)
        assert meaning(field) and meaning(field) in described, field.name
        default = described.rsplit("(default: ", 1)[1]
        if field.name == "num_threads":
            assert default == f"{cpus_per_process()} on this machine)"
        elif field.name in PRESETS["default"]:
            values = {preset: as_option(PRESETS[preset][field.name]) for preset in PRESETS}
            if len(set(values.values())) == 1:
                assert default == f"{values['default']} in every preset)", field.name
            else:
                assert default == ", ".join(f"{v} with preset {p}" for p, v in values.items()) + ")", field.name
        else:
            assert default == f"{as_option(field.default)})", field.name
    assert (
        "--epochs N fine-tuning epochs at most (early stopping may end sooner) (default: 16 with preset default, "
        in text
    )


@pytest.mark.parametrize("command", ["train", "submit"])
def test_help_lists_the_presets_and_what_each_is_for(capsys, command):
    text = help_text(capsys, command)
    presets = text.split(" presets (--preset NAME): ", 1)[1]
    assert set(PRESET_PURPOSES) == set(PRESETS)
    for name, purpose in PRESET_PURPOSES.items():
        assert f" {name} {purpose}" in f" {presets}"
    assert "tiny smoke tests only" in presets


def test_train_help_says_where_progress_goes(capsys):
    text = help_text(capsys, "train")
    assert "a bar on a terminal, elsewhere (a CI log) one line per epoch" in text
    assert "--quiet no progress output" in text


@pytest.mark.parametrize("command, settings_class", [("compare", CompareSettings), ("split", SplitSettings)])
def test_compare_and_split_settings_say_what_they_mean_and_their_default(capsys, command, settings_class):
    text = help_text(capsys, command)
    for field in dataclasses.fields(settings_class):
        described = option_help(text, field.name)
        assert meaning(field) and described.endswith(f"{meaning(field)} (default: {as_option(field.default)})"), (
            field.name
        )


def test_the_presets_serving_warns_about_are_the_smoke_test_presets():
    from serving.classifier import SMOKE_TEST_PRESETS, smoke_test_warning

    assert set(SMOKE_TEST_PRESETS) <= set(PRESETS)
    for name, purpose in PRESET_PURPOSES.items():
        assert (name in SMOKE_TEST_PRESETS) is purpose.startswith("smoke tests only"), name
        assert (smoke_test_warning({"settings": {"preset": name}}) is not None) is (name in SMOKE_TEST_PRESETS)
    assert smoke_test_warning({"settings": {"preset": "tiny"}}) == "trained with the tiny preset: smoke tests only"
    assert smoke_test_warning({"labels": ["no-hate", "hate"]}) is None  # settings are outside the version


def test_torch_threads_default_to_this_process_share_of_the_cpus(monkeypatch):
    import os

    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    cpus = len(os.sched_getaffinity(0))
    assert TrainSettings(preset="tiny").num_threads == cpus == cpus_per_process()
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")  # torchrun started two processes on this node
    assert TrainSettings(preset="tiny").num_threads == max(1, cpus // 2)
    assert TrainSettings(preset="tiny", num_threads=3).num_threads == 3
