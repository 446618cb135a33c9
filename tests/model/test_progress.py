"""Training output (issue 18 item 4): a bar on a terminal, one line per epoch in a CI log, nothing when quiet.

A CI log is stderr as a pipe or a file; the tests stand in for it with a StringIO (isatty() False) and for a
terminal with a StringIO whose isatty() is True, which tqdm draws its bar into.
"""

import io
import re

import numpy as np
import pytest
import torch

from model.loops import finetune, pretrain_mlm
from model.network import bert_config, classifier, masked_lm
from model.progress import Progress
from model.settings import TrainSettings
from model.synthetic import synthetic_rows
from model.tokenizer import MASK, PAD, SPECIAL_TOKENS, train_tokenizer

NUMBER = r"\d+\.\d{4}"
FINE_TUNING_LINE = re.compile(
    rf"fine-tuning epoch (\d+)/(\d+): loss ({NUMBER}), val_loss ({NUMBER}), val_macro_f1 ({NUMBER}), "
    rf"threshold ({NUMBER}), elapsed (\d+\.\d) s"
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def bar_frames(text: str) -> list[str]:
    """The successive states of a tqdm bar drawn into a stream (each redraw starts with a carriage return)."""
    return [frame for frame in text.split("\r") if frame.strip()]


def test_without_a_terminal_each_epoch_is_one_line_and_steps_print_nothing():
    stream = io.StringIO()
    with Progress(4, 2, "fine-tuning", quiet=False, stream=stream) as progress:
        progress.step(1, 0.9)
        progress.step(1, 0.7)
        assert stream.getvalue() == ""
        progress.epoch_done(1, 0.8, val_loss=0.5, val_macro_f1=0.75, threshold=0.5)
        progress.step(2, 0.4)
        progress.epoch_done(2, 0.35, val_loss=0.25, val_macro_f1=0.875, threshold=0.4375)
    lines = stream.getvalue().splitlines()
    assert [FINE_TUNING_LINE.fullmatch(line).groups()[:6] for line in lines] == [
        ("1", "2", "0.8000", "0.5000", "0.7500", "0.5000"),
        ("2", "2", "0.3500", "0.2500", "0.8750", "0.4375"),
    ]
    assert "\r" not in stream.getvalue()


def test_quiet_prints_nothing_with_or_without_a_terminal():
    for stream in (io.StringIO(), Terminal()):
        with Progress(2, 1, "fine-tuning", quiet=True, stream=stream) as progress:
            progress.step(1, 0.9)
            progress.epoch_done(1, 0.9, val_macro_f1=0.5)
        assert stream.getvalue() == ""


def test_on_a_terminal_the_bar_shows_a_validation_figure_only_once_there_is_one():
    stream = Terminal()
    with Progress(4, 2, "fine-tuning", quiet=False, stream=stream) as progress:
        progress.step(1, 0.9)
        progress.step(1, 0.7)
        before = bar_frames(stream.getvalue())
        progress.epoch_done(1, 0.8, val_macro_f1=0.75)
        progress.step(2, 0.4)
    frames = bar_frames(stream.getvalue())
    assert before and all("val_macro_f1" not in frame for frame in before)
    assert any("loss=0.700" in frame for frame in before)
    after = frames[len(before) :]
    assert any("val_macro_f1=0.750" in frame and "loss=0.400" in frame for frame in after)
    assert not FINE_TUNING_LINE.search(stream.getvalue()) and "epoch 1/2:" not in stream.getvalue()


@pytest.fixture(scope="module")
def small_task():
    """A tiny network and 80 synthetic rows, tokenized: one fine-tuning epoch takes a fraction of a second."""
    rows = synthetic_rows(80, seed=5)
    texts, labels = [row["text"] for row in rows], np.array([row["hate"] for row in rows])
    settings = TrainSettings(preset="tiny", epochs=2, patience=5, num_threads=1)
    tokenizer = train_tokenizer(texts, settings.vocab_size, settings.max_length, settings.min_frequency)
    sequences = [encoding.ids for encoding in tokenizer.encode_batch(texts)]
    config = bert_config(settings, tokenizer.get_vocab_size(), tokenizer.token_to_id(PAD))
    return settings, tokenizer, config, sequences, labels


def fine_tune(small_task, monkeypatch, stderr):
    settings, tokenizer, config, sequences, labels = small_task
    monkeypatch.setattr("sys.stderr", stderr)
    torch.manual_seed(0)
    pad_id = tokenizer.token_to_id(PAD)
    return finetune(
        classifier(config), sequences[:60], labels[:60], sequences[60:], labels[60:], settings, pad_id, "cpu", False
    )


def test_fine_tuning_logs_one_line_per_epoch_with_its_figures_when_stderr_is_not_a_terminal(small_task, monkeypatch):
    stderr = io.StringIO()
    fit = fine_tune(small_task, monkeypatch, stderr)
    lines = stderr.getvalue().splitlines()
    assert len(lines) == fit.epochs_run == 2
    for line, epoch in zip(lines, fit.history, strict=True):
        number, epochs, loss, val_loss, val_macro_f1, threshold, _ = FINE_TUNING_LINE.fullmatch(line).groups()
        assert (int(number), int(epochs)) == (epoch["epoch"], 2)
        assert float(loss) == pytest.approx(epoch["train_loss"], abs=5e-5)
        assert float(val_loss) == pytest.approx(epoch["val_loss"], abs=5e-5)
        assert float(val_macro_f1) == pytest.approx(epoch["val_macro_f1"], abs=5e-5)
        assert float(threshold) == pytest.approx(epoch["threshold"], abs=5e-5)


def test_fine_tuning_bar_has_no_validation_figure_before_the_first_validation(small_task, monkeypatch):
    stderr = Terminal()
    fit = fine_tune(small_task, monkeypatch, stderr)
    frames = bar_frames(stderr.getvalue())
    first_validated = next(i for i, frame in enumerate(frames) if "val_macro_f1" in frame)
    assert any("loss=" in frame for frame in frames[:first_validated]), "a validation figure before any validation"
    assert f"val_macro_f1={fit.history[0]['val_macro_f1']:.3f}" in frames[first_validated]  # epoch 1's, once known


def test_masked_lm_pre_training_logs_one_line_per_epoch(small_task, monkeypatch):
    settings, tokenizer, config, sequences, _ = small_task
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    special = {tokenizer.token_to_id(token) for token in SPECIAL_TOKENS}
    mlm = TrainSettings(preset="tiny", mlm_epochs=2, num_threads=1)
    losses = pretrain_mlm(
        masked_lm(config),
        sequences,
        mlm,
        tokenizer.token_to_id(PAD),
        tokenizer.token_to_id(MASK),
        special,
        "cpu",
        False,
    )
    lines = stderr.getvalue().splitlines()
    assert len(lines) == len(losses) == 2
    for number, (line, loss) in enumerate(zip(lines, losses, strict=True), start=1):
        found = re.fullmatch(rf"mlm pre-training epoch {number}/2: loss ({NUMBER}), elapsed \d+\.\d s", line)
        assert found and float(found.group(1)) == pytest.approx(loss, abs=5e-5)
