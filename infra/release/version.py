"""`python -m infra.release.version PATH`: the model version a release of PATH registers (content.py),
as CI prints it before setting approvedVersion. Exit 2 with the reason when PATH is no artifact."""
from __future__ import annotations

import sys
from pathlib import Path

from infra.release.content import ARTIFACT_FILE, content_sha256, is_remote, version_of


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m infra.release.version ARTIFACT_FOLDER|azureml://...", file=sys.stderr)
        return 2
    path = args[0] if is_remote(args[0]) else str(Path(args[0]).expanduser())
    if not is_remote(path) and not (Path(path) / ARTIFACT_FILE).is_file():
        print(f"error: {path} holds no {ARTIFACT_FILE}; accepted: a model artifact folder (as `python -m model train` "
              "writes it) or an azureml:// path", file=sys.stderr)
        return 2
    print(version_of(content_sha256(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
