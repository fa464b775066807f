"""The ingest sequence, once: discover -> check/fetch -> extract -> segment and tag -> store -> index.

`run_pipeline` is the only place the stages are put in order. Where each stage
function runs is the executor's business (`StageExecutor`): `LocalExecutor` runs
them in this process, extraction and segmentation in worker processes when the
run is large enough (`run_ingest`, the benchmark); `flows/ingest.py` makes each a
Prefect task with retries and caching, on threads or on a Dask cluster.

Every stage function here is module-level and takes plain values (a home folder,
not an open store), so that any executor can run it in another thread or process.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from kb.acquire.fetch import Fetched, read_again, set_aside
from kb.acquire.sources import (
    Discovery,
    ManifestEntry,
    discover_all,
    folder_manifest,
    listing_entries,
    manifest_hosts,
    read_manifest,
)
from kb.extract.worker import shutdown_workers
from kb.home import paths as home_paths
from kb.ingest.commit import ChangeSet, commit_outcomes, merge_changes, pending_index_changes
from kb.ingest.listings import (
    ListingResult,
    listing_unreachable,
    load_listing_state,
    read_listing,
    save_listing_states,
)
from kb.ingest.nightly import (
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
from kb.ingest.pipeline import (
    Failure,
    Outcome,
    SiteBlocks,
    build_many,
    check_source,
    clean_site_boilerplate,
    discovery_failures,
    extract_many,
    hold_mass_removals,
    take_build_failures,
    wanted_doc_id,
)
from kb.ingest.spill import spilled_extractions
from kb.model import Document, SourceRef
from kb.runtime.limits import current_limits
from kb.runtime.lock import ingest_lock
from kb.runtime.memory import release_free_memory
from kb.runtime.orphans import exit_with_parent
from kb.store import SourceRecord, Store

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

# Starting worker processes costs ~2 s (spawn + imports): only worth it for larger runs.
POOL_MIN_SOURCES = 40
# Sources segmented, tagged and committed together (see `run_pipeline`). The run's process
# holds two batches at a time (one committed, the next segmented), and stays about as large
# as that afterwards (see `update_index`): with the benchmark's 1,000 documents, batches
# of 500 took the library build's process to 209 MB, batches of 100 to 119 MB.
COMMIT_BATCH_SOURCES = 100
# Extraction batches submitted ahead of the one the run waits for, per worker: enough to keep
# the workers busy; each holds its files' bytes until extracted.
EXTRACT_BATCHES_AHEAD = 2
# An index update of this many documents or more runs in a fresh process (`update_index`).
INDEX_PROCESS_MIN_DOCUMENTS = 500


# -- the executor interface ------------------------------------------------------------------


class Pending(Protocol[R_co]):
    """A stage call started (or only planned) by an executor; `result()` waits for it."""

    def result(self) -> R_co: ...


class StageExecutor(Protocol):
    """Runs the pipeline's stage functions, wherever it sees fit.

    `submit` starts one call, `map` one call a batch (each batch is the call's first
    argument, `args` follow); an exception of the stage is raised by `result()`.
    `workers(count)` surrounds the CPU-bound stages (extraction, segmentation and
    tagging) of a run large enough to be worth `count` worker processes.
    """

    def submit(self, stage: Callable[..., R], *args: Any) -> Pending[R]: ...

    def map(
        self, stage: Callable[..., R], batches: Sequence[Any], *args: Any
    ) -> list[Pending[R]]: ...

    def workers(self, count: int) -> AbstractContextManager[None]: ...


class Progress(Protocol):
    """Whoever shows a run's progress (the CLI's Rich display through `flows.progress`)."""

    def stage(self, name: str, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class SilentProgress:
    def stage(self, name: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


class Later:
    """A call run when its result is first asked for (in this process, in turn)."""

    def __init__(self, stage: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._call: tuple[Callable[..., Any], tuple[Any, ...]] | None = (stage, args)
        self._value: Any = None
        self._error: BaseException | None = None

    def result(self) -> Any:
        if self._call is not None:
            stage, args = self._call
            self._call = None
            try:
                self._value = stage(*args)
            except Exception as exc:
                self._error = exc
        if self._error is not None:
            raise self._error
        return self._value


def runs_in_worker_process(stage: Callable[..., Any]) -> bool:
    """Whether a stage is worth a worker process: extraction and segmentation are CPU-bound.

    With a time or memory limit on, extraction runs in `kb.extract.worker`'s own
    processes already, started from this one.
    """
    if stage is extract_many:
        return not current_limits().isolated
    return stage is build_many


class WorkerPool:
    """Worker processes for the CPU-bound stages, only while `started` (see `StageExecutor`)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    @contextmanager
    def started(self, count: int) -> Iterator[None]:
        if count <= 1:
            yield
            return
        self._pool = ProcessPoolExecutor(
            max_workers=count, mp_context=multiprocessing.get_context("spawn")
        )
        try:
            yield
        except BaseException:
            self._pool.shutdown(cancel_futures=True)
            raise
        else:
            self._pool.shutdown()
        finally:
            self._pool = None

    def submit(self, stage: Callable[..., R], *args: Any) -> Pending[R]:
        if self._pool is not None and runs_in_worker_process(stage):
            return self._pool.submit(stage, *args)
        return Later(stage, args)


class LocalExecutor:
    """In this process, each stage when its result is needed; the CPU-bound stages in worker
    processes while `workers` is on (`run_ingest` with `workers` > 1, the benchmark)."""

    def __init__(self) -> None:
        self.pool = WorkerPool()

    def submit(self, stage: Callable[..., R], *args: Any) -> Pending[R]:
        return self.pool.submit(stage, *args)

    def map(self, stage: Callable[..., R], batches: Sequence[Any], *args: Any) -> list[Pending[R]]:
        return [self.pool.submit(stage, batch, *args) for batch in batches]

    def workers(self, count: int) -> AbstractContextManager[None]:
        return self.pool.started(count)


# -- the stage functions ---------------------------------------------------------------------


@dataclass
class Discovered:
    refs: list[SourceRef]  # files and web pages
    listings: list[ManifestEntry]  # listing pages, expanded into their PDFs at fetch time
    hosts: set[str]  # hosts the manifest allows fetching from
    discovery: Discovery | None = None  # what was refused, folders not read in full
    root: Path | None = None


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


def read_listing_page(
    entry: ManifestEntry, home: str | Path, full: bool, hosts: set[str]
) -> ListingResult:
    with Store(home_paths(home).store) as store:
        previous = load_listing_state(store, entry.url)
    return read_listing(entry, previous, full=full, allowed_hosts=hosts, allow_private=hosts)


def check_files(batch: list[tuple[SourceRef, SourceRecord | None]], full: bool) -> list[Outcome]:
    """Each file's fingerprint; the bytes read to hash it are let go of (`set_aside`) and read
    again when its extraction is submitted (`run_pipeline`)."""
    outcomes = [check_source(ref, record, full=full) for ref, record in batch]
    for outcome in outcomes:
        if outcome.fetched is not None:
            set_aside(outcome.fetched)
    return outcomes


def fetch_web_page(ref: SourceRef, record: SourceRecord | None, full: bool, allowed_hosts: set[str],
                   allow_private: set[str]) -> Outcome:  # fmt: skip
    return check_source(
        ref, record, full=full, allowed_hosts=allowed_hosts, allow_private=allow_private
    )


def commit_batch(
    home: str | Path,
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


def update_index(home: str | Path, full: bool) -> int:
    """Bring the index up to the store: every change committed and not yet indexed.

    The store journals what each commit changed (kb.ingest.commit), so changes a killed
    run committed but never indexed are indexed now. If the live index still
    disagrees with the store on which documents it holds, it is rebuilt.

    An update that would write at least INDEX_PROCESS_MIN_DOCUMENTS documents in this
    process runs in a process of its own (`in_fresh_process`): the run's process has by then
    been as large as its largest batch of documents, and malloc keeps much of that (small
    objects pin whole arenas), so an index written there would come on top of it. A fresh
    process starts small and gives all of the index's memory back when it ends. A rebuild
    of a large store needs none: its writers are processes of their own (search.shards).
    """
    if _documents_written_here(home, full) >= INDEX_PROCESS_MIN_DOCUMENTS:
        return in_fresh_process(_update_index_here, str(home), full)
    return _update_index_here(home, full)


def _documents_written_here(home: str | Path, full: bool) -> int:
    """Documents the next index update writes in this process: the changes pending; for a
    rebuild, all of them, or none when the store is large enough for writer processes."""
    from search.indexer import full_build_procs, live_index_dir
    from search.shards import store_work

    paths = home_paths(home)
    with Store(paths.store) as store:
        if full or live_index_dir(paths) is None:
            return 0 if full_build_procs(store_work(store)) > 1 else len(store.document_ids())
        return len(pending_index_changes(store)[0])


def in_fresh_process(stage: Callable[..., R], *args: Any) -> R:
    """`stage(*args)` in a new process (spawned); its exception is raised here.

    The process ends if this one is killed, and is stopped if this one is interrupted
    (Ctrl-C, Prefect cancelling the run) while it waits.
    """
    spawn = multiprocessing.get_context("spawn")
    receiving, sending = spawn.Pipe(duplex=False)
    process = spawn.Process(target=_run_and_send, args=(sending, stage, args))
    process.start()
    sending.close()
    try:
        succeeded, value = receiving.recv()
    except EOFError:
        process.join()
        raise RuntimeError(
            f"{getattr(stage, '__name__', stage)} ended without an answer (exit code "
            f"{process.exitcode})"
        ) from None
    except BaseException:
        process.terminate()
        raise
    finally:
        receiving.close()
        process.join()
    if not succeeded:
        raise value
    return value  # type: ignore[no-any-return]


def _run_and_send(sending: Any, stage: Callable[..., Any], args: tuple[Any, ...]) -> None:
    exit_with_parent()
    try:
        answer = (True, stage(*args))
    except Exception as exc:
        answer = (False, exc)
    sending.send(answer)
    sending.close()


def _update_index_here(home: str | Path, full: bool) -> int:
    from search.indexer import build_index, indexed_doc_ids

    paths = home_paths(home)
    with Store(paths.store) as store:
        count = sync_index(paths, store, full=full)
        # A full rebuild has just indexed the store as it is (under the ingest lock).
        if not full and indexed_doc_ids(paths) != _stored_doc_ids(store):
            count = build_index(paths, store)
        return count


def _stored_doc_ids(store: Store) -> set[str]:
    rows = store.db.execute("SELECT DISTINCT doc_id FROM sections")
    return {r[0] for r in rows}


# -- the sequence ----------------------------------------------------------------------------


@dataclass
class Measures:
    """What the benchmark reports beside the run's summary."""

    input_bytes: int = 0  # fetched bytes of the sources extracted
    pdf_pages: int = 0
    documents_built: int = 0
    sections_built: int = 0
    text_chars: int = 0
    boilerplate_seconds: float = 0.0  # part of "build": boilerplate removal and document ids


@dataclass
class IngestRun:
    summary: dict[str, Any]  # what `kb build --json` prints and the run record keeps
    changes: ChangeSet
    measures: Measures = field(default_factory=Measures)


def batches(items: list[Any], workers: int, *, max_size: int = 40) -> list[list[Any]]:
    """Enough batches to keep every worker busy, none larger than `max_size`."""
    if not items:
        return []
    size = max(1, min(max_size, math.ceil(len(items) / (workers * 3))))
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_pipeline(
    home: str | Path,
    executor: StageExecutor,
    *,
    sources: str | Path | None = None,
    corpus: str | Path | None = None,
    full: bool = False,
    workers: int | None = None,
    wait_seconds: float = 0.0,
    allow_mass_removal: bool = False,
    record_run: bool = True,
    index: bool = True,
    progress: Progress | None = None,
    on_locked: Callable[[], None] | None = None,
) -> IngestRun:
    """Bring the knowledge base in `home` up to date with the sources, one ingest run.

    allow_mass_removal: remove the documents of a folder even when most of it is gone
    (else such a run keeps them and fails the folder: kb.ingest.pipeline.hold_mass_removals).
    record_run: keep the run in the store's runs (`kb status`), take over the report of
    stopped runs whose commits no run has reported, and mark a run that stops as such.
    index: False leaves the index behind the store (the next run catches up).
    on_locked: called once the ingest lock is held (the flow corrects Prefect's records then).
    """
    progress = progress or SilentProgress()
    home = str(home)
    sources_arg = str(sources) if sources is not None else None
    corpus_arg = str(corpus) if corpus is not None else None
    paths = home_paths(home).ensure()
    started = datetime.now(UTC)
    seconds: dict[str, float] = {}
    measures = Measures()
    check_run_parameters(home, sources_arg, corpus_arg)
    with ingest_lock(paths.lock, wait_seconds=wait_seconds), Store(paths.store) as store:
        run_id: int | None = None
        recovered = None
        if record_run:
            store.mark_interrupted(
                f"interrupted: its process ended before it finished (found {_now()})"
            )
            run_id = store.start_run(started.isoformat(timespec="seconds"))
            recovered = recovered_changes(store, run_id)
        if on_locked is not None:
            on_locked()
        try:
            t = time.perf_counter()
            found = executor.submit(discover_sources, sources_arg, corpus_arg).result()
            listings = _read_listings(executor, found, home, full)
            refs = with_listed(found.refs, listings)
            seconds["discover"] = time.perf_counter() - t

            t = time.perf_counter()
            progress.stage("check", len(refs))
            workers = workers or os.cpu_count() or 1
            outcomes = _check_sources(executor, store, refs, found.hosts, full, workers, progress)
            seconds["check"] = time.perf_counter() - t

            t = time.perf_counter()
            todo = [o for o in outcomes if needs_extraction(o, full)]
            measures.input_bytes = sum(_fetched_size(o.fetched) for o in todo if o.fetched)
            progress.stage("extract", len(todo))
            pool_size = workers if workers > 1 and len(todo) >= POOL_MIN_SOURCES else 0
            site_blocks = SiteBlocks()
            extracted = 0
            with executor.workers(pool_size), spilled_extractions(paths.root) as spill:
                by_key = {o.ref.key: o for o in outcomes}
                # A few batches at a time, each with its files' bytes read again just before
                # (the check let go of them); each extraction goes to disk as it arrives,
                # keeping only its site's block fingerprints here, and each finished batch is
                # let go (a Prefect future keeps its result): the run holds a few batches of
                # bytes and extractions, not all of them.
                waiting = deque(batches(todo, workers))
                extracting: deque[Pending[list[Outcome]]] = deque()
                while waiting or extracting:
                    while waiting and len(extracting) < EXTRACT_BATCHES_AHEAD * workers:
                        batch = _read_again(waiting.popleft(), progress)
                        if batch:
                            extracting.extend(executor.map(extract_many, [batch], full))
                    if not extracting:
                        continue
                    for done in extracting.popleft().result():
                        outcome = by_key[done.ref.key]
                        _take_extraction(outcome, done)
                        if outcome.extracted is not None:
                            extracted += 1
                            if outcome.extracted.format == "pdf":
                                measures.pdf_pages += outcome.extracted.page_count
                            site_blocks.add(outcome)
                            spill.put(outcome)
                        progress.advance()
                # Nothing more to extract in this run: the idle extraction workers would
                # otherwise hold their memory through segmentation, tagging and indexing.
                shutdown_workers()
                release_free_memory()  # the bytes the check read, the extractions now on disk
                seconds["extract"] = time.perf_counter() - t

                t = time.perf_counter()
                repeated = site_blocks.repeated(store)
                del site_blocks  # counted: only the repeated blocks are needed now
                items = document_ids([o for o in outcomes if spill.holds(o)], store)
                # What the batches below commit is let go of batch by batch; the rest
                # (unchanged, failed, missing) is committed last. Nothing else keeps a
                # source's outcome: a run holds a few batches of them, not all of them.
                in_chunks = {id(o) for o, _ in items}
                rest = [o for o in outcomes if id(o) not in in_chunks]
                del outcomes, by_key, todo, in_chunks
                seconds["build"] = measures.boilerplate_seconds = time.perf_counter() - t
                seconds["store"] = 0.0
                progress.stage("segment and tag", len(items))
                changes = ChangeSet()
                # Segment, tag and commit COMMIT_BATCH_SOURCES sources at a time, each batch
                # in a transaction of its own: the run never holds every document (10,000
                # documents took 2.9 GB when committed at once), and the next batch is
                # segmented and tagged in the pool while this one is committed.
                chunks = [items[i : i + COMMIT_BATCH_SOURCES]
                          for i in range(0, len(items), COMMIT_BATCH_SOURCES)]  # fmt: skip
                del items

                def start_building(
                    chunk: list[tuple[Outcome, str]],
                ) -> list[Pending[list[Document]]]:
                    for o, _ in chunk:  # back from disk, its site's boilerplate removed
                        spill.take(o)
                        SiteBlocks.clean(o, repeated)
                    return executor.map(build_many, batches(chunk, workers))

                building = start_building(chunks[0]) if chunks else []
                for n, chunk in enumerate(chunks):
                    t = time.perf_counter()
                    chunk_outcomes = [o for o, _ in chunk]
                    documents: list[Document] = []
                    for pending_docs in building:
                        batch_docs = pending_docs.result()
                        documents.extend(take_build_failures(chunk_outcomes, batch_docs))
                        progress.advance(len(batch_docs))
                    building = start_building(chunks[n + 1]) if n + 1 < len(chunks) else []
                    seconds["build"] += time.perf_counter() - t
                    t = time.perf_counter()
                    part = executor.submit(commit_batch, home, refs, chunk_outcomes, documents,
                                           False, run_id).result()  # fmt: skip
                    merge_changes(changes, part)
                    measures.documents_built += len(documents)
                    measures.sections_built += sum(len(d.sections) for d in documents)
                    measures.text_chars += sum(len(s.text) for d in documents for s in d.sections)
                    for o in chunk_outcomes:  # committed: the text now lives in the store only
                        o.extracted = None
                    chunks[n] = chunk = []  # and the outcomes are done with
                    del documents, chunk_outcomes
                    release_free_memory()
                    seconds["store"] += time.perf_counter() - t

            t = time.perf_counter()
            progress.stage("store", 1)
            # The rest (unchanged, failed, missing) and the sources no longer seen.
            held: list[SourceRef] = []
            held_failures: list[Failure] = []
            if found.discovery is not None:
                held, held_failures = hold_mass_removals(
                    store, found.discovery, allow=allow_mass_removal, root=found.root
                )
                held_failures = discovery_failures(found.discovery) + held_failures
            last = executor.submit(commit_batch, home, refs + held, rest, [], True, run_id)
            merge_changes(changes, last.result())
            save_listing_states(store, listings)
            _add_failures(changes, held_failures)
            _add_failures(changes, listing_failures(listings))
            progress.advance()
            seconds["store"] += time.perf_counter() - t

            t = time.perf_counter()
            indexed = 0
            if index:
                # The index writers start beside this process: first give back what the last
                # commits let go of (the batches' documents), as after every batch above.
                release_free_memory()
                progress.stage("index", 1)
                indexed = executor.submit(update_index, home, full).result()
                progress.advance()
            seconds["index"] = time.perf_counter() - t
        except BaseException as exc:
            if run_id is not None:
                _finish_stopped_run(store, run_id, exc)
            raise
        if recovered is not None:
            report_recovered(changes, recovered.changes)
        summary = _summary(store, started, changes, indexed, seconds)
        if recovered is not None:
            summary["recovered_from"] = recovered.run_ids
        summary["extracted"] = extracted
        if run_id is not None:
            store.finish_run(
                run_id,
                summary["finished"],
                "completed",
                summary,
                [f.as_dict() for f in changes.failures],
            )
    summary["id"] = run_id
    return IngestRun(summary, changes, measures)


def run_ingest(
    home: Path | str,
    *,
    sources: Path | str | None = None,
    corpus: Path | str | None = None,
    full: bool = False,
    allow_mass_removal: bool = False,
    workers: int = 1,
) -> ChangeSet:
    """The whole ingest in this process, without Prefect (tests, embedding); what it changed.

    The run is not kept in the store's runs: those are the flow's (`kb build`, `kb schedule`).
    """
    return run_pipeline(
        home,
        LocalExecutor(),
        sources=sources,
        corpus=corpus,
        full=full,
        workers=workers,
        allow_mass_removal=allow_mass_removal,
        record_run=False,
    ).changes


def _finish_stopped_run(store: Store, run_id: int, exc: BaseException) -> None:
    # Stopped (SIGTERM, Ctrl-C, cancelled) rather than broken: the next run carries on.
    stopped = isinstance(exc, KeyboardInterrupt | SystemExit) or type(exc).__name__ in (
        "TerminationSignal", "CancelledError", "Abort")  # fmt: skip
    state, error = "interrupted" if stopped else "failed", f"{type(exc).__name__}: {exc}"
    if stopped:
        error = f"interrupted: stopped by {type(exc).__name__} {exc}".rstrip()
    progress_so_far = store.runs_stats(run_id)
    store.finish_run(run_id, _now(), state, {**progress_so_far, "error": error}, [])


def build_documents(outcomes: list[Outcome], store: Store) -> list[Document]:
    """Boilerplate removal across each site's pages, then segmentation and tagging, here and
    all at once (the run does it in batches: `run_pipeline`); failures mark their outcome."""
    clean_site_boilerplate(outcomes, store)
    items = document_ids([o for o in outcomes if o.extracted], store)
    return take_build_failures([o for o, _ in items], build_many(items))


def document_ids(outcomes: list[Outcome], store: Store) -> list[tuple[Outcome, str]]:
    """Each of these extracted sources with its document's id: its own, else one free in the
    store and in this run."""
    return _unique_ids([(o, store.doc_id_for(o.ref.key, wanted_doc_id(o.ref))) for o in outcomes])


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


def _check_sources(
    executor: StageExecutor, store: Store, refs: list[SourceRef], hosts: set[str], full: bool,
    workers: int, progress: Progress,
) -> list[Outcome]:  # fmt: skip
    """Every source checked (fetched, fingerprinted), in `refs` order: files in batches,
    web pages one task each. The sources' records (fingerprints left out: the check reads
    none) and the finished checks are let go of when this returns."""
    records = {r.key: r for r in store.sources(block_hashes=False)}
    files = [(r, records.get(r.key)) for r in refs if r.kind == "file"]
    checks = executor.map(check_files, batches(files, workers), full)
    web = [
        (r, executor.submit(fetch_web_page, r, record_for_fetch(r, records.get(r.key)),
                            full, hosts, hosts))
        for r in refs if r.kind == "url"
    ]  # fmt: skip
    outcomes: list[Outcome] = []
    for pending in checks:
        checked = pending.result()
        outcomes.extend(checked)
        progress.advance(len(checked))
        # Prefect keeps a finished task's result until the flow run ends: emptied, the list
        # no longer holds the outcomes, which go once their batch is committed.
        checked.clear()
    for ref, fetching in web:
        outcomes.append(_web_result(ref, fetching, records.get(ref.key)))
        progress.advance()
    return outcomes


def _read_listings(
    executor: StageExecutor, found: Discovered, home: str, full: bool
) -> list[ListingResult]:
    started = [
        (e, executor.submit(read_listing_page, e, home, full, found.hosts)) for e in found.listings
    ]
    results = []
    for entry, pending in started:
        try:
            results.append(pending.result())
        except Exception as exc:  # (retries exhausted): keep what the listing linked to last time
            with Store(home_paths(home).store) as store:
                previous = load_listing_state(store, entry.url)
            results.append(listing_unreachable(entry, previous, f"{type(exc).__name__}: {exc}"))
    return results


def _add_failures(changes: ChangeSet, failures: list[Failure]) -> None:
    changes.failures.extend(failures)
    changes.sources["failed"] = changes.sources.get("failed", 0) + len(failures)


def _web_result(ref: SourceRef, pending: Pending[Outcome], record: SourceRecord | None) -> Outcome:
    try:
        outcome = pending.result()
    except Exception as exc:
        return Outcome(
            ref, "failed", failure=Failure(ref.location, "fetch", f"{type(exc).__name__}: {exc}")
        )
    return relabel_refetched(outcome, record)


def _fetched_size(fetched: Fetched) -> int:
    return len(fetched.data) if fetched.data is not None else (fetched.size or 0)


def _read_again(batch: list[Outcome], progress: Progress) -> list[Outcome]:
    """The batch with its files' bytes read back (`set_aside` by the check). A file changed or
    removed since its check fails for this run (the next one checks it again), rather than be
    extracted from bytes its fingerprint does not describe."""
    ready = []
    for outcome in batch:
        assert outcome.fetched is not None
        if read_again(outcome.fetched):
            ready.append(outcome)
            continue
        reason = (
            "it changed or went away while the build was reading it; the next run reads it again"
        )
        outcome.state, outcome.fetched = "failed", None
        outcome.failure = Failure(outcome.ref.location, "fetch", reason)
        progress.advance()
    return ready


def _take_extraction(current: Outcome, done: Outcome) -> None:
    """Keep this run's fetch fingerprints when the extraction comes back as another object
    (from a worker process, or from Prefect's cache)."""
    if current is not done:
        current.state, current.extracted, current.failure = done.state, done.extracted, done.failure
        # Taken: Prefect keeps the task's result (a copy, from its cache or a worker process)
        # until the flow run ends, so it must keep no more than the copy's shell: not the
        # extraction, nor its own copy of the source's reference and fingerprints (a
        # kilobyte a source, 12 MB at 10,000 documents).
        done.extracted = done.fetched = None
        done.ref = current.ref
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
