"""Every use of Whoosh's private layout, in one place, for whoosh-reloaded 2.7.5 only.

Parts of `search/` go beneath Whoosh's public API, for speed or for control:
- `search.engine` reads whole posting blocks of the W3 codec and the field-length columns
  (`posting_blocks`, `split_deleted`, `length_codes`);
- `search.segment_writer` changes how `SegmentWriter` pools postings and writes them
  (`RunFilePostingPool`, `PluggableSegmentWriter`);
- `search.indexer` runs the multiprocess writer's sub-writers spawned and killable
  (`MultiSegmentWriter`);
- `search.dismax` plugs a disjunction into `CompoundQuery`'s and `UnionMatcher`'s hooks.

Those names and layouts are private to Whoosh and may change in any release, so they
are used here and nowhere else (tests/test_whoosh_internals.py checks every other module
of `search/`), and importing this module fails with a one-line error unless the installed
Whoosh is the exact version they were written for: an upgrade starts by reading this file.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from importlib import metadata
from itertools import accumulate
from typing import Any

import whoosh

from kb.errors import KBError

WHOOSH_DISTRIBUTION = "whoosh-reloaded"
WHOOSH_VERSION = "2.7.5"  # as pinned in pyproject.toml


class WhooshVersionError(KBError, ImportError):
    """The installed Whoosh is not the version whose internals this module uses."""


def installed_whoosh_version() -> str:
    """The installed whoosh-reloaded's version, or a description of what else is there.

    Three distributions install the module `whoosh` (Whoosh, whoosh-reloaded, whoosh3),
    and installing one over another can leave one's metadata beside the other's code:
    both the metadata and the module's own version must agree.
    """
    module_version = whoosh.versionstring()
    try:
        version = metadata.version(WHOOSH_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return f"whoosh {module_version} not from {WHOOSH_DISTRIBUTION}"
    if version != module_version:
        return f"{WHOOSH_DISTRIBUTION} {version} holding whoosh {module_version}"
    return version


def check_whoosh_version() -> None:
    """Raise WhooshVersionError (one line: what is there, what to install) on a mismatch."""
    found = installed_whoosh_version()
    if found != WHOOSH_VERSION:
        wanted = f"{WHOOSH_DISTRIBUTION}=={WHOOSH_VERSION}"
        raise WhooshVersionError(f"search needs {wanted} (found {found}): pip install {wanted}")


# Before the imports below: another Whoosh may lack the modules or names they take.
check_whoosh_version()

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield  # noqa: E402
from whoosh.matching.binary import UnionMatcher  # noqa: E402
from whoosh.matching.mcore import ListMatcher  # noqa: E402
from whoosh.matching.wrappers import FilterMatcher  # noqa: E402
from whoosh.multiproc import MpWriter, SubWriterTask  # noqa: E402
from whoosh.query import CompoundQuery  # noqa: E402
from whoosh.searching import Searcher  # noqa: E402
from whoosh.util.numeric import byte_to_length  # noqa: E402
from whoosh.writing import PostingPool, SegmentWriter  # noqa: E402

from kb.runtime.orphans import exit_with_parent  # noqa: E402

Posting = tuple[str, bytes, int, float, bytes | None]

# -- reading: searchers, postings, field lengths


def searcher_index(searcher: Searcher) -> Any:
    """The index a searcher was opened on (None for one made from a bare reader)."""
    return getattr(searcher, "_ix", None)


def split_deleted(matcher: Any) -> tuple[Any, set[int] | None]:
    """A segment's postings matcher without the filter that hides deleted documents,
    and the deleted document numbers that filter held (None: no filter)."""
    if isinstance(matcher, FilterMatcher):
        return matcher.child, matcher._ids
    return matcher, None


def posting_blocks(matcher: Any) -> Any:
    """(ids, weights, encoded values) of each block of a term's postings in one segment."""
    if isinstance(matcher, ListMatcher):
        count = len(matcher._ids)
        weights = matcher._weights
        if weights is None:
            weights = [matcher._all_weights or 1.0] * count
        yield list(matcher._ids), list(weights), matcher._values
        return
    if not isinstance(matcher, W3LeafMatcher):
        raise TypeError(f"unexpected postings reader {type(matcher).__name__}")
    while matcher.is_active():
        matcher._read_data()
        minified_ids, weights, values = matcher._data[:3]
        # W3LeafMatcher._read_ids decodes the id deltas in a Python generator; accumulate
        # does the same sum in C, which matters when a cold search reads a million postings.
        ids = minified_ids if matcher._byteids else list(accumulate(minified_ids))
        count = matcher._blocklength
        if weights is None:
            weights = [1.0] * count
        elif isinstance(weights, float):
            weights = [weights] * count
        if matcher._fixedsize is not None and matcher._fixedsize >= 0:
            values = None  # fixed-size values carry no positions
        yield ids, weights, values
        matcher._next_block()


# A field length is stored as one byte per document; this decodes each byte (0: empty).
LENGTH_OF_CODE = [byte_to_length(b) for b in range(256)]


def segment_per_document_reader(reader: Any) -> Any:
    """The per-document reader (stored fields, columns, lengths) of a segment's reader."""
    return reader._perdoc


def length_codes(perdoc: Any, fieldname: str, limit: int | None = None) -> bytes | None:
    """The stored length codes of `fieldname` (see LENGTH_OF_CODE), one byte per document
    from the first, at most `limit` of them; None when the segment stores none."""
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return None
    count = column._count if limit is None else min(column._count, limit)
    return column._dbfile.get(column._basepos, count) if count else b""


# -- writing: the posting pool and the segment writer


class RunFilePostingPool(PostingPool):  # type: ignore[misc]
    """Whoosh's posting pool (sorted postings in memory, spilled to run files past its
    limit, merged at commit), with the run files' format given by `write_run` and
    `read_run` (Whoosh's own hooks for it are private)."""

    def write_run(self, f: Any, items: Iterable[Posting]) -> None:
        """Write sorted postings to a new run file (closed afterwards by the pool)."""
        raise NotImplementedError

    def read_run(self, f: Any) -> Iterator[Posting]:
        """The postings of a run file that `write_run` wrote, in order."""
        raise NotImplementedError

    def spill(self, items: Iterable[Any]) -> None:
        """Write sorted `items` to a new run file (with `write_run`) and keep it as a run."""
        path, f = self._new_run()
        self._write_run(f, items)
        self.runs.append(path)

    def read_runs(self) -> list[Iterator[Any]]:
        """The items of each run file (read with `read_run`); a file goes once read."""
        return [self._read_run(path) for path in self.runs]

    def _write_run(self, f: Any, items: Iterable[Posting]) -> None:
        self.write_run(f, items)
        f.close()

    def _read_run(self, path: str) -> Iterator[Posting]:
        f = self._open_run(path)
        try:
            yield from self.read_run(f)
        finally:
            f.close()
            self._remove_run(path)


class PluggableSegmentWriter(SegmentWriter):  # type: ignore[misc]
    """Whoosh's segment writer with the private steps a subclass takes part in under
    public names: checks made before adding a document, and writing the pooled postings
    into the segment at commit (`write_pooled_postings`, to override)."""

    def check_open(self) -> None:
        """Raise Whoosh's IndexingError if the writer is closed."""
        self._check_state()

    def check_field_names(self, schema: Any, names: Iterable[str]) -> None:
        """Raise Whoosh's UnknownFieldError for a name that `schema` lacks."""
        self._check_fields(schema, names)

    def mark_added(self) -> None:
        """Record that documents were added, so that commit writes the new segment."""
        self._added = True

    def write_pooled_postings(self) -> None:
        """Write the pool's postings into the new segment's files, at commit."""
        SegmentWriter._flush_segment(self)

    def _flush_segment(self) -> None:
        self.write_pooled_postings()


def write_posting_blocks(
    fieldwriter: Any, ids: Any, weights: Any, values: list[bytes], lengths: list[int] | None
) -> None:
    """Put a whole posting list of the term just started (`start_term`) into W3 blocks.

    What `W3PostingsWriter.add_posting` does one posting at a time, a block at a time:
    each full block is written as the next posting would write it, and the last one is
    left for `finish_term`. `ids` and `weights` are arrays ("I" and "f", as a block holds
    them), `values` the non-empty encoded values, `lengths` each document's field length.
    """
    writer = fieldwriter._postwriter
    limit = writer._blocklimit
    count = len(ids)
    for start in range(0, count, limit):
        end = min(start + limit, count)
        block_ids = ids[start:end]
        block_weights = weights[start:end]
        writer._ids = block_ids
        writer._weights = block_weights
        writer._values = values[start:end] if values else []
        top = max(block_weights)
        writer._maxweight = top if top > 0 else 0
        known = [lengths[d] for d in block_ids if lengths[d]] if lengths is not None else []
        writer._minlength = min(known) if known else None
        writer._maxlength = max(known) if known else 0
        if end < count:
            writer._write_block()


# -- writing in several processes


class _SubWriter(SubWriterTask):  # type: ignore[misc]
    """Whoosh's writer process, started fresh (spawn) and made to exit when the build dies.

    Spawned, not forked: a fork of a build that holds a run's documents shares their
    pages, which count again in every child's resident memory (and a fork of the flow's
    process would copy Prefect's threads' locks in whatever state they are). A
    sub-writer waits on a queue for work: if the build is killed (SIGKILL, OOM) it
    would wait there for ever, holding its memory.
    """

    _Popen = staticmethod(multiprocessing.get_context("spawn").Process._Popen)
    segment_writer: type[SegmentWriter] = SegmentWriter  # set by MultiSegmentWriter

    def run(self) -> None:
        exit_with_parent()
        # Whoosh's loop, with our segment writer (multisegment only: see MultiSegmentWriter).
        ix = self.storage.open_index(self.indexname)
        writer = self.writer = self.segment_writer(ix, _lk=False, **self.kwargs)
        while self.running:
            job = self.jobqueue.get()
            if job is None:
                break
            self._process_file(*job)
        if not self.running:
            writer.cancel()
            return
        segment = writer._finalize_segment()
        self.resultqueue.put((None, writer.pool.fieldnames, segment), timeout=5)


class MultiSegmentWriter(MpWriter):  # type: ignore[misc]
    """Whoosh's multiprocess writer, one segment per process (`multisegment`).

    Sub-writers (`_SubWriter`, each writing with `segment_writer`) are fed batches of
    documents through files, and each writes its own segment. Cancelling stops them for
    real: Whoosh's own `cancel` only flags its copy of each process object, so a failed
    build would leave them waiting and the interpreter waiting for them at exit.
    """

    def __init__(self, ix: Any, segment_writer: type[SegmentWriter], **kwargs: Any) -> None:
        if not kwargs.get("multisegment"):
            raise ValueError("only the multisegment mode is supported")
        super().__init__(ix, **kwargs)
        self.segment_writer = segment_writer
        # The sub-writers are spawned: their queues must come from the same context.
        spawn = multiprocessing.get_context("spawn")
        self.jobqueue = spawn.Queue(self.procs * 4)
        self.resultqueue = spawn.Queue()

    def _new_task(self) -> SubWriterTask:
        task = _SubWriter(self.storage, self.indexname, self.jobqueue, self.resultqueue,
                          self.subargs, self.multisegment)  # fmt: skip
        task.segment_writer = self.segment_writer  # pickled with the task into the child
        self.tasks.append(task)
        task.start()
        return task

    def cancel(self) -> None:
        try:
            for task in self.tasks:
                if task.is_alive():
                    task.terminate()
                    task.join(timeout=10)
        finally:
            MpWriter.cancel(self)


# -- queries


class PluggableCompoundQuery(CompoundQuery):  # type: ignore[misc]
    """Whoosh's compound query whose matcher over two or more subqueries is made by
    `combine` (Whoosh's own hook for it is private)."""

    def combine(self, subs: list[Any], searcher: Any, context: Any) -> Any:
        """The matcher for the subqueries `subs` (more than one)."""
        raise NotImplementedError

    def _matcher(self, subs: list[Any], searcher: Any, context: Any) -> Any:
        return self.combine(subs, searcher, context)


def forget_current_id(matcher: UnionMatcher) -> None:
    """Drop the current document a union matcher caches, as `UnionMatcher.replace` does
    when it keeps itself."""
    matcher._id = None
