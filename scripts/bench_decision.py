"""Benchmark: does the same champion/challenger comparison give the same decision every time?

    venv/bin/python scripts/bench_decision.py                  # builds a tiny pair, 20 runs per rule
    venv/bin/python scripts/bench_decision.py --runs 20 --champion DIR --challenger DIR --data CSV

Runs `python -m model compare --json` on the same two artifact folders and the same data `--runs`
times, each in a new process as a release does, under three rules taking turns run by run (so load
on the machine hits them alike): the default settings; the default passes without the tolerance
(`--latency-tolerance-ms 0`: the factor alone decides); and one pass without the tolerance
(`--latency-repeats 1 --latency-tolerance-ms 0`: the measurement before issue 13, except that the
turns now alternate in order). Prints, per rule,
how often the winner and the latency guardrail's verdict agree, and the median and range of the
latency factor and of each model's milliseconds per text, with the load average.

Without --champion/--challenger the pair is built in a temporary folder: the project's training
CSV (synthetic rows when it is absent) is split 80/20 by `model.data.split_file`; the champion is
preset `tiny` trained for one epoch, the challenger preset `tiny` with three layers: better on
macro-F1 and about 1.5 times slower per text, the case where a latency verdict decides the winner.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model.data import split_file  # noqa: E402
from model.synthetic import write_synthetic_csv  # noqa: E402
from scripts.bench_model import DEFAULT_DATA, load_average, train_bert  # noqa: E402

RULES = {
    "defaults": [],
    "interleaved passes, no tolerance": ["--latency-tolerance-ms", "0"],
    "one pass, no tolerance (as before issue 13)": ["--latency-repeats", "1", "--latency-tolerance-ms", "0"],
}
CHAMPION_TRAINING = {"preset": "tiny", "epochs": 1}
CHALLENGER_TRAINING = {"preset": "tiny", "num_layers": 3}


def build_pair(data: Path, folder: Path) -> tuple[Path, Path, Path]:
    """(champion, challenger, evaluation CSV), trained on the other 80 % of `data`."""
    if not data.exists():
        data = write_synthetic_csv(folder / "synthetic.csv", n_rows=2000, seed=0)
    split = split_file(data, folder / "train.csv", folder / "evaluation.csv", 0.2, 0)
    for name, settings in (("champion", CHAMPION_TRAINING), ("challenger", CHALLENGER_TRAINING)):
        print(f"training the {name} ({settings}) on {split['train']['rows']} rows of {data}", flush=True)
        train_bert(folder / "train.csv", folder / name, settings)
    return folder / "champion", folder / "challenger", folder / "evaluation.csv"


def compare_once(champion: Path, challenger: Path, data: Path, extra: list[str]) -> dict:
    command = [
        sys.executable,
        "-m",
        "model",
        "compare",
        "--champion",
        str(champion),
        "--challenger",
        str(challenger),
        "--data",
        str(data),
        "--json",
        *extra,
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"compare failed ({' '.join(command)}):\n{done.stderr}")
    return json.loads(done.stdout)


def agreement(values) -> str:
    """'20 of 20 agree (challenger)' or '13 of 20 agree (challenger 13, champion 7)'."""
    counts = Counter(values).most_common()
    spread = ", ".join(f"{value} {count}" for value, count in counts) if len(counts) > 1 else str(counts[0][0])
    return f"{counts[0][1]} of {len(values)} agree ({spread})"


def median_and_range(values, digits: int) -> str:
    return f"median {statistics.median(values):.{digits}f}, range {min(values):.{digits}f}-{max(values):.{digits}f}"


def summary(decisions: list[dict]) -> dict:
    latency = [d["guardrails"]["latency"] for d in decisions]
    return {
        "winner": agreement([d["winner"] for d in decisions]),
        "latency_guardrail": agreement(["passed" if check["passed"] else "failed" for check in latency]),
        "factor": median_and_range([check["factor"] for check in latency], 3),
        "champion_ms": median_and_range([check["champion_ms"] for check in latency], 3),
        "challenger_ms": median_and_range([check["challenger_ms"] for check in latency], 3),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="comparisons per rule")
    parser.add_argument("--champion", type=Path, help="champion artifact folder (default: build a tiny pair)")
    parser.add_argument("--challenger", type=Path, help="challenger artifact folder")
    parser.add_argument("--data", type=Path, help="labelled CSV to compare on (default: the pair's evaluation split)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs is {args.runs}; accepted: an integer >= 1")
    given = [args.champion, args.challenger, args.data]
    if any(given) and not all(given):
        parser.error("--champion, --challenger and --data go together; accepted: all three, or none to build a pair")
    for path in (args.champion, args.challenger):
        if path is not None and not (path / "artifact.json").is_file():
            parser.error(f"{path} holds no artifact.json; accepted: a folder written by `python -m model train`")

    with tempfile.TemporaryDirectory() as scratch:
        champion, challenger, data = given if all(given) else build_pair(DEFAULT_DATA, Path(scratch))
        print(
            f"champion {champion}; challenger {challenger}; data {data}; {os.cpu_count()} CPUs; "
            f"load average at start {load_average()}",
            flush=True,
        )
        decisions: dict[str, list[dict]] = {rule: [] for rule in RULES}
        for run in range(args.runs):
            for rule, extra in RULES.items():
                decisions[rule].append(compare_once(champion, challenger, data, extra))
            print(f"  run {run + 1}/{args.runs} done (load {load_average()})", flush=True)
    for rule, results in decisions.items():
        figures = summary(results)
        settings = results[0]["settings"]
        print(
            f"{rule} (latency_repeats {settings['latency_repeats']}, latency_tolerance_ms "
            f"{settings['latency_tolerance_ms']}, max_latency_factor {settings['max_latency_factor']}):"
        )
        for key, text in figures.items():
            print(f"  {key}: {text}")
    print(f"load average at end {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
