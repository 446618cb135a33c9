import pytest

from model.settings import PRESETS, TrainSettings, parse_bool


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
        ({"epochs": 0}, r"epochs is 0; accepted: an integer >= 1"),
        ({"validation_fraction": 1.0}, r"validation_fraction is 1.0; accepted: a number strictly between 0 and 1"),
        ({"learning_rate": -1.0}, r"learning_rate is -1.0; accepted: a number > 0"),
        ({"mlm_epochs": -2}, r"mlm_epochs is -2; accepted: an integer >= 0"),
        ({"vocab_size": 5}, r"vocab_size is 5; accepted: an integer >= 10"),
        ({"label_smoothing": 1.0}, r"label_smoothing is 1.0; accepted: a number in \[0, 1\)"),
        ({"label_smoothing": -0.1}, r"label_smoothing is -0.1; accepted: a number in \[0, 1\)"),
    ],
)
def test_bad_settings_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        TrainSettings(**overrides)


@pytest.mark.parametrize("text, value", [("true", True), (" Yes", True), ("ON", True), ("1", True),
                                         ("false", False), ("no", False), ("off", False), ("0", False)])
def test_boolean_settings_read_from_text(text, value):
    assert parse_bool(text) is value


@pytest.mark.parametrize("text", ["ture", "2", "", "enabled"])
def test_a_boolean_setting_that_is_not_a_boolean_is_refused(text):
    with pytest.raises(ValueError, match=r"is not a boolean; accepted: true/false, yes/no, on/off, 1/0"):
        parse_bool(text)
