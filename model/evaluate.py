"""Score an exported artifact folder on labelled data through the shared ONNX inference path.

Uses serving/classifier.py and numpy only: no torch, so the release providers can
import it from the infra environment.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from model.data import Dataset, load_dataset
from model.metrics import classification_metrics


def load_classifier(model_dir, precision: str = "int8"):
    """The served classifier of the artifact folder `model_dir`.

    A file of the folder that its library cannot read is an ArtifactError naming the file
    ("<path>: not a valid ONNX model (...)"), never the library's own exception: onnxruntime
    raises its private pybind types, tokenizers a bare Exception.
    """
    from serving.classifier import ArtifactError, HateSpeechClassifier

    try:
        return HateSpeechClassifier.load(model_dir, precision=precision)
    except ArtifactError:
        raise
    except Exception as error:
        culprit = _unreadable_file(Path(model_dir), precision)
        if culprit is None:
            raise
        raise ArtifactError(culprit) from error


def _unreadable_file(model_dir: Path, precision: str) -> str | None:
    """'<path>: not a valid ...' for the first file of `model_dir` its reader refuses; None if each reads alone.

    Runs only after the classifier failed to load, so the files are read a second time only then.
    """
    import json

    import onnxruntime as ort
    from tokenizers import Tokenizer

    from serving.classifier import MODEL_FILES, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE

    def json_object(path):
        if not isinstance(json.loads(path.read_text(encoding="utf-8")), dict):
            raise ValueError("not a JSON object")

    readers = (
        (TOKENIZER_FILE, "not a valid tokenizers file", lambda path: Tokenizer.from_file(str(path))),
        (TOKENIZER_CONFIG_FILE, "not a valid tokenizer configuration (a JSON object)", json_object),
        (
            MODEL_FILES.get(precision),
            "not a valid ONNX model",
            lambda path: ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]),
        ),
    )
    for name, what, read in readers:
        path = model_dir / name if name else None
        if path is None or not path.is_file():
            continue
        try:
            read(path)
        except Exception as error:
            reason = " ".join(str(error).split())
            return f"{path}: {what} ({reason[:200]}); accepted: the file as `python -m model train` writes it"
    return None


def evaluate_on(model_dir, dataset: Dataset, precision: str = "int8") -> dict:
    """Contract metrics of the model in `model_dir` on `dataset`, at the artifact's threshold."""
    classifier = load_classifier(model_dir, precision)
    probabilities = classifier.predict_proba(dataset.texts)
    metrics = classification_metrics(dataset.labels, probabilities, classifier.threshold, dataset.categories)
    return {**metrics, "precision": precision, "model_dir": str(model_dir), "data": dataset.source}


def evaluate(model_dir, data_path, precision: str = "int8") -> dict:
    return evaluate_on(model_dir, load_dataset(data_path), precision)


def single_text_latency_ms(
    classifiers: Sequence,
    texts: Sequence[str],
    repeats: int = 1,
    warmup: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Median milliseconds to score one text, for each classifier, over `repeats` passes of `texts`.

    The classifiers take turns text by text, and each turn runs them in the reverse order of the
    one before (A B, B A, A B, ...), so a change in machine load during the measurement hits them
    alike and neither always runs just after the other. The median of all of a classifier's calls
    (texts x repeats) is its figure, so slow calls from a busy moment do not move it.
    """
    if not texts:
        raise ValueError("latency needs at least one text")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"latency repeats is {repeats!r}; accepted: an integer >= 1")
    texts = list(texts)
    for classifier in classifiers:
        for text in texts[:warmup]:
            classifier.predict_proba([text])
    forward = list(range(len(classifiers)))
    timings: list[list[float]] = [[] for _ in classifiers]
    for turn, text in enumerate(texts * repeats):
        for position in forward if turn % 2 == 0 else forward[::-1]:
            start = clock()
            classifiers[position].predict_proba([text])
            timings[position].append((clock() - start) * 1000.0)
    return [statistics.median(values) for values in timings]


def latency_sample(texts: Sequence[str], size: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(texts), size=min(size, len(texts)), replace=False)
    return [texts[i] for i in sorted(chosen)]
