"""Export checks: a faithful export passes, a mismatching or corrupted one fails loudly."""

import pytest

pytestmark = pytest.mark.slow


def load(folder):
    from tokenizers import Tokenizer
    from transformers import BertForSequenceClassification

    model = BertForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    return model, tokenizer


def sequences(tokenizer, csv_path):
    from model.data import load_dataset

    return [e.ids for e in tokenizer.encode_batch(load_dataset(csv_path).texts[:120])]


def test_saved_export_passes_the_checks(tiny_model_dir, synthetic_csv):
    from model.export import check_export

    model, tokenizer = load(tiny_model_dir)
    evidence = check_export(
        model,
        tiny_model_dir / "model.onnx",
        tiny_model_dir / "model.int8.onnx",
        sequences(tokenizer, synthetic_csv),
        0,
        0.5,
    )
    assert evidence["fp32_max_logit_difference"] <= 1e-4
    assert evidence["int8_label_agreement"] >= 0.99


def test_dynamo_export_passes_the_checks(tmp_path, tiny_model_dir, synthetic_csv):
    from model.export import check_export, export_fp32, quantize_int8

    model, tokenizer = load(tiny_model_dir)
    fp32 = export_fp32(model, tmp_path / "model.onnx", 32, exporter="dynamo")
    int8 = quantize_int8(fp32, tmp_path / "model.int8.onnx")
    evidence = check_export(model, fp32, int8, sequences(tokenizer, synthetic_csv), 0, 0.5)
    assert evidence["fp32_max_logit_difference"] <= 1e-4


def test_dynamo_export_and_quantisation_are_byte_for_byte_reproducible(tmp_path, tiny_model_dir):
    """Nothing volatile (time, random or counter-numbered names) in the graphs: the content version
    of a retrained model depends on it. The tiny preset's torchscript export is checked the same way
    by retraining (test_reproducible_version.py)."""
    from model.export import export_fp32, quantize_int8

    model, _ = load(tiny_model_dir)
    graphs = []
    for attempt in ("first", "second"):
        folder = tmp_path / attempt
        folder.mkdir()
        fp32 = export_fp32(model, folder / "model.onnx", 32, exporter="dynamo")
        graphs.append((fp32.read_bytes(), quantize_int8(fp32, folder / "model.int8.onnx").read_bytes()))
    assert graphs[0] == graphs[1]


def test_export_of_other_weights_is_caught(model_copy, synthetic_csv):
    import torch

    from model.export import ExportCheckError, check_export, export_fp32

    model, tokenizer = load(model_copy)
    changed, _ = load(model_copy)
    with torch.no_grad():
        changed.classifier.bias += 0.01  # a tiny drift between the torch model and the ONNX graph
    export_fp32(changed, model_copy / "model.onnx", 32, exporter="torchscript")
    with pytest.raises(
        ExportCheckError, match=r"fp32 ONNX logits differ from torch by up to .*accepted: at most 0.0001"
    ):
        check_export(
            model,
            model_copy / "model.onnx",
            model_copy / "model.int8.onnx",
            sequences(tokenizer, synthetic_csv),
            0,
            0.5,
        )


def test_int8_model_that_disagrees_is_caught(model_copy, tmp_path, synthetic_csv):
    import torch

    from model.export import ExportCheckError, check_export, export_fp32, quantize_int8

    model, tokenizer = load(model_copy)
    flipped, _ = load(model_copy)
    with torch.no_grad():  # swap the two logits: every label flips
        flipped.classifier.weight.copy_(flipped.classifier.weight.flip(0))
        flipped.classifier.bias.copy_(flipped.classifier.bias.flip(0))
    quantize_int8(
        export_fp32(flipped, tmp_path / "flipped.onnx", 32, exporter="torchscript"), model_copy / "model.int8.onnx"
    )
    with pytest.raises(ExportCheckError, match=r"int8 labels agree with fp32 on .* accepted: at least 99%"):
        check_export(
            model,
            model_copy / "model.onnx",
            model_copy / "model.int8.onnx",
            sequences(tokenizer, synthetic_csv),
            0,
            0.5,
        )


def test_corrupted_file_fails_loudly(model_copy, synthetic_csv):
    from model.export import ExportCheckError, check_export

    model, tokenizer = load(model_copy)
    (model_copy / "model.onnx").write_bytes(b"not an onnx graph")
    with pytest.raises(ExportCheckError, match="model.onnx: onnxruntime cannot load it"):
        check_export(
            model,
            model_copy / "model.onnx",
            model_copy / "model.int8.onnx",
            sequences(tokenizer, synthetic_csv),
            0,
            0.5,
        )


def test_weights_that_are_not_finite_fail_the_export_instead_of_crashing_the_quantiser(tmp_path):
    """onnxruntime's quantize_dynamic asserts on the scale of NaN weights (`assert scale >= 0, "scale
    issue"` in onnxruntime/quantization/quant_utils.py); that is a failed export, not a traceback."""
    import torch

    from model.export import ExportCheckError, export_fp32, quantize_int8
    from model.network import bert_config, classifier
    from model.settings import TrainSettings

    network = classifier(bert_config(TrainSettings(preset="tiny"), 50, 0))
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.fill_(float("nan"))
    fp32 = export_fp32(network, tmp_path / "model.onnx", 32, exporter="torchscript")
    with pytest.raises(ExportCheckError, match=r"model.onnx: onnxruntime cannot quantize it to int8 \(AssertionError"):
        quantize_int8(fp32, tmp_path / "model.int8.onnx")
