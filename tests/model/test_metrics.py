import numpy as np
import pytest

from model.metrics import best_threshold, classification_metrics, confusion, precision_recall_curve, roc_auc

Y = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
P = [0.9, 0.8, 0.4, 0.3, 0.7, 0.2, 0.1, 0.1, 0.05, 0.6]


def test_metrics_match_hand_computed_values():
    metrics = classification_metrics(Y, P, 0.5, {"Sexism": [1, 1, 1, 0, 0, 0, 0, 0, 0, 0], "Racism": [0] * 10})
    # at 0.5: predicted hate = rows 0, 1, 4, 9 -> tp 2, fp 2, fn 2, tn 4
    assert metrics["confusion_matrix"] == [[4, 2], [2, 2]]
    assert metrics["precision_hate"] == pytest.approx(0.5)
    assert metrics["recall_hate"] == pytest.approx(0.5)
    assert metrics["f1_hate"] == pytest.approx(0.5)
    # no-hate: precision 4/6, recall 4/6 -> F1 2/3; macro = (0.5 + 2/3) / 2
    assert metrics["macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert metrics["accuracy"] == pytest.approx(0.6)
    assert metrics["n"] == 10
    # pairs (pos, neg) where pos scores higher: 0.9 -> 6, 0.8 -> 6, 0.4 -> 4, 0.3 -> 4 of 24
    assert metrics["roc_auc"] == pytest.approx(20 / 24)
    assert metrics["recall_hate_by_category"] == {"Sexism": pytest.approx(2 / 3), "Racism": None}


def test_roc_auc_counts_ties_as_half_and_needs_two_classes():
    assert roc_auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert roc_auc([1, 1, 0], [0.5, 0.9, 0.5]) == pytest.approx((0.5 + 1) / 2)
    assert roc_auc([1, 1], [0.2, 0.3]) is None


def test_zero_denominators_give_zero():
    metrics = classification_metrics([0, 0, 1], [0.1, 0.2, 0.3], 0.5)
    assert metrics["precision_hate"] == 0.0 and metrics["recall_hate"] == 0.0 and metrics["f1_hate"] == 0.0


def test_confusion_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"y_true has shape \(2,\) but y_pred has shape \(3,\)"):
        confusion([0, 1], [0, 1, 1])


def test_best_threshold_separates_when_possible():
    threshold = best_threshold([0, 0, 1, 1], [0.1, 0.3, 0.35, 0.9])
    assert 0.3 < threshold <= 0.35
    assert classification_metrics([0, 0, 1, 1], [0.1, 0.3, 0.35, 0.9], threshold)["macro_f1"] == 1.0


def test_best_threshold_keeps_one_half_when_nothing_is_better():
    assert best_threshold([0, 1], [0.2, 0.8]) == 0.5


def test_precision_recall_curve():
    precision, recall = precision_recall_curve([1, 0, 1], [0.9, 0.5, 0.1])
    assert np.allclose(recall, [1.0, 0.5, 0.5])
    assert np.allclose(precision, [2 / 3, 0.5, 1.0])


def test_best_threshold_prefers_one_half_within_the_tolerance():
    y = [0, 0, 0, 1, 1, 1]
    p = [0.1, 0.2, 0.55, 0.6, 0.7, 0.9]  # 0.575 separates perfectly; 0.5 misses one row
    assert best_threshold(y, p) == pytest.approx(0.575)
    assert best_threshold(y, p, tolerance=0.2) == 0.5


def test_best_threshold_stays_inside_its_range():
    y = [0, 0, 1, 1, 1]
    p = [0.01, 0.97, 0.98, 0.99, 0.99]  # 0.975 would separate perfectly, but it is outside the range
    assert best_threshold(y, p) == 0.5
