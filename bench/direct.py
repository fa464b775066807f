"""The ingest pipeline through the library functions directly, without Prefect.

The same stages as `flows/ingest.py` (check, extract, boilerplate, segment and
tag, commit, index), timed one by one, so that a build's cost can be told apart
from Prefect's start-up and task overhead. Run in its own process by the bench
so that its peak memory is its own:

    .venv/bin/python -m bench.direct --sources CORPUS/sources.toml --home HOME [--full] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from kb.commit import ChangeSet, commit_outcomes, merge_changes
from kb.home import paths as home_paths
from kb.model import Document
from kb.nightly import needs_extraction, sync_index
from kb.pipeline import (
    Outcome,
    build_many,
    check_source,
    clean_site_boilerplate,
    extract_many,
    take_build_failures,
    wanted_doc_id,
)
from kb.sources import discover, read_manifest
from kb.store import Store

# As in flows/ingest.py: starting worker processes costs seconds, only worth it for larger runs.
POOL_MIN_SOURCES = 40
# As in flows/ingest.py: sources segmented, tagged and committed together.
COMMIT_BATCH_SOURCES = 500

T = TypeVar("T")
R = TypeVar("R")


def batches(items: list[T], workers: int, max_size: int = 40) -> list[list[T]]:
    """Enough batches to keep every worker busy, none larger than `max_size`."""
    if not items:
        return []
    size = max(1, min(max_size, math.ceil(len(items) / (workers * 3))))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _map_batches(
    pool: Executor | None, func: Callable[..., list[R]], chunks: list[Any], *args: Any
) -> list[R]:
    if pool is None:
        return [r for chunk in chunks for r in func(chunk, *args)]
    futures = [pool.submit(func, chunk, *args) for chunk in chunks]
    return [r for f in futures for r in f.result()]


def _submit_batches(
    pool: Executor | None, func: Callable[..., list[R]], chunks: list[Any], *args: Any
) -> list[Callable[[], list[R]]]:
    """Start `func` on each chunk in the pool; each returned call waits for one result.

    Without a pool, each call runs its chunk then (nothing to overlap with).
    """
    if pool is None:
        return [lambda chunk=chunk: func(chunk, *args) for chunk in chunks]
    return [pool.submit(func, chunk, *args).result for chunk in chunks]


@contextmanager
def _pool(workers: int, needed: bool) -> Iterator[Executor | None]:
    if workers <= 1 or not needed:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


def build_direct(sources: Path, home: Path, *, full: bool = False, workers: int = 2, index_procs: int = 1,
                 skip_index: bool = False) -> dict[str, Any]:  # fmt: skip
    """One ingest run through the library. Returns seconds by stage and what was built."""
    from kb.commit import clear_pending_index_changes
    from search.indexer import build_index

    paths = home_paths(home).ensure()
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    refs = discover(read_manifest(sources.resolve()), root=sources.resolve().parent)
    with Store(paths.store) as store:
        records = {r.key: r for r in store.sources()}
        seconds["discover"] = time.perf_counter() - t

        t = time.perf_counter()
        outcomes = [check_source(ref, records.get(ref.key), full=full) for ref in refs]
        seconds["check"] = time.perf_counter() - t

        todo = [o for o in outcomes if needs_extraction(o, full)]
        input_bytes = sum(len(o.fetched.data or b"") for o in todo if o.fetched)
        with _pool(workers, len(todo) >= POOL_MIN_SOURCES) as pool:
            t = time.perf_counter()
            extracted = {
                o.ref.key: o for o in _map_batches(pool, extract_many, batches(todo, workers), full)
            }
            outcomes = [extracted.get(o.ref.key, o) for o in outcomes]
            seconds["extract"] = time.perf_counter() - t
            pdf_pages = sum(o.extracted.page_count for o in outcomes
                            if o.extracted and o.extracted.format == "pdf")  # fmt: skip

            t = time.perf_counter()
            clean_site_boilerplate(outcomes, store)
            items = _unique_ids(
                [
                    (o, store.doc_id_for(o.ref.key, wanted_doc_id(o.ref)))
                    for o in outcomes
                    if o.extracted
                ]
            )
            seconds["boilerplate_ids"] = time.perf_counter() - t

            # As the flow does: segment, tag and commit COMMIT_BATCH_SOURCES at a time, the
            # next batch built in the pool while this one is committed.
            seconds["segment_tag"] = seconds["store"] = 0.0
            changes = ChangeSet()
            built = {"documents": 0, "sections": 0, "text_chars": 0}
            chunks = [items[i : i + COMMIT_BATCH_SOURCES]
                      for i in range(0, len(items), COMMIT_BATCH_SOURCES)]  # fmt: skip
            pending = (
                _submit_batches(pool, build_many, batches(chunks[0], workers)) if chunks else []
            )
            for n, chunk in enumerate(chunks):
                t = time.perf_counter()
                chunk_outcomes = [o for o, _ in chunk]
                documents: list[Document] = take_build_failures(
                    chunk_outcomes, [r for result in pending for r in result()]
                )
                pending = (
                    _submit_batches(pool, build_many, batches(chunks[n + 1], workers))
                    if n + 1 < len(chunks)
                    else []
                )
                seconds["segment_tag"] += time.perf_counter() - t
                t = time.perf_counter()
                merge_changes(changes, commit_outcomes(store, refs, chunk_outcomes, documents,
                                                       remove_unseen=False))  # fmt: skip
                built["documents"] += len(documents)
                built["sections"] += sum(len(d.sections) for d in documents)
                built["text_chars"] += sum(len(s.text) for d in documents for s in d.sections)
                for o in chunk_outcomes:
                    o.extracted = None
                del documents
                seconds["store"] += time.perf_counter() - t

        t = time.perf_counter()
        in_chunks = {id(o) for chunk in chunks for o, _ in chunk}
        rest = [o for o in outcomes if id(o) not in in_chunks]
        merge_changes(changes, commit_outcomes(store, refs, rest, []))
        seconds["store"] += time.perf_counter() - t

        t = time.perf_counter()
        if skip_index:
            indexed = 0
        elif full and index_procs > 1:
            indexed = build_index(paths, store, procs=index_procs)
            clear_pending_index_changes(store)
        else:
            # As the flow does: every change journalled by the commit, or all with `full`.
            indexed = sync_index(paths, store, full=full)
        seconds["index"] = time.perf_counter() - t
        totals = store.counts()
    return {
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "seconds_total": round(sum(seconds.values()), 3),
        "sources": changes.sources,
        "documents_built": built["documents"],
        "sections_built": built["sections"],
        "indexed_sections": indexed,
        "input_mb": round(input_bytes / 1e6, 2),
        "text_mb": round(built["text_chars"] / 1e6, 2),
        "pdf_pages": pdf_pages,
        "totals": totals,
        "failures": len(changes.failures),
        "workers": workers,
    }


def index_only(home: Path, procs: int) -> dict[str, Any]:
    """Rebuild the index from the store (to compare writer settings on the same sections)."""
    from search.indexer import build_index

    with Store(home_paths(home).store) as store:
        started = time.perf_counter()
        count = build_index(home_paths(home), store, procs=procs)
        return {
            "seconds": round(time.perf_counter() - started, 3),
            "indexed_sections": count,
            "procs": procs,
        }


def _unique_ids(items: list[tuple[Outcome, str]]) -> list[tuple[Outcome, str]]:
    seen: set[str] = set()
    out = []
    for outcome, doc_id in items:
        candidate, n = doc_id, 2
        while candidate in seen:
            candidate, n = f"{doc_id}-{n}", n + 1
        seen.add(candidate)
        out.append((outcome, candidate))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="One ingest run through the library, without Prefect."
    )
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--index-procs", type=int, default=1)
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument(
        "--index-only", action="store_true", help="only rebuild the index from the store"
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of the main process here")
    args = parser.parse_args(argv)

    def run() -> dict[str, Any]:
        if args.index_only:
            return index_only(args.home, args.index_procs)
        return build_direct(args.sources, args.home, full=args.full, workers=args.workers,
                            index_procs=args.index_procs, skip_index=args.skip_index)  # fmt: skip

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
