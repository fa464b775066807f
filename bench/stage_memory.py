"""Where a build's memory goes: resident memory by stage, the build's own process apart.

Runs one build in this process (the library's `run_pipeline`, or with `--flow` the Prefect
flow against the server kept for the home, started beforehand and not counted), sampling
the resident memory of this process and of its descendants every 0.2 s, and prints for
each stage (as the run announces them to its progress display) the peak of this process,
of the largest child, and of the whole tree:

    .venv/bin/python -m bench.stage_memory --sources CORPUS/sources.toml --home HOME [--flow]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from bench.measure import PeriodicSampler, descendants, machine_info, process_table


class StageSampler(PeriodicSampler):
    """The run's progress display, noting the stage; a thread samples memory under its name."""

    def __init__(self, exclude: set[int], interval: float = 0.2) -> None:
        super().__init__(interval)
        self.exclude = exclude
        self.current = "start"
        self.peaks: dict[str, dict[str, float]] = {}
        self.started = time.perf_counter()

    def stage(self, name: str, total: int) -> None:
        self.sample()
        self.current = name

    def advance(self, n: int = 1) -> None:
        pass

    def sample(self) -> None:
        children, rss = process_table()
        me = os.getpid()
        sizes = [rss.get(pid, 0) for pid in descendants(me, children, self.exclude)]
        own = rss.get(me, 0)
        mb = 1024 * 1024
        peak = self.peaks.setdefault(
            self.current,
            {"main_mb": 0.0, "child_mb": 0.0, "tree_mb": 0.0, "at_s": 0.0},
        )
        peak["main_mb"] = max(peak["main_mb"], round(own / mb, 1))
        peak["child_mb"] = max(peak["child_mb"], round(max(sizes, default=0) / mb, 1))
        if (own + sum(sizes)) / mb > peak["tree_mb"]:
            peak["tree_mb"] = round((own + sum(sizes)) / mb, 1)
            peak["at_s"] = round(time.perf_counter() - self.started, 1)

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.current = "end"
        self.sample()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument(
        "--flow",
        action="store_true",
        help="the Prefect flow (a kept server started for the "
        "home and stopped afterwards), not the library",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    load_before = machine_info()["load_average"]
    exclude: set[int] = set()
    summary: dict[str, Any]
    if args.flow:
        from flows.keep_server import stop_kept_server, use_server
        from flows.settings import configure_prefect

        configure_prefect(args.home)
        server = use_server(args.home)  # as `kb build` does, started before the sampling
        if server.pid is not None:
            exclude.add(server.pid)
        from flows import progress
        from flows.ingest import ingest

        try:
            with StageSampler(exclude) as sampler:
                progress.set_reporter(sampler)
                summary = ingest(
                    home=str(args.home), sources=str(args.sources), workers=args.workers
                )
        finally:
            stop_kept_server(args.home)
    else:
        from kb.ingest.sequence import LocalExecutor, run_pipeline

        with StageSampler(exclude) as sampler:
            summary = run_pipeline(args.home, LocalExecutor(), sources=args.sources,
                                   workers=args.workers, progress=sampler).summary  # fmt: skip
    out = {"stages": sampler.peaks, "seconds": summary["seconds"],
           "load_average": [load_before, machine_info()["load_average"]]}  # fmt: skip
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
