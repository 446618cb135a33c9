"""ONNX export (fp32 and dynamically quantised int8) and the checks that must pass before use.

The checks run onnxruntime directly: they validate the graphs against torch, which the shared
inference path (serving/classifier.py) cannot do.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from model.errors import CheckFailed
from model.network import OnlyLogits, pad_batch

FP32_FILE, INT8_FILE = "model.onnx", "model.int8.onnx"
LOGIT_TOLERANCE = 1e-4
MIN_INT8_AGREEMENT = 0.99


class ExportCheckError(CheckFailed):
    """An exported ONNX model does not reproduce the torch model closely enough."""


EXPORTERS = ("dynamo", "torchscript")


def export_fp32(model, path: Path, max_length: int, exporter: str = "dynamo") -> Path:
    """torch.onnx.export with dynamic batch and sequence axes: input_ids, attention_mask -> logits.

    "dynamo" is torch's default exporter; "torchscript" (the older tracer) gives the same graph
    for this network several times faster, which the tests use. check_export validates either.
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter is {exporter!r}; accepted: {list(EXPORTERS)}")
    model = model.to("cpu").eval()
    example = pad_batch([[2, 7, 9, 3], [2, 11, 3]], model.config.pad_token_id or 0)
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exporter_log.setLevel(logging.ERROR)  # e.g. "torchvision is not installed" notices
        try:
            _onnx_export(OnlyLogits(model), example, str(path), max_length, exporter)
        finally:
            exporter_log.setLevel(level)
    return path


def _onnx_export(model, example, path: str, max_length: int, exporter: str) -> None:
    """torch.onnx.export with the exporter's own way of naming dynamic batch and sequence axes."""
    inputs, outputs = ["input_ids", "attention_mask"], ["logits"]
    if exporter == "dynamo":
        batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence", max=max_length)
        torch.onnx.export(
            model,
            example,
            path,
            verbose=False,
            input_names=inputs,
            output_names=outputs,
            dynamic_shapes={"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}},
            external_data=False,
        )
    else:
        torch.onnx.export(
            model,
            example,
            path,
            verbose=False,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "logits": {0: "batch"},
            },
            dynamo=False,
            opset_version=17,
        )


def quantize_int8(fp32_path: Path, int8_path: Path) -> Path:
    """onnxruntime dynamic quantisation (int8 weights) of the fp32 export.

    The exporter's intermediate shape annotations (value_info) trip the quantiser's shape
    inference, so the quantiser reads a copy without them; the graph itself is unchanged. A graph
    the quantiser fails on is an ExportCheckError: there is no int8 model to check or serve.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32_path))
    del graph.graph.value_info[:]
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / "plain.onnx"
        onnx.save(graph, str(plain))
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the quantiser warns on the root logger about optional pre-processing
        try:
            quantize_dynamic(str(plain), str(int8_path), weight_type=QuantType.QInt8)
        except Exception as error:  # e.g. an AssertionError on weights that are not finite
            raise ExportCheckError(
                f"{fp32_path.name}: onnxruntime cannot quantize it to int8 ({type(error).__name__}: {error})"
            ) from error
        finally:
            root.setLevel(level)
    return int8_path


def _session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises several private exception types
        raise ExportCheckError(f"{path.name}: onnxruntime cannot load it: {error}") from error


def onnx_logits(path: Path, sequences: list[list[int]], pad_id: int, batch_size: int = 64) -> np.ndarray:
    session = _session(path)
    result = []
    for start in range(0, len(sequences), batch_size):
        ids, mask = pad_batch(sequences[start : start + batch_size], pad_id)
        result.append(session.run(["logits"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0])
    return np.concatenate(result)


@torch.no_grad()
def torch_logits(model, sequences: list[list[int]], pad_id: int, batch_size: int = 64) -> np.ndarray:
    model = model.to("cpu").eval()
    result = []
    for start in range(0, len(sequences), batch_size):
        ids, mask = pad_batch(sequences[start : start + batch_size], pad_id)
        result.append(model(input_ids=ids, attention_mask=mask).logits.numpy())
    return np.concatenate(result)


def _hate_probability(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp[:, 1] / exp.sum(axis=1)


def check_export(model, fp32_path: Path, int8_path: Path, sequences, pad_id: int, threshold: float) -> dict:
    """Raise ExportCheckError unless fp32 logits match torch within LOGIT_TOLERANCE and int8 labels
    agree with fp32 labels on at least MIN_INT8_AGREEMENT of `sequences`; return the evidence."""
    if not sequences:
        raise ExportCheckError("no texts to check the export on")
    reference = torch_logits(model, sequences, pad_id)
    fp32 = onnx_logits(fp32_path, sequences, pad_id)
    if fp32.shape != reference.shape:
        raise ExportCheckError(f"{fp32_path.name}: logits have shape {fp32.shape}, torch gives {reference.shape}")
    max_difference = float(np.abs(fp32 - reference).max())
    if not max_difference <= LOGIT_TOLERANCE:
        raise ExportCheckError(
            f"{fp32_path.name}: fp32 ONNX logits differ from torch by up to {max_difference:.3g} on {len(sequences)} "
            f"texts; accepted: at most {LOGIT_TOLERANCE}"
        )
    int8 = onnx_logits(int8_path, sequences, pad_id)
    fp32_labels = _hate_probability(fp32) >= threshold
    agreement = float(np.mean(fp32_labels == (_hate_probability(int8) >= threshold)))
    if agreement < MIN_INT8_AGREEMENT:
        raise ExportCheckError(
            f"{int8_path.name}: int8 labels agree with fp32 on {agreement:.2%} of {len(sequences)} texts; "
            f"accepted: at least {MIN_INT8_AGREEMENT:.0%}"
        )
    return {"n": len(sequences), "fp32_max_logit_difference": max_difference, "int8_label_agreement": agreement}


def export_and_check(
    model, out_dir: Path, sequences, pad_id: int, threshold: float, max_length: int, exporter: str = "dynamo"
) -> dict:
    out_dir = Path(out_dir)
    fp32_path = export_fp32(model, out_dir / FP32_FILE, max_length, exporter)
    int8_path = quantize_int8(fp32_path, out_dir / INT8_FILE)
    return check_export(model, fp32_path, int8_path, sequences, pad_id, threshold)
