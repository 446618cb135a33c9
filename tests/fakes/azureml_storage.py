"""The workspace's default datastore for model files, in memory (what azure-storage-blob would reach)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from tests.fakes.azureml_rules import DATASTORE_URI


class DatastoreFiles:
    """Files by datastore path. `uri_for(path)` turns a datastore path into an azureml:// URI;
    `datastores` are the names the workspace has."""

    def __init__(self, uri_for: Callable[[str], str], datastores):
        self._uri_for = uri_for
        self._datastores = datastores
        self.blobs: dict[str, bytes] = {}
        self.calls: list[tuple[str, str]] = []

    def upload(self, local_path, name: str, version: str) -> str:
        """Copy a local folder or file the way azure-ai-ml lays out uploads (LocalUpload/<content hash>/<name>,
        a folder's URI ending in '/') and return its azureml:// URI. Signature of the gateway's `uploader`."""
        root = Path(local_path)
        if root.is_dir():
            files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
        elif root.is_file():
            files = {"": root.read_bytes()}
        else:
            raise FileNotFoundError(f"upload: {local_path} is neither a file nor a folder")
        digest = hashlib.sha256()
        for rel, data in files.items():
            digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
        prefix = f"LocalUpload/{digest.hexdigest()[:32]}/{root.name}"
        for rel, data in files.items():
            self.blobs[f"{prefix}/{rel}" if rel else prefix] = data
        uri = self._uri_for(prefix + "/" if root.is_dir() else prefix)
        self.calls.append(("upload", uri))
        return uri

    def write_folder(self, local_dir, prefix: str) -> None:
        """Store a local folder's files under a datastore path (what a job writes to its output)."""
        root = Path(local_dir)
        if not root.is_dir():
            raise FileNotFoundError(f"write_folder: {local_dir} is not a folder")
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self.blobs[prefix.rstrip("/") + "/" + path.relative_to(root).as_posix()] = path.read_bytes()

    def files_under(self, uri: str) -> dict[str, bytes]:
        """{path relative to the URI: bytes} of the files stored under an azureml:// datastore URI;
        FileNotFoundError when the URI names no datastore of this workspace or nothing is stored there."""
        match = DATASTORE_URI.match(uri)
        if not match or match.group("ds") not in self._datastores:
            raise FileNotFoundError(f"download_folder: {uri} is not a path on this workspace's datastores")
        prefix = uri.split("/paths/", 1)[1].rstrip("/") + "/"
        found = {k[len(prefix) :]: v for k, v in self.blobs.items() if k.startswith(prefix)}
        if not found:
            raise FileNotFoundError(f"download_folder: no files under {uri}")
        return found

    def download_folder(self, uri: str, target_dir) -> None:
        """Write the files under an azureml:// datastore URI into target_dir. Signature of the gateway's
        `downloader`; raises FileNotFoundError when nothing is stored under the URI."""
        write_files(self.files_under(uri), target_dir)
        self.calls.append(("download", uri))


def write_files(files: dict[str, bytes], target_dir) -> None:
    """Write {relative path: bytes} under target_dir."""
    for rel, data in files.items():
        destination = Path(target_dir) / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
