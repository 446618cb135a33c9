"""Benchmark: the BERT model beside a TF-IDF + logistic-regression baseline on the real dataset.

    venv/bin/python scripts/bench_model.py                # 5-fold cross-validation
    venv/bin/python scripts/bench_model.py --folds 1      # one stratified 80/20 held-out split (quicker)
    venv/bin/python scripts/bench_model.py --set epochs=10 --set hidden_size=256

For every split both models see the same rows: BERT trains through `python -m model train` on the
training part (which keeps its own validation split for early stopping and the threshold), the
baseline fits on the same training rows and picks its threshold on the same validation rows.
Both are scored on the held-out part, which neither has seen; BERT through the served int8 ONNX
model. Training time is wall time of the training process, peak memory its maximum resident set.
Prints the load average, since the machine may be shared. Exits 0 with a message when the data
file is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model.data import load_dataset, resolve_csv, stratified_folds, stratified_split, write_rows  # noqa: E402
from model.evaluate import evaluate_on  # noqa: E402
from model.metrics import best_threshold, classification_metrics  # noqa: E402
from model.settings import TrainSettings, cpus_per_process, parse_bool  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "portuguese-hate-speech" / "train.csv"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def stop_group(process: subprocess.Popen, grace: float = 30.0) -> None:
    """SIGTERM to the child's process group (a launcher such as torchrun and the workers it started;
    `python -m model` cleans up on it), SIGKILL to what is left after `grace` seconds; reaps the child."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:  # already gone
        process.wait()


def train_bert(
    train_csv: Path, out_dir: Path, overrides: dict, program: Sequence[str] = (sys.executable, "-m", "model")
) -> dict:
    """Run `python -m model train` (or `program` train) as a child process; its own wall time and
    peak memory (with children: the largest process's, which wait4 reports).

    `--num-threads` is always passed, overrides' num_threads or else the default of one process
    (cpus_per_process()): the figures and the content version can depend on it, so every run says it.
    """
    threads = overrides.get("num_threads") or cpus_per_process()
    command = [*program, "train", "--data", str(train_csv), "--out", str(out_dir), "--quiet", "--json"]
    for key, value in {**overrides, "num_threads": threads}.items():
        if value is None:  # None = the preset's value
            continue
        command += [f"--{key.replace('_', '-')}", str(value)]
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as output, tempfile.TemporaryFile("w+") as error_output:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=output,
            stderr=error_output,
            text=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
            start_new_session=True,
        )
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # interrupted (Ctrl-C, SIGTERM): no training left running behind
            stop_group(process)
            raise
        seconds = time.monotonic() - started
        error_output.seek(0)
        errors = error_output.read()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"training failed: {' '.join(command)}\n{errors}")
        output.seek(0)
        validation = json.loads(output.read())
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024.0,
        "validation": validation,
    }


def baseline(dataset, train_idx, settings: TrainSettings):
    """TF-IDF (word 1-2 grams) + class-weighted logistic regression, threshold from the same validation split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train_part = dataset.subset(train_idx)
    fit_idx, val_idx = stratified_split(train_part.labels, settings.validation_fraction, settings.seed)
    started = time.monotonic()
    pipeline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode"),
        LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000),
    )
    pipeline.fit([train_part.texts[i] for i in fit_idx], train_part.labels[fit_idx])
    threshold = best_threshold(
        train_part.labels[val_idx], pipeline.predict_proba([train_part.texts[i] for i in val_idx])[:, 1]
    )
    return pipeline, threshold, time.monotonic() - started


def run(data_path: Path, folds: int, overrides: dict, seed: int) -> dict:
    dataset = load_dataset(data_path)
    source = resolve_csv(data_path)
    settings = TrainSettings(**overrides)
    if folds == 1:
        splits = [stratified_split(dataset.labels, 0.2, seed)]
    else:
        parts = stratified_folds(dataset.labels, folds, seed)
        splits = [(np.setdiff1d(np.arange(len(dataset)), part), part) for part in parts]  # sorted, like the folds
    rows = []
    for number, (train_idx, held_idx) in enumerate(splits, start=1):
        held = dataset.subset(held_idx)
        loads = [load_average()]
        with tempfile.TemporaryDirectory() as temporary:
            scratch = Path(temporary)
            bert = train_bert(write_rows(source, train_idx, scratch / "train.csv"), scratch / "model", overrides)
            bert_metrics = evaluate_on(scratch / "model", held, precision="int8")
        loads.append(load_average())
        pipeline, threshold, baseline_seconds = baseline(dataset, train_idx, settings)
        base_metrics = classification_metrics(
            held.labels, pipeline.predict_proba(held.texts)[:, 1], threshold, held.categories
        )
        rows.append(
            {
                "split": number,
                "n_train": len(train_idx),
                "n_held_out": len(held_idx),
                "bert": {
                    **{k: bert_metrics[k] for k in ("macro_f1", "f1_hate", "roc_auc")},
                    "seconds": bert["seconds"],
                    "cpu_seconds": bert["cpu_seconds"],
                    "peak_mib": bert["peak_mib"],
                    "best_epoch": bert["validation"]["training"]["best_epoch"],
                    "validation_macro_f1": bert["validation"]["macro_f1"],
                },
                "baseline": {
                    **{k: base_metrics[k] for k in ("macro_f1", "f1_hate", "roc_auc")},
                    "seconds": baseline_seconds,
                },
                "load_average": loads,
            }
        )
        print(
            f"split {number}/{len(splits)}: BERT macro-F1 {bert_metrics['macro_f1']:.4f} in {bert['seconds']:.0f} s, "
            f"baseline {base_metrics['macro_f1']:.4f} (load {loads[0]} -> {loads[1]})",
            file=sys.stderr,
            flush=True,
        )
    return {
        "data": str(source),
        "folds": folds,
        "seed": seed,
        "settings": settings.as_dict(),
        "splits": rows,
        "cpus": cpus_per_process({}),  # the CPUs this process may use, torchrun or not
        "torch_threads": settings.num_threads,
    }


def _mean_sd(values, digits: int = 3) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def table(result: dict) -> str:
    splits = result["splits"]
    how = (
        "one stratified 80/20 held-out split"
        if result["folds"] == 1
        else f"{result['folds']}-fold stratified cross-validation"
    )
    bert = lambda key: [s["bert"][key] for s in splits]  # noqa: E731
    base = lambda key: [s["baseline"][key] for s in splits]  # noqa: E731
    lines = [
        f"Held-out scores, {how} of {result['data']} (seed {result['seed']}), {result['cpus']} CPUs, "
        f"torch threads {result['torch_threads']}; mean ± sd over splits.",
        "",
        "| model | macro-F1 | hate F1 | ROC-AUC | training wall time (s) | training CPU time (s) | peak memory (MiB) |",
        "|---|---|---|---|---|---|---|",
        f"| BERT from scratch (preset {result['settings']['preset']}, int8 ONNX) | {_mean_sd(bert('macro_f1'))} | "
        f"{_mean_sd(bert('f1_hate'))} | {_mean_sd(bert('roc_auc'))} | {_mean_sd(bert('seconds'), 0)} | "
        f"{_mean_sd(bert('cpu_seconds'), 0)} | "
        f"{max(bert('peak_mib')):.0f} |",
        f"| TF-IDF + logistic regression | {_mean_sd(base('macro_f1'))} | {_mean_sd(base('f1_hate'))} | "
        f"{_mean_sd(base('roc_auc'))} | {_mean_sd(base('seconds'), 1)} | - | (in-process) |",
        "",
        f"BERT macro-F1 on the validation part inside each training part (early stopping, threshold): "
        f"{_mean_sd(bert('validation_macro_f1'))}.",
        "Training time covers tokenizer, pre-training, fine-tuning, ONNX export and checks. CPU time is user + "
        "system time of the training process: on a shared machine wall time grows with the load, CPU time much less.",
        "Load average (1, 5, 15 min) before and after each BERT training: "
        + "; ".join(f"split {s['split']}: {s['load_average'][0]} -> {s['load_average'][1]}" for s in splits),
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset CSV (or folder holding one)")
    parser.add_argument("--folds", type=int, default=5, help="1 = one 80/20 held-out split; k >= 2 = k-fold")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out splits")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SETTING=VALUE",
        help="training setting override, e.g. --set preset=default --set epochs=10",
    )
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON after the table")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"skipped: data file {args.data} is absent (pass --data PATH to benchmark another copy)")
        return 0
    if args.folds < 1:
        parser.error(f"--folds is {args.folds}; accepted: 1 (held-out split) or an integer >= 2")
    overrides = {}
    for item in args.set:
        key, separator, value = item.partition("=")
        if not separator:
            parser.error(f"--set {item!r}; accepted: SETTING=VALUE")
        overrides[key.strip()] = value.strip()
    typed = {k: _typed(k, v) for k, v in overrides.items()}
    result = run(args.data, args.folds, typed, args.seed)
    print(table(result))
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


def _typed(key: str, value: str):
    import dataclasses

    fields = {f.name: f for f in dataclasses.fields(TrainSettings)}
    if key not in fields:
        raise SystemExit(f"--set {key}: unknown training setting; accepted: {sorted(fields)}")
    base = str(fields[key].type).split("|")[0].strip()
    if value.lower() in ("none", "null"):
        return None
    try:
        parsers: dict[str, Callable[[str], Any]] = {"int": int, "float": float, "str": str, "bool": parse_bool}
        return parsers[base](value)
    except ValueError as error:
        raise SystemExit(f"--set {key}={value}: {error}; accepted: a {base}") from None


if __name__ == "__main__":
    signal.signal(
        signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM)
    )  # unwinds, so the training child is stopped
    sys.exit(main())
