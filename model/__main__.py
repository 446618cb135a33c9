"""Command line: python -m model {train,split,evaluate,compare,submit} ...

  python -m model train --data CSV --out DIR [--preset tiny] [--epochs 10 --hidden-size 128 ...]
  python -m model evaluate --model DIR --data CSV [--precision int8|fp32] [--json]
  python -m model split --data CSV --train-out CSV --evaluation-out CSV [--fraction 0.2] [--seed 0] [--json]
  python -m model compare --champion DIR|none --challenger DIR --data CSV [--alpha 0.05 ...] [--json]
  python -m model submit --stack dev --data CSV [--preset default] [--instances N] [--processes-per-instance N]
                         [--timeout SECONDS] [--no-wait]   (train as an Azure ML job: model/submit.py)

DATA may be a CSV file or a folder holding one CSV (a mounted Azure ML data asset).
`train` also runs under torchrun or Azure ML's PyTorch distribution (model.distributed): every
process trains its share, and rank 0 alone writes the artifact and prints the result; `submit`
starts it that way on an Azure ML cluster (--instances, --processes-per-instance).
Exit status: 0 on success, 2 on bad input, 1 when an exported model fails its check against torch or
a submitted training job does not complete (or on an unforeseen failure), 130 when interrupted. Every error is one `error: ...` line on
stderr naming the option, file or setting and what is accepted; `main` is the one place that turns
exceptions into that line. What train and split write appears whole or not at all (model.staging).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from model.errors import CheckFailed, JobFailed
from model.settings import parse_bool, shown


def _bool(text: str) -> bool:
    try:
        return parse_bool(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # also Python's 4300-digit limit on int(str)
        raise argparse.ArgumentTypeError(f"{shown(text)} is not an integer") from None


def _count(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not an integer >= 1")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a finite number")
    return value


def _positive_finite(text: str) -> float:
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a number > 0")
    return value


def _optional_finite(text: str):
    return None if text.strip().lower() in ("none", "null", "") else _finite(text)


_KINDS: dict[str, tuple[Callable[[str], Any], str]] = {  # field type -> (parser, metavar)
    "int": (_integer, "N"),
    "float": (_finite, "X"),
    "bool": (_bool, "true|false"),
    "str": (str, "NAME"),
}


def _default_text(value) -> str:
    return "none" if value is None else _option_text(value)


def _field_default(field: dataclasses.Field) -> str:
    return _default_text(field.default)


def _train_default(field: dataclasses.Field) -> str:
    """A TrainSettings default as --help says it: each preset's value for the settings presets give."""
    from model.settings import PRESETS, cpus_per_process

    if field.name == "num_threads":
        return f"{cpus_per_process()} on this machine"
    if not any(field.name in values for values in PRESETS.values()):
        return _field_default(field)
    by_preset = {preset: _default_text(values[field.name]) for preset, values in PRESETS.items()}
    if len(set(by_preset.values())) == 1:
        return f"{next(iter(by_preset.values()))} in every preset"
    return ", ".join(f"{text} with preset {preset}" for preset, text in by_preset.items())


def _add_settings_arguments(parser, settings_class, skip=(), default_of=_field_default):
    """One --option per dataclass field (dashes for underscores), its help the field's meaning and default."""
    from model.settings import meaning

    for field in dataclasses.fields(settings_class):
        if field.name in skip:
            continue
        base = str(field.type).split("|")[0].strip()
        kind, metavar = _KINDS[base]
        if field.name == "max_seconds":
            kind, metavar = _optional_finite, "SECONDS|none"
        described = meaning(field) or f"{settings_class.__name__}.{field.name}"
        parser.add_argument(
            f"--{field.name.replace('_', '-')}",
            dest=field.name,
            type=kind,
            default=None,
            metavar=metavar,
            help=f"{described} (default: {default_of(field)})".replace("%", "%%"),  # argparse formats help with %
        )


def _presets_epilog() -> str:
    from model.settings import PRESET_PURPOSES, PRESETS

    width = max(map(len, PRESETS))
    return "\n".join(
        [
            "presets (--preset NAME): an option left out takes the value of the preset, as its default says",
            *(f"  {name:<{width}}  {PRESET_PURPOSES[name]}" for name in PRESETS),
        ]
    )


def _chosen(args, settings_class) -> dict:
    return {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(settings_class)
        if getattr(args, f.name, None) is not None
    }


def _print(result: dict, as_json: bool, summary) -> None:
    if as_json:
        print(json.dumps(result, indent=2, default=float))
    else:
        print(summary(result))


def _metrics_line(metrics: dict) -> str:
    def number(key):
        value = metrics.get(key)
        return "n/a" if value is None else f"{value:.4f}"

    return (
        f"macro_f1 {number('macro_f1')}  f1_hate {number('f1_hate')}  precision_hate {number('precision_hate')}  "
        f"recall_hate {number('recall_hate')}  roc_auc {number('roc_auc')}  n {metrics['n']}"
    )


def run_train(args) -> int:
    from model.data import load_dataset
    from model.train import TrainSettings, train_on

    settings = TrainSettings(**_chosen(args, TrainSettings))
    outcome = train_on(load_dataset(args.data), args.out, settings, quiet=args.quiet)
    if "rank" in outcome:  # another rank of a distributed training: rank 0 reports and writes
        return 0
    result = {**outcome["metrics"], "training": outcome["fit"], "out": str(args.out)}
    _print(
        result,
        args.json,
        lambda r: (
            f"validation: {_metrics_line(r)}\nthreshold {r['threshold']:.4f}; "
            f"trained in {r['training']['seconds']:.0f} s; artifact folder {r['out']}"
        ),
    )
    return 0


def run_split(args) -> int:
    from model.data import split_file
    from model.settings import SplitSettings

    settings = SplitSettings(**_chosen(args, SplitSettings))
    result = split_file(args.data, args.train_out, args.evaluation_out, settings.fraction, settings.seed)
    _print(
        result,
        args.json,
        lambda r: "\n".join(
            f"{part}: {r[part]['rows']} rows ({r[part]['hate']} hate) -> {r[part]['path']}"
            for part in ("train", "evaluation")
        ),
    )
    return 0


def run_evaluate(args) -> int:
    from model.evaluate import evaluate
    from serving.classifier import read_artifact, smoke_test_warning

    result = evaluate(args.model, args.data, precision=args.precision)
    warning = smoke_test_warning(read_artifact(args.model))  # read once evaluate has found it readable
    if warning:
        print(f"warning: {args.model}: {warning}", file=sys.stderr)
    _print(result, args.json, _metrics_line)
    return 0


def _latency_evidence(check: dict) -> str:
    return (
        f" (factor {check['factor']:.2f}, limit {check['limit']}; slower by {check['slower_by_ms']:.3f} ms per text, "
        f"tolerance {check['tolerance_ms']} ms; medians of {check['repeats']} interleaved passes)"
    )


def run_compare(args) -> int:
    from model.compare import CompareSettings, compare

    settings = CompareSettings(**_chosen(args, CompareSettings))
    champion = None if args.champion.strip().lower() == "none" else args.champion
    result = compare(champion, args.challenger, args.data, settings)

    def summary(r):
        lines = [f"winner: {r['winner']}  (p_value {r['p_value']})", f"reason: {r['reason']}"]
        if r["champion"]:
            lines.append(f"champion:   {_metrics_line(r['champion'])}  latency {r['champion']['latency_ms']:.2f} ms")
        lines.append(f"challenger: {_metrics_line(r['challenger'])}  latency {r['challenger']['latency_ms']:.2f} ms")
        lines += [
            f"guardrail {name}: {'passed' if check['passed'] else 'FAILED'}"
            + (_latency_evidence(check) if name == "latency" else "")
            for name, check in r["guardrails"].items()
        ]
        return "\n".join(lines)

    _print(result, args.json, summary)
    return 0


def _option_text(value) -> str:
    """A setting as `model train` parses it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def run_submit(args) -> int:
    import logging

    from model.settings import TrainSettings
    from model.submit import DEFAULT_TIMEOUT_SECONDS, SubmitRequest, submit
    from model.training_job import Training

    chosen = _chosen(args, TrainSettings)
    settings = TrainSettings(**chosen)  # refused here, as `model train` in the job would refuse them
    options = (
        ("--preset", settings.preset),
        *((f"--{name.replace('_', '-')}", _option_text(value)) for name, value in chosen.items() if name != "preset"),
    )
    subscription = args.subscription or os.environ.get("AZURE_SUBSCRIPTION_ID") or os.environ.get("ARM_SUBSCRIPTION_ID")
    # azure-ai-ml warns about its own experimental schema classes on every import, and about studio links
    # without a tenant: noise between the progress lines. Its errors still show.
    logging.getLogger("azure.ai.ml").setLevel(logging.ERROR)
    submit(
        SubmitRequest(
            stack=args.stack,
            subscription_id=subscription,
            data=args.data,
            cluster=args.cluster,
            workspace=args.workspace,
            timeout_seconds=args.timeout or DEFAULT_TIMEOUT_SECONDS,
            wait=not args.no_wait,
            training=Training(
                options=options,
                instances=args.instances,
                processes_per_instance=args.processes_per_instance,
                attempt=args.attempt,
            ),
        )
    )
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one `error:` line like every other error of the command."""

    def error(self, message):
        self.exit(2, f"error: {' '.join(message.split())} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    from model.compare import CompareSettings
    from model.settings import SplitSettings, TrainSettings

    root = _Parser(prog="python -m model", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train",
        help="train and export an artifact folder",
        description="Train and export an artifact folder. Progress goes to stderr: a bar on a terminal,\n"
        "elsewhere (a CI log) one line per epoch with its losses, validation figures and elapsed time.",
        epilog=_presets_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--data", required=True, help="CSV file or folder holding one CSV")
    train.add_argument("--out", required=True, help="artifact folder to write")
    train.add_argument("--quiet", action="store_true", help="no progress output (neither bar nor epoch lines)")
    train.add_argument("--json", action="store_true", help="print the validation metrics as JSON")
    _add_settings_arguments(train, TrainSettings, default_of=_train_default)

    split = commands.add_parser("split", help="stratified train/evaluation split of a labelled CSV, as two CSV files")
    split.add_argument("--data", required=True, help="CSV file or folder holding one CSV")
    split.add_argument("--train-out", required=True, help="CSV to write the training rows to (must not exist)")
    split.add_argument("--evaluation-out", required=True, help="CSV to write the held-out rows to (must not exist)")
    # --fraction (share of each class held out, default 0.2) and --seed come from SplitSettings
    split.add_argument("--json", action="store_true")
    _add_settings_arguments(split, SplitSettings)

    evaluate = commands.add_parser("evaluate", help="score an artifact folder on labelled data")
    evaluate.add_argument("--model", required=True, help="artifact folder")
    evaluate.add_argument("--data", required=True, help="CSV file or folder holding one CSV")
    evaluate.add_argument("--precision", default="int8", choices=("int8", "fp32"))
    evaluate.add_argument("--json", action="store_true")

    compare = commands.add_parser("compare", help="champion against challenger on the same labelled data")
    compare.add_argument("--champion", required=True, help="artifact folder in production, or 'none'")
    compare.add_argument("--challenger", required=True, help="candidate artifact folder")
    compare.add_argument("--data", required=True, help="CSV file or folder holding one CSV")
    compare.add_argument("--json", action="store_true")
    _add_settings_arguments(compare, CompareSettings)

    submit = commands.add_parser(
        "submit",
        help="train as an Azure ML command job on a stack's training cluster",
        epilog=_presets_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    submit.add_argument(
        "--stack", required=True, help="the stack whose workspace and cluster train (Pulumi.<stack>.yaml)"
    )
    submit.add_argument("--data", required=True, help="labelled CSV to register as the job's data asset")
    submit.add_argument(
        "--subscription",
        default=None,
        help="subscription GUID of the stack (default: AZURE_SUBSCRIPTION_ID or ARM_SUBSCRIPTION_ID)",
    )
    submit.add_argument("--workspace", default=None, help="workspace of the stack (default: its only one)")
    submit.add_argument("--cluster", default="gpu", choices=("gpu", "cpu"), help="the stack's training cluster")
    submit.add_argument("--instances", type=_count, default=1, help="nodes (at most the cluster's maxNodes)")
    submit.add_argument(
        "--processes-per-instance",
        type=_count,
        default=1,
        help="processes per node (one per GPU); more than one in all runs PyTorch distributed",
    )
    submit.add_argument(
        "--attempt",
        type=_count,
        default=1,
        help="a new attempt starts a new job for the same definition (a rerun reuses the job)",
    )
    submit.add_argument(
        "--timeout",
        type=_positive_finite,
        default=None,
        help="seconds to wait (default 18000, 5 hours); the job is left running past it",
    )
    submit.add_argument("--no-wait", action="store_true", help="print the job name once submitted and exit")
    _add_settings_arguments(submit, TrainSettings, default_of=_train_default)
    return root


def _fail(message: str, status: int) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return status


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    handlers = {
        "train": run_train,
        "split": run_split,
        "evaluate": run_evaluate,
        "compare": run_compare,
        "submit": run_submit,
    }
    try:
        return handlers[args.command](args)
    except CheckFailed as error:
        return _fail(f"the exported model failed its check, nothing to release: {error}", 1)
    except JobFailed as error:
        return _fail(str(error), 1)
    except ValueError as error:  # DataError, ArtifactError, OutputError, TargetError and the settings checks
        return _fail(str(error), 2)
    except KeyboardInterrupt as error:  # LeftRunning says which job keeps running
        return _fail(str(error) or "interrupted; nothing was written", 130)
    except OSError as error:
        return _fail(f"{error.filename or 'a file'}: {error.strerror or error}", 1)
    except Exception as error:  # a failure nothing above foresaw: still one line, and nothing written
        return _fail(f"{args.command} failed unexpectedly ({type(error).__name__}: {error})", 1)


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM (a cancelled CI job) cleans up like Ctrl-C


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(main())
