"""The first searches after opening an index, each measurement in a new process.

    .venv/bin/python -m bench.cold_queries --home HOME [--processes 5] [--rounds 5]

Each process runs `bench.run.time_our_queries`: the 30 queries once right after the index
is opened (the cold figures; the first includes opening it), then the warm rounds. The
figures printed are the medians over the processes, cold beside warm from the same
processes, with the load average before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

_ONE_PROCESS = """
import json, sys
from pathlib import Path
from bench.run import time_our_queries
figures = time_our_queries(Path(sys.argv[1]), rounds=int(sys.argv[2]))
print(json.dumps({k: v for k, v in figures.items() if k != "samples"}))
"""


def measure_cold_queries(home: Path, processes: int = 5, rounds: int = 5) -> dict[str, Any]:
    """Median cold and warm p50/p95 (ms) over `processes` new processes."""
    load_before = os.getloadavg()[0]
    runs = []
    for _ in range(processes):
        done = subprocess.run(
            [sys.executable, "-c", _ONE_PROCESS, str(home), str(rounds)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))

    def median(key: str) -> float:
        return round(statistics.median(run[key] for run in runs), 1)

    per_query = [round(statistics.median(run["cold_ms"][i] for run in runs), 1)
                 for i in range(len(runs[0]["cold_ms"]))]  # fmt: skip
    return {
        "cold_p50_ms": median("cold_p50_ms"),
        "cold_p95_ms": median("cold_p95_ms"),
        "warm_p50_ms": median("p50_ms"),
        "warm_p95_ms": median("p95_ms"),
        "cold_p95_ms_each_process": [run["cold_p95_ms"] for run in runs],
        "cold_ms_median_per_query": per_query,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(measure_cold_queries(args.home, args.processes, args.rounds), indent=2))


if __name__ == "__main__":
    main()
