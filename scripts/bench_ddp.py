"""Benchmark: the same training as one process and as DDP processes under torchrun, on this machine.

    venv/bin/python scripts/bench_ddp.py                         # preset tiny: runs 1, 1x1 and 2
    venv/bin/python scripts/bench_ddp.py --preset default --repeats 2
    venv/bin/python scripts/bench_ddp.py --runs 1 2 4 --data other.csv

A run is N (processes, each with its share of the CPUs as torch threads, the default of
`model train`, passed as --num-threads) or NxT (N processes of T threads each): 1x1 shows what one process does without
the intra-op threads that two DDP processes give up.

One stratified 80/20 held-out split of the data (the real dataset when
../shared/data/portuguese-hate-speech/train.csv exists, else synthetic rows from model/synthetic.py);
every run trains on the same 80 % with the same settings and seed through `python -m model train`,
alone or under `torchrun --standalone --nproc-per-node N` (gloo on CPUs), and is scored on the held-out 20 % through the served int8
ONNX model. Wall time is the launcher's, from start to exit; peak memory is the sum of every
training process's maximum resident set (scripts/peak_memory.py), torchrun's own agent not
counted. Runs of different sizes alternate within each repeat, so a load change on a shared
machine hits them alike; the load average is printed beside them. The TF-IDF + logistic-regression
baseline of scripts/bench_model.py, on the same rows, is the quality reference.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model.data import load_dataset, resolve_csv, stratified_split, write_rows  # noqa: E402
from model.evaluate import evaluate_on  # noqa: E402
from model.metrics import classification_metrics  # noqa: E402
from model.settings import PRESETS, TrainSettings, cpus_per_process  # noqa: E402
from model.synthetic import write_synthetic_csv  # noqa: E402
from scripts.bench_model import DEFAULT_DATA, baseline, load_average, train_bert  # noqa: E402

PEAK_MEMORY = REPO / "scripts" / "peak_memory.py"
SYNTHETIC_ROWS = 3000


def program(processes: int, reports: Path) -> list[str]:
    """The command line before `train ...`: one process, or torchrun starting `processes` of them."""
    measured = [str(PEAK_MEMORY), str(reports)]
    if processes == 1:
        return [sys.executable, *measured]
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        str(processes),
        *measured,
    ]


def launcher_free_environment() -> None:
    """This benchmark's own children choose their ranks: variables inherited from a launcher would
    make the one-process run join a group that does not exist."""
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        os.environ.pop(name, None)


def parse_run(text: str) -> tuple[int, int | None]:
    """ "N" or "NxT" -> (processes, threads each or None for the default share)."""
    processes, separator, threads = text.partition("x")
    try:
        parsed = int(processes), (int(threads) if separator else None)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"run {text!r}; accepted: N or NxT (processes, threads each), e.g. 2 or 1x1"
        ) from None
    if parsed[0] < 1 or (parsed[1] is not None and parsed[1] < 1):
        raise argparse.ArgumentTypeError(f"run {text!r}; accepted: N and T of at least 1")
    return parsed


def run_name(processes: int, threads: int | None) -> str:
    return f"{processes}" if threads is None else f"{processes}x{threads}"


def threads_each(processes: int, threads: int | None) -> int:
    """The torch threads of each of `processes` processes: `threads`, else what `model train` takes by
    default under torchrun (its share of this machine's CPUs), passed explicitly all the same."""
    return threads or cpus_per_process({"LOCAL_WORLD_SIZE": str(processes)})


def one_run(train_csv: Path, held, processes: int, threads: int | None, preset: str, scratch: Path) -> dict:
    name = run_name(processes, threads)
    reports = scratch / f"reports-{name}"
    reports.mkdir()
    out = scratch / f"model-{name}"
    loads = [load_average()]
    overrides = {"preset": preset, "num_threads": threads_each(processes, threads)}
    bert = train_bert(train_csv, out, overrides, program(processes, reports))
    loads.append(load_average())
    peaks = [json.loads(path.read_text()) for path in sorted(reports.glob("rank-*.json"))]
    if len(peaks) != processes:
        raise RuntimeError(f"{len(peaks)} of {processes} training processes reported their memory")
    metrics = evaluate_on(out, held, precision="int8")
    artifact = json.loads((out / "artifact.json").read_text(encoding="utf-8"))
    training = bert["validation"]["training"]
    return {
        "run": name,
        "processes": processes,
        "seconds": bert["seconds"],
        "cpu_seconds": bert["cpu_seconds"],
        "peak_mib": sum(p["peak_kib"] for p in peaks) / 1024.0,
        "distribution": artifact["distribution"],
        "threads": artifact["settings"]["num_threads"],
        "macro_f1": metrics["macro_f1"],
        "f1_hate": metrics["f1_hate"],
        "roc_auc": metrics["roc_auc"],
        "validation_macro_f1": bert["validation"]["macro_f1"],
        "epochs_run": training["epochs_run"],
        "best_epoch": training["best_epoch"],
        "rows_per_rank": training["rows_per_rank"],
        "load_average": loads,
    }


def run(data_path: Path | None, runs: list[tuple[int, int | None]], preset: str, repeats: int, seed: int) -> dict:
    launcher_free_environment()
    with tempfile.TemporaryDirectory() as temporary:
        scratch = Path(temporary)
        if data_path is None:
            data_path = write_synthetic_csv(scratch / "synthetic.csv", n_rows=SYNTHETIC_ROWS, seed=0)
        dataset = load_dataset(data_path)
        source = resolve_csv(data_path)
        rest, held_idx = stratified_split(dataset.labels, 0.2, seed)
        held = dataset.subset(held_idx)
        train_csv = write_rows(source, rest, scratch / "train.csv")
        results = []
        for repeat in range(1, repeats + 1):
            for processes, threads in runs:
                folder = scratch / f"repeat-{repeat}"
                folder.mkdir(exist_ok=True)
                result = one_run(train_csv, held, processes, threads, preset, folder)
                results.append({"repeat": repeat, **result})
                print(
                    f"repeat {repeat}, run {result['run']}: {result['seconds']:.1f} s, {result['peak_mib']:.0f} MiB, "
                    f"held-out macro-F1 {result['macro_f1']:.4f} (load {result['load_average'][0]} -> "
                    f"{result['load_average'][1]})",
                    file=sys.stderr,
                    flush=True,
                )
        pipeline, threshold, _ = baseline(dataset, rest, TrainSettings(preset=preset))
        reference = classification_metrics(held.labels, pipeline.predict_proba(held.texts)[:, 1], threshold)
    return {
        "data": str(source),
        "synthetic": source.name == "synthetic.csv",
        "rows": len(dataset),
        "train_rows": len(rest),
        "held_out_rows": len(held_idx),
        "preset": preset,
        "seed": seed,
        "cpus": cpus_per_process({}),
        "runs": results,
        "baseline": {k: reference[k] for k in ("macro_f1", "f1_hate", "roc_auc")},
    }


def _median(values, digits: int) -> str:
    text = f"{statistics.median(values):.{digits}f}"
    if len(values) == 1:
        return text
    return f"{text} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def table(result: dict) -> str:
    data = (
        f"synthetic data ({result['rows']} rows, model/synthetic.py)"
        if result["synthetic"]
        else f"{result['data']} ({result['rows']} rows)"
    )
    repeats = max(r["repeat"] for r in result["runs"])
    lines = [
        f"Preset {result['preset']}, {data}: trained on {result['train_rows']} rows, scored on {result['held_out_rows']} "
        f"held-out rows (stratified 80/20, seed {result['seed']}); this machine, {result['cpus']} CPUs; "
        + ("one run each." if repeats == 1 else f"median (range) of {repeats} runs each."),
        "",
        "| run | processes | device, backend | torch threads each | wall time (s) | CPU time (s) | peak memory, sum (MiB) | "
        "held-out macro-F1 | hate F1 | ROC-AUC | epochs (best) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["run"] for r in result["runs"]):
        runs = [r for r in result["runs"] if r["run"] == name]
        first = runs[0]
        backend = first["distribution"]["backend"]
        lines.append(
            f"| {name} | {first['processes']} | {first['distribution']['device']}{', ' + backend if backend else ''} | {first['threads']} | "
            f"{_median([r['seconds'] for r in runs], 1)} | {_median([r['cpu_seconds'] for r in runs], 1)} | "
            f"{_median([r['peak_mib'] for r in runs], 0)} | {_median([r['macro_f1'] for r in runs], 4)} | "
            f"{_median([r['f1_hate'] for r in runs], 4)} | {_median([r['roc_auc'] for r in runs], 4)} | "
            f"{first['epochs_run']} ({first['best_epoch']}) |"
        )
    reference = result["baseline"]
    lines += [
        f"| TF-IDF + logistic regression (same rows) | – | – | – | – | – | in process | {reference['macro_f1']:.4f} | "
        f"{reference['f1_hate']:.4f} | {reference['roc_auc']:.4f} | – |",
        "",
        "Training rows computed per rank over the run: "
        + "; ".join(f"run {r['run']}: {r['rows_per_rank']}" for r in result["runs"] if r["repeat"] == 1),
        "Load average (1, 5, 15 min) before and after each run: "
        + "; ".join(
            f"{r['run']} #{r['repeat']}: {r['load_average'][0]} -> {r['load_average'][1]}" for r in result["runs"]
        ),
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help=f"dataset CSV (or folder holding one); default {DEFAULT_DATA} if present, else synthetic",
    )
    parser.add_argument(
        "--runs",
        type=parse_run,
        nargs="+",
        default=[(1, None), (1, 1), (2, None)],
        help="N or NxT each: N processes (T torch threads each; default their share of the CPUs)",
    )
    parser.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    parser.add_argument("--repeats", type=int, default=1, help="runs of each process count")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out split")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON after the table")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats is {args.repeats}; accepted: an integer of at least 1")
    if args.data is not None and not args.data.exists():
        parser.error(f"--data {args.data} does not exist; accepted: a CSV file or a folder holding one")
    data = args.data or (DEFAULT_DATA if DEFAULT_DATA.exists() else None)
    result = run(data, args.runs, args.preset, args.repeats, args.seed)
    print(table(result))
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    signal.signal(
        signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM)
    )  # unwinds, so the training child is stopped
    sys.exit(main())
