"""Time and peak memory to evaluate each stack's program offline.

    venv/bin/python scripts/bench_stacks.py [--runs 5]

The first run of a process pays for importing the Pulumi and azure-native modules; it is reported
apart. Then each stack is evaluated `--runs` times (test and prod read the registry stack's outputs,
whose plan is computed once per file content and reused) under the mock runtime (settings, every
component, every resource registration, outputs resolved); the median wall time, and the peak of
Python allocations during one more evaluation traced apart (tracemalloc slows it), are printed, with the process's peak RSS.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stacks", nargs="+", default=["registry", "dev", "test", "prod"])
    args = parser.parse_args()

    started = time.perf_counter()
    from scripts.offline.stack import run_stack

    run_stack(args.stacks[0])
    first = time.perf_counter() - started

    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}")
    print(f"first evaluation in a fresh process (imports included): {first:.2f} s")
    print(f"{'stack':<8} {'resources':>9} {'median s':>9} {'max s':>7} {'peak MiB':>9}")
    for stack in args.stacks:
        times = []
        for _ in range(args.runs):
            begin = time.perf_counter()
            plan = run_stack(stack)
            times.append(time.perf_counter() - begin)
        count = len(plan.resources)
        tracemalloc.start()
        run_stack(stack)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{stack:<8} {count:>9} {statistics.median(times):>9.3f} {max(times):>7.3f} {peak:>9.1f}")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
