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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.context import TaskRunContext

from flows import progress
from kb.commit import ChangeSet, commit_outcomes
from kb.extract import EXTRACTOR_VERSIONS
from kb.fetch import RetryableHTTPError
from kb.home import HomePaths
from kb.home import paths as home_paths
from kb.lock import ingest_lock
from kb.model import Document, SourceRef
from kb.pipeline import (
    Failure,
    Outcome,
    build_many,
    check_source,
    clean_site_boilerplate,
    extract_many,
    wanted_doc_id,
)
from kb.report import run_report_markdown
from kb.sources import discover, folder_manifest, read_manifest
from kb.store import SourceRecord, Store
from search.indexer import update_index

_pool: Executor | None = None
# Starting worker processes costs ~2 s (spawn + imports): only worth it for larger runs.
POOL_MIN_SOURCES = 40


def _batches(items: list[Any], workers: int, *, max_size: int = 40) -> list[list[Any]]:
    if not items:
        return []
    size = max(1, min(max_size, math.ceil(len(items) / (workers * 3))))
    return [items[i : i + size] for i in range(0, len(items), size)]


@task(name="discover sources", cache_policy=NONE)
def discover_sources(sources: str | None, corpus: str | None) -> list[SourceRef]:
    if corpus:
        root = Path(corpus).resolve()
        return discover(folder_manifest(root), root=root)
    manifest = Path(sources or "corpus/sources.toml").resolve()
    return discover(read_manifest(manifest), root=manifest.parent)


@task(name="check files", cache_policy=NONE)
def check_files(batch: list[tuple[SourceRef, SourceRecord | None]], full: bool) -> list[Outcome]:
    return [check_source(ref, record, full=full) for ref, record in batch]


@task(name="fetch web page", cache_policy=NONE, retries=3, retry_delay_seconds=[1, 4, 16],
      retry_condition_fn=lambda task, run, state: _retryable(state))  # fmt: skip
def fetch_web_page(ref: SourceRef, record: SourceRecord | None, full: bool, allowed_hosts: set[str],
                   allow_private: set[str]) -> Outcome:  # fmt: skip
    return check_source(ref, record, full=full, allowed_hosts=allowed_hosts, allow_private=allow_private)


def _retryable(state: Any) -> bool:
    try:
        state.result()
    except (RetryableHTTPError, httpx.TransportError):
        return True
    except Exception:
        return False
    return False


def _extract_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Same bytes through the same extractor code give the same result."""
    digest = hashlib.sha256()
    for o in parameters["batch"]:
        sha = o.fetched.sha256 if o.fetched else ""
        digest.update(f"{o.ref.key}|{sha}|{o.state}|{EXTRACTOR_VERSIONS}|{parameters['full']}\n".encode())
    return f"extract-{digest.hexdigest()}"


@task(name="extract", cache_key_fn=_extract_cache_key, persist_result=True)
def extract_batch(batch: list[Outcome], full: bool) -> list[Outcome]:
    if _pool is not None:
        return _pool.submit(extract_many, batch, full).result()
    return extract_many(batch, full)


@task(name="segment and tag", cache_policy=NONE)
def build_batch(items: list[tuple[Outcome, str]]) -> list[Document]:
    if _pool is not None:
        return _pool.submit(build_many, items).result()
    return build_many(items)


@task(name="commit to store", cache_policy=NONE)
def commit(home: str, seen: list[SourceRef], outcomes: list[Outcome], documents: list[Document]) -> ChangeSet:
    with Store(home_paths(home).store) as store:
        return commit_outcomes(store, seen, outcomes, documents)


@task(name="update index", cache_policy=NONE)
def index(home: str, changed: list[str], removed: list[str], full: bool) -> int:
    paths = home_paths(home)
    with Store(paths.store) as store:
        if full:
            from search.indexer import build_index

            return build_index(paths, store)
        return update_index(paths, store, changed, removed)


@flow(name="ingest", log_prints=False, validate_parameters=False)
def ingest(home: str, sources: str | None = None, corpus: str | None = None, full: bool = False,
           workers: int | None = None, wait_seconds: float = 0.0) -> dict[str, Any]:  # fmt: skip
    """Bring the knowledge base in `home` up to date with the sources; returns the run summary."""
    global _pool
    paths: HomePaths = home_paths(home).ensure()
    started = datetime.now(UTC)
    seconds: dict[str, float] = {}
    with ingest_lock(paths.lock, wait_seconds=wait_seconds), Store(paths.store) as store:
        run_id = store.start_run(started.isoformat(timespec="seconds"))
        try:
            t = time.perf_counter()
            refs = discover_sources(sources, corpus)
            records = {r.key: r for r in store.sources()}
            seconds["discover"] = time.perf_counter() - t

            t = time.perf_counter()
            progress.reporter.stage("check", len(refs))
            workers = workers or os.cpu_count() or 1
            files = [(r, records.get(r.key)) for r in refs if r.kind == "file"]
            urls = [r for r in refs if r.kind == "url"]
            hosts = {(h or "").lower() for h in (_host(r.key) for r in urls)}
            futures = [check_files.submit(b, full) for b in _batches(files, workers)]
            web = [(r, fetch_web_page.submit(r, records.get(r.key), full, hosts, hosts)) for r in urls]
            outcomes: list[Outcome] = []
            for f in futures:
                checked = f.result()
                outcomes.extend(checked)
                progress.reporter.advance(len(checked))
            for ref, w in web:
                outcomes.append(_web_result(ref, w))
                progress.reporter.advance()
            seconds["check"] = time.perf_counter() - t

            t = time.perf_counter()
            todo = [o for o in outcomes if o.fetched is not None and o.fetched.data is not None]
            progress.reporter.stage("extract", len(todo))
            use_pool = workers > 1 and len(todo) >= POOL_MIN_SOURCES
            if use_pool:
                _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            extracted_by_key: dict[str, Outcome] = {}
            for future in [extract_batch.submit(b, full) for b in _batches(todo, workers)]:
                for o in future.result():
                    extracted_by_key[o.ref.key] = o
                    progress.reporter.advance()
            outcomes = [extracted_by_key.get(o.ref.key, o) for o in outcomes]
            seconds["extract"] = time.perf_counter() - t

            t = time.perf_counter()
            clean_site_boilerplate(outcomes, store)
            items = [(o, store.doc_id_for(o.ref.key, wanted_doc_id(o.ref))) for o in outcomes if o.extracted]
            items = _unique_ids(items)
            progress.reporter.stage("segment and tag", len(items))
            documents: list[Document] = []
            for future in [build_batch.submit(b) for b in _batches(items, workers)]:
                batch_docs = future.result()
                documents.extend(batch_docs)
                progress.reporter.advance(len(batch_docs))
            seconds["build"] = time.perf_counter() - t
            if _pool is not None:
                _pool.shutdown()
                _pool = None

            t = time.perf_counter()
            progress.reporter.stage("store", 1)
            changes = commit(home, refs, outcomes, documents)
            progress.reporter.advance()
            seconds["store"] = time.perf_counter() - t

            t = time.perf_counter()
            progress.reporter.stage("index", 1)
            indexed = index(home, changes.changed_docs, changes.removed_docs, full)
            progress.reporter.advance()
            seconds["index"] = time.perf_counter() - t
        except BaseException as exc:
            if _pool is not None:
                _pool.shutdown(cancel_futures=True)
                _pool = None
            store.finish_run(run_id, _now(), "failed", {"error": f"{type(exc).__name__}: {exc}"}, [])
            raise
        summary = _summary(store, started, changes, indexed, seconds)
        store.finish_run(run_id, summary["finished"], "completed", summary, [f.as_dict() for f in changes.failures])
    summary["id"] = run_id
    create_markdown_artifact(key="ingest-report", markdown=run_report_markdown(summary),
                             description="What the ingest run saw, changed and failed on")  # fmt: skip
    return summary


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


def _host(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).hostname or ""


def _web_result(ref: SourceRef, future: Any) -> Outcome:
    try:
        return future.result()
    except Exception as exc:
        return Outcome(ref, "failed", failure=Failure(ref.location, "fetch", f"{type(exc).__name__}: {exc}"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _summary(store: Store, started: datetime, changes: ChangeSet, indexed: int, seconds: dict[str, float]) -> dict[str, Any]:
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
