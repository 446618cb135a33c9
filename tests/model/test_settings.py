import pytest

from model.settings import PRESETS, SplitSettings, TrainSettings, parse_bool


def test_preset_fills_the_fields_left_unset():
    settings = TrainSettings(preset="tiny", epochs=3)
    assert settings.epochs == 3
    assert settings.hidden_size == PRESETS["tiny"]["hidden_size"]
    assert TrainSettings().hidden_size == PRESETS["default"]["hidden_size"]
    assert settings.num_threads >= 1


def test_every_preset_is_complete_and_valid():
    for name in PRESETS:
        settings = TrainSettings(preset=name)
        assert all(value is not None for key, value in settings.as_dict().items() if key != "max_seconds")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"preset": "huge"}, r"preset is 'huge'; accepted: \['default', 'tiny'\]"),
        ({"hidden_size": 30, "num_heads": 4}, r"hidden_size is 30; accepted: a multiple of num_heads \(4\)"),
        ({"epochs": 0}, r"epochs is 0; accepted: an integer in \[1, 1000\]"),
        ({"epochs": 10**6}, r"epochs is 1000000; accepted: an integer in \[1, 1000\]"),
        ({"epochs": 2.0}, r"epochs is 2.0; accepted: an integer in \[1, 1000\]"),
        ({"validation_fraction": 1.0}, r"validation_fraction is 1.0; accepted: a finite number in \(0, 1\)"),
        ({"learning_rate": -1.0}, r"learning_rate is -1.0; accepted: a finite number in \(0, 1\]"),
        ({"learning_rate": float("inf")}, r"learning_rate is inf; accepted: a finite number in \(0, 1\]"),
        ({"learning_rate": float("nan")}, r"learning_rate is nan; accepted: a finite number in \(0, 1\]"),
        ({"learning_rate": "0.1"}, r"learning_rate is '0.1'; accepted: a finite number"),
        ({"dropout": float("nan")}, r"dropout is nan; accepted: a finite number in \[0, 1\)"),
        ({"max_seconds": float("inf")}, r"max_seconds is inf; accepted: a finite number in \(0, 10000000\], or None"),
        ({"max_seconds": 0}, r"max_seconds is 0; accepted: a finite number in \(0, 10000000\], or None"),
        ({"mlm_epochs": -2}, r"mlm_epochs is -2; accepted: an integer in \[0, 1000\]"),
        ({"vocab_size": 5}, r"vocab_size is 5; accepted: an integer in \[10, 1000000\]"),
        ({"vocab_size": 10**500}, r"vocab_size is 1000000000000000000000000000000000000\.\.\.; accepted"),
        ({"seed": -1}, r"seed is -1; accepted: an integer in \[0, 4294967295\]"),
        ({"num_threads": True}, r"num_threads is True; accepted: an integer in \[1, 1024\]"),
        ({"strip_accents": "yes"}, r"strip_accents is 'yes'; accepted: true or false"),
        ({"label_smoothing": 1.0}, r"label_smoothing is 1.0; accepted: a finite number in \[0, 1\)"),
        ({"label_smoothing": -0.1}, r"label_smoothing is -0.1; accepted: a finite number in \[0, 1\)"),
    ],
)
def test_bad_settings_are_named(overrides, message):
    with pytest.raises(ValueError, match="training setting " + message):
        TrainSettings(**overrides)


def test_every_number_a_training_setting_takes_is_bounded():
    from dataclasses import fields

    from model.settings import TRAIN_BOUNDS

    numbers = {f.name for f in fields(TrainSettings) if str(f.type).split("|")[0].strip() in ("int", "float")}
    assert numbers == set(TRAIN_BOUNDS)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"fraction": 0.0}, r"split setting fraction is 0.0; accepted: a finite number in \(0, 1\)"),
        ({"fraction": float("nan")}, r"split setting fraction is nan; accepted: a finite number in \(0, 1\)"),
        ({"seed": -3}, r"split setting seed is -3; accepted: an integer in \[0, 4294967295\]"),
    ],
)
def test_bad_split_settings_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        SplitSettings(**overrides)


@pytest.mark.parametrize(
    "text, value",
    [
        ("true", True),
        (" Yes", True),
        ("ON", True),
        ("1", True),
        ("false", False),
        ("no", False),
        ("off", False),
        ("0", False),
    ],
)
def test_boolean_settings_read_from_text(text, value):
    assert parse_bool(text) is value


@pytest.mark.parametrize("text", ["ture", "2", "", "enabled"])
def test_a_boolean_setting_that_is_not_a_boolean_is_refused(text):
    with pytest.raises(ValueError, match=r"is not a boolean; accepted: true/false, yes/no, on/off, 1/0"):
        parse_bool(text)
