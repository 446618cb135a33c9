"""What a model artifact folder is, as the registry sees it: a content version and its tags.

A content version names what a model answers, so the same training (data, settings, seed) gives
the same version and anything that changes an answer gives another. It is the first 12 hex digits
of a SHA-256 over, for an artifact folder:
- each of VERSIONED_FILES the folder holds, in sorted order, as `<name>\\0<sha256 of bytes>\\n`: the
  ONNX graphs and tokenizer files serving predicts with (serving/classifier.py) and the
  transformers weights and config they are exported from;
- if it holds artifact.json, `artifact.json\\0<VERSIONED_FIELDS as JSON>\\n` (sorted keys, no spaces,
  a missing field as null): the fields serving reads, i.e. labels, max_length and threshold to
  predict, name and version to answer with.
Everything else is outside the version: the provenance and timings of artifact.json (commit,
training run, distribution (how many processes on which device trained it), data, settings,
created_utc), metrics.json, MODEL_CARD.md, evaluation.png and any other file. They describe a
training run, and they reach the registry as tags (release_tags).
Where the folder lives and file times never matter; renaming a versioned file does.

The rule is the same wherever the files are: a training job's output folder gets the version of
the files the job wrote (sources.py reads them through the gateway), which is the version of the
same folder trained locally. A model version already registered (in a workspace or a registry) is
named by its reference, and its version is the version in it: it is never hashed again.

Azure ML takes a model version as a string in the URL (`.../models/{name}/versions/{version}`)
and azure-ai-ml accepts any string; 12 lowercase hex digits use only URL-safe characters, never
collide with the reserved label `latest`, and are never produced by the service's auto-increment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from infra.facts import LOCAL_ARTIFACT_ACCEPTED, VERSION, VERSION_LENGTH, full

VERSION_PATTERN = full(VERSION)
AZUREML_SCHEME = "azureml://"
ARTIFACT_FILE = "artifact.json"
METRICS_FILE = "metrics.json"
VERSIONED_FILES = (
    "model.int8.onnx",
    "model.onnx",
    "tokenizer.json",
    "tokenizer_config.json",
    "model.safetensors",
    "config.json",
)
VERSIONED_FIELDS = ("labels", "max_length", "threshold", "name", "version")
METRIC_TAGS = ("macro_f1", "f1_hate", "precision_hate", "recall_hate", "roc_auc", "accuracy", "n")
METRIC_TAG_PREFIX = "metric."
_CHUNK = 1 << 20


ARTIFACT_ACCEPTED = LOCAL_ARTIFACT_ACCEPTED


def is_remote(path: str) -> bool:
    """An azureml:// reference (a job output, a registered model), not a folder on this machine."""
    return path.startswith(AZUREML_SCHEME)


def is_artifact(path: str) -> bool:
    """A local folder holding artifact.json (what a release can register from this machine)."""
    return not is_remote(path) and (Path(path).expanduser() / ARTIFACT_FILE).is_file()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_json_object(path: Path) -> dict | None:
    """The JSON object in `path`, None when there is no such file."""
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path} is not valid JSON ({error}); accepted: a JSON object, as `python -m model train` writes it"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(
            f"{path} holds a JSON {type(value).__name__}; accepted: a JSON object, as `python -m model train` writes it"
        )
    return value


def versioned_fields(artifact: dict) -> bytes:
    """The VERSIONED_FIELDS of an artifact.json object, as the canonical JSON the digest reads."""
    fields = {name: artifact.get(name) for name in VERSIONED_FIELDS}
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_sha256(path: str) -> str:
    """The content digest of an artifact folder on this machine (the rule above)."""
    if is_remote(path):
        raise ValueError(
            f"path is {path!r}, a reference to files in Azure ML; accepted: a local folder (a job output's "
            "files are read into one first; a registered version's version is the one in its reference)"
        )
    digest = hashlib.sha256()
    folder = Path(path)
    files = [folder / name for name in sorted(VERSIONED_FILES) if (folder / name).is_file()]
    artifact = _read_json_object(folder / ARTIFACT_FILE)
    if not files and artifact is None:
        raise ValueError(
            f"path is {path!r}; accepted: a folder holding the model artifact files "
            f"(it holds none of {ARTIFACT_FILE}, {', '.join(VERSIONED_FILES)})"
        )
    for file in files:
        digest.update(file.name.encode("utf-8") + b"\0" + file_sha256(file).encode("ascii") + b"\n")
    if artifact is not None:
        digest.update(ARTIFACT_FILE.encode("utf-8") + b"\0" + versioned_fields(artifact) + b"\n")
    return digest.hexdigest()


def version_of(sha256: str) -> str:
    return sha256[:VERSION_LENGTH]


def named_sha256(named_contents: Iterable[tuple[str, bytes]]) -> str:
    """SHA-256 over (name, content) pairs in the order given, each as `<name>\\0<sha256 of content>`: the
    rule serving asset versions are derived by (infra/serving_assets.py)."""
    digest = hashlib.sha256()
    for name, content in named_contents:
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def files_version(files: Mapping[str, str | Path]) -> str:
    """The content version of named files ({name: path}), in name order: a code asset's version."""
    return version_of(named_sha256((name, Path(files[name]).read_bytes()) for name in sorted(files)))


def _format_metric(value) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    return None


def metric_tags(metrics: dict) -> dict[str, str]:
    """Scalar validation metrics as registry tags `metric.<key>`."""
    tags = {}
    for key in METRIC_TAGS:
        text = _format_metric(metrics.get(key))
        if text is not None:
            tags[METRIC_TAG_PREFIX + key] = text
    return tags


def artifact_facts(path: str) -> dict:
    """artifact.json and metrics.json of a local artifact folder ({} for each that is missing)."""
    folder = Path(path)
    return {
        "artifact": _read_json_object(folder / ARTIFACT_FILE) or {},
        "metrics": _read_json_object(folder / METRICS_FILE) or {},
    }


def release_tags(
    facts: dict,
    commit: str | None,
    training_run: str | None,
    data_version: str | None,
    metrics: dict | None,
    extra: dict[str, str],
) -> dict[str, str]:
    """The tags a model version carries: provenance and metrics from the artifact's `facts` (as
    artifact_facts reads them), explicit inputs winning over them."""
    artifact = facts.get("artifact") or {}
    data_sha = artifact.get("data_sha256")
    provenance = {
        "commit": commit or artifact.get("commit"),
        "training_run": training_run or artifact.get("training_run"),
        "data_version": data_version or (data_sha[:VERSION_LENGTH] if isinstance(data_sha, str) else None),
        "data_rows": _format_metric(artifact.get("data_rows")),
        "threshold": _format_metric(artifact.get("threshold")),
    }
    tags = {k: str(v) for k, v in provenance.items() if v not in (None, "")}
    tags.update(metric_tags(metrics if metrics is not None else facts.get("metrics") or {}))
    tags.update(extra)
    return tags
