"""The command line, and compare end to end on two tiny trained models."""

import json
import re

import numpy as np
import pytest

from model.__main__ import main

pytestmark = pytest.mark.slow


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_evaluate_prints_the_metrics_as_json(capsys, tiny_model_dir, fresh_synthetic_csv):
    code, out, err = run_cli(
        capsys, "evaluate", "--model", str(tiny_model_dir), "--data", str(fresh_synthetic_csv), "--json"
    )
    assert code == 0
    assert err.splitlines() == [f"warning: {tiny_model_dir}: trained with the tiny preset: smoke tests only"]
    metrics = json.loads(out)
    for key in ("macro_f1", "f1_hate", "precision_hate", "recall_hate", "roc_auc", "n"):
        assert key in metrics
    assert metrics["n"] == 300 and metrics["precision"] == "int8"


def test_evaluate_warns_only_about_a_model_of_a_smoke_test_preset(capsys, model_copy, fresh_synthetic_csv):
    artifact = json.loads((model_copy / "artifact.json").read_text())
    artifact["settings"]["preset"] = "default"
    (model_copy / "artifact.json").write_text(json.dumps(artifact))
    code, out, err = run_cli(capsys, "evaluate", "--model", str(model_copy), "--data", str(fresh_synthetic_csv))
    assert code == 0 and out.startswith("macro_f1 ") and err == ""


def test_compare_end_to_end_on_two_trained_models(capsys, tiny_model_dir, weak_model_dir, fresh_synthetic_csv):
    from model.data import load_dataset
    from model.evaluate import load_classifier

    code, out, _ = run_cli(
        capsys,
        "compare",
        "--champion",
        str(weak_model_dir),
        "--challenger",
        str(tiny_model_dir),
        "--data",
        str(fresh_synthetic_csv),
        "--json",
        "--max-latency-factor",
        "10",
    )
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
    code, out, _ = run_cli(
        capsys,
        "compare",
        "--champion",
        "none",
        "--challenger",
        str(tiny_model_dir),
        "--data",
        str(fresh_synthetic_csv),
        "--json",
    )
    decision = json.loads(out)
    assert code == 0 and decision["winner"] == "challenger" and decision["champion"] is None


def test_compare_a_model_with_itself_keeps_the_champion(capsys, tiny_model_dir, fresh_synthetic_csv):
    code, out, _ = run_cli(
        capsys,
        "compare",
        "--champion",
        str(tiny_model_dir),
        "--challenger",
        str(tiny_model_dir),
        "--data",
        str(fresh_synthetic_csv),
        "--max-latency-factor",
        "100",
    )
    assert code == 0
    assert out.startswith("winner: champion  (p_value 1.0)")
    assert "guardrail latency: passed (factor " in out and "; medians of 10 interleaved passes)" in out


def test_bad_input_exits_2_with_the_reason(capsys, tmp_path, tiny_model_dir, synthetic_csv):
    code, _, err = run_cli(capsys, "evaluate", "--model", str(tiny_model_dir), "--data", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv does not exist" in err
    code, _, err = run_cli(
        capsys,
        "train",
        "--data",
        str(tmp_path / "missing.csv"),
        "--out",
        str(tmp_path / "o"),
        "--hidden-size",
        "30",
        "--num-heads",
        "4",
    )
    assert code == 2 and "hidden_size is 30" in err
    code, _, err = run_cli(capsys, "evaluate", "--model", str(tmp_path), "--data", str(synthetic_csv))
    assert code == 2 and "artifact.json not found" in err
    with pytest.raises(SystemExit) as exited:
        run_cli(capsys, "train", "--data", str(synthetic_csv), "--out", str(tmp_path), "--class-weighted", "ture")
    assert exited.value.code == 2
    assert "argument --class-weighted: 'ture' is not a boolean; accepted: true/false" in capsys.readouterr().err


def test_train_refuses_a_folder_that_is_not_empty(capsys, tmp_path, synthetic_csv):
    leftover = tmp_path / "out" / "notes.txt"
    leftover.parent.mkdir()
    leftover.write_text("an earlier run's file", encoding="utf-8")
    code, _, err = run_cli(
        capsys, "train", "--data", str(synthetic_csv), "--out", str(leftover.parent), "--preset", "tiny"
    )
    assert code == 2 and "is not empty; accepted: a new or empty folder" in err
    assert sorted(p.name for p in leftover.parent.iterdir()) == ["notes.txt"]
    code, _, err = run_cli(capsys, "train", "--data", str(synthetic_csv), "--out", str(leftover), "--preset", "tiny")
    assert code == 2 and "is a file; accepted: a new or empty folder" in err


def test_train_reports_a_failed_export_check_as_an_error_line(capsys, tmp_path, synthetic_csv, monkeypatch):
    import model.train
    from model.export import ExportCheckError

    def failing_export(*args, **kwargs):
        raise ExportCheckError("fp32 ONNX logits differ from torch by up to 0.3; accepted: at most 0.0001")

    monkeypatch.setattr(model.train, "export_and_check", failing_export)
    code, _, err = run_cli(
        capsys,
        "train",
        "--data",
        str(synthetic_csv),
        "--out",
        str(tmp_path / "m"),
        "--preset",
        "tiny",
        "--epochs",
        "1",
        "--num-threads",
        "1",
        "--quiet",
    )
    assert code == 1
    assert err.strip().splitlines() == [
        "error: the exported model failed its check, nothing to release: "
        "fp32 ONNX logits differ from torch by up to 0.3; accepted: at most 0.0001"
    ]
    assert list(tmp_path.iterdir()) == []  # no --out, no half-written folder beside it


def test_train_command_writes_an_artifact_and_logs_each_epoch_off_a_terminal(capsys, tmp_path, synthetic_csv):
    """capsys' stderr is not a terminal, as in CI: one line per fine-tuning epoch, no bar."""
    code, out, err = run_cli(
        capsys,
        "train",
        "--data",
        str(synthetic_csv),
        "--out",
        str(tmp_path / "m"),
        "--preset",
        "tiny",
        "--seed",
        "1",
        "--num-threads",
        "1",
        "--json",
    )
    assert code == 0
    result = json.loads(out)
    assert result["macro_f1"] >= 0.9
    history = result["training"]["history"]
    lines = err.splitlines()
    assert len(lines) == result["training"]["epochs_run"] == len(history) and "\r" not in err
    for line, epoch in zip(lines, history, strict=True):
        assert line.startswith(f"fine-tuning epoch {epoch['epoch']}/12: loss {epoch['train_loss']:.4f}, ")
        assert f"val_loss {epoch['val_loss']:.4f}, val_macro_f1 {epoch['val_macro_f1']:.4f}, " in line
        assert re.search(r", elapsed \d+\.\d s$", line)
    assert json.loads((tmp_path / "m" / "artifact.json").read_text())["settings"]["seed"] == 1


def test_split_command_prints_the_parts(capsys, tmp_path, synthetic_csv):
    code, out, _ = run_cli(
        capsys,
        "split",
        "--data",
        str(synthetic_csv),
        "--train-out",
        str(tmp_path / "t.csv"),
        "--evaluation-out",
        str(tmp_path / "e.csv"),
        "--fraction",
        "0.25",
        "--json",
    )
    result = json.loads(out)
    assert code == 0 and result["train"]["rows"] + result["evaluation"]["rows"] == 400
    assert result["evaluation"]["rows"] == 100
    code, _, err = run_cli(
        capsys,
        "split",
        "--data",
        str(synthetic_csv),
        "--train-out",
        str(tmp_path / "t.csv"),
        "--evaluation-out",
        str(tmp_path / "other.csv"),
    )
    assert code == 2 and "--train-out" in err and "exists" in err
