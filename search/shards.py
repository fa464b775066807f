"""A full build written by several processes, each reading its own documents from the store.

The store's documents are cut into contiguous shards of about equal work. With one
shard, the build's own process writes it. With several, each is written by a process
started fresh (spawn) that opens the store read-only, builds its shard's index
documents and writes its own segment; the build's process holds the index's lock, does
its own remaining work meanwhile (the laws' statuses) and commits the segments in shard
order, so the index's document numbers follow the store's order, as a one-process
build's do.

Whoosh's own multiprocess writer was used before: the build's process loaded every
document, built its index documents and pickled them through files to the writer
processes, a third busy process on two cores; at 1,000 documents two processes were
slower than one. Here nothing is handed over but a list of document ids and, at the end,
each finished segment's description. And the build's process, which in a flow run has
been as large as a batch of documents (malloc keeps freed memory), holds no index
memory on top of that.

Writers are spawned, not forked, from a process that runs other threads (a flow run:
a fork would copy Prefect's threads' locks in whatever state they are, and a child that
needs one waits for ever) or is inside a store transaction (SQLite's locks are the
process's, and a child would believe it holds them too). A spawned writer costs some
0.15 s of CPU to import what it needs, on every core at once: a process with no other
thread and no open transaction (a rebuild of the index from the store, a library run)
forks its writers, which start with all of it imported, 5 % of the index rebuild at 1,000
documents. A forked writer shares its parent's pages (they count in its resident memory
too, though not copied): the parent's objects are frozen out of the collector while it
forks, so that the writers' collections neither walk nor copy them.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from whoosh import index as windex

from kb.errors import KBError
from kb.model import Document
from kb.runtime.memory import cyclic_gc_paused
from kb.runtime.orphans import exit_with_parent
from kb.store import Store
from search.segment_writer import FastSegmentWriter
from search.whoosh_internals import index_codec

# Writes a shard's documents into a writer and returns how many index documents it added.
AddDocuments = Callable[[Any, Iterable[Document], Store], int]
# A writer's time is about that of indexing its text plus this many characters a section
# (the stored fields, the per-field work): fitted on the bench's two corpora, where the
# shards cut with 2,000 took 32.9 s (43,798 sections, 55.5 M characters) and 30.9 s (50,050,
# 42.9 M) at 10,000 documents, 6.9 and 6.4 s (4,435 and 5,090 sections) at 1,000: the fits
# give 1,010 and 890 characters. (An earlier fit, before the per-section work was cut, 2,000.)
SECTION_WORK_CHARS = 1_000
# How often the build looks at its writer processes while waiting for their segments.
_POLL_SECONDS = 0.5


class ShardWriterError(KBError):
    """A writer process failed or died; the build is abandoned and the live index kept."""


def document_work(store: Store) -> dict[str, int]:
    """Each document's indexing work, in characters (see SECTION_WORK_CHARS)."""
    return {
        doc_id: chars + SECTION_WORK_CHARS * sections
        for doc_id, sections, chars in store.db.execute(
            "SELECT doc_id, count(*), sum(length(text)) FROM sections GROUP BY doc_id"
        )
    }


def store_work(store: Store) -> int:
    """All of the store's indexing work, in characters (see SECTION_WORK_CHARS)."""
    return sum(document_work(store).values())


def document_shards(
    store: Store, count: int, work: dict[str, int] | None = None
) -> list[list[str]]:
    """The store's document ids in `iter_documents` order, cut into at most `count`
    contiguous shards of about equal work (none empty), see SECTION_WORK_CHARS; `work`:
    `document_work(store)`, when the caller has it already (it reads every section)."""
    if work is None:
        work = document_work(store)
    doc_ids = store.document_ids()
    total = sum(work.get(d, 0) for d in doc_ids)
    shards: list[list[str]] = [[]]
    done = 0
    for doc_id in doc_ids:
        # Start the next shard once the ones before hold their share of all the work.
        if shards[-1] and len(shards) < count and done >= total * len(shards) / count:
            shards.append([])
        shards[-1].append(doc_id)
        done += work.get(doc_id, 0)
    return [shard for shard in shards if shard]


def write_shards(
    ix: Any,
    store: Store,
    shards: list[list[str]],
    add_documents: AddDocuments,
    *,
    limitmb: int,
    meanwhile: Callable[[], None] = lambda: None,
) -> int:
    """Write `shards` into `ix` and commit them as one generation, calling `meanwhile`
    while writer processes work; returns the number of index documents written. On any
    failure every writer process is stopped and nothing is committed."""
    writer = FastSegmentWriter(ix, limitmb=limitmb, codec=index_codec())
    context = multiprocessing.get_context(writer_start_method(store))
    results = context.Queue()
    processes = []
    try:
        if len(shards) == 1:
            with cyclic_gc_paused():
                count = add_documents(writer, store.iter_documents(shards[0]), store)
                meanwhile()
                writer.commit_with([])
            return count
        forked = context.get_start_method() == "fork"
        if forked:
            # The build's objects go to the collector's permanent generation while the writers
            # are forked, so that a writer's collections neither walk them nor copy the pages
            # that hold them (Python's own advice before a fork).
            gc.freeze()
        try:
            for number, shard in enumerate(shards):
                process = context.Process(
                    target=_write_shard,
                    args=(number, ix.storage.folder, ix.indexname, str(store.path), shard,
                          add_documents, limitmb, results),
                    name=f"kb-index-writer-{number}",
                    daemon=True,
                )  # fmt: skip
                process.start()
                processes.append(process)
        finally:
            if forked:
                gc.unfreeze()
        meanwhile()
        written = _collect(processes, results, shards)
        for process in processes:
            process.join()
        writer.commit_with([segment for segment, _ in written])
        return sum(added for _, added in written)
    except BaseException:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=10)
        writer.cancel()
        raise
    finally:
        results.close()


def writer_start_method(store: Store) -> str:
    """How writer processes start: "fork" when this process runs no other thread and holds
    no transaction on `store`, else "spawn" (see the module's doc)."""
    forkable = (
        threading.active_count() == 1
        and not store.db.in_transaction
        and "fork" in multiprocessing.get_all_start_methods()
    )
    return "fork" if forkable else "spawn"


def _collect(processes: list[Any], results: Any, shards: list[list[str]]) -> list[tuple[Any, int]]:
    """Each writer process's (segment, documents added), in shard order."""
    done: dict[int, tuple[Any, int]] = {}
    while len(done) < len(processes):
        try:
            number, outcome, payload = results.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            for number, process in enumerate(processes):
                if number not in done and not process.is_alive() and results.empty():
                    raise ShardWriterError(
                        f"the index writer for documents {_span(shards[number])} exited"
                        f" (code {process.exitcode}) before finishing its segment"
                    ) from None
            continue
        if outcome == "error":
            raise ShardWriterError(
                f"the index writer for documents {_span(shards[number])} failed: {payload}"
            )
        done[number] = payload
    return [done[number] for number in range(len(processes))]


def _span(doc_ids: list[str]) -> str:
    return f"{doc_ids[0]} … {doc_ids[-1]} ({len(doc_ids)})" if doc_ids else "(none)"


def _write_shard(
    number: int,
    folder: str,
    indexname: str,
    store_path: str,
    doc_ids: list[str],
    add_documents: AddDocuments,
    limitmb: int,
    results: Any,
) -> None:
    """A writer process: one shard into a segment of its own, reported on `results`."""
    exit_with_parent()
    try:
        ix = windex.open_dir(folder, indexname=indexname)
        writer = FastSegmentWriter.helping(ix, limitmb=limitmb, codec=index_codec())
        try:
            with cyclic_gc_paused(), Store(Path(store_path), readonly=True) as store:
                added = add_documents(writer, store.iter_documents(doc_ids), store)
                segment = writer.finish_segment()
        except BaseException:
            writer.cancel()
            raise
    except Exception as exc:  # reported to the build, which raises it there
        results.put((number, "error", f"{type(exc).__name__}: {exc}"))
        return
    results.put((number, "ok", (segment, added)))
    # Done: the segment's files and the store are closed. Leave without the interpreter's
    # clean-up, which frees the writer's objects one by one (some 50 ms the build waited
    # for, on a core the other writer may still need), once the report is on its way.
    results.close()
    results.join_thread()
    os._exit(0)
