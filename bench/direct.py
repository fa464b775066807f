"""The ingest run through the library, without Prefect: `kb.ingest.sequence.run_pipeline`.

The flow's sequence (`flows/ingest.py` runs the same one with Prefect tasks), with
the stage functions called in this process and extraction, segmentation and tagging
in worker processes, timed stage by stage, so that a build's cost can be told apart
from Prefect's start-up and task overhead. Run in its own process by the bench so
that its peak memory is its own:

    .venv/bin/python -m bench.direct --sources CORPUS/sources.toml --home HOME [--full] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from kb.home import paths as home_paths
from kb.ingest.sequence import LocalExecutor, run_pipeline
from kb.store import Store


def build_direct(sources: Path, home: Path, *, full: bool = False, workers: int = 2,
                 skip_index: bool = False) -> dict[str, Any]:  # fmt: skip
    """One ingest run through the library. Returns seconds by stage and what was built."""
    run = run_pipeline(home, LocalExecutor(), sources=sources, full=full, workers=workers,
                       index=not skip_index)  # fmt: skip
    summary, measures = run.summary, run.measures
    stages = dict(summary["seconds"])
    # The bench's stages: the run's "build" is boilerplate removal and ids, then segmentation
    # and tagging.
    build = stages.pop("build", 0.0)
    boilerplate = round(measures.boilerplate_seconds, 3)
    seconds = {"discover": stages.pop("discover", 0.0), "check": stages.pop("check", 0.0),
               "extract": stages.pop("extract", 0.0), "boilerplate_ids": boilerplate,
               "segment_tag": round(max(build - boilerplate, 0.0), 3), **stages}  # fmt: skip
    return {
        "seconds": seconds,
        "seconds_total": round(sum(seconds.values()), 3),
        "sources": summary["sources"],
        "documents_built": measures.documents_built,
        "sections_built": measures.sections_built,
        "indexed_sections": summary["indexed_sections"],
        "input_mb": round(measures.input_bytes / 1e6, 2),
        "text_mb": round(measures.text_chars / 1e6, 2),
        "pdf_pages": measures.pdf_pages,
        "totals": summary["totals"],
        "failures": len(summary["failures"]),
        "workers": workers,
    }


def index_only(home: Path, procs: int | None) -> dict[str, Any]:
    """Rebuild the index from the store (to compare writer settings on the same sections);
    `procs` None: as many writers as a build would use."""
    from search.indexer import build_index

    with Store(home_paths(home).store) as store:
        started = time.perf_counter()
        count = build_index(home_paths(home), store, procs=procs)
        return {
            "seconds": round(time.perf_counter() - started, 3),
            "indexed_sections": count,
            "procs": procs,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="One ingest run through the library, without Prefect."
    )
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--index-procs", type=int, default=1,
        help="writer processes for --index-only (0: as many as a build uses)",
    )  # fmt: skip
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument(
        "--index-only", action="store_true", help="only rebuild the index from the store"
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of the main process here")
    args = parser.parse_args(argv)

    def run() -> dict[str, Any]:
        if args.index_only:
            return index_only(args.home, args.index_procs or None)
        return build_direct(args.sources, args.home, full=args.full, workers=args.workers,
                            skip_index=args.skip_index)  # fmt: skip

    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(run)
        profiler.dump_stats(str(args.profile))
    else:
        result = run()
    from bench.measure import max_rss_mb

    result["max_rss_mb"] = round(max_rss_mb(), 1)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
