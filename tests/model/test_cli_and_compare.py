"""The command line, and compare end to end on two tiny trained models."""
import json

import numpy as np
import pytest

from model.__main__ import main

pytestmark = pytest.mark.slow


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_evaluate_prints_the_metrics_as_json(capsys, tiny_model_dir, fresh_synthetic_csv):
    code, out, _ = run_cli(capsys, "evaluate", "--model", str(tiny_model_dir), "--data", str(fresh_synthetic_csv), "--json")
    assert code == 0
    metrics = json.loads(out)
    for key in ("macro_f1", "f1_hate", "precision_hate", "recall_hate", "roc_auc", "n"):
        assert key in metrics
    assert metrics["n"] == 300 and metrics["precision"] == "int8"


def test_compare_end_to_end_on_two_trained_models(capsys, tiny_model_dir, weak_model_dir, fresh_synthetic_csv):
    from model.data import load_dataset
    from model.evaluate import load_classifier

    code, out, _ = run_cli(capsys, "compare", "--champion", str(weak_model_dir), "--challenger", str(tiny_model_dir),
                           "--data", str(fresh_synthetic_csv), "--json", "--max-latency-factor", "10")
    assert code == 0
    decision = json.loads(out)
    for key in ("winner", "p_value", "reason", "champion", "challenger", "guardrails", "mcnemar", "n", "settings"):
        assert key in decision
    assert decision["settings"]["max_latency_factor"] == 10.0

    # the evidence is what the two served models really do on the true labels
    data = load_dataset(fresh_synthetic_csv)
    right = {}
    for role, folder in (("champion", weak_model_dir), ("challenger", tiny_model_dir)):
        classifier = load_classifier(folder)
        right[role] = (classifier.predict_proba(data.texts) >= classifier.threshold) == data.labels.astype(bool)
    assert decision["mcnemar"]["b"] == int(np.sum(right["champion"] & ~right["challenger"]))
    assert decision["mcnemar"]["c"] == int(np.sum(~right["champion"] & right["challenger"]))
    assert decision["champion"]["accuracy"] == pytest.approx(right["champion"].mean())
    assert decision["challenger"]["accuracy"] == pytest.approx(right["challenger"].mean())
    assert decision["champion"]["latency_ms"] > 0 and decision["challenger"]["latency_ms"] > 0

    # the winner follows the rules from that evidence
    delta = decision["challenger"]["macro_f1"] - decision["champion"]["macro_f1"]
    better = delta > 0 if decision["p_value"] < 0.05 else delta >= 0.01
    guardrails_ok = all(check["passed"] for check in decision["guardrails"].values())
    assert decision["winner"] == ("challenger" if better and guardrails_ok else "champion")


def test_compare_without_champion(capsys, tiny_model_dir, fresh_synthetic_csv):
    code, out, _ = run_cli(capsys, "compare", "--champion", "none", "--challenger", str(tiny_model_dir),
                           "--data", str(fresh_synthetic_csv), "--json")
    decision = json.loads(out)
    assert code == 0 and decision["winner"] == "challenger" and decision["champion"] is None


def test_compare_a_model_with_itself_keeps_the_champion(capsys, tiny_model_dir, fresh_synthetic_csv):
    code, out, _ = run_cli(capsys, "compare", "--champion", str(tiny_model_dir), "--challenger", str(tiny_model_dir),
                           "--data", str(fresh_synthetic_csv), "--max-latency-factor", "100")
    assert code == 0
    assert out.startswith("winner: champion  (p_value 1.0)")


def test_bad_input_exits_2_with_the_reason(capsys, tmp_path, tiny_model_dir, synthetic_csv):
    code, _, err = run_cli(capsys, "evaluate", "--model", str(tiny_model_dir), "--data", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv does not exist" in err
    code, _, err = run_cli(capsys, "train", "--data", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o"),
                           "--hidden-size", "30", "--num-heads", "4")
    assert code == 2 and "hidden_size is 30" in err
    code, _, err = run_cli(capsys, "evaluate", "--model", str(tmp_path), "--data", str(synthetic_csv))
    assert code == 2 and "artifact.json not found" in err


def test_train_command_writes_an_artifact(capsys, tmp_path, synthetic_csv):
    code, out, _ = run_cli(capsys, "train", "--data", str(synthetic_csv), "--out", str(tmp_path / "m"), "--preset", "tiny",
                           "--seed", "1", "--num-threads", "1", "--quiet", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["macro_f1"] >= 0.9
    assert json.loads((tmp_path / "m" / "artifact.json").read_text())["settings"]["seed"] == 1
