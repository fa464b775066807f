"""The ingest flow: discover -> check -> extract -> build -> commit -> index -> report.

Only orchestration lives here: every task calls a plain function of `kb` or
`search`. Sources are batched into tasks (a task costs ~12-84 ms in Prefect),
CPU-bound extraction and tagging run in a process pool on every core, web
fetches retry with back-off, and extraction is cached on (content hash,
extractor version).
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.context import TaskRunContext
from prefect.utilities.annotations import quote

from flows import progress
from kb.commit import ChangeSet, commit_outcomes, merge_changes
from kb.extract.ocr import ocr_available
from kb.extract.worker import shutdown_workers
from kb.fetch import RetryableHTTPError
from kb.home import HomePaths
from kb.home import paths as home_paths
from kb.limits import current_limits
from kb.listings import (
    ListingResult,
    listing_unreachable,
    load_listing_state,
    read_listing,
    save_listing_states,
)
from kb.lock import ingest_lock
from kb.model import Document, SourceRef
from kb.nightly import (
    check_run_parameters,
    listing_failures,
    needs_extraction,
    record_for_fetch,
    recovered_changes,
    relabel_refetched,
    report_recovered,
    sync_index,
    with_listed,
)
from kb.pipeline import (
    Failure,
    Outcome,
    build_many,
    check_source,
    clean_site_boilerplate,
    discovery_failures,
    extract_many,
    extractor_version,
    hold_mass_removals,
    take_build_failures,
    wanted_doc_id,
)
from kb.report import run_report_markdown
from kb.sources import (
    Discovery,
    ManifestEntry,
    discover_all,
    folder_manifest,
    listing_entries,
    manifest_hosts,
    read_manifest,
    source_format,
)
from kb.store import SourceRecord, Store
from search.indexer import INDEX_NAME, build_index, live_index_dir

_pool: Executor | None = None
# Starting worker processes costs ~2 s (spawn + imports): only worth it for larger runs.
POOL_MIN_SOURCES = 40
# Sources segmented, tagged and committed together (see `ingest`); about 100 MB of
# documents at a time with the benchmark's corpus.
COMMIT_BATCH_SOURCES = 500


def _batches(items: list[Any], workers: int, *, max_size: int = 40) -> list[list[Any]]:
    if not items:
        return []
    size = max(1, min(max_size, math.ceil(len(items) / (workers * 3))))
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass
class Discovered:
    refs: list[SourceRef]  # files and web pages
    listings: list[ManifestEntry]  # listing pages, expanded into their PDFs at fetch time
    hosts: set[str]  # hosts the manifest allows fetching from
    discovery: Discovery | None = None  # what was refused, folders not read in full
    root: Path | None = None


@task(name="discover sources", cache_policy=NONE)
def discover_sources(sources: str | None, corpus: str | None) -> Discovered:
    if corpus:
        root = Path(corpus).resolve()
        entries = folder_manifest(root)
    else:
        manifest = Path(sources or "corpus/sources.toml").resolve()
        root = manifest.parent
        entries = read_manifest(manifest)
    discovery = discover_all(entries, root=root)
    return Discovered(
        discovery.refs, listing_entries(entries), manifest_hosts(entries), discovery, root
    )


@task(name="read listing page", cache_policy=NONE, retries=3, retry_delay_seconds=[1, 4, 16],
      retry_condition_fn=lambda task, run, state: _retryable(state))  # fmt: skip
def read_listing_page(
    entry: ManifestEntry, home: str, full: bool, hosts: set[str]
) -> ListingResult:
    with Store(home_paths(home).store) as store:
        previous = load_listing_state(store, entry.url)
    return read_listing(entry, previous, full=full, allowed_hosts=hosts, allow_private=hosts)


@task(name="check files", cache_policy=NONE)
def check_files(batch: list[tuple[SourceRef, SourceRecord | None]], full: bool) -> list[Outcome]:
    return [check_source(ref, record, full=full) for ref, record in batch]


@task(name="fetch web page", cache_policy=NONE, retries=3, retry_delay_seconds=[1, 4, 16],
      retry_condition_fn=lambda task, run, state: _retryable(state))  # fmt: skip
def fetch_web_page(ref: SourceRef, record: SourceRecord | None, full: bool, allowed_hosts: set[str],
                   allow_private: set[str]) -> Outcome:  # fmt: skip
    return check_source(
        ref, record, full=full, allowed_hosts=allowed_hosts, allow_private=allow_private
    )


def _retryable(state: Any) -> bool:
    try:
        state.result()
    except (RetryableHTTPError, httpx.TransportError):
        return True
    except Exception:
        return False
    return False


def _extract_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Same bytes through the same extractor code give the same result.

    Only the version of the extractor each source needs is part of the key, so a
    change to the HTML extractor misses the cache for HTML sources only.
    """
    digest = hashlib.sha256()
    # Raising a limit or installing OCR must retry what failed on it (kb.limits).
    digest.update(current_limits().cache_token(ocr_available()).encode())
    for o in parameters["batch"]:
        sha, data = (o.fetched.sha256, o.fetched.data) if o.fetched else ("", None)
        version = (
            extractor_version(source_format(o.ref, o.fetched.content_type, data[:1024]))
            if data
            else ""
        )
        digest.update(f"{o.ref.key}|{sha}|{o.state}|{version}|{parameters['full']}\n".encode())
    return f"extract-{digest.hexdigest()}"


@task(name="extract", cache_key_fn=_extract_cache_key, persist_result=True)
def extract_batch(batch: list[Outcome], full: bool) -> list[Outcome]:
    # With a time or memory limit, kb runs extraction in worker processes of its own.
    if _pool is not None and not current_limits().isolated:
        return _pool.submit(extract_many, batch, full).result()
    return extract_many(batch, full)


class Batch:
    """Sources for one task, opaque to Prefect.

    Not a collection, so Prefect does not walk every object in it looking for futures
    (measured: 11 s for 1,000 documents), and it survives prefect-dask, whose
    serialisation turns `quote(...)` into a plain tuple.
    """

    __slots__ = ("items",)

    def __init__(self, items: list[tuple[Outcome, str]]) -> None:
        self.items = items


@task(name="segment and tag", cache_policy=NONE)
def build_batch(batch: Batch) -> list[Document]:
    items = batch.items
    if _pool is not None:
        return _pool.submit(build_many, items).result()
    return build_many(items)


def _submit_builds(chunk: list[tuple[Outcome, str]], workers: int) -> list[Any]:
    # Batch: opaque to Prefect, which would otherwise walk every object passed to a
    # task looking for futures (measured in bench/: 11 s for 1,000 documents).
    return [build_batch.submit(Batch(b)) for b in _batches(chunk, workers)]


@task(name="commit to store", cache_policy=NONE)
def commit(
    home: str,
    seen: list[SourceRef],
    outcomes: list[Outcome],
    documents: list[Document],
    remove_unseen: bool = True,
    run_id: int | None = None,
) -> ChangeSet:
    with Store(home_paths(home).store) as store:
        return commit_outcomes(
            store, seen, outcomes, documents, remove_unseen=remove_unseen, run_id=run_id
        )


@task(name="update index", cache_policy=NONE)
def index(home: str, full: bool) -> int:
    """Bring the index up to the store: every change committed and not yet indexed.

    The store journals what each commit changed (kb.commit), so changes a killed
    run committed but never indexed are indexed now. If the live index still
    disagrees with the store on which documents it holds, it is rebuilt.
    """
    paths = home_paths(home)
    with Store(paths.store) as store:
        count = sync_index(paths, store, full=full)
        if _indexed_doc_ids(paths) != _stored_doc_ids(store):
            count = build_index(paths, store)
        return count


def _indexed_doc_ids(paths: HomePaths) -> set[str] | None:
    """Documents with at least one live record in the index (None: there is no index)."""
    from whoosh import index as windex

    live = live_index_dir(paths)
    if live is None:
        return None
    ix = windex.open_dir(str(live), indexname=INDEX_NAME)
    try:
        with ix.reader() as reader:
            # The lexicon keeps terms of deleted records until a merge: check postings.
            return {
                term.decode() if isinstance(term, bytes) else str(term)
                for term in reader.lexicon("doc_id")
                if any(not reader.is_deleted(n) for n in reader.postings("doc_id", term).all_ids())
            }
    finally:
        ix.close()


def _stored_doc_ids(store: Store) -> set[str]:
    rows = store.db.execute("SELECT DISTINCT doc_id FROM sections")
    return {r[0] for r in rows}


@flow(name="ingest", log_prints=False, validate_parameters=False)
def ingest(home: str, sources: str | None = None, corpus: str | None = None, full: bool = False,
           workers: int | None = None, wait_seconds: float = 0.0,
           allow_mass_removal: bool = False) -> dict[str, Any]:  # fmt: skip
    """Bring the knowledge base in `home` up to date with the sources; returns the run summary.

    allow_mass_removal: remove the documents of a folder even when most of it is gone
    (else such a run keeps them and fails the folder: kb.pipeline.hold_mass_removals)."""
    global _pool
    paths: HomePaths = home_paths(home).ensure()
    started = datetime.now(UTC)
    seconds: dict[str, float] = {}
    check_run_parameters(home, sources, corpus)
    with ingest_lock(paths.lock, wait_seconds=wait_seconds), Store(paths.store) as store:
        store.mark_interrupted(
            f"interrupted: its process ended before it finished (found {_now()})"
        )
        run_id = store.start_run(started.isoformat(timespec="seconds"))
        recovered = recovered_changes(store, run_id)
        _mark_crashed_prefect_runs(home)
        try:
            t = time.perf_counter()
            found = discover_sources(sources, corpus)
            listings = _read_listings(found, home, full)
            refs = with_listed(found.refs, listings)
            records = {r.key: r for r in store.sources()}
            seconds["discover"] = time.perf_counter() - t

            t = time.perf_counter()
            progress.reporter.stage("check", len(refs))
            workers = workers or os.cpu_count() or 1
            files = [(r, records.get(r.key)) for r in refs if r.kind == "file"]
            urls = [r for r in refs if r.kind == "url"]
            hosts = found.hosts
            futures = [check_files.submit(b, full) for b in _batches(files, workers)]
            web = [
                (
                    r,
                    fetch_web_page.submit(
                        r, record_for_fetch(r, records.get(r.key)), full, hosts, hosts
                    ),
                )
                for r in urls
            ]
            outcomes: list[Outcome] = []
            for f in futures:
                checked = f.result()
                outcomes.extend(checked)
                progress.reporter.advance(len(checked))
            for ref, w in web:
                outcomes.append(_web_result(ref, w, records.get(ref.key)))
                progress.reporter.advance()
            seconds["check"] = time.perf_counter() - t

            t = time.perf_counter()
            todo = [o for o in outcomes if needs_extraction(o, full)]
            progress.reporter.stage("extract", len(todo))
            use_pool = workers > 1 and len(todo) >= POOL_MIN_SOURCES and not _tasks_leave_process()
            if use_pool:
                _pool = ProcessPoolExecutor(
                    max_workers=workers, mp_context=multiprocessing.get_context("spawn")
                )
            by_key = {o.ref.key: o for o in outcomes}
            for future in [extract_batch.submit(b, full) for b in _batches(todo, workers)]:
                for done in future.result():
                    _take_extraction(by_key[done.ref.key], done)
                    progress.reporter.advance()
            extracted = sum(o.extracted is not None for o in outcomes)
            # Nothing more to extract in this run: the idle extraction workers would
            # otherwise hold their memory through segmentation, tagging and indexing.
            shutdown_workers()
            seconds["extract"] = time.perf_counter() - t

            t = time.perf_counter()
            clean_site_boilerplate(outcomes, store)
            items = [
                (o, store.doc_id_for(o.ref.key, wanted_doc_id(o.ref)))
                for o in outcomes
                if o.extracted
            ]
            items = _unique_ids(items)
            seconds["build"] = time.perf_counter() - t
            seconds["store"] = 0.0
            progress.reporter.stage("segment and tag", len(items))
            changes = ChangeSet()
            # Segment, tag and commit COMMIT_BATCH_SOURCES sources at a time, each batch
            # in a transaction of its own: the run never holds every document (10,000
            # documents took 2.9 GB when committed at once), and the next batch is
            # segmented and tagged in the pool while this one is committed.
            chunks = [items[i : i + COMMIT_BATCH_SOURCES]
                      for i in range(0, len(items), COMMIT_BATCH_SOURCES)]  # fmt: skip
            pending = _submit_builds(chunks[0], workers) if chunks else []
            for n, chunk in enumerate(chunks):
                t = time.perf_counter()
                chunk_outcomes = [o for o, _ in chunk]
                documents: list[Document] = []
                for future in pending:
                    batch_docs = future.result()
                    documents.extend(take_build_failures(chunk_outcomes, batch_docs))
                    progress.reporter.advance(len(batch_docs))
                pending = _submit_builds(chunks[n + 1], workers) if n + 1 < len(chunks) else []
                seconds["build"] += time.perf_counter() - t
                t = time.perf_counter()
                part = commit(home, quote(refs), quote(chunk_outcomes), quote(documents),
                              remove_unseen=False, run_id=run_id)  # fmt: skip
                merge_changes(changes, part)
                for o in chunk_outcomes:  # committed: the text now lives in the store only
                    o.extracted = None
                del documents
                seconds["store"] += time.perf_counter() - t
            if _pool is not None:
                _pool.shutdown()
                _pool = None

            t = time.perf_counter()
            progress.reporter.stage("store", 1)
            # The rest (unchanged, failed, missing) and the sources no longer seen.
            in_chunks = {id(o) for chunk in chunks for o, _ in chunk}
            rest = [o for o in outcomes if id(o) not in in_chunks]
            held: list[SourceRef] = []
            held_failures: list[Failure] = []
            if found.discovery is not None:
                held, held_failures = hold_mass_removals(
                    store, found.discovery, allow=allow_mass_removal, root=found.root
                )
                held_failures = discovery_failures(found.discovery) + held_failures
            merge_changes(
                changes, commit(home, quote(refs + held), quote(rest), quote([]), run_id=run_id)
            )
            save_listing_states(store, listings)
            changes.failures.extend(held_failures)
            changes.sources["failed"] = changes.sources.get("failed", 0) + len(held_failures)
            _add_listing_failures(changes, listings)
            progress.reporter.advance()
            seconds["store"] += time.perf_counter() - t

            t = time.perf_counter()
            progress.reporter.stage("index", 1)
            indexed = index(home, full)
            progress.reporter.advance()
            seconds["index"] = time.perf_counter() - t
        except BaseException as exc:
            if _pool is not None:
                _pool.shutdown(cancel_futures=True)
                _pool = None
            # Stopped (SIGTERM, Ctrl-C, cancelled) rather than broken: the next run carries on.
            stopped = isinstance(exc, KeyboardInterrupt | SystemExit) or type(exc).__name__ in (
                "TerminationSignal", "CancelledError", "Abort")  # fmt: skip
            state, error = "interrupted" if stopped else "failed", f"{type(exc).__name__}: {exc}"
            if stopped:
                error = f"interrupted: stopped by {type(exc).__name__} {exc}".rstrip()
            progress_so_far = store.runs_stats(run_id)
            store.finish_run(run_id, _now(), state, {**progress_so_far, "error": error}, [])
            raise
        if recovered is not None:
            report_recovered(changes, recovered.changes)
        summary = _summary(store, started, changes, indexed, seconds)
        if recovered is not None:
            summary["recovered_from"] = recovered.run_ids
        summary["extracted"] = extracted
        store.finish_run(
            run_id,
            summary["finished"],
            "completed",
            summary,
            [f.as_dict() for f in changes.failures],
        )
    summary["id"] = run_id
    create_markdown_artifact(key="ingest-report", markdown=run_report_markdown(summary),
                             description="What the ingest run saw, changed and failed on")  # fmt: skip
    return summary


def _tasks_leave_process() -> bool:
    """Tasks already run in other processes (a Dask cluster): no local pool under them."""
    from prefect.context import FlowRunContext
    from prefect.task_runners import ThreadPoolTaskRunner

    context = FlowRunContext.get()
    runner = context.task_runner if context is not None else None
    return runner is not None and not isinstance(runner, ThreadPoolTaskRunner)


def _unique_ids(items: list[tuple[Outcome, str]]) -> list[tuple[Outcome, str]]:
    """Two new sources that want the same id in one run get -2, -3…"""
    seen: set[str] = set()
    out = []
    for outcome, doc_id in items:
        candidate, n = doc_id, 2
        while candidate in seen:
            candidate, n = f"{doc_id}-{n}", n + 1
        seen.add(candidate)
        out.append((outcome, candidate))
    return out


def _mark_crashed_prefect_runs(home: str) -> None:
    """Prefect flow runs of this home still `Running` died with their process: say so there.

    We hold the ingest lock, so no other ingest of this home is running. Best effort:
    a run must not fail because the bookkeeping of older runs could not be corrected.
    """
    from prefect.context import FlowRunContext

    from flows.schedule import mark_crashed_runs

    context = FlowRunContext.get()
    current = context.flow_run.id if context is not None and context.flow_run else None
    try:
        mark_crashed_runs(home, exclude=current)
    except Exception as exc:  # reported, never fatal
        get_run_logger_safe().warning("could not mark crashed Prefect runs: %s", exc)


def get_run_logger_safe() -> Any:
    import logging

    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except Exception:  # outside a run context
        return logging.getLogger("kb.flows")


def _read_listings(found: Discovered, home: str, full: bool) -> list[ListingResult]:
    futures = [(e, read_listing_page.submit(e, home, full, found.hosts)) for e in found.listings]
    results = []
    for entry, future in futures:
        try:
            results.append(future.result())
        except Exception as exc:  # retries exhausted: keep what the listing linked to last time
            with Store(home_paths(home).store) as store:
                previous = load_listing_state(store, entry.url)
            results.append(listing_unreachable(entry, previous, f"{type(exc).__name__}: {exc}"))
    return results


def _add_listing_failures(changes: ChangeSet, listings: list[ListingResult]) -> None:
    failures = listing_failures(listings)
    changes.failures.extend(failures)
    changes.sources["failed"] = changes.sources.get("failed", 0) + len(failures)


def _web_result(ref: SourceRef, future: Any, record: SourceRecord | None) -> Outcome:
    try:
        outcome: Outcome = future.result()
    except Exception as exc:
        return Outcome(
            ref, "failed", failure=Failure(ref.location, "fetch", f"{type(exc).__name__}: {exc}")
        )
    return relabel_refetched(outcome, record)


def _take_extraction(current: Outcome, done: Outcome) -> None:
    """Keep this run's fetch fingerprints even when the extraction came from Prefect's cache."""
    if current is not done:
        current.state, current.extracted, current.failure = done.state, done.extracted, done.failure
        current.seconds.update(done.seconds)
    if current.fetched is not None:
        current.fetched.data = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _summary(
    store: Store, started: datetime, changes: ChangeSet, indexed: int, seconds: dict[str, float]
) -> dict[str, Any]:
    return {
        "started": started.isoformat(timespec="seconds"),
        "finished": _now(),
        "state": "completed",
        "sources": changes.sources,
        "documents": changes.documents,
        "sections": changes.sections,
        "indexed_sections": indexed,
        "failures": [f.as_dict() for f in changes.failures],
        "digest": changes.digest,
        "totals": store.counts(),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }
