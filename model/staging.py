"""Outputs that appear whole or not at all.

The commands that write (train's artifact folder, split's two CSV files) write under temporary
names beside their targets, and move them into place only when the block that writes them ends
without an error. On an error or an interrupt the temporary names, and any parent folders made
for them, are removed: the targets are as they were before the command ran. Renames within one
folder are atomic on POSIX file systems (rename(2)); a folder may replace an empty folder.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

PARTIAL_MARK = ".partial-"  # temporary names are ".<target name>.partial-<random hex>"


class OutputError(ValueError):
    """An output path cannot be used; the message names the option and what is accepted."""


def _partial_beside(target: Path) -> Path:
    return target.parent / f".{target.name}{PARTIAL_MARK}{uuid.uuid4().hex[:12]}"


def _missing_parents(target: Path, option: str) -> list[Path]:
    """The folders above `target` that do not exist yet, nearest the root first."""
    missing, folder = [], target.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(
            f"{option} {target}: {folder} is a file, not a folder; accepted: a path whose parents are "
            "folders or do not exist yet"
        )
    return missing[::-1]


def _os_error(option: str, target: Path, error: OSError) -> OutputError:
    return OutputError(
        f"{option} {target} cannot be written ({error.strerror or error}); accepted: a path in a "
        "folder this process may write to"
    )


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def _partials(targets: Mapping[str, Path]) -> Iterator[dict[str, Path]]:
    """{option: temporary path beside its target}, the parents made; all removed if the block fails."""
    made: list[Path] = []
    partials: dict[str, Path] = {}
    try:
        for option, target in targets.items():
            for folder in _missing_parents(target, option):
                try:
                    folder.mkdir()
                except OSError as error:
                    raise _os_error(option, target, error) from None
                made.append(folder)
            partials[option] = _partial_beside(target)
        yield partials
    except BaseException:
        for partial in partials.values():
            _remove(partial)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:  # something else wrote into it meanwhile: leave it
                pass
        raise


@contextmanager
def staged_folder(target, option: str = "--out") -> Iterator[Path]:
    """A new empty folder beside `target` that becomes `target` when the block ends without an error.

    `target` must not exist, or be an empty folder (which the staged one replaces).
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{option} {target} is a file; accepted: a new or empty folder")
    if target.is_dir() and any(target.iterdir()):
        raise OutputError(f"{option} {target} is not empty; accepted: a new or empty folder (nothing is overwritten)")
    with _partials({option: target}) as partials:
        staging = partials[option]
        try:
            staging.mkdir()
        except OSError as error:
            raise _os_error(option, target, error) from None
        yield staging
        try:
            os.rename(staging, target)
        except OSError as error:
            if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise OutputError(
                    f"{option} {target} was filled while this command ran; accepted: a new or empty "
                    "folder (nothing is overwritten)"
                ) from None
            raise _os_error(option, target, error) from None


@contextmanager
def staged_files(targets: Mapping[str, str | os.PathLike[str]]) -> Iterator[dict[str, Path]]:
    """{option: temporary path} beside each target; when the block ends without an error every file
    is moved to its target, or none is. No target may exist yet, and no two may be the same path."""
    paths = {option: Path(target) for option, target in targets.items()}
    for option, target in paths.items():
        if target.exists() or target.is_symlink():
            raise OutputError(
                f"{option} {target} exists; accepted: a path that does not exist yet (nothing is overwritten)"
            )
    seen: dict[Path, str] = {}
    for option, target in paths.items():
        resolved = target.resolve()
        if resolved in seen:
            raise OutputError(f"{seen[resolved]} and {option} are both {target}; accepted: different paths")
        seen[resolved] = option
    with _partials(paths) as partials:
        yield partials
        published: list[Path] = []
        try:
            for option, partial in partials.items():
                target = paths[option]
                if target.exists():  # made by someone else while this command ran
                    raise OutputError(
                        f"{option} {target} appeared while this command ran; accepted: a path that does "
                        "not exist yet (nothing is overwritten)"
                    )
                try:
                    os.rename(partial, target)
                except OSError as error:
                    raise _os_error(option, target, error) from None
                published.append(target)
        except BaseException:
            for target in published:
                target.unlink(missing_ok=True)
            raise
