"""Does Prefect's ProcessPoolTaskRunner pay off for extraction, and does it start a server per worker?

Runs one small flow (extract batches of PDFs) three ways in this process:
Prefect's default thread runner, ProcessPoolTaskRunner(2), and the flow's own
approach (thread runner, tasks hand the work to a ProcessPoolExecutor). While
each runs, the Prefect API servers in this process tree are counted.

    KB_BENCH_PREFECT_HOME=DIR .venv/bin/python -m bench.prefect_runners --corpus DIR
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from flows.settings import configure_prefect

# Prefect reads its settings when imported; worker processes inherit them from here.
configure_prefect(
    Path(os.environ.get("KB_BENCH_PREFECT_HOME", "bench/work/prefect-runners")).resolve()
)

from prefect import flow, task  # noqa: E402
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner  # noqa: E402

_pool: ProcessPoolExecutor | None = None


def _server_processes(root: int) -> set[int]:
    """Pids under `root` that run a Prefect API server (uvicorn serving prefect.server)."""
    found: set[int] = set()
    parents: dict[int, int] = {}
    cmdlines: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            cmd = (
                Path(f"/proc/{entry.name}/cmdline")
                .read_bytes()
                .replace(b"\0", b" ")
                .decode(errors="replace")
            )
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat[stat.rfind(")") + 2 :].split()[1])
        cmdlines[pid] = cmd
    for pid, cmd in cmdlines.items():
        if "uvicorn" in cmd or "prefect.server" in cmd or "prefect server" in cmd:
            p = pid
            while p in parents and p != root and p > 1:
                p = parents[p]
            if p == root:
                found.add(pid)
    return found


class ServerCounter:
    def __init__(self) -> None:
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.pids |= _server_processes(os.getpid())
            self._stop.wait(0.2)

    def __enter__(self) -> ServerCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _extract_files(paths: list[str]) -> int:
    from kb.extract import extract_bytes
    from kb.model import SourceRef

    pages = 0
    for p in paths:
        pages += extract_bytes(
            SourceRef(key=p, location=Path(p).name), Path(p).read_bytes()
        ).page_count
    return pages


@task(name="extract batch")
def extract_task(batch: list[str]) -> int:
    if _pool is not None:
        return int(_pool.submit(_extract_files, batch).result())
    return _extract_files(batch)


@flow(name="extract-only", validate_parameters=False)
def extract_flow(batches: list[list[str]]) -> int:
    return sum(f.result() for f in [extract_task.submit(b) for b in batches])


def main(argv: list[str] | None = None) -> int:
    global _pool
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--files", type=int, default=24)
    args = parser.parse_args(argv)
    files = sorted(str(p) for p in args.corpus.rglob("*.pdf"))[: args.files]
    batches = [files[i : i + 3] for i in range(0, len(files), 3)]

    results: dict[str, Any] = {"files": len(files), "tasks": len(batches)}
    # The first flow run of the process pays for the temporary server: take it out of the comparison.
    started = time.perf_counter()
    extract_flow.with_options(task_runner=ThreadPoolTaskRunner(max_workers=2))([])
    results["first_flow_start_s"] = round(time.perf_counter() - started, 2)
    for name, runner, own_pool in (
        ("thread_runner", ThreadPoolTaskRunner(max_workers=2), False),
        ("process_pool_task_runner", ProcessPoolTaskRunner(max_workers=2), False),
        ("thread_runner_with_process_pool", ThreadPoolTaskRunner(max_workers=2), True),
    ):
        if own_pool:
            _pool = ProcessPoolExecutor(
                max_workers=2, mp_context=multiprocessing.get_context("spawn")
            )
        with ServerCounter() as servers:
            started = time.perf_counter()
            pages = extract_flow.with_options(task_runner=runner)(batches)
            seconds = time.perf_counter() - started
        if _pool is not None:
            _pool.shutdown()
            _pool = None
        results[name] = {"seconds": round(seconds, 2), "pages": pages,
                         "prefect_servers_seen": len(servers.pids)}  # fmt: skip
    sys.stdout.write(json.dumps(results) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
