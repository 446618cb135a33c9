"""Run `python -m model ARGS...` in this process, then write this process's peak resident memory to
FOLDER/rank-<RANK>.json (RANK 0 when no launcher set it).

    python scripts/peak_memory.py FOLDER train --data ... --out ...

scripts/bench_ddp.py starts it under torchrun and adds the figures of all ranks: wait4 on torchrun
reports only the largest process of the tree (getrusage(2), ru_maxrss of children), not their sum.
"""

from __future__ import annotations

import json
import os
import resource
import runpy
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: peak_memory.py FOLDER MODEL-COMMAND [ARGS...]", file=sys.stderr)
        return 2
    folder, arguments = Path(sys.argv[1]), sys.argv[2:]
    sys.path.insert(0, str(REPO))
    sys.argv = ["python -m model", *arguments]
    try:
        runpy.run_module("model", run_name="__main__", alter_sys=True)
        status = 0
    except SystemExit as exited:
        status = exited.code if isinstance(exited.code, int) else 1
    rank = int(os.environ.get("RANK", "0"))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    (folder / f"rank-{rank}.json").write_text(json.dumps({"rank": rank, "peak_kib": peak_kib, "status": status}))
    return status


if __name__ == "__main__":
    sys.exit(main())
