"""Every branch of the champion/challenger decision, on constructed predictions."""

import math

import numpy as np
import pytest
from scipy import stats

from model.compare import CompareSettings, decide, mcnemar
from tests.paths import REPO_ROOT

N_POS, N_NEG = 100, 100
Y = np.array([1] * N_POS + [0] * N_NEG)
SEXISM = np.array([1] * 40 + [0] * (N_POS + N_NEG - 40))  # the first 40 hate rows


def probabilities(wrong_rows) -> np.ndarray:
    """P(hate) that is right (0.9 / 0.1) everywhere except on `wrong_rows`."""
    p = np.where(Y == 1, 0.9, 0.1)
    wrong = list(wrong_rows)
    p[wrong] = 1.0 - p[wrong]
    return p


def rows(start, count):
    return list(range(start, start + count))


def run(champion_wrong, challenger_wrong, champion_ms=1.0, challenger_ms=1.0, **settings):
    return decide(
        Y,
        probabilities(challenger_wrong),
        0.5,
        challenger_ms,
        probabilities(champion_wrong),
        0.5,
        champion_ms,
        {"Sexism": SEXISM, "Racism": np.zeros_like(Y)},
        CompareSettings(**settings),
    )


def test_mcnemar_exact_matches_binomial_test():
    y = np.ones(10, dtype=int)
    a = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])  # champion right on the first 3
    b = 1 - a  # challenger right on the other 7
    result = mcnemar(y, a, b)
    assert (result["b"], result["c"], result["method"]) == (3, 7, "exact binomial")
    assert result["p_value"] == pytest.approx(2 * (1 + 10 + 45 + 120) / 1024)
    assert result["p_value"] == pytest.approx(stats.binomtest(3, 10, 0.5).pvalue)


def test_mcnemar_chi_square_with_continuity_correction():
    y = np.ones(40, dtype=int)
    champion = np.array([1] * 10 + [0] * 30)
    challenger = 1 - champion
    result = mcnemar(y, champion, challenger)
    assert (result["b"], result["c"]) == (10, 30)
    assert result["method"] == "chi-square with continuity correction"
    assert result["statistic"] == pytest.approx((20 - 1) ** 2 / 40)
    assert result["p_value"] == pytest.approx(stats.chi2.sf((20 - 1) ** 2 / 40, df=1))


def test_mcnemar_ignores_rows_both_get_right_or_wrong():
    y = np.array([1, 0, 1, 0])
    both = np.array([1, 1, 0, 0])  # right, wrong, wrong, right
    assert mcnemar(y, both, both) == {"b": 0, "c": 0, "statistic": 0.0, "p_value": 1.0, "method": "no discordant pairs"}


def test_significantly_better_challenger_wins():
    # champion misses 30 hate rows outside Sexism, the challenger fixes 28 and breaks 2 no-hate rows
    decision = run(champion_wrong=rows(60, 30), challenger_wrong=rows(60, 2) + rows(150, 2))
    assert decision["mcnemar"]["b"] == 2 and decision["mcnemar"]["c"] == 28
    assert decision["p_value"] < 0.05
    assert decision["winner"] == "challenger"
    assert "significantly better" in decision["reason"]
    assert all(check["passed"] for check in decision["guardrails"].values())


def test_significantly_worse_challenger_loses():
    decision = run(champion_wrong=rows(60, 2), challenger_wrong=rows(60, 30))
    assert decision["p_value"] < 0.05 and decision["delta"] < 0
    assert decision["winner"] == "champion"
    assert "not better" in decision["reason"]


def test_not_separable_but_better_by_min_delta_wins():
    decision = run(champion_wrong=rows(60, 7), challenger_wrong=rows(70, 3))
    assert decision["mcnemar"]["method"] == "exact binomial"
    assert decision["p_value"] >= 0.05
    assert decision["delta"] >= 0.01
    assert decision["winner"] == "challenger"
    assert "not separable" in decision["reason"]


def test_not_separable_and_below_min_delta_loses():
    decision = run(champion_wrong=rows(60, 5), challenger_wrong=rows(70, 4))
    assert decision["p_value"] >= 0.05
    assert 0 < decision["delta"] < 0.01
    assert decision["winner"] == "champion"
    assert "< min_delta" in decision["reason"]


def test_category_recall_guardrail_blocks_a_better_challenger():
    # overall much better, but 5 of the 40 Sexism rows are now missed (recall 1.0 -> 0.875)
    decision = run(champion_wrong=rows(60, 30), challenger_wrong=rows(0, 5))
    assert decision["p_value"] < 0.05 and decision["delta"] > 0
    check = decision["guardrails"]["category_recall_Sexism"]
    assert check["passed"] is False and check["drop"] == pytest.approx(5 / 40) and check["support"] == 40
    assert "category_recall_Racism" not in decision["guardrails"]  # no hate rows: not a guardrail
    assert decision["winner"] == "champion"
    assert "category_recall_Sexism" in decision["reason"]


def test_category_recall_guardrail_allows_a_small_drop():
    decision = run(champion_wrong=rows(60, 30), challenger_wrong=rows(0, 2), max_category_recall_drop=0.05)
    assert decision["guardrails"]["category_recall_Sexism"]["drop"] == pytest.approx(0.05)
    assert decision["winner"] == "challenger"


def better_challenger(champion_ms, challenger_ms, **settings):
    """A challenger that wins on the labels, so the latency guardrail alone decides."""
    return run(
        champion_wrong=rows(60, 30),
        challenger_wrong=rows(60, 2),
        champion_ms=champion_ms,
        challenger_ms=challenger_ms,
        **settings,
    )


def test_latency_guardrail_blocks_a_slow_challenger():
    decision = better_challenger(2.0, 3.2)
    assert decision["guardrails"]["latency"] == {
        "passed": False,
        "factor": pytest.approx(1.6),
        "champion_ms": 2.0,
        "challenger_ms": 3.2,
        "slower_by_ms": pytest.approx(1.2),
        "limit": 1.5,
        "tolerance_ms": 0.5,
        "repeats": 10,
    }
    assert decision["winner"] == "champion"
    assert "'latency'" in decision["reason"]
    assert better_challenger(2.0, 2.9)["winner"] == "challenger"


def test_latency_within_the_tolerance_passes_whatever_the_factor():
    decision = better_challenger(0.2, 0.6)  # three times slower, but by 0.4 ms per text
    assert decision["guardrails"]["latency"]["factor"] == pytest.approx(3.0)
    assert decision["guardrails"]["latency"]["passed"] is True
    assert decision["winner"] == "challenger"
    assert better_challenger(0.2, 0.6, latency_tolerance_ms=0.3)["winner"] == "champion"
    assert (
        better_challenger(0.57, 1.07)["guardrails"]["latency"]["passed"] is True
    )  # 0.5 ms slower, 0.5000000000000001 in floats
    assert better_challenger(0.0, 0.3)["guardrails"]["latency"] == pytest.approx(
        {
            "passed": True,
            "factor": math.inf,
            "champion_ms": 0.0,
            "challenger_ms": 0.3,
            "slower_by_ms": 0.3,
            "limit": 1.5,
            "tolerance_ms": 0.5,
            "repeats": 10,
        }
    )


def test_latency_beyond_the_tolerance_is_judged_by_the_factor():
    assert better_challenger(10.0, 14.0)["guardrails"]["latency"]["passed"] is True  # 4 ms slower, factor 1.4
    assert better_challenger(10.0, 15.5)["guardrails"]["latency"]["passed"] is False  # 5.5 ms slower, factor 1.55
    assert better_challenger(10.0, 15.5, max_latency_factor=1.6)["winner"] == "challenger"
    assert better_challenger(10.0, 15.5, latency_tolerance_ms=0.0)["guardrails"]["latency"]["passed"] is False


def test_latency_evidence_records_the_measurement_settings():
    decision = better_challenger(1.0, 1.1, latency_repeats=7, latency_tolerance_ms=0.05)
    latency = decision["guardrails"]["latency"]
    assert (latency["repeats"], latency["tolerance_ms"], latency["limit"]) == (7, 0.05, 1.5)
    assert (decision["settings"]["latency_repeats"], decision["settings"]["latency_tolerance_ms"]) == (7, 0.05)


def test_without_champion_the_floor_decides():
    good = decide(Y, probabilities(rows(60, 10)), 0.5, 1.0)
    assert good["winner"] == "challenger" and good["champion"] is None and good["p_value"] is None
    assert "no champion" in good["reason"]
    assert list(good["guardrails"]) == ["primary_metric_floor"]
    everything_no_hate = decide(Y, np.full(len(Y), 0.1), 0.5, 1.0)
    assert everything_no_hate["guardrails"]["primary_metric_floor"]["passed"] is False
    assert everything_no_hate["winner"] == "champion"


def test_decision_is_json_serialisable_with_the_contract_keys():
    import json

    decision = json.loads(json.dumps(run(champion_wrong=rows(60, 7), challenger_wrong=rows(70, 3))))
    for key in (
        "winner",
        "p_value",
        "reason",
        "primary_metric",
        "champion",
        "challenger",
        "guardrails",
        "mcnemar",
        "n",
        "settings",
    ):
        assert key in decision
    assert decision["settings"]["alpha"] == 0.05
    assert math.isclose(decision["challenger"]["macro_f1"] - decision["champion"]["macro_f1"], decision["delta"])


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("alpha", 0.0, "alpha is 0.0; accepted: a significance level strictly between 0 and 1"),
        ("alpha", True, "alpha is True; accepted: a significance level"),
        ("primary_metric", "speed", "primary_metric is 'speed'; accepted: one of"),
        ("min_delta", 1.0, r"min_delta is 1.0; accepted: a number from 0 up to \(not including\) 1"),
        ("max_latency_factor", 0.5, "max_latency_factor is 0.5; accepted: a number of at least 1"),
        ("latency_repeats", 0, "latency_repeats is 0; accepted: a whole number from 1 to 100"),
        ("latency_repeats", 2.5, "latency_repeats is 2.5; accepted: a whole number from 1 to 100"),
        ("latency_repeats", 101, "latency_repeats is 101; accepted: a whole number from 1 to 100"),
        ("latency_tolerance_ms", -0.1, "latency_tolerance_ms is -0.1; accepted: milliseconds from 0 to 1000"),
        ("precision", "fp16", "precision is 'fp16'; accepted: 'int8' or 'fp32'"),
    ],
)
def test_bad_compare_settings_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        CompareSettings(**{field: value})


def test_compare_imports_without_torch():
    import subprocess
    import sys

    code = (
        "import sys, model.compare; print(sorted(m for m in ('torch', 'transformers', 'sklearn') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert result.stdout.strip() == "[]"


def test_compare_settings_import_without_numpy():
    """stacks/ takes the release's comparison defaults and ranges from model.compare_settings, so
    that module must not pull numpy (or the rest of the model package) in with it."""
    import subprocess
    import sys

    code = (
        "import sys, model.compare_settings; "
        "print(sorted(m for m in ('numpy', 'torch', 'model.compare', 'model.data') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert result.stdout.strip() == "[]"
