"""What a model artifact folder is, as the registry sees it: a content version and its tags.

Version format: the first 12 hex digits of a SHA-256 over the folder's files, taken in the order
of their POSIX paths relative to the folder, each contributing `<path>\\0<sha256 of bytes>\\n`.
Hidden files and folders (names starting with '.') are left out. The same bytes under the same
names always give the same version, wherever the folder lives; changing, adding, removing or
renaming any file gives another. For an `azureml://` path (a training job's output, immutable once
the job ends) the version is derived the same way from the path itself.

Azure ML takes a model version as a string in the URL (`.../models/{name}/versions/{version}`)
and azure-ai-ml accepts any string; 12 lowercase hex digits use only URL-safe characters, never
collide with the reserved label `latest`, and are never produced by the service's auto-increment.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

VERSION_LENGTH = 12
VERSION_PATTERN = re.compile(rf"^[0-9a-f]{{{VERSION_LENGTH}}}$")
AZUREML_SCHEME = "azureml://"
ARTIFACT_FILE = "artifact.json"
METRICS_FILE = "metrics.json"
METRIC_TAGS = ("macro_f1", "f1_hate", "precision_hate", "recall_hate", "roc_auc", "accuracy", "n")
METRIC_TAG_PREFIX = "metric."
_CHUNK = 1 << 20


ARTIFACT_ACCEPTED = (f"a model artifact folder holding {ARTIFACT_FILE} (as `python -m model train` writes it), "
                     "or an azureml:// path")


def is_remote(path: str) -> bool:
    return path.startswith(AZUREML_SCHEME)


def is_artifact(path: str) -> bool:
    """An azureml:// path, or a local folder holding artifact.json (what a release can register)."""
    return is_remote(path) or (Path(path).expanduser() / ARTIFACT_FILE).is_file()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_files(folder: Path) -> list[Path]:
    """The files that make up an artifact folder, in the stable order the digest uses."""
    files = [p for p in folder.rglob("*")
             if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def content_sha256(path: str) -> str:
    """The content digest of an artifact folder, or of an azureml:// path's text."""
    digest = hashlib.sha256()
    if is_remote(path):
        digest.update(b"azureml-path\0" + path.rstrip("/").encode("utf-8"))
        return digest.hexdigest()
    folder = Path(path)
    files = content_files(folder)
    if not files:
        raise ValueError(f"path is {path!r}; accepted: a folder holding the model artifact files "
                         f"(it has no files)")
    for file in files:
        digest.update(file.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        digest.update(file_sha256(file).encode("ascii") + b"\n")
    return digest.hexdigest()


def version_of(sha256: str) -> str:
    return sha256[:VERSION_LENGTH]


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    value = json.loads(path.read_text(encoding="utf-8"))
    return value if isinstance(value, dict) else {}


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
    if is_remote(path):
        return {"artifact": {}, "metrics": {}}
    folder = Path(path)
    return {"artifact": _read_json(folder / ARTIFACT_FILE), "metrics": _read_json(folder / METRICS_FILE)}


def release_tags(path: str, commit: str | None, training_run: str | None, data_version: str | None,
                 metrics: dict | None, extra: dict[str, str]) -> dict[str, str]:
    """The tags a model version carries: provenance and metrics, explicit inputs winning over the folder's files."""
    facts = artifact_facts(path)
    artifact = facts["artifact"]
    data_sha = artifact.get("data_sha256")
    tags = {
        "commit": commit or artifact.get("commit"),
        "training_run": training_run or artifact.get("training_run"),
        "data_version": data_version or (data_sha[:VERSION_LENGTH] if isinstance(data_sha, str) else None),
        "data_rows": _format_metric(artifact.get("data_rows")),
        "threshold": _format_metric(artifact.get("threshold")),
    }
    tags = {k: str(v) for k, v in tags.items() if v not in (None, "")}
    tags.update(metric_tags(metrics if metrics is not None else facts["metrics"]))
    tags.update(extra)
    return tags
