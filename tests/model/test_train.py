"""The tiny model trained once per session (conftest): artifact folder, learning, model card."""

import json

import pytest

pytestmark = pytest.mark.slow

ARTIFACT_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "model.onnx",
    "model.int8.onnx",
    "artifact.json",
    "metrics.json",
    "evaluation.png",
    "MODEL_CARD.md",
)
METRIC_KEYS = (
    "macro_f1",
    "f1_hate",
    "precision_hate",
    "recall_hate",
    "roc_auc",
    "accuracy",
    "n",
    "confusion_matrix",
    "recall_hate_by_category",
)


def test_artifact_folder_is_complete(tiny_model_dir):
    for name in ARTIFACT_FILES:
        assert (tiny_model_dir / name).is_file(), name
    assert (tiny_model_dir / "evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_artifact_json_follows_the_contract(tiny_model_dir, synthetic_csv):
    import hashlib
    import re

    from model.provenance import training_run

    artifact = json.loads((tiny_model_dir / "artifact.json").read_text())
    assert artifact["name"] == "hate-speech-pt"
    assert artifact["labels"] == ["no-hate", "hate"]
    assert artifact["max_length"] == 32
    assert 0.0 < artifact["threshold"] < 1.0
    assert artifact["data_sha256"] == hashlib.sha256(synthetic_csv.read_bytes()).hexdigest()
    assert artifact["data_rows"] == 400
    assert artifact["settings"]["preset"] == "tiny" and artifact["settings"]["hidden_size"] == 64
    assert artifact["commit"] is None or re.fullmatch(r"[0-9a-f]{40}(-dirty)?", artifact["commit"])
    assert artifact["training_run"] == training_run()  # None here, a run link under CI
    assert artifact["created_utc"].endswith("Z")


def test_metrics_json_has_every_key_and_matches_the_return_value(tiny_training):
    folder, outcome = tiny_training
    saved = json.loads((folder / "metrics.json").read_text())
    for key in METRIC_KEYS:
        assert key in saved
    assert saved["macro_f1"] == outcome["metrics"]["macro_f1"]
    assert saved["n"] == 80  # validation_fraction 0.2 of 400
    assert set(saved["recall_hate_by_category"]) == {"Sexism", "Racism", "Homophobia"}


def test_tiny_training_learns_the_synthetic_signal(tiny_training):
    _, outcome = tiny_training
    assert outcome["metrics"]["macro_f1"] >= 0.9  # chance is about 0.5
    assert outcome["fit"]["best_epoch"] >= 1
    assert outcome["fit"]["export"]["int8_label_agreement"] >= 0.99


def test_model_generalises_to_unseen_synthetic_rows(tiny_model_dir, fresh_synthetic_csv):
    from model.evaluate import evaluate

    for precision in ("int8", "fp32"):
        metrics = evaluate(tiny_model_dir, fresh_synthetic_csv, precision=precision)
        assert metrics["n"] == 300
        assert metrics["macro_f1"] >= 0.9, precision


def test_saved_model_and_tokenizer_load_with_transformers(tiny_model_dir, fresh_synthetic_csv):
    import numpy as np
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    from model.data import load_dataset
    from model.evaluate import load_classifier

    texts = load_dataset(fresh_synthetic_csv).texts[:40]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = BertForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")
    with torch.no_grad():
        p_hate = torch.softmax(
            model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits, dim=-1
        )[:, 1]
    served = load_classifier(tiny_model_dir, precision="fp32").predict_proba(texts)
    assert np.allclose(p_hate.numpy(), served, atol=1e-5)
    assert model.config.id2label == {0: "no-hate", 1: "hate"}


def test_model_card_names_data_settings_metrics_and_commit(tiny_model_dir):
    card = (tiny_model_dir / "MODEL_CARD.md").read_text()
    artifact = json.loads((tiny_model_dir / "artifact.json").read_text())
    assert artifact["data_sha256"] in card
    assert "| hidden_size | 64 |" in card
    assert "| macro_f1 |" in card
    assert (artifact["commit"] or "unknown") in card


def test_training_is_reproducible_with_a_seed(tmp_path, synthetic_csv, tiny_training):
    from model.train import TrainSettings, train

    again = train(synthetic_csv, tmp_path / "again", TrainSettings(preset="tiny", num_threads=1), quiet=True)
    assert again == tiny_training[1]["metrics"]


def test_one_class_data_is_refused(tmp_path):
    from model.train import TrainSettings, train

    data = tmp_path / "d.csv"
    data.write_text(",text,hate\n1,abc def,0\n2,ghi jkl,0\n3,mno,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="column 'hate' holds one class only"):
        train(data, tmp_path / "out", TrainSettings(preset="tiny"))


def test_artifact_files_are_readable_by_everyone(tiny_model_dir):
    modes = {path.name: path.stat().st_mode & 0o777 for path in tiny_model_dir.iterdir()}
    assert "model.safetensors" in modes
    assert all(mode & 0o444 == 0o444 for mode in modes.values()), modes
