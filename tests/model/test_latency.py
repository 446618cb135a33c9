"""The latency measurement behind the guardrail, on fake classifiers whose latency is injected
through a fake clock (no sleeps): call order, robustness to load, repetitions, and what compare
records of it."""

import functools

import numpy as np
import pytest

import model.compare
from model.compare import CompareSettings, compare_on
from model.data import load_dataset
from model.evaluate import single_text_latency_ms
from model.synthetic import write_synthetic_csv

TEXTS = [f"texto {i}" for i in range(20)]


class Machine:
    """A fake clock shared by fake classifiers. From call number `busy_from` on (counting every
    call of every classifier), each call takes `busy_factor` times longer: load arriving mid-measurement."""

    def __init__(self, busy_from: int | None = None, busy_factor: float = 3.0):
        self.now = 0.0
        self.calls: list[tuple[str, str]] = []
        self.busy_from = busy_from
        self.busy_factor = busy_factor

    def clock(self) -> float:
        return self.now

    def run(self, name: str, text: str, ms: float) -> None:
        busy = self.busy_from is not None and len(self.calls) >= self.busy_from
        self.calls.append((name, text))
        self.now += ms * (self.busy_factor if busy else 1.0) / 1000.0


class FakeClassifier:
    """Takes `ms` per text (a number, or one number per call in order) on `machine`'s clock."""

    def __init__(self, name: str, ms, machine: Machine, threshold: float = 0.5, probabilities=None):
        self.name, self.machine, self.threshold = name, machine, threshold
        self.ms = iter(ms) if isinstance(ms, list) else None
        self.fixed_ms = None if isinstance(ms, list) else ms
        self.probabilities = probabilities or {}

    def predict_proba(self, texts):
        for text in texts:
            self.machine.run(self.name, text, self.fixed_ms if self.ms is None else next(self.ms))
        return np.array([self.probabilities.get(text, 0.5) for text in texts])


def test_turns_alternate_in_order_text_by_text_across_passes():
    machine = Machine()
    champion, challenger = FakeClassifier("champion", 1.0, machine), FakeClassifier("challenger", 1.0, machine)
    single_text_latency_ms([champion, challenger], TEXTS[:3], repeats=2, warmup=1, clock=machine.clock)
    warmup, timed = machine.calls[:2], machine.calls[2:]
    assert warmup == [("champion", "texto 0"), ("challenger", "texto 0")]
    assert timed == [
        ("champion", "texto 0"),
        ("challenger", "texto 0"),
        ("challenger", "texto 1"),
        ("champion", "texto 1"),
        ("champion", "texto 2"),
        ("challenger", "texto 2"),
        ("challenger", "texto 0"),
        ("champion", "texto 0"),  # the second pass goes on alternating
        ("champion", "texto 1"),
        ("challenger", "texto 1"),
        ("challenger", "texto 2"),
        ("champion", "texto 2"),
    ]


def test_load_arriving_mid_measurement_hits_both_alike():
    """The machine gets 3x slower for the last 45 % of the timed calls. Measured one model after the
    other, the challenger would take nearly all the slow calls (factor 3.6); interleaved, each model
    gets under half of them, so the medians stay the models' own latencies."""
    repeats, warmup = 5, 3
    timed_calls = 2 * len(TEXTS) * repeats
    machine = Machine(busy_from=2 * warmup + int(timed_calls * 0.55))
    champion, challenger = FakeClassifier("champion", 1.0, machine), FakeClassifier("challenger", 1.2, machine)
    champion_ms, challenger_ms = single_text_latency_ms(
        [champion, challenger], TEXTS, repeats=repeats, warmup=warmup, clock=machine.clock
    )
    assert champion_ms == pytest.approx(1.0)
    assert challenger_ms == pytest.approx(1.2)


def test_every_pass_is_timed_and_slow_calls_do_not_move_the_median():
    machine = Machine()
    repeats, warmup = 3, 3
    stalls = [500.0 if call % 3 == 0 else 2.0 for call in range(len(TEXTS) * repeats)]  # a third of the calls
    champion = FakeClassifier("champion", 2.0, machine)
    challenger = FakeClassifier("challenger", [2.0] * warmup + stalls, machine)
    latencies = single_text_latency_ms(
        [champion, challenger], TEXTS, repeats=repeats, warmup=warmup, clock=machine.clock
    )
    assert latencies == [pytest.approx(2.0), pytest.approx(2.0)]
    assert [name for name, _ in machine.calls].count("champion") == warmup + len(TEXTS) * repeats


@pytest.mark.parametrize("repeats", [0, -1, 1.5, True])
def test_repeats_must_be_a_positive_integer(repeats):
    machine = Machine()
    with pytest.raises(ValueError, match=f"latency repeats is {repeats!r}; accepted: an integer >= 1"):
        single_text_latency_ms([FakeClassifier("a", 1.0, machine)], TEXTS, repeats=repeats, clock=machine.clock)


def test_compare_measures_with_the_settings_and_records_them(tmp_path, monkeypatch):
    dataset = load_dataset(write_synthetic_csv(tmp_path / "data.csv", n_rows=60, seed=3))
    truth = {text: 0.9 if label else 0.1 for text, label in zip(dataset.texts, dataset.labels, strict=False)}
    machine = Machine()
    fakes = {
        "champion-dir": FakeClassifier("champion", 0.3, machine, probabilities=truth),
        "challenger-dir": FakeClassifier("challenger", 0.6, machine, probabilities=truth),
    }
    monkeypatch.setattr(model.compare, "load_classifier", lambda folder, precision: fakes[folder])
    monkeypatch.setattr(
        model.compare, "single_text_latency_ms", functools.partial(single_text_latency_ms, clock=machine.clock)
    )
    settings = CompareSettings(latency_texts=8, latency_repeats=4, latency_tolerance_ms=0.25)

    decision = compare_on("champion-dir", "challenger-dir", dataset, settings)

    latency = decision["guardrails"]["latency"]
    assert latency == {
        "passed": False,
        "factor": pytest.approx(2.0),
        "slower_by_ms": pytest.approx(0.3),
        "champion_ms": pytest.approx(0.3),
        "challenger_ms": pytest.approx(0.6),
        "limit": 1.5,
        "tolerance_ms": 0.25,
        "repeats": 4,
    }
    assert decision["settings"]["latency_repeats"] == 4 and decision["settings"]["latency_tolerance_ms"] == 0.25
    # 3 warmups and 8 latency texts in 4 passes, then the whole data set once for the metrics
    assert [name for name, _ in machine.calls].count("champion") == 3 + 8 * 4 + len(dataset.texts)
