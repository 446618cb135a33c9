"""Load the hate-speech CSV format and split it.

`split_file` writes a stratified split as two files in the same format (the evaluation data of a
release must be rows the candidate never trained on).

Accepted input: a CSV file, or a folder (such as a mounted Azure ML data asset) that holds
exactly one `.csv` file. Required columns: `text` and `hate` (0/1). Every other named column is a
category column (0/1); the unnamed first column is the row id and is ignored. Only numpy and the
standard library are used so the release providers can load data without the training stack.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.staging import staged_files

REQUIRED_COLUMNS = ("text", "hate")
BINARY_VALUES = {"0": 0, "1": 1, "0.0": 0, "1.0": 1}


class DataError(ValueError):
    """The data file cannot be used; the message names the file, the place and what is accepted."""


@dataclass(frozen=True)
class Dataset:
    texts: list[str]
    labels: np.ndarray  # int64, 1 = hate
    categories: dict[str, np.ndarray] = field(default_factory=dict)  # column -> int64 0/1
    source: str = ""
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices) -> Dataset:
        indices = np.asarray(indices, dtype=np.int64)
        return Dataset(
            texts=[self.texts[i] for i in indices],
            labels=self.labels[indices],
            categories={name: values[indices] for name, values in self.categories.items()},
            source=self.source,
            sha256=self.sha256,
        )


def resolve_csv(path) -> Path:
    """The CSV behind `path`: the file itself, or the single .csv inside a folder."""
    path = Path(path)
    accepted = "a .csv file or a folder (e.g. a mounted Azure ML data asset) holding exactly one .csv file"
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        if len(found) != 1:
            names = [p.name for p in found] or "none"
            raise DataError(f"data folder {path} must hold exactly one .csv file, found {names}; accepted: {accepted}")
        return found[0]
    if not path.is_file():
        raise DataError(f"data file {path} does not exist; accepted: {accepted}")
    return path


def _binary(value: str, column: str, line: int, csv_path: Path) -> int:
    try:
        return BINARY_VALUES[value.strip()]
    except KeyError:
        raise DataError(
            f"{csv_path}: line {line}, column {column!r} has value {value!r}; accepted values are 0 and 1"
        ) from None


def _read_text(csv_path: Path) -> tuple[bytes, str]:
    """The bytes of the CSV and their UTF-8 text."""
    try:
        raw = csv_path.read_bytes()
    except OSError as error:
        raise DataError(
            f"data file {csv_path} cannot be read ({error.strerror or error}); accepted: a readable UTF-8 CSV file"
        ) from None
    try:
        return raw, raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(
            f"{csv_path}: byte {error.start} (line {line}) is not valid UTF-8 ({error.reason}); "
            "accepted: a UTF-8 encoded CSV"
        ) from None


def _records(csv_path: Path, content: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields) for each CSV record, blank lines as empty records.

    The csv module bounds a field at csv.field_size_limit() characters (131,072 unless changed);
    a longer field, like any other malformed record, is a DataError naming the file and line.
    """
    reader = csv.reader(content.splitlines(keepends=True))
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise DataError(
                f"{csv_path}: line {line} is not valid CSV ({error}); accepted: a CSV file whose fields "
                f"hold at most {csv.field_size_limit()} characters"
            ) from None
        yield line, row


def load_dataset(path) -> Dataset:
    """Read and validate a dataset CSV (see the module docstring)."""
    csv_path = resolve_csv(path)
    raw, content = _read_text(csv_path)
    records = _records(csv_path, content)
    _, header = next(records, (1, None))
    if not header:
        raise DataError(f"{csv_path}: the file is empty; accepted: a header row with columns {list(REQUIRED_COLUMNS)}")
    header = [name.strip() for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise DataError(
            f"{csv_path}: missing column(s) {missing}; found {header}; "
            f"accepted: columns {list(REQUIRED_COLUMNS)} plus optional 0/1 category columns"
        )
    text_at, hate_at = header.index("text"), header.index("hate")
    category_at = {name: i for i, name in enumerate(header) if name and name not in REQUIRED_COLUMNS}

    texts, labels = [], []
    categories: dict[str, list[int]] = {name: [] for name in category_at}
    for line, row in records:
        if not row:
            continue
        if len(row) != len(header):
            raise DataError(f"{csv_path}: line {line} has {len(row)} fields, the header has {len(header)}")
        text = row[text_at].strip()
        if not text:
            raise DataError(f"{csv_path}: line {line}, column 'text' is empty; accepted: a non-empty text")
        texts.append(text)
        labels.append(_binary(row[hate_at], "hate", line, csv_path))
        for name, at in category_at.items():
            categories[name].append(_binary(row[at], name, line, csv_path))
    if not texts:
        raise DataError(f"{csv_path}: no data rows after the header; accepted: at least one labelled row")
    return Dataset(
        texts=texts,
        labels=np.asarray(labels, dtype=np.int64),
        categories={name: np.asarray(values, dtype=np.int64) for name, values in categories.items()},
        source=str(csv_path),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def stratified_split(labels, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (rest, part) where `part` holds about `fraction` of each class, chosen with `seed`."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"split fraction must be strictly between 0 and 1, got {fraction!r}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    rest: list[int] = []
    part: list[int] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rng.shuffle(members)
        n_part = int(round(len(members) * fraction))
        if len(members) >= 2:
            n_part = min(max(n_part, 1), len(members) - 1)
        part.extend(members[:n_part])
        rest.extend(members[n_part:])
    return np.sort(np.asarray(rest, dtype=np.int64)), np.sort(np.asarray(part, dtype=np.int64))


def stratified_folds(labels, n_folds: int, seed: int) -> list[np.ndarray]:
    """`n_folds` disjoint index arrays covering every row, each with about the same class mix."""
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds!r}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    folds: list[list[int]] = [[] for _ in range(n_folds)]
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rng.shuffle(members)
        for i, index in enumerate(members):
            folds[i % n_folds].append(int(index))
    return [np.sort(np.asarray(f, dtype=np.int64)) for f in folds]


def write_rows(source, indices, target) -> Path:
    """The header and the chosen data rows of `source` (as numbered by `load_dataset`), unchanged, in a new CSV."""
    csv_path = resolve_csv(source)
    records = _records(csv_path, _read_text(csv_path)[1])
    _, header = next(records)
    rows = [row for _, row in records if row]  # the rows load_dataset numbers (it skips blank lines)
    target = Path(target)
    with target.open("x", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows[i] for i in indices)
    return target


def split_file(source, train_target, evaluation_target, fraction: float, seed: int) -> dict:
    """Write a stratified, seeded split of `source` as two CSV files, both or neither; neither may exist yet."""
    targets = {"--train-out": train_target, "--evaluation-out": evaluation_target}
    dataset = load_dataset(source)
    train_idx, evaluation_idx = stratified_split(dataset.labels, fraction, seed)
    parts = {"train": (train_target, train_idx), "evaluation": (evaluation_target, evaluation_idx)}
    for part, (_, indices) in parts.items():
        if len(np.unique(dataset.labels[indices])) < 2:
            raise DataError(
                f"{dataset.source}: the {part} part would hold {len(indices)} rows, {int(dataset.labels[indices].sum())} "
                f"of them hate; accepted: data with at least 2 rows of each class, so that both parts hold both"
            )
    with staged_files(targets) as partials:
        for option, (_, indices) in zip(targets, parts.values(), strict=False):
            write_rows(dataset.source, indices, partials[option])
    summary = {
        part: {"path": str(target), "rows": int(len(indices)), "hate": int(dataset.labels[indices].sum())}
        for part, (target, indices) in parts.items()
    }
    return {"source": dataset.source, "sha256": dataset.sha256, "fraction": fraction, "seed": seed, **summary}
