"""serving/classifier.py: the ONNX inference path shared by serving, evaluation and releases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model.synthetic import synthetic_rows
from serving.classifier import ArtifactError, HateSpeechClassifier
from tests.serving.conftest import copy_model

pytestmark = pytest.mark.slow  # uses the trained tiny model

TEXTS = [row["text"] for row in synthetic_rows(n_rows=40, seed=77)]


@pytest.fixture(scope="module")
def fp32(tiny_model_dir):
    return HateSpeechClassifier.load(tiny_model_dir, precision="fp32", intra_op_threads=1)


@pytest.fixture(scope="module")
def int8(tiny_model_dir):
    return HateSpeechClassifier.load(tiny_model_dir)


def test_attributes_come_from_artifact_json(int8, tiny_model_dir):
    artifact = json.loads((tiny_model_dir / "artifact.json").read_text())
    assert int8.artifact == artifact
    assert int8.max_length == artifact["max_length"] and int8.threshold == artifact["threshold"]
    assert int8.precision == "int8" and int8.model_path.name == "model.int8.onnx"
    assert int8.session.get_providers() == ["CPUExecutionProvider"]


def test_fp32_onnx_matches_the_transformers_model(fp32, tiny_model_dir):
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    network = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    encoded = tokenizer(TEXTS, padding=True, truncation=True, max_length=fp32.max_length, return_tensors="pt")
    with torch.no_grad():
        logits = network(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).logits
    expected = torch.softmax(logits, dim=-1)[:, 1].numpy()
    np.testing.assert_allclose(fp32.predict_proba(TEXTS), expected, atol=1e-4)


def test_int8_stays_close_to_fp32(fp32, int8):
    difference = np.abs(int8.predict_proba(TEXTS) - fp32.predict_proba(TEXTS))
    assert difference.max() < 0.1
    agreement = np.mean(
        [a["label"] == b["label"] for a, b in zip(int8.predict(TEXTS), fp32.predict(TEXTS), strict=False)]
    )
    assert agreement >= 0.95


def test_batches_keep_request_order(tiny_model_dir):
    classifier = HateSpeechClassifier.load(tiny_model_dir, precision="fp32", batch_size=4)
    texts = TEXTS[:13] + ["curto", "um texto " * 40]  # lengths vary, so length-sorted batches reorder them
    one_by_one = np.array([classifier.predict_proba([text])[0] for text in texts])
    np.testing.assert_allclose(classifier.predict_proba(texts), one_by_one, atol=1e-5)


def test_labels_follow_the_artifact_threshold(tiny_model_dir, tmp_path, fp32):
    probabilities = fp32.predict_proba(TEXTS)
    threshold = float(np.median(probabilities))
    moved = copy_model(tiny_model_dir, tmp_path / "moved", {"threshold": threshold})
    predictions = HateSpeechClassifier.load(moved, precision="fp32").predict(TEXTS)
    assert [p["label"] for p in predictions] == ["hate" if p >= threshold else "no-hate" for p in probabilities]
    assert [p["hate_probability"] for p in predictions] == pytest.approx(probabilities.tolist())


def test_long_text_is_read_up_to_max_length_tokens(fp32):
    long_text = TEXTS[0] + " bom dia" * 500
    prefix_ids = fp32.tokenizer.encode(long_text).ids
    assert len(prefix_ids) == fp32.max_length
    assert fp32.predict_proba([long_text]).shape == (1,)


def test_empty_input_gives_empty_output(int8):
    assert int8.predict_proba([]).shape == (0,)
    assert int8.predict([]) == []


def test_non_string_text_is_refused_with_its_index(int8):
    with pytest.raises(TypeError, match=r"texts\[1\] is int; accepted: str"):
        int8.predict(["bom dia", 3])


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"precision": "fp16"}, "precision is 'fp16'; accepted: ['fp32', 'int8']"),
        ({"intra_op_threads": 0}, "intra_op_threads is 0; accepted"),
        ({"inter_op_threads": True}, "inter_op_threads is True; accepted"),
        ({"batch_size": 0}, "batch_size is 0; accepted"),
    ],
)
def test_bad_load_arguments_are_named(tiny_model_dir, arguments, message):
    with pytest.raises(ValueError) as raised:
        HateSpeechClassifier.load(tiny_model_dir, **arguments)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"labels": ["hate", "ok"]}, "'labels' is ['hate', 'ok']"),
        ({"max_length": "64"}, "'max_length' is '64'"),
        ({"threshold": 1.5}, "'threshold' is 1.5"),
    ],
)
def test_bad_artifact_json_is_named(tiny_model_dir, tmp_path, changes, message):
    broken = copy_model(tiny_model_dir, tmp_path / "broken", changes)
    with pytest.raises(ArtifactError) as raised:
        HateSpeechClassifier.load(broken)
    assert message in str(raised.value) and "accepted" in str(raised.value)


@pytest.mark.parametrize("missing", ["artifact.json", "tokenizer.json", "model.int8.onnx"])
def test_missing_file_is_named(tiny_model_dir, tmp_path, missing):
    broken = copy_model(tiny_model_dir, tmp_path / "broken", drop=(missing,))
    with pytest.raises(ArtifactError, match=f"{missing} not found"):
        HateSpeechClassifier.load(broken)


def test_unreadable_artifact_json_is_named(tiny_model_dir, tmp_path):
    broken = copy_model(tiny_model_dir, tmp_path / "broken")
    (broken / "artifact.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="artifact.json is not valid JSON"):
        HateSpeechClassifier.load(broken)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(ArtifactError, match="does not exist"):
        HateSpeechClassifier.load(tmp_path / "nowhere")
