"""Whole-process times: `kb search` (a cold command-line search) against `python -c pass`.

    .venv/bin/python -m bench.cold_start --home HOME [--runs 7] [QUERY ...]

Each run is a new process, timed from fork to exit; the medians are compared in the same
run because the machine is shared (`python -c pass` is the floor no command goes under).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_QUERIES = ("trafficking victims", "Статья 129-1", "hotline", "adam söwdasy")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(cmd: list[str], env: dict[str, str], cpu: list[float] | None = None) -> float:
    """Wall seconds of one process; its CPU seconds (user + system) appended to `cpu`."""
    cpu_before = _cpu()
    started = time.perf_counter()
    done = subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False
    )
    seconds = time.perf_counter() - started
    if cpu is not None:
        cpu.append(_cpu() - cpu_before)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed: {done.stderr.decode(errors='replace')[-1000:]}"
        )
    return seconds


def measure_cold_start(
    home: Path, queries: tuple[str, ...] = DEFAULT_QUERIES, runs: int = 7
) -> dict[str, Any]:
    """Median whole-process seconds of `kb search QUERY` and of `python -c pass`, interleaved."""
    kb = str(Path(sys.executable).with_name("kb"))
    env = {**os.environ, "KB_HOME": str(home), "COLUMNS": "120"}
    search_s: list[float] = []
    python_s: list[float] = []
    search_cpu: list[float] = []
    python_cpu: list[float] = []
    _timed([kb, "search", queries[0]], env)  # the page cache, as on a machine in use
    for n in range(runs):
        python_s.append(_timed([sys.executable, "-c", "pass"], env, python_cpu))
        search_s.append(_timed([kb, "search", queries[n % len(queries)]], env, search_cpu))
    return {
        "search_process_s": round(statistics.median(search_s), 3),
        "python_start_s": round(statistics.median(python_s), 3),
        # CPU time varies less than wall time on a shared machine.
        "search_process_cpu_s": round(statistics.median(search_cpu), 3),
        "python_start_cpu_s": round(statistics.median(python_cpu), 3),
        "search_process_runs_s": [round(s, 3) for s in search_s],
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("queries", nargs="*")
    args = parser.parse_args()
    queries = tuple(args.queries) or DEFAULT_QUERIES
    print(json.dumps(measure_cold_start(args.home, queries, args.runs), indent=2))


if __name__ == "__main__":
    main()
