"""Finds the artifact folder and its version under the model root Azure ML mounts (AZUREML_MODEL_DIR).

A model registered from a folder is mounted at <root>/azureml-models/<name>/<version>/<folder name>/,
and AZUREML_MODEL_DIR points at <root>/azureml-models/<name>/<version>: azure-ai-ml uploads a folder
under its own name (LocalUpload/<hash>/<folder name>, azure/ai/ml/_artifacts/_blob_storage_helper.py
upload()), and Azure's examples read a folder model "model" as $AZUREML_MODEL_DIR/model/<file>
(Azure/azureml-examples cli/endpoints/online/model-1, PR #1454). scripts/local_server.py serves a
folder in the same layout; `azmlinfsrv --model_dir` may also point straight at the artifact folder.
Both are accepted, and so is a folder reached through a symbolic link.
"""

from __future__ import annotations

import os
from pathlib import Path

ARTIFACT_FILE = "artifact.json"
MAX_SEARCH_DEPTH = 3
REGISTRY_MOUNT_FOLDER = "azureml-models"


class ArtifactNotFound(RuntimeError):
    """The model root holds no artifact folder, or more than one."""


def find_artifact_dir(model_root: str | Path) -> Path:
    """The one folder at or below `model_root` (at most MAX_SEARCH_DEPTH levels) that holds artifact.json."""
    root = Path(model_root)
    if not root.is_dir():
        raise ArtifactNotFound(f"model folder {root} does not exist (AZUREML_MODEL_DIR or --model_dir)")
    if (root / ARTIFACT_FILE).is_file():
        return root
    found = []
    for folder, subfolders, files in os.walk(root, followlinks=True):  # bounded by MAX_SEARCH_DEPTH
        depth = len(Path(folder).relative_to(root).parts)
        if ARTIFACT_FILE in files:
            found.append(Path(folder))
        if depth >= MAX_SEARCH_DEPTH:
            subfolders.clear()
        subfolders.sort()
    if not found:
        raise ArtifactNotFound(
            f"no {ARTIFACT_FILE} in {root} or its subfolders (searched {MAX_SEARCH_DEPTH} levels "
            f"deep); it holds {sorted(p.name for p in root.iterdir())[:20]}. Register the folder "
            "written by `python -m model train` as the model"
        )
    if len(found) > 1:
        raise ArtifactNotFound(
            f"{len(found)} folders under {root} hold {ARTIFACT_FILE}: "
            f"{[str(p.relative_to(root)) for p in found]}; accepted: exactly one model per deployment"
        )
    return found[0]


def model_version(model_root: str | Path, artifact: dict, explicit: str | None = None) -> str:
    """The version answered in responses: explicit setting, else artifact.json "version", else the
    <version> folder of an Azure ML mount, else "unregistered"."""
    if explicit:
        return explicit
    if artifact.get("version"):
        return str(artifact["version"])
    root = Path(model_root).absolute()  # not resolve(): the mount may be a symlink to storage
    if root.parent.parent.name == REGISTRY_MOUNT_FOLDER:
        return root.name
    return "unregistered"
