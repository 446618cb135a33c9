"""Classification metrics for the hate class, with numpy only (the release providers use them).

Metric keys (shared contract): macro_f1, f1_hate, precision_hate, recall_hate, roc_auc, accuracy,
n, confusion_matrix [[tn, fp], [fn, tp]], recall_hate_by_category {column: recall}.
A ratio whose denominator is zero is reported as 0.0 (precision, recall, F1) or None (ROC-AUC
when only one class is present; a category recall when the category has no hate rows).
"""

from __future__ import annotations

import numpy as np


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


def confusion(y_true, y_pred) -> tuple[int, int, int, int]:
    """(tn, fp, fn, tp) for 0/1 arrays."""
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    return (
        int(np.sum(~y_true & ~y_pred)),
        int(np.sum(~y_true & y_pred)),
        int(np.sum(y_true & ~y_pred)),
        int(np.sum(y_true & y_pred)),
    )


def roc_auc(y_true, scores) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); None with one class."""
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(y_true.sum()), int((~y_true).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    start = 0
    while start < len(scores):
        end = start
        while end + 1 < len(scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2.0 + 1.0
        start = end + 1
    u = ranks[y_true].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def binary_scores(y_true, y_pred) -> dict:
    """F1, precision and recall of both classes from labels alone."""
    tn, fp, fn, tp = confusion(y_true, y_pred)
    precision_hate, recall_hate = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    precision_none, recall_none = _ratio(tn, tn + fn), _ratio(tn, tn + fp)
    f1_hate, f1_none = _f1(precision_hate, recall_hate), _f1(precision_none, recall_none)
    return {
        "macro_f1": (f1_hate + f1_none) / 2.0,
        "f1_hate": f1_hate,
        "precision_hate": precision_hate,
        "recall_hate": recall_hate,
        "accuracy": _ratio(tn + tp, tn + fp + fn + tp),
        "confusion_matrix": [[tn, fp], [fn, tp]],
    }


def recall_by_category(y_true, y_pred, categories: dict) -> dict:
    """Hate recall among the hate rows of each category column (None when it has none)."""
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    result = {}
    for name, member in categories.items():
        rows = y_true & np.asarray(member).astype(bool)
        result[name] = _ratio(np.sum(y_pred[rows]), rows.sum()) if rows.any() else None
    return result


def classification_metrics(y_true, p_hate, threshold: float, categories: dict | None = None) -> dict:
    """All contract metrics for probabilities `p_hate`, labelled hate at or above `threshold`."""
    y_true = np.asarray(y_true).astype(np.int64)
    p_hate = np.asarray(p_hate, dtype=np.float64)
    y_pred = (p_hate >= threshold).astype(np.int64)
    metrics = binary_scores(y_true, y_pred)
    metrics["roc_auc"] = roc_auc(y_true, p_hate)
    metrics["n"] = int(len(y_true))
    metrics["threshold"] = float(threshold)
    metrics["recall_hate_by_category"] = recall_by_category(y_true, y_pred, categories or {})
    return metrics


THRESHOLD_RANGE = (0.05, 0.95)


def best_threshold(y_true, p_hate, tolerance: float = 0.0) -> float:
    """The threshold on P(hate) that maximises macro-F1 on (validation) data.

    Candidates are 0.5 and the midpoints between consecutive distinct probabilities inside
    THRESHOLD_RANGE, where a saturated network's probabilities do not pile up. Of the
    candidates whose macro-F1 is within `tolerance` of the best, the one closest to 0.5 wins: a
    threshold far out in a tail, bought with one or two validation rows, moves labels under
    small numeric changes (such as int8 quantisation) and rarely holds on new data.
    """
    y_true = np.asarray(y_true).astype(np.int64)
    p_hate = np.asarray(p_hate, dtype=np.float64)
    values = np.unique(p_hate)
    candidates = np.concatenate([[0.5], (values[:-1] + values[1:]) / 2.0]) if len(values) > 1 else np.array([0.5])
    candidates = candidates[(candidates >= THRESHOLD_RANGE[0]) & (candidates <= THRESHOLD_RANGE[1])]
    scores = np.array([binary_scores(y_true, (p_hate >= c).astype(np.int64))["macro_f1"] for c in candidates])
    good = candidates[scores >= scores.max() - tolerance - 1e-12]
    return float(good[np.argmin(np.abs(good - 0.5))])


def precision_recall_curve(y_true, p_hate) -> tuple[np.ndarray, np.ndarray]:
    """(precision, recall) of the hate class at every distinct threshold, recall decreasing."""
    y_true = np.asarray(y_true).astype(bool)
    p_hate = np.asarray(p_hate, dtype=np.float64)
    thresholds = np.unique(p_hate)
    precision, recall = [], []
    for threshold in thresholds:
        predicted = p_hate >= threshold
        tp = np.sum(predicted & y_true)
        precision.append(_ratio(tp, predicted.sum()))
        recall.append(_ratio(tp, y_true.sum()))
    return np.asarray(precision), np.asarray(recall)
