"""Where the audit reads from: the Pulumi CLI, or JSON files recorded from it. Everything read goes
through bounded_json (encoding, nesting, numbers) and then shapes (the CLI's JSON shapes)."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .bounded_json import MAX_BYTES, JsonInputError, loads
from .shapes import ShapeError, StackExport, check
from .urns import check_stack

HISTORY_PAGE_SIZE = 500
MAX_HISTORY_PAGES = 200  # 100,000 updates; past that, record the history to a file
T = TypeVar("T")


class SourceError(RuntimeError):
    """The history or the export could not be read; the message is one line naming the file or command."""


@dataclass(frozen=True)
class Input:
    """One input of the report as read: the option or CLI command it came from, its size and sha256,
    so an auditor can tell the files the report was made from."""

    given_as: str  # --history, --export, --previous-export, or "Pulumi CLI"
    name: str  # the path as given, or the command run
    size: int
    sha256: str

    @classmethod
    def of(cls, given_as: str, name: str, data: bytes) -> Input:
        return cls(given_as, name, len(data), hashlib.sha256(data).hexdigest())


def _one_line(text: str, limit: int = 500) -> str:
    joined = " ".join(text.split())
    return joined if len(joined) <= limit else joined[: limit - 3] + "..."


def run_pulumi(arguments: list[str], cwd: str | None, pulumi: str = "pulumi", root: str = "") -> tuple[Any, Input]:
    """The JSON the command prints (None for no output) and its record; `root` names its top level in error paths."""
    command = [pulumi, *arguments, *(["--cwd", cwd] if cwd else []), "--non-interactive"]
    shown = " ".join(command)
    try:
        completed = subprocess.run(command, capture_output=True, check=False)
    except (FileNotFoundError, PermissionError):
        raise SourceError(
            f"the Pulumi CLI ({pulumi!r}) is not installed or not on PATH; install it, or pass "
            "--history FILE --export FILE recorded with `pulumi stack history --json "
            "--show-secrets=false` and `pulumi stack export`"
        ) from None
    if completed.returncode != 0:
        raise SourceError(
            f"`{shown}` failed (exit {completed.returncode}): "
            f"{_one_line(completed.stderr.decode('utf-8', errors='replace'))}"
        )
    try:
        value = loads(completed.stdout, root) if completed.stdout.strip() else None
    except JsonInputError as error:
        raise SourceError(f"the output of `{shown}`: {error}") from None
    return value, Input.of("Pulumi CLI", shown, completed.stdout)


def history_from_cli(stack: str, cwd: str | None, pulumi: str = "pulumi") -> tuple[list, list[Input]]:
    """Every page of the stack's history (the CLI shows 10 updates unless asked for more) and a record
    of each page read. Paging stops at a short, empty or repeated page (a CLI that ignores --page
    prints page 1 again)."""
    entries: list = []
    pages: list[Input] = []
    for page in range(1, MAX_HISTORY_PAGES + 1):
        batch, record = run_pulumi(
            [
                "stack",
                "history",
                "--json",
                "--show-secrets=false",
                "--stack",
                stack,
                "--page-size",
                str(HISTORY_PAGE_SIZE),
                "--page",
                str(page),
            ],
            cwd,
            pulumi,
            "history",
        )
        batch = batch or []
        if not isinstance(batch, list):
            raise SourceError(
                f"pulumi stack history (page {page}) printed {type(batch).__name__}; expected a JSON array"
            )
        if not batch or any(record.sha256 == seen.sha256 for seen in pages):
            return entries, pages
        pages.append(record)
        entries += batch
        if len(batch) < HISTORY_PAGE_SIZE:
            return entries, pages
    raise SourceError(
        f"pulumi stack history has more than {MAX_HISTORY_PAGES} pages of {HISTORY_PAGE_SIZE} "
        "updates; record it with `pulumi stack history --json --show-secrets=false` and pass "
        "--history FILE --export FILE"
    )


def export_from_cli(stack: str, cwd: str | None, pulumi: str = "pulumi") -> tuple[StackExport, Input]:
    """The stack's state and its record; secrets stay encrypted (no --show-secrets)."""
    value, record = run_pulumi(["stack", "export", "--stack", stack], cwd, pulumi)
    return check_export(value, "pulumi stack export", stack), record


def load_json(path: str, flag: str, root: str = "") -> tuple[Any, Input]:
    """The JSON in the file and its record; `root` names its top level in error paths (`history[3].kind`)."""
    where = f"{flag} {path!r}"
    file = Path(path)
    if not file.is_file():
        raise SourceError(f"{where} is not a file; expected JSON recorded from the Pulumi CLI")
    try:
        if file.stat().st_size > MAX_BYTES:
            raise SourceError(f"{where}: {file.stat().st_size} bytes; accepted: at most {MAX_BYTES} bytes")
        data = file.read_bytes()
        return loads(data, root), Input.of(flag, path, data)
    except OSError as error:
        raise SourceError(f"{where} cannot be read: {error.strerror}") from None
    except JsonInputError as error:
        raise SourceError(f"{where}: {error}") from None


def checked(where: str, read: Callable[[Any], T], value: Any) -> T:
    """`read(value)`, with a value not in the CLI's shape reported as a SourceError naming `where`."""
    try:
        return read(value)
    except ShapeError as error:
        raise SourceError(f"{where}: {error}") from None


def check_export(value: Any, where: str, stack: str) -> StackExport:
    """The export in the CLI's shape, holding resources of `stack` only."""
    return checked(where, lambda v: check_stack(check(StackExport, v), stack), value)
