"""ONNX inference for the hate-speech classifier.

The one inference path shared by serving (score.py), model evaluation and the release providers.
Dependencies: numpy, onnxruntime and tokenizers only, so it runs inside the small serving image.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ARTIFACT_FILE = "artifact.json"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
MODEL_FILES = {"int8": "model.int8.onnx", "fp32": "model.onnx"}
HATE_LABEL = "hate"
NO_HATE_LABEL = "no-hate"
EXECUTION_PROVIDERS = ["CPUExecutionProvider"]
DEFAULT_BATCH_SIZE = 32
_TOKEN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Training presets whose models exist to test the code, not to answer (model/settings.py, PRESET_PURPOSES)
SMOKE_TEST_PRESETS = ("tiny",)


class ArtifactError(ValueError):
    """The model folder does not hold a usable model artifact (what `python -m model train` writes)."""


def read_artifact(model_dir: str | Path) -> dict:
    """Read and check artifact.json of a model folder."""
    path = Path(model_dir) / ARTIFACT_FILE
    if not path.is_file():
        raise ArtifactError(f"{path} not found: a model folder must hold {ARTIFACT_FILE}")
    try:
        artifact = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArtifactError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(artifact, dict):
        raise ArtifactError(f"{path} must hold a JSON object, got {type(artifact).__name__}")
    labels = artifact.get("labels")
    if not (isinstance(labels, list) and len(labels) == 2 and set(labels) == {NO_HATE_LABEL, HATE_LABEL}):
        raise ArtifactError(
            f"{path}: 'labels' is {labels!r}; accepted: the two labels {[NO_HATE_LABEL, HATE_LABEL]} in logit order"
        )
    max_length = artifact.get("max_length")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 2:
        raise ArtifactError(f"{path}: 'max_length' is {max_length!r}; accepted: an integer >= 2")
    threshold = artifact.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise ArtifactError(f"{path}: 'threshold' is {threshold!r}; accepted: a number in [0, 1]")
    return artifact


def smoke_test_warning(artifact: dict) -> str | None:
    """'trained with the tiny preset: smoke tests only' when artifact.json's training settings name a
    preset of SMOKE_TEST_PRESETS, else None. The settings are outside the content version
    (infra/release/content.py): an artifact.json without them gives None."""
    settings = artifact.get("settings")
    preset = settings.get("preset") if isinstance(settings, dict) else None
    if preset in SMOKE_TEST_PRESETS:
        return f"trained with the {preset} preset: smoke tests only"
    return None


def _check_threads(name: str, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} is {value!r}; accepted: an integer >= 1, or None for onnxruntime's default")


def _session_options(intra_op_threads: int | None, inter_op_threads: int | None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = intra_op_threads or 0  # 0 = onnxruntime picks (physical cores)
    options.inter_op_num_threads = inter_op_threads or 0
    return options


def _load_tokenizer(model_dir: Path, max_length: int) -> Tokenizer:
    path = model_dir / TOKENIZER_FILE
    if not path.is_file():
        raise ArtifactError(f"{path} not found: a model folder must hold {TOKENIZER_FILE}")
    tokenizer = Tokenizer.from_file(str(path))
    pad_token = "[PAD]"
    config_path = model_dir / TOKENIZER_CONFIG_FILE
    if config_path.is_file():
        configured = json.loads(config_path.read_text(encoding="utf-8")).get("pad_token")
        if isinstance(configured, str):
            pad_token = configured
    pad_id = tokenizer.token_to_id(pad_token)
    if pad_id is None:
        raise ArtifactError(f"{path}: pad token {pad_token!r} is not in the vocabulary")
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
    return tokenizer


class HateSpeechClassifier:
    """P(hate) for Portuguese texts from an exported artifact folder (model.onnx or model.int8.onnx)."""

    def __init__(
        self,
        session: ort.InferenceSession,
        tokenizer: Tokenizer,
        artifact: dict,
        precision: str,
        model_path: Path,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        self.session = session
        self.tokenizer = tokenizer
        self.artifact = artifact
        self.precision = precision
        self.model_path = model_path
        self.batch_size = batch_size
        self.max_length: int = artifact["max_length"]
        self.threshold: float = float(artifact["threshold"])
        self._hate_index = artifact["labels"].index(HATE_LABEL)
        self._input_names = [item.name for item in session.get_inputs()]
        unknown = [name for name in self._input_names if name not in _TOKEN_INPUTS]
        if unknown:
            raise ArtifactError(f"{model_path}: unexpected model inputs {unknown}; accepted: {list(_TOKEN_INPUTS)}")
        output_names = [item.name for item in session.get_outputs()]
        self._output_name = "logits" if "logits" in output_names else output_names[0]

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        precision: str = "int8",
        intra_op_threads: int | None = None,
        inter_op_threads: int | None = 1,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> HateSpeechClassifier:
        """Load the tokenizer and the ONNX model of `precision` ("int8" or "fp32") from `model_dir`."""
        if precision not in MODEL_FILES:
            raise ValueError(f"precision is {precision!r}; accepted: {sorted(MODEL_FILES)}")
        _check_threads("intra_op_threads", intra_op_threads)
        _check_threads("inter_op_threads", inter_op_threads)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size is {batch_size!r}; accepted: an integer >= 1")
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise ArtifactError(f"model folder {model_dir} does not exist")
        artifact = read_artifact(model_dir)
        model_path = model_dir / MODEL_FILES[precision]
        if not model_path.is_file():
            raise ArtifactError(f"{model_path} not found: precision {precision!r} needs {MODEL_FILES[precision]}")
        tokenizer = _load_tokenizer(model_dir, artifact["max_length"])
        session = ort.InferenceSession(
            str(model_path),
            sess_options=_session_options(intra_op_threads, inter_op_threads),
            providers=EXECUTION_PROVIDERS,
        )
        return cls(session, tokenizer, artifact, precision, model_path, batch_size)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(hate) for each text, shape (n,). Texts longer than max_length tokens are truncated.

        The int8 model quantizes activations per batch, so a text's P(hate) can move by about 1e-4
        with the texts it shares a batch with; the result is deterministic for the same input list.
        """
        texts = list(texts)
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{index}] is {type(text).__name__}; accepted: str")
        probabilities = np.empty(len(texts), dtype=np.float64)
        if len(texts) <= self.batch_size:
            order = list(range(len(texts)))
        else:  # similar lengths share a batch, so little compute goes to padding
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            probabilities[chunk] = self._score_batch([texts[i] for i in chunk])
        return probabilities

    def predict(self, texts: Sequence[str]) -> list[dict]:
        """[{"label": "hate"|"no-hate", "hate_probability": float}] for each text."""
        return [
            {"label": HATE_LABEL if p >= self.threshold else NO_HATE_LABEL, "hate_probability": float(p)}
            for p in self.predict_proba(texts)
        ]

    def _score_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch_fast(texts)
        input_ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        features = {
            "input_ids": input_ids,
            "attention_mask": np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64),
            "token_type_ids": np.zeros_like(input_ids),
        }
        logits = self.session.run([self._output_name], {name: features[name] for name in self._input_names})[0]
        logits = logits.astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp[:, self._hate_index] / exp.sum(axis=1)
