"""Local copies of registered model versions, for the comparison (which scores folders on disk).

A version registered by `ModelVersion` records `source_path` and `content_sha256` in its
properties. If that folder still exists on this machine with the same content, it is used as is
(the usual case on the machine or CI runner that trained and released the model, and the only case
that is testable offline). Otherwise the version is downloaded from the registry into
`<cache_dir>/<name>/<version>` through the gateway, and its content is checked the same way.
"""

from __future__ import annotations

from pathlib import Path

from .content import content_sha256, is_remote

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "mlops-platform" / "models"


class ArtifactUnavailable(RuntimeError):
    """A registered version cannot be made available as a local folder."""


def _matches(folder: Path, expected_sha: str | None) -> bool:
    return folder.is_dir() and (expected_sha is None or content_sha256(str(folder)) == expected_sha)


def local_artifacts(gateway, model, cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """A local folder holding exactly the files of registered version `model`."""
    expected = model.properties.get("content_sha256")
    source = model.properties.get("source_path") or ""
    if source and not is_remote(source) and _matches(Path(source), expected):
        return Path(source)
    # a version registered from an azureml:// path records the path's digest, not the files'
    files_sha = None if is_remote(source) else expected
    target = Path(cache_dir) / model.name / model.version
    if not _matches(target, files_sha):
        target = Path(gateway.download_model_version(model.name, model.version, target))
    if not _matches(target, files_sha):
        raise ArtifactUnavailable(
            f"model {model.name} version {model.version}: the downloaded files in "
            f"{target} do not have the registered content {expected}"
        )
    return target
