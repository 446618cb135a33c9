"""The repository root, for tests that read its files or run its commands from it."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
