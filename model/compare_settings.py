"""The settings of a champion/challenger comparison: their defaults and accepted ranges, defined once.

`model.compare` decides with a `CompareSettings`; the stack settings (stacks/settings.py) take the
defaults and ranges of a release's comparison fields (alpha, minDelta, ...) from the fields here,
so a stack file and the comparison accept the same values and say so in the same words.
Standard library only: stacks/ and the release providers import it without numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

METRIC_NAMES = ("macro_f1", "f1_hate", "precision_hate", "recall_hate", "roc_auc", "accuracy")
PRECISIONS = ("int8", "fp32")


@dataclass(frozen=True)
class Bounds:
    """The numbers a setting accepts, and how to say it (`accepted`)."""

    noun: str  # what the value is: "a number", "a whole number", "milliseconds"...
    low: float
    high: float | None = None
    low_included: bool = True
    high_included: bool = True
    whole: bool = False

    def admits(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int if self.whole else (int, float)):
            return False
        above = value >= self.low if self.low_included else value > self.low
        below = self.high is None or (value <= self.high if self.high_included else value < self.high)
        return above and below

    @property
    def accepted(self) -> str:
        low, high = f"{self.low:g}", f"{self.high:g}" if self.high is not None else None
        if high is None:
            return f"{self.noun} {'of at least' if self.low_included else 'above'} {low}"
        if not self.low_included and not self.high_included:
            return f"{self.noun} strictly between {low} and {high}"
        if not self.high_included:
            return f"{self.noun} from {low} up to (not including) {high}"
        return f"{self.noun} from {low} to {high}"


def _bounded(default: Any, bounds: Bounds, meaning: str) -> Any:
    return field(default=default, metadata={"bounds": bounds, "meaning": meaning})


def _described(default: Any, meaning: str) -> Any:
    return field(default=default, metadata={"meaning": meaning})


FRACTION = Bounds("a number", 0, 1, high_included=False)


@dataclass(frozen=True)
class CompareSettings:
    """Each field's "meaning" is what `--help` says of it (model/__main__.py)."""

    alpha: float = _bounded(
        0.05,
        Bounds("a significance level", 0, 1, low_included=False, high_included=False),
        "significance level of McNemar's test on the rows where exactly one model is right",
    )
    min_delta: float = _bounded(
        0.01, FRACTION, "gain in the primary metric a challenger needs when the test cannot separate the two"
    )
    primary_metric: str = _described("macro_f1", f"the metric that decides, one of {', '.join(METRIC_NAMES)}")
    max_category_recall_drop: float = _bounded(
        0.05, FRACTION, "largest drop of hate recall allowed on any category column (guardrail)"
    )
    max_latency_factor: float = _bounded(
        1.5, Bounds("a number", 1), "challenger's single-text latency at most this times the champion's (guardrail)"
    )
    min_primary_metric: float = _bounded(
        0.5, Bounds("a number", 0, 1), "floor of the challenger's primary metric (guardrail, also without a champion)"
    )
    min_category_support: int = _bounded(
        20, Bounds("a whole number", 1, whole=True), "hate rows a category needs before its recall is a guardrail"
    )
    exact_test_below: int = _bounded(
        25,
        Bounds("a whole number", 0, whole=True),
        "discordant rows (b + c) below which McNemar is the exact binomial test, not chi-square",
    )
    precision: str = _described("int8", "which ONNX file of each artifact is compared (the served one): int8 or fp32")
    latency_texts: int = _bounded(
        50, Bounds("a whole number", 1, whole=True), "texts of the data (a seeded sample) timed one at a time"
    )
    latency_repeats: int = _bounded(
        10,
        Bounds("a whole number", 1, 100, whole=True),
        "interleaved passes over the latency texts; a model's figure is the median of all its calls",
    )
    latency_tolerance_ms: float = _bounded(
        0.5,
        Bounds("milliseconds", 0, 1000),
        "a challenger slower per text by at most this passes whatever the factor",
    )

    def __post_init__(self):
        def require(name: str, condition: bool, accepted: str) -> None:
            if not condition:
                raise ValueError(f"compare setting {name} is {getattr(self, name)!r}; accepted: {accepted}")

        for name, bounds in BOUNDS.items():
            require(name, bounds.admits(getattr(self, name)), bounds.accepted)
        require("primary_metric", self.primary_metric in METRIC_NAMES, f"one of {list(METRIC_NAMES)}")
        require("precision", self.precision in PRECISIONS, " or ".join(map(repr, PRECISIONS)))


BOUNDS: dict[str, Bounds] = {f.name: f.metadata["bounds"] for f in fields(CompareSettings) if "bounds" in f.metadata}
DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(CompareSettings)}
