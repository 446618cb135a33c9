"""Training and split settings: named presets plus explicit overrides, checked before any work starts.

Every number a setting takes is bounded and finite (TRAIN_BOUNDS); one rule, `check_numbers`, checks them."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Any

# Each preset gives every field that is left as None. "default" is tuned for the real dataset
# (about 4,500 tweets, at most ~55 WordPiece tokens each) to train in a few minutes on 2 CPU cores;
# its values were chosen by macro-F1 on the validation split inside the training part (never on
# held-out rows). Masked-LM pre-training is off by default: it lowered validation macro-F1
# (8 epochs: 0.809 against 0.812 without; 10 epochs at dropout 0.1: 0.771 against 0.801 without).
# Label smoothing 0.1 is the exception: it was picked by the five-fold benchmark itself (held-out
# macro-F1 0.797 ± 0.009 against 0.789 ± 0.021 without), among four changes tried that way, so that
# benchmark figure carries the selection.
PRESETS: dict[str, dict] = {
    "default": dict(
        validation_fraction=0.15,
        vocab_size=16000,
        min_frequency=2,
        max_length=64,
        strip_accents=True,
        hidden_size=128,
        num_layers=2,
        num_heads=2,
        intermediate_size=512,
        dropout=0.3,
        mlm_epochs=0,
        mlm_learning_rate=1e-3,
        mlm_probability=0.15,
        epochs=16,
        batch_size=32,
        learning_rate=2e-4,
        weight_decay=0.01,
        warmup_fraction=0.1,
        patience=4,
        class_weighted=True,
        label_smoothing=0.1,
        threshold_tolerance=0.005,
        max_seconds=None,
        onnx_exporter="dynamo",
    ),
    "tiny": dict(
        validation_fraction=0.2,
        vocab_size=300,
        min_frequency=1,
        max_length=32,
        strip_accents=True,
        hidden_size=64,
        num_layers=1,
        num_heads=2,
        intermediate_size=128,
        dropout=0.0,
        mlm_epochs=0,
        mlm_learning_rate=1e-3,
        mlm_probability=0.15,
        epochs=12,
        batch_size=16,
        learning_rate=2e-3,
        weight_decay=0.0,
        warmup_fraction=0.1,
        patience=4,
        class_weighted=True,
        label_smoothing=0.0,
        threshold_tolerance=0.01,
        max_seconds=None,
        onnx_exporter="torchscript",
    ),
}
# What each preset is for, as `--help` says it. serving/classifier.py (SMOKE_TEST_PRESETS) warns when
# a model trained with a "smoke tests only" preset is loaded.
PRESET_PURPOSES: dict[str, str] = {
    "default": "tuned for the real dataset (about 4,500 tweets) on CPUs",
    "tiny": "smoke tests only: trains in seconds on the synthetic data of the tests, not a usable model",
}


def parse_bool(text: str) -> bool:
    """A boolean setting given as text (command line, `--set`): true/false, yes/no, on/off, 1/0."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{text!r} is not a boolean; accepted: true/false, yes/no, on/off, 1/0")


@dataclass(frozen=True)
class Bounds:
    """The numbers a setting accepts: an integer, or a finite number, from `low` to `high`; an open
    end excludes its limit. The upper limits catch typos and runaway values, they are not tuning advice."""

    integer: bool
    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    optional: bool = False  # None is accepted too

    def accepts(self, value) -> bool:
        if value is None:
            return self.optional
        if isinstance(value, bool) or not isinstance(value, int if self.integer else (int, float)):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self) -> str:
        interval = f"{'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"
        return f"{'an integer' if self.integer else 'a finite number'} in {interval}" + (
            ", or None" if self.optional else ""
        )


def shown(value, limit: int = 40) -> str:
    """repr(value), shortened to `limit` characters for an error message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def check_numbers(settings, bounds: dict[str, Bounds], kind: str) -> None:
    """ValueError naming the first setting of `settings` outside its `bounds`, and what is accepted."""
    for name, accepted in bounds.items():
        value = getattr(settings, name)
        if not accepted.accepts(value):
            raise ValueError(f"{kind} setting {name} is {shown(value)}; accepted: {accepted.describe()}")


def _integers(low, high) -> Bounds:
    return Bounds(True, low, high)


FRACTION = Bounds(False, 0, 1, low_open=True, high_open=True)
SHARE = Bounds(False, 0, 1, high_open=True)  # 0 allowed, 1 not
RATE = Bounds(False, 0, 1, low_open=True)
SEED = _integers(0, 2**32 - 1)  # what numpy's np.random.seed accepts

TRAIN_BOUNDS: dict[str, Bounds] = {
    "seed": SEED,
    "validation_fraction": FRACTION,
    "vocab_size": _integers(10, 1_000_000),  # the 5 special tokens need room
    "min_frequency": _integers(1, 1_000_000),
    "max_length": _integers(3, 4096),  # [CLS], one token, [SEP]
    "hidden_size": _integers(1, 4096),
    "num_layers": _integers(1, 48),
    "num_heads": _integers(1, 64),
    "intermediate_size": _integers(1, 16384),
    "dropout": SHARE,
    "mlm_epochs": _integers(0, 1000),
    "mlm_learning_rate": RATE,
    "mlm_probability": FRACTION,
    "epochs": _integers(1, 1000),
    "batch_size": _integers(1, 65536),
    "learning_rate": RATE,
    "weight_decay": Bounds(False, 0, 1),
    "warmup_fraction": SHARE,
    "patience": _integers(1, 1000),
    "label_smoothing": SHARE,
    "threshold_tolerance": SHARE,
    "max_seconds": Bounds(False, 0, 10**7, low_open=True, optional=True),  # about 116 days
    "num_threads": _integers(1, 1024),
}


def cpus_per_process(environ=os.environ) -> int:
    """The CPUs this process may use, shared with the other training processes torchrun started on
    this node (its LOCAL_WORLD_SIZE; torch/distributed/run.py): the default of num_threads."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    local = environ.get("LOCAL_WORLD_SIZE", "")
    processes = int(local) if local.isdecimal() and int(local) > 0 else 1
    return max(1, cpus // processes)


def _setting(default: Any, meaning: str) -> Any:
    """A settings field with what it means: the one description `--help` shows (model/__main__.py)."""
    return dataclasses.field(default=default, metadata={"meaning": meaning})


def meaning(settings_field: dataclasses.Field) -> str:
    """What a settings field means, as `_setting` recorded it ("" when it has no description)."""
    return settings_field.metadata.get("meaning", "")


@dataclass(frozen=True)
class SplitSettings:
    """How `python -m model split` divides a labelled CSV."""

    fraction: float = _setting(0.2, "share of each class held out for evaluation")
    seed: int = _setting(0, "seed of the stratified shuffle")

    def __post_init__(self):
        check_numbers(self, {"fraction": FRACTION, "seed": SEED}, "split")


# The default of a TrainSettings field that its preset fills in: None at run time, which __post_init__
# replaces. Typed Any so that each field can declare the type it has after construction, which is what
# every reader of a TrainSettings gets.
FROM_PRESET: Any = None


@dataclass(frozen=True)
class TrainSettings:
    """How to train. A field left as None takes the value of `preset` (see PRESETS); each field is typed
    as it holds once __post_init__ has filled it in. Each field's meaning is its `_setting` text."""

    preset: str = _setting("default", "named defaults of the settings below, one of the presets listed at the end")
    seed: int = _setting(0, "seed of the validation split, the initial weights, the batch order and the masking")
    validation_fraction: float = _setting(
        FROM_PRESET, "share of the data held out (stratified) for early stopping and the decision threshold"
    )
    # tokenizer
    vocab_size: int = _setting(FROM_PRESET, "WordPiece vocabulary size of the tokenizer trained on the training texts")
    min_frequency: int = _setting(
        FROM_PRESET, "occurrences a token needs in the training texts to enter the vocabulary"
    )
    max_length: int = _setting(FROM_PRESET, "token ids per text, [CLS] and [SEP] included; longer texts are cut")
    strip_accents: bool = _setting(FROM_PRESET, "strip accents before tokenizing")
    # network (BertConfig)
    hidden_size: int = _setting(FROM_PRESET, "width of the BERT encoder (a multiple of num_heads)")
    num_layers: int = _setting(FROM_PRESET, "transformer layers of the encoder")
    num_heads: int = _setting(FROM_PRESET, "attention heads per layer")
    intermediate_size: int = _setting(FROM_PRESET, "width of each layer's feed-forward block")
    dropout: float = _setting(FROM_PRESET, "dropout probability of the hidden layers and the attention")
    # masked-language-model pre-training on the training texts (0 epochs = skip)
    mlm_epochs: int = _setting(FROM_PRESET, "epochs of masked-LM pre-training on the training texts; 0 skips it")
    mlm_learning_rate: float = _setting(FROM_PRESET, "peak learning rate of the masked-LM pre-training")
    mlm_probability: float = _setting(FROM_PRESET, "share of the tokens the masked-LM pre-training masks")
    # classification fine-tuning
    epochs: int = _setting(FROM_PRESET, "fine-tuning epochs at most (early stopping may end sooner)")
    batch_size: int = _setting(FROM_PRESET, "texts per optimiser step (the whole batch of all ranks under DDP)")
    learning_rate: float = _setting(FROM_PRESET, "peak AdamW learning rate of the fine-tuning")
    weight_decay: float = _setting(FROM_PRESET, "AdamW weight decay (not on biases and LayerNorm weights)")
    warmup_fraction: float = _setting(
        FROM_PRESET, "share of the steps over which the learning rate rises linearly (then falls to 0)"
    )
    patience: int = _setting(FROM_PRESET, "epochs without a better validation macro-F1 before stopping")
    class_weighted: bool = _setting(FROM_PRESET, "weight the loss by inverse class frequency")
    label_smoothing: float = _setting(
        FROM_PRESET, "share of each target spread over both classes (torch CrossEntropyLoss)"
    )
    threshold_tolerance: float = _setting(
        FROM_PRESET, "validation macro-F1 given up to keep the decision threshold nearer 0.5"
    )
    max_seconds: float | None = _setting(None, "stop fine-tuning after this wall time in seconds (none = no limit)")
    num_threads: int = _setting(
        FROM_PRESET,
        "torch CPU threads; unset, the CPUs this process may use (os.sched_getaffinity) divided among the "
        "processes torchrun started on this node (LOCAL_WORLD_SIZE). The content version can depend on it "
        "(float rounding): pass it where a version must be reproducible",
    )
    onnx_exporter: str = _setting(FROM_PRESET, "'dynamo' or 'torchscript' (model.export.export_fp32)")

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise ValueError(f"training setting preset is {shown(self.preset)}; accepted: {sorted(PRESETS)}")
        for name, value in PRESETS[self.preset].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if self.num_threads is None:
            object.__setattr__(self, "num_threads", cpus_per_process())
        self._check()

    def _check(self):
        def require(name, condition, accepted):
            if not condition:
                raise ValueError(f"training setting {name} is {shown(getattr(self, name))}; accepted: {accepted}")

        check_numbers(self, TRAIN_BOUNDS, "training")
        require("hidden_size", self.hidden_size % self.num_heads == 0, f"a multiple of num_heads ({self.num_heads})")
        for name in ("strip_accents", "class_weighted"):
            require(name, isinstance(getattr(self, name), bool), "true or false")
        require("onnx_exporter", self.onnx_exporter in ("dynamo", "torchscript"), "'dynamo' or 'torchscript'")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
