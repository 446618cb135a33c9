"""Champion against challenger on the same labelled data (the decision the release providers record).

Both models are scored against the TRUE labels. McNemar's test looks at the rows where exactly one
of them is right: b = champion right and challenger wrong, c = champion wrong and challenger right.
With b + c below `exact_test_below` the two-sided exact binomial test (b ~ Binomial(b + c, 1/2)) is
used; otherwise the chi-square statistic with continuity correction, (|b - c| - 1)^2 / (b + c), on
one degree of freedom.

The challenger wins only if
  - it is significantly different (p < alpha) and better on the primary metric, or
  - the test cannot separate them (p >= alpha) and it is better on the primary metric by at
    least min_delta,
and in both cases it breaks no guardrail:
  - primary_metric_floor: its primary metric is at least min_primary_metric (catches a model
    that predicts one class);
  - category_recall_<column>: its hate recall on each category column with at least
    min_category_support hate rows drops by at most max_category_recall_drop;
  - latency: its single-text latency is at most max_latency_factor times the champion's, or
    slower by at most latency_tolerance_ms (differences that small are run-to-run noise, and
    harmless to serving). Both models are timed in latency_repeats interleaved passes over the
    same texts (model.evaluate.single_text_latency_ms), so load hits them alike.
Without a champion (first release) only the floor applies and the decision says so.
"winner" "champion" means: keep what is in production (nothing, when there is no champion).

No torch here: the release providers import this module from the infra environment. The settings,
their defaults and accepted ranges live in model.compare_settings (no numpy), imported here.
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np

from model.compare_settings import CompareSettings
from model.data import Dataset, load_dataset
from model.evaluate import latency_sample, load_classifier, single_text_latency_ms
from model.metrics import classification_metrics


def mcnemar(y_true, champion_pred, challenger_pred, exact_test_below: int = CompareSettings.exact_test_below) -> dict:
    """McNemar's test on the right/wrong outcomes of two models against the true labels."""
    y_true = np.asarray(y_true).astype(bool)
    champion_right = np.asarray(champion_pred).astype(bool) == y_true
    challenger_right = np.asarray(challenger_pred).astype(bool) == y_true
    b = int(np.sum(champion_right & ~challenger_right))
    c = int(np.sum(~champion_right & challenger_right))
    n = b + c
    if n == 0:
        return {"b": 0, "c": 0, "statistic": 0.0, "p_value": 1.0, "method": "no discordant pairs"}
    if n < exact_test_below:
        k = min(b, c)
        tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
        return {"b": b, "c": c, "statistic": float(k), "p_value": min(1.0, 2.0 * tail), "method": "exact binomial"}
    statistic = (abs(b - c) - 1.0) ** 2 / n
    p_value = math.erfc(math.sqrt(statistic / 2.0))  # chi-square survival function, 1 degree of freedom
    return {
        "b": b,
        "c": c,
        "statistic": statistic,
        "p_value": p_value,
        "method": "chi-square with continuity correction",
    }


def _category_guardrails(champion: dict, challenger: dict, y_true, categories: dict, settings: CompareSettings) -> dict:
    guardrails = {}
    y_true = np.asarray(y_true).astype(bool)
    for name, member in categories.items():
        support = int(np.sum(y_true & np.asarray(member).astype(bool)))
        if support < settings.min_category_support:
            continue
        before = champion["recall_hate_by_category"][name]
        after = challenger["recall_hate_by_category"][name]
        drop = before - after
        guardrails[f"category_recall_{name}"] = {
            "passed": drop <= settings.max_category_recall_drop + 1e-12,
            "champion": before,
            "challenger": after,
            "drop": drop,
            "support": support,
            "limit": settings.max_category_recall_drop,
        }
    return guardrails


def decide(
    y_true,
    challenger_p,
    challenger_threshold: float,
    challenger_latency_ms: float | None,
    champion_p=None,
    champion_threshold: float | None = None,
    champion_latency_ms: float | None = None,
    categories: dict | None = None,
    settings: CompareSettings = CompareSettings(),
) -> dict:
    """The decision and its evidence from the two models' P(hate) on the same labelled rows.

    Pure: no files, no models. `champion_p` None means there is no champion yet.
    """
    categories = categories or {}
    y_true = np.asarray(y_true).astype(np.int64)
    primary = settings.primary_metric
    challenger = classification_metrics(y_true, challenger_p, challenger_threshold, categories)
    challenger["latency_ms"] = challenger_latency_ms
    floor = {
        "passed": (challenger[primary] or 0.0) >= settings.min_primary_metric,
        "challenger": challenger[primary],
        "limit": settings.min_primary_metric,
    }
    result = {
        "primary_metric": primary,
        "n": int(len(y_true)),
        "settings": asdict(settings),
        "challenger": challenger,
    }
    if champion_p is None:
        guardrails = {"primary_metric_floor": floor}
        passed = floor["passed"]
        reason = (
            "no champion: the challenger wins because it passes the only guardrail that applies without one "
            f"({primary} {challenger[primary]:.4f} >= floor {settings.min_primary_metric})"
            if passed
            else f"no champion, but the challenger's {primary} {challenger[primary]:.4f} is below the floor "
            f"{settings.min_primary_metric}: nothing is promoted"
        )
        return {
            **result,
            "winner": "challenger" if passed else "champion",
            "p_value": None,
            "reason": reason,
            "champion": None,
            "guardrails": guardrails,
            "mcnemar": None,
            "delta": None,
        }

    if champion_threshold is None:
        raise ValueError("champion_threshold is required with champion_p (the champion's decision threshold)")
    champion = classification_metrics(y_true, champion_p, champion_threshold, categories)
    champion["latency_ms"] = champion_latency_ms
    test = mcnemar(
        y_true,
        np.asarray(champion_p) >= champion_threshold,
        np.asarray(challenger_p) >= challenger_threshold,
        settings.exact_test_below,
    )
    delta = (challenger[primary] or 0.0) - (champion[primary] or 0.0)
    guardrails = {
        "primary_metric_floor": floor,
        **_category_guardrails(champion, challenger, y_true, categories, settings),
    }
    if champion_latency_ms is not None and challenger_latency_ms is not None:
        factor = challenger_latency_ms / champion_latency_ms if champion_latency_ms > 0 else math.inf
        slower_by_ms = challenger_latency_ms - champion_latency_ms
        guardrails["latency"] = {
            "passed": factor <= settings.max_latency_factor or slower_by_ms <= settings.latency_tolerance_ms + 1e-12,
            "factor": factor,
            "slower_by_ms": slower_by_ms,
            "champion_ms": champion_latency_ms,
            "challenger_ms": challenger_latency_ms,
            "limit": settings.max_latency_factor,
            "tolerance_ms": settings.latency_tolerance_ms,
            "repeats": settings.latency_repeats,
        }

    significant = test["p_value"] < settings.alpha
    if significant and delta > 0:
        better, why = (
            True,
            f"significantly better (McNemar p={test['p_value']:.4g} < {settings.alpha}) and {primary} +{delta:.4f}",
        )
    elif significant:
        better, why = (
            False,
            f"McNemar p={test['p_value']:.4g} < {settings.alpha} but {primary} changes by {delta:+.4f}: not better",
        )
    elif delta >= settings.min_delta:
        better, why = (
            True,
            (
                f"not separable by McNemar (p={test['p_value']:.4g} >= {settings.alpha}) but {primary} "
                f"+{delta:.4f} >= min_delta {settings.min_delta}"
            ),
        )
    else:
        better, why = (
            False,
            (
                f"not separable by McNemar (p={test['p_value']:.4g} >= {settings.alpha}) and {primary} "
                f"changes by {delta:+.4f} < min_delta {settings.min_delta}"
            ),
        )
    failed = sorted(name for name, check in guardrails.items() if not check["passed"])
    if better and failed:
        winner, reason = "champion", f"challenger is {why}, but breaks guardrail(s) {failed}"
    elif better:
        winner, reason = "challenger", f"challenger is {why}, and passes every guardrail"
    else:
        winner, reason = "champion", f"challenger is {why}" + (f"; it also breaks {failed}" if failed else "")
    return {
        **result,
        "winner": winner,
        "p_value": test["p_value"],
        "reason": reason,
        "champion": champion,
        "guardrails": guardrails,
        "mcnemar": test,
        "delta": delta,
    }


def compare_on(champion_dir, challenger_dir, dataset: Dataset, settings: CompareSettings = CompareSettings()) -> dict:
    challenger = load_classifier(challenger_dir, settings.precision)
    champion = load_classifier(champion_dir, settings.precision) if champion_dir is not None else None
    models = [m for m in (champion, challenger) if m is not None]
    latencies = single_text_latency_ms(
        models, latency_sample(dataset.texts, settings.latency_texts), settings.latency_repeats
    )
    decision = decide(
        dataset.labels,
        challenger.predict_proba(dataset.texts),
        challenger.threshold,
        latencies[-1],
        champion.predict_proba(dataset.texts) if champion else None,
        champion.threshold if champion else None,
        latencies[0] if champion else None,
        dataset.categories,
        settings,
    )
    decision["champion_dir"] = None if champion_dir is None else str(champion_dir)
    decision["challenger_dir"] = str(challenger_dir)
    decision["data"] = dataset.source
    decision["data_sha256"] = dataset.sha256
    return decision


def compare(champion_dir, challenger_dir, data_path, settings: CompareSettings = CompareSettings()) -> dict:
    """Decide between the artifact folders on the labelled CSV at `data_path` (see module docstring)."""
    return compare_on(champion_dir, challenger_dir, load_dataset(data_path), settings)
