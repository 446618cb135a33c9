"""`python -m infra.release.version PATH`: the model version a release of PATH registers (content.py),
as CI prints it before setting approvedVersion. Exit 2 with the reason when PATH is no artifact."""
from __future__ import annotations

import sys
from pathlib import Path

from infra.release.content import ARTIFACT_ACCEPTED, ARTIFACT_FILE, content_sha256, is_artifact, is_remote, version_of


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m infra.release.version ARTIFACT_FOLDER|azureml://...", file=sys.stderr)
        return 2
    path = args[0] if is_remote(args[0]) else str(Path(args[0]).expanduser())
    if not is_artifact(path):
        print(f"error: {path} holds no {ARTIFACT_FILE}; accepted: {ARTIFACT_ACCEPTED}", file=sys.stderr)
        return 2
    try:
        sha256 = content_sha256(path)
    except ValueError as error:  # e.g. an artifact.json that is not a JSON object
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(version_of(sha256))
    return 0


if __name__ == "__main__":
    sys.exit(main())
