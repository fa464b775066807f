"""One large flow build, where `make bench`'s full set of runs would not fit in an hour.

    .venv/bin/python -m bench.large --size 100000 [--seed 0]

Measures, on the generated corpus of that size (cached under bench/work like the others):
- `kb build` against the Prefect server kept for the home (started first, outside the
  measured tree, as `bench.memory` does): wall time, the build's process tree peak, the
  largest single process, and each stage's seconds from the build's own summary;
- SQLite FTS5's build over the same sections, beside the build's index stage;
- the first searches after opening the index, in new processes (`bench.cold_queries`).

Writes bench/results-<size>.json. The flow build at 100,000 documents takes well over an hour
on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from bench.cold_queries import measure_cold_queries
from bench.fts5 import build_fts5
from bench.generate import WORK_DIR, ensure_corpus
from bench.measure import machine_info
from bench.memory import kept_server_for, server_rss_mb
from bench.run import flow_build, log, stop_kept_server

RESULTS_DIR = Path(__file__).resolve().parent


def measured_flow_build(sources: Path, home: Path) -> dict[str, Any]:
    """`kb build --json` into an empty `home` against its kept server, measured."""
    server_pid = kept_server_for(home)
    summary = flow_build(sources, home)
    return {
        "wall_s": summary["wall_s"],
        "peak_mb": summary["tree_peak_mb"],
        "largest_process_mb": summary["max_rss_mb"],
        "prefect_server_mb": server_rss_mb(server_pid),
        "stage_s": summary.get("seconds", {}),
        "totals": summary.get("totals", {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"size": args.size, "machine": machine_info()}
    started = time.perf_counter()
    log(f"corpus of {args.size} documents")
    corpus = ensure_corpus(args.size, args.seed, work=WORK_DIR)
    out["generate_s"] = round(time.perf_counter() - started, 1)
    home = WORK_DIR / f"large-{args.size}-s{args.seed}" / "home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    log("flow build (kb build --json, kept Prefect server)")
    try:
        out["flow_build"] = measured_flow_build(corpus.root / "sources.toml", home)
    finally:
        stop_kept_server(home)
    log("SQLite FTS5 over the same sections")
    fts = build_fts5(home / "kb.sqlite", home.parent / "fts5.sqlite")
    out["fts5_build_s"] = round(fts["seconds"], 2)
    index_s = out["flow_build"]["stage_s"].get("index")
    if index_s:
        out["ratio_index_vs_fts5_build"] = round(index_s / fts["seconds"], 1)
    log("first searches after opening the index, new processes")
    out["cold_queries"] = measure_cold_queries(home, 5, 5)
    out["load_average_after"] = list(os.getloadavg())
    out["total_s"] = round(time.perf_counter() - started, 1)
    path = RESULTS_DIR / f"results-{args.size}.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    log(f"done in {out['total_s']:.0f} s: {path}")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
