"""Local copies of model files in Azure ML: registered versions (the comparison scores folders on disk)
and training jobs' outputs (their content version is computed from their files).

A version registered by `ModelVersion` records `source_path` and `content_sha256` (the content
digest of its files, content.py) in its properties. If `source_path` is a folder on this machine
with that content, it is used as is (the usual case on the machine that trained and released the
model). Otherwise the version is downloaded through the gateway into `<cache_dir>/<name>/<version>`
(from the workspace's storage, or from the registry's for a version registered from a registry
model), and its files must have the recorded content.

A job's output never changes once the job has ended: it is downloaded once into
`<cache_dir>/job-outputs/<job>/<output>` (moved into place only when whole) and read from there after.
The cache is `$XDG_CACHE_HOME/mlops-platform/models` (XDG_CACHE_HOME defaults to ~/.cache).
"""

from __future__ import annotations

import os
from pathlib import Path

from .content import content_sha256, is_remote


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlops-platform" / "models"


JOB_OUTPUTS = "job-outputs"


class ArtifactUnavailable(RuntimeError):
    """A registered version cannot be made available as a local folder."""


def _matches(folder: Path, expected_sha: str | None) -> bool:
    return folder.is_dir() and (expected_sha is None or content_sha256(str(folder)) == expected_sha)


def local_artifacts(gateway, model, cache_dir: Path | None = None) -> Path:
    """A local folder holding exactly the files of registered version `model`."""
    cache_dir = cache_dir or default_cache_dir()
    expected = model.properties.get("content_sha256")
    source = model.properties.get("source_path") or ""
    if source and not is_remote(source) and _matches(Path(source), expected):
        return Path(source)
    target = Path(cache_dir) / model.name / model.version
    if not _matches(target, expected):
        target = Path(gateway.download_model_version(model.name, model.version, target))
    if not _matches(target, expected):
        raise ArtifactUnavailable(
            f"model {model.name} version {model.version}: the downloaded files in "
            f"{target} do not have the registered content {expected}"
        )
    return target


def job_output_copy(gateway, job: str, output: str, cache_dir: Path | None = None) -> Path:
    """A local folder holding the files job `job` wrote to `output` (the job must have ended)."""
    cache_dir = cache_dir or default_cache_dir()
    target = Path(cache_dir) / JOB_OUTPUTS / job / output
    if not target.is_dir():
        target = Path(gateway.download_job_output(job, output, target))
    return target
