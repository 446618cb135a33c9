"""Hostile inputs for `python -m model` (issue 17, item 6); tests/model/test_hostile_cli.py runs them.

Each case writes its inputs into an empty scratch folder and gives the command line. The command
must end with the case's exit status and exactly one `error: ...` line holding `names` (the
option, file or setting at fault; "{root}" stands for the scratch folder), with no traceback, and
leave the scratch folder as it was: no output, no temporary folder beside one.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CSV_FIELD_LIMIT = 131_072  # csv.field_size_limit() unless a program changes it
HEADER = ",text,hate\n"


class Inputs:
    """Builds a case's input files under `root`; `trained_model` gives the tiny model the session trains."""

    def __init__(self, root: Path, trained_model: Callable[[], Path]):
        self.root = root
        self._trained_model = trained_model

    def path(self, name: str) -> str:
        return str(self.root / name)

    def file(self, name: str, content: str | bytes) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return str(path)

    def data(self, name: str = "data.csv", n_rows: int = 200) -> str:
        from model.synthetic import write_synthetic_csv

        return str(write_synthetic_csv(self.root / name, n_rows=n_rows, seed=0))

    def rows(self, name: str, *rows: str) -> str:
        return self.file(name, HEADER + "".join(f"{i},{row}\n" for i, row in enumerate(rows)))

    def artifact(self, replace: dict[str, str | bytes] | None = None, name: str = "model") -> str:
        """An artifact folder that is whole as far as loading goes (artifact.json and a real
        tokenizer.json) with a stand-in ONNX file; `replace` gives other contents for any file."""
        from model.tokenizer import train_tokenizer

        folder = self.root / name
        folder.mkdir()
        tokenizer = train_tokenizer(
            ["olá mundo", "texto de exemplo", "mais um texto"], vocab_size=60, max_length=32, min_frequency=1
        )
        tokenizer.save(str(folder / "tokenizer.json"))
        (folder / "artifact.json").write_text(
            json.dumps({"labels": ["no-hate", "hate"], "max_length": 32, "threshold": 0.5})
        )
        (folder / "model.int8.onnx").write_bytes(b"stand-in: no graph here")
        for file_name, content in (replace or {}).items():
            (folder / file_name).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return str(folder)

    def trained_model(self, name: str = "trained") -> str:
        return str(shutil.copytree(self._trained_model(), self.root / name))


@dataclass(frozen=True)
class Case:
    id: str
    argv: Callable[[Inputs], list[str]]  # writes the inputs, returns the command line
    status: int  # 2 bad input, 1 a failed check
    names: str  # text the error line must hold
    slow: bool = False  # trains a model or needs the trained one


def _train(i: Inputs, *options: str, data: str | None = None, out: str | None = None) -> list[str]:
    return [
        "train",
        "--data",
        data or i.data(),
        "--out",
        out or i.path("out"),
        "--preset",
        "tiny",
        "--quiet",
        "--num-threads",
        "1",
        *options,
    ]


def _split(
    i: Inputs, *options: str, data: str | None = None, train_out: str | None = None, evaluation_out: str | None = None
) -> list[str]:
    return [
        "split",
        "--data",
        data or i.data(),
        "--train-out",
        train_out or i.path("train.csv"),
        "--evaluation-out",
        evaluation_out or i.path("evaluation.csv"),
        *options,
    ]


SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"


def _submit(i: Inputs, *options: str, data: str | None = None, stack: str = "dev") -> list[str]:
    """A submit that is refused before it reaches Azure: no gateway is ever built for these."""
    return ["submit", "--stack", stack, "--data", data or i.data(), "--subscription", SUBSCRIPTION, *options]


def _long_field(i: Inputs, name: str = "long.csv") -> str:
    return i.rows(name, "um texto,0", "a" * (CSV_FIELD_LIMIT + 1) + ",1")


def _filled_folder(i: Inputs) -> str:
    i.file("out/notes.txt", "an earlier run's file")
    return i.path("out")


# (command, option, value, what the error line names): settings bounded, finite, named with what is accepted
BAD_OPTIONS = [
    ("train", "--learning-rate", "inf", "argument --learning-rate: 'inf' is not a finite number"),
    ("train", "--learning-rate", "nan", "argument --learning-rate: 'nan' is not a finite number"),
    ("train", "--learning-rate", "50", "training setting learning_rate is 50.0; accepted: a finite number in (0, 1]"),
    ("train", "--max-seconds", "inf", "argument --max-seconds: 'inf' is not a finite number"),
    (
        "train",
        "--epochs",
        "1" + "0" * 60,
        "training setting epochs is 1000000000000000000000000000000000000...; accepted: an integer in [1, 1000]",
    ),
    ("train", "--epochs", "9" * 5000, "argument --epochs: '999999999999999999999999999999999999... is not an integer"),
    ("train", "--dropout", "1", "training setting dropout is 1.0; accepted: a finite number in [0, 1)"),
    ("train", "--seed", "-1", "training setting seed is -1; accepted: an integer in [0, 4294967295]"),
    ("train", "--num-threads", "0", "training setting num_threads is 0; accepted: an integer in [1, 1024]"),
    ("train", "--preset", "huge", "training setting preset is 'huge'; accepted: ['default', 'tiny']"),
    ("split", "--fraction", "1", "split setting fraction is 1.0; accepted: a finite number in (0, 1)"),
    ("split", "--fraction", "nan", "argument --fraction: 'nan' is not a finite number"),
    ("split", "--seed", "-5", "split setting seed is -5; accepted: an integer in [0, 4294967295]"),
    ("compare", "--alpha", "inf", "argument --alpha: 'inf' is not a finite number"),
    ("compare", "--max-latency-factor", "nan", "argument --max-latency-factor: 'nan' is not a finite number"),
]


def _with_option(command: str, option: str, value: str) -> Callable[[Inputs], list[str]]:
    def argv(i: Inputs) -> list[str]:
        if command == "compare":
            return ["compare", "--champion", "none", "--challenger", i.artifact(), "--data", i.data(), option, value]
        return (_train if command == "train" else _split)(i, option, value)

    return argv


CASES: list[Case] = [
    *(
        Case(f"{command}{option}-{value[:12]}", _with_option(command, option, value), 2, names)
        for command, option, value, names in BAD_OPTIONS
    ),
    # data: too small, malformed, unbounded fields
    Case(
        "train-three-rows",
        lambda i: _train(i, data=i.rows("three.csv", "abc def,0", "ghi jkl,1", "mno,0")),
        2,
        "{root}/three.csv: 3 rows give 2 training (1 hate), 1 validation (0 hate) rows at validation_fraction 0.2; "
        "accepted: at least 50 training and 20 validation rows",
    ),
    Case(
        "train-two-rows-one-class",
        lambda i: _train(i, data=i.rows("two.csv", "abc,0", "def,0")),
        2,
        "{root}/two.csv: column 'hate' holds one class only",
    ),
    Case(
        "train-sixty-rows",
        lambda i: _train(i, data=i.data("sixty.csv", n_rows=60)),
        2,
        "{root}/sixty.csv: 60 rows give 48 training",
    ),
    Case(
        "train-field-over-the-csv-limit",
        lambda i: _train(i, data=_long_field(i)),
        2,
        "{root}/long.csv: line 3 is not valid CSV (field larger than field limit (131072)); accepted: a CSV file "
        "whose fields hold at most 131072 characters",
    ),
    Case(
        "train-latin-1-data",
        lambda i: _train(i, data=i.file("latin.csv", (HEADER + "1,não,1\n").encode("latin-1"))),
        2,
        "{root}/latin.csv: byte 14 (line 2) is not valid UTF-8",
    ),
    Case(
        "train-data-folder-without-csv",
        lambda i: _train(i, data=str(Path(i.file("asset/notes.txt", "x")).parent)),
        2,
        "data folder {root}/asset must hold exactly one .csv file",
    ),
    # --out: never under a file, never over something that exists
    Case(
        "train-out-under-a-file",
        lambda i: _train(i, out=i.data() + "/model"),
        2,
        "--out {root}/data.csv/model: {root}/data.csv is a file, not a folder",
    ),
    Case(
        "train-out-is-the-data-file",
        lambda i: _train(i, out=i.data()),
        2,
        "--out {root}/data.csv is a file; accepted: a new or empty folder",
    ),
    Case(
        "train-out-not-empty",
        lambda i: _train(i, out=_filled_folder(i)),
        2,
        "--out {root}/out is not empty; accepted: a new or empty folder",
    ),
    # a real failed check: one epoch leaves scores so near the threshold that int8 flips many labels
    Case(
        "train-export-check-fails",
        lambda i: _train(i, "--epochs", "1", out=i.path("new/parents/model")),
        1,
        "the exported model failed its check, nothing to release: model.int8.onnx: int8 labels agree with fp32 on",
        slow=True,
    ),
    # split: both files or neither
    Case(
        "split-evaluation-out-under-a-file",
        lambda i: _split(i, evaluation_out=i.data() + "/evaluation.csv"),
        2,
        "--evaluation-out {root}/data.csv/evaluation.csv: {root}/data.csv is a file, not a folder",
    ),
    Case(
        "split-evaluation-out-exists",
        lambda i: _split(i, evaluation_out=i.file("old.csv", "keep me")),
        2,
        "--evaluation-out {root}/old.csv exists; accepted: a path that does not exist yet",
    ),
    Case(
        "split-same-target-twice",
        lambda i: _split(i, train_out=i.path("same.csv"), evaluation_out=i.path("elsewhere/../same.csv")),
        2,
        "--train-out and --evaluation-out are both {root}/elsewhere/../same.csv; accepted: different paths",
    ),
    Case(
        "split-one-hate-row",
        lambda i: _split(i, data=i.rows("rare.csv", "a,0", "b,0", "c,0", "d,1")),
        2,
        "{root}/rare.csv: the evaluation part would hold 1 rows, 0 of them hate; accepted: data with at least 2 rows "
        "of each class",
    ),
    Case(
        "split-field-over-the-csv-limit",
        lambda i: _split(i, data=_long_field(i)),
        2,
        "{root}/long.csv: line 3 is not valid CSV (field larger than field limit (131072))",
    ),
    # evaluate and compare: a corrupt artifact is named as such
    Case(
        "evaluate-corrupt-int8-model",
        lambda i: ["evaluate", "--model", i.artifact(), "--data", i.data()],
        2,
        "{root}/model/model.int8.onnx: not a valid ONNX model (",
    ),
    Case(
        "evaluate-corrupt-fp32-model",
        lambda i: [
            "evaluate",
            "--model",
            i.artifact({"model.onnx": b"\x08\x07garbage"}),
            "--data",
            i.data(),
            "--precision",
            "fp32",
        ],
        2,
        "{root}/model/model.onnx: not a valid ONNX model (",
    ),
    Case(
        "evaluate-corrupt-tokenizer",
        lambda i: [
            "evaluate",
            "--model",
            i.artifact({"tokenizer.json": '{"version": "1.0", "model":'}),
            "--data",
            i.data(),
        ],
        2,
        "{root}/model/tokenizer.json: not a valid tokenizers file (",
    ),
    Case(
        "evaluate-tokenizer-config-not-an-object",
        lambda i: ["evaluate", "--model", i.artifact({"tokenizer_config.json": "[1, 2]"}), "--data", i.data()],
        2,
        "{root}/model/tokenizer_config.json: not a valid tokenizer configuration (a JSON object)",
    ),
    Case(
        "evaluate-artifact-json-truncated",
        lambda i: ["evaluate", "--model", i.artifact({"artifact.json": '{"labels": ['}), "--data", i.data()],
        2,
        "{root}/model/artifact.json is not valid JSON",
    ),
    Case(
        "evaluate-threshold-nan",
        lambda i: [
            "evaluate",
            "--model",
            i.artifact({"artifact.json": '{"labels": ["no-hate", "hate"], "max_length": 32, "threshold": NaN}'}),
            "--data",
            i.data(),
        ],
        2,
        "{root}/model/artifact.json: 'threshold' is nan; accepted: a number in [0, 1]",
    ),
    Case(
        "evaluate-field-over-the-csv-limit",
        lambda i: ["evaluate", "--model", i.artifact(), "--data", _long_field(i)],
        2,
        "{root}/long.csv: line 3 is not valid CSV",
    ),
    Case(
        "compare-corrupt-challenger",
        lambda i: ["compare", "--champion", "none", "--challenger", i.artifact(), "--data", i.data()],
        2,
        "{root}/model/model.int8.onnx: not a valid ONNX model (",
    ),
    # submit: refused before anything reaches Azure
    Case("submit-unknown-stack", lambda i: _submit(i, stack="staging"), 2, "--stack: no stack 'staging': "),
    Case(
        "submit-zero-instances",
        lambda i: _submit(i, "--instances", "0"),
        2,
        "argument --instances: '0' is not an integer >= 1",
    ),
    Case(
        "submit-more-instances-than-the-cluster-has",
        lambda i: _submit(i, "--instances", "2"),
        2,
        "--instances is 2, but gpu-cluster of stack dev scales to at most 1 node; accepted: 1 to 1",
    ),
    Case(
        "submit-zero-processes",
        lambda i: _submit(i, "--processes-per-instance", "0"),
        2,
        "argument --processes-per-instance: '0' is not an integer >= 1",
    ),
    Case(
        "submit-missing-data-file",
        lambda i: _submit(i, data=i.path("missing.csv")),
        2,
        "data file {root}/missing.csv does not exist",
    ),
    Case(
        "submit-latin-1-data",
        lambda i: _submit(i, data=i.file("latin.csv", (HEADER + "1,não,1\n").encode("latin-1"))),
        2,
        "{root}/latin.csv: byte 14 (line 2) is not valid UTF-8",
    ),
    Case(
        "submit-timeout-nan",
        lambda i: _submit(i, "--timeout", "nan"),
        2,
        "argument --timeout: 'nan' is not a finite number",
    ),
    Case(
        "submit-timeout-zero", lambda i: _submit(i, "--timeout", "0"), 2, "argument --timeout: '0' is not a number > 0"
    ),
    Case(
        "submit-bad-setting",
        lambda i: _submit(i, "--learning-rate", "50"),
        2,
        "training setting learning_rate is 50.0; accepted: a finite number in (0, 1]",
    ),
    Case(
        "submit-unknown-workspace",
        lambda i: _submit(i, "--workspace", "vision"),
        2,
        "--workspace is 'vision'; accepted: one of the workspaces stack dev declares (hatespeech)",
    ),
    Case(
        "submit-subscription-not-a-guid",
        lambda i: ["submit", "--stack", "dev", "--data", i.data(), "--subscription", "my-subscription"],
        2,
        "--subscription is 'my-subscription'; accepted: the subscription GUID",
    ),
    Case(
        "compare-corrupt-champion",
        lambda i: [
            "compare",
            "--champion",
            i.artifact({"tokenizer.json": "garbage"}),
            "--challenger",
            i.trained_model(),
            "--data",
            i.data(),
        ],
        2,
        "{root}/model/tokenizer.json: not a valid tokenizers file (",
        slow=True,
    ),
]
