"""Every use of Whoosh's private layout, in one place, for whoosh-reloaded 2.7.5 only.

Parts of `search/` go beneath Whoosh's public API, for speed or for control:
- `search.engine` reads whole posting lists of the W3 codec straight from a segment's
  postings file, and the field-length columns (`read_term_postings`, `length_codes`);
  compound segments' files are opened without a copy (`_MappedFile`);
- `search.posting_arrays` adds a file to the segment being written, finds where each term's
  posting list starts in its postings file, and reads its file back from the segment's
  memory map (`create_segment_file`, `last_term_postings_offset`, `term_postings_offset`,
  `segment_file_buffer`);
- `search.segment_writer` changes how `SegmentWriter` pools postings and writes them
  (`RunFilePostingPool`, `PluggableSegmentWriter`);
- `search.shards` has writers in several processes finish their segments and one of
  them commit them all (`finish_segment`, `commit_with`);
- `search.dismax` plugs a disjunction into `CompoundQuery`'s and `UnionMatcher`'s hooks.

Those names and layouts are private to Whoosh and may change in any release, so they
are used here and nowhere else (tests/test_whoosh_internals.py checks every other module
of `search/`), and importing this module fails with a one-line error unless the installed
Whoosh is the exact version they were written for: an upgrade starts by reading this file.
"""

from __future__ import annotations

import io
import pickle
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from itertools import chain, compress, repeat
from operator import sub
from typing import Any

import numpy as np
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

from whoosh.codec import default_codec  # noqa: E402
from whoosh.codec.whoosh3 import (  # noqa: E402
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3TermInfo,
    _lenfield,
)
from whoosh.filedb import compound  # noqa: E402
from whoosh.filedb.filetables import _lengths as _RECORD_LENGTHS  # noqa: E402
from whoosh.filedb.structfile import BufferFile  # noqa: E402
from whoosh.matching.binary import UnionMatcher  # noqa: E402
from whoosh.query import CompoundQuery  # noqa: E402
from whoosh.reading import SegmentReader, TermNotFound  # noqa: E402
from whoosh.searching import Searcher  # noqa: E402
from whoosh.system import pack_int, pack_long, pack_ushort  # noqa: E402
from whoosh.util.numeric import byte_to_length, length_to_byte  # noqa: E402
from whoosh.writing import PostingPool, SegmentWriter  # noqa: E402

Posting = tuple[str, bytes, int, float, bytes | None]

# -- reading: searchers, postings, field lengths


def term_text(term: bytes | str) -> str:
    """A term as text: a reader's lexicon gives bytes, a column's values may be either."""
    return term.decode("utf-8") if isinstance(term, bytes) else str(term)


def searcher_index(searcher: Searcher) -> Any:
    """The index a searcher was opened on (None for one made from a bare reader)."""
    return getattr(searcher, "_ix", None)


# -- reading whole posting lists in bulk
#
# A W3 posting list is the 4-byte tag W3Bl, then blocks of up to 128 postings: a signed
# big-endian length (negative for the last block), a small pickle of the block's
# statistics (count, last id, max weight, compression level, min and max length codes),
# then the block's data, `(id deltas, weights, values)` pickled and zlib-compressed. In a
# positional field the values are one `bytes` per posting. Whoosh's own writer pickles with
# protocol 2, which writes each as a call to `_codecs.encode` on a `str`: unpickling them
# was two thirds of reading a posting list, and a search needs them only for a phrase. So
# the part of such a block's pickle before its values is unpickled alone
# (`_ids_and_weights`), and the decompressed block is kept for the values
# (`EncodedValues`), unpickled only when a phrase asks for them. Our writer's blocks
# (`BLOCK_PICKLE_PROTOCOL`) hold the values as plain bytes, cheap to unpickle whole.

_BLOCK_LENGTH = struct.Struct("!i")
# Where a block's values start: the first value (a `bytes`) calls this global, which no
# id or weight can spell (every id is an opcode byte and its argument, every weight a
# 'G' and 8 bytes).
_VALUES_GLOBAL = b"c_codecs\nencode\n"
_MARK = ord("(")
_TUPLE2_STOP = b"\x86."


def _ids_and_weights(data: bytes) -> tuple[Any, Any]:
    """(id deltas, weights) of a decompressed block, without unpickling its values."""
    at = data.find(_VALUES_GLOBAL)
    if at < 0:  # no bytes values (None, or fixed-size values joined in one string)
        ids, weights, _ = pickle.loads(data)
        return ids, weights
    if data[at - 1] == _MARK:  # a tuple of more than three values starts with a MARK
        at -= 1
    return pickle.loads(data[:at] + _TUPLE2_STOP)


@dataclass
class EncodedValues:
    """The encoded values (positions) of a term's postings, in the posting order, decoded
    from their blocks only when asked for. `keep`: which of the blocks' postings are
    kept (None: all), as when deleted documents are left out.

    The blocks are either decompressed already (`blocks`, when they were read for the ids
    and weights) or `packed`: the term's posting list as stored, its blocks found and
    decompressed only when a phrase asks for their values (when the ids and weights came
    from `search.posting_arrays`). When the positions were stored as arrays there too,
    they are in `positions` (see `positions_of`), and the values are not needed."""

    blocks: list[bytes] = field(default_factory=list)  # decompressed block pickles
    counts: list[int] = field(default_factory=list)  # postings in each block
    inline: list[bytes] = field(default_factory=list)  # a short list kept in the term info
    keep: np.ndarray | None = None
    packed: bytes = b""  # a W3 posting list, its 4-byte tag included
    packed_count: int = 0  # postings in `packed`
    # (count per posting, every position in order), of every posting (before `keep`).
    positions: tuple[np.ndarray, np.ndarray] | None = None
    _spans: list[tuple[int, int, int]] = field(default_factory=list)  # of packed's blocks

    @property
    def nbytes(self) -> int:
        """Of the blocks as read (unpickled values take about as much)."""
        inline = sum(map(len, self.inline)) + 33 * len(self.inline)
        arrays = sum(a.nbytes for a in self.positions) if self.positions is not None else 0
        return sum(map(len, self.blocks)) + len(self.packed) + inline + arrays

    @property
    def kept(self) -> int:
        """How many postings are kept."""
        if self.keep is not None:
            return int(np.count_nonzero(self.keep))
        if self.positions is not None:
            return len(self.positions[0])
        if self.packed:
            return self.packed_count
        return sum(self.counts) + len(self.inline)

    def positions_of(self, wanted: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
        """(count per posting, their positions in order) of the kept postings that
        `wanted` marks (None: all), when stored as arrays; None otherwise."""
        if self.positions is None:
            return None
        counts, flat = self.positions
        chosen = self._chosen(wanted)
        if chosen is None:
            return counts, flat
        return counts[chosen], flat[np.repeat(chosen, counts)]

    def _chosen(self, wanted: np.ndarray | None) -> np.ndarray | None:
        """A boolean per posting of the blocks (None: all) from one per kept posting."""
        if wanted is not None and self.keep is not None:
            full = np.zeros(len(self.keep), dtype=bool)
            full[self.keep] = wanted
            return full
        if wanted is None and self.keep is not None:
            return self.keep
        return wanted

    def all(self) -> list[bytes]:
        """Every kept posting's encoded value."""
        return self.select(None)

    def select(self, wanted: np.ndarray | None) -> list[bytes]:
        """The encoded values of the kept postings that `wanted` (a boolean per kept
        posting; None: all) marks, in order; only the blocks holding one are unpickled."""
        if self.positions is not None and not (self.blocks or self.packed):
            raise ValueError("only the decoded positions were kept: see positions_of")
        wanted = self._chosen(wanted)
        if self.packed and not self._spans:
            self._find_packed_blocks()
        if not self.blocks and not self.packed:
            return self.inline if wanted is None else list(compress(self.inline, wanted.tolist()))
        if wanted is None:
            return list(chain.from_iterable(map(self._values_of, range(len(self.counts)))))
        sizes = np.asarray(self.counts, dtype=np.int64)
        starts = np.cumsum(sizes) - sizes
        needed = np.logical_or.reduceat(wanted, starts)
        out: list[bytes] = []
        for i in np.flatnonzero(needed).tolist():
            start = int(starts[i])
            picks = wanted[start : start + self.counts[i]].tolist()
            out.extend(compress(self._values_of(i), picks))
        return out

    def _find_packed_blocks(self) -> None:
        """Where each block of `packed` is and how many postings it holds."""
        spans: list[tuple[int, int, int]] = []
        counts: list[int] = []
        for count, compression, start, end in _blocks_of(self.packed, 0):
            spans.append((start, end, compression))
            counts.append(count)
        self.counts = counts  # set once, whole: another thread may be reading it
        self._spans = spans

    def _values_of(self, block: int) -> tuple[bytes, ...]:
        # Not kept: a million small objects would slow every garbage collection after.
        if self.blocks:
            return pickle.loads(self.blocks[block])[2]
        start, end, compression = self._spans[block]
        data = self.packed[start:end]
        return pickle.loads(zlib.decompress(data) if compression else data)[2]


@dataclass
class TermPostings:
    """One segment's postings of a term: segment document numbers (ascending), weights,
    and the encoded values of a positional field (None otherwise)."""

    ids: np.ndarray
    weights: np.ndarray
    values: EncodedValues | None


# Given a term's info, its ids, weights and, if stored, positions (count per posting,
# positions in order) from elsewhere (`search.posting_arrays`), or None.
StoredArrays = Callable[
    [Any], "tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None] | None"
]


def read_term_postings(
    reader: Any, fieldname: str, text: str, stored: StoredArrays | None = None
) -> TermPostings | None:
    """A term's whole posting list in one segment (None if the segment lacks the term),
    its deleted documents left out, read from the segment's postings file in bulk, or
    its ids and weights from `stored` (called with the term's info) when it has them."""
    if fieldname not in reader.schema:
        return None
    field_type = reader.schema[fieldname]
    fixed = field_type.format.fixed_value_size()
    positional = fixed is None or fixed < 0
    terms = getattr(reader, "_terms", None)
    if terms is None:  # not a segment of the W3 codec (an empty index's reader)
        return _read_by_matcher(reader, fieldname, text, positional)
    try:
        terminfo = terms.term_info(fieldname, field_type.to_bytes(text))
    except TermNotFound:
        return None
    values = EncodedValues() if positional else None
    found = None if stored is None or terminfo.is_inlined() else stored(terminfo)
    if terminfo.is_inlined():
        inline_ids, inline_weights, inline_values = terminfo.inlined_postings()
        ids = np.asarray(inline_ids, dtype=np.int64)
        weights = np.asarray(inline_weights, dtype=np.float64)
        if values is not None:
            values.inline = list(inline_values)
    elif found is not None:
        ids, weights, positions = found
        if values is not None and positions is not None:
            values.positions = positions
        elif values is not None:  # a copy: the cache outlives the reader's memory map
            values.packed = terms._postfile.get(*_term_extent(terminfo))
            values.packed_count = len(ids)
    else:
        ids, weights = _read_blocks(terms._postfile, terminfo.extent()[0], values)
    deleted = reader.deleted_docs_set
    if deleted:
        keep = _not_in(ids, deleted)
        ids, weights = ids[keep], weights[keep]
        if values is not None:
            values.keep = keep
    return TermPostings(ids, weights, values)


def _not_in(ids: np.ndarray, deleted: set[int]) -> np.ndarray:
    """Which of `ids` are not in `deleted`: `~np.isin`, without the import of numpy.ma that
    its `np.unique` makes (7 ms of the first search of an index with deletions)."""
    gone = np.fromiter(deleted, dtype=np.int64, count=len(deleted))
    gone.sort()
    nearest = np.minimum(np.searchsorted(gone, ids), len(gone) - 1)
    return gone[nearest] != ids


def term_postings_offset(terminfo: Any) -> int:
    """Where a (not inlined) term's posting list starts in its segment's postings file."""
    return _term_extent(terminfo)[0]


def _term_extent(terminfo: Any) -> tuple[int, int]:
    """(offset, length) of a term's posting list in the postings file."""
    offset, length = terminfo.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes keeps `struct.unpack`'s tuple
        (length,) = length
    return int(offset), int(length)


def _read_by_matcher(
    reader: Any, fieldname: str, text: str, positional: bool
) -> TermPostings | None:
    """A term's postings through Whoosh's public matcher, one at a time."""
    try:
        matcher = reader.postings(fieldname, text)
    except TermNotFound:
        return None
    ids: list[int] = []
    weights: list[float] = []
    values: list[bytes] = []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        if positional:
            values.append(matcher.value())
        matcher.next()
    return TermPostings(np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64),
                        EncodedValues(inline=values) if positional else None)  # fmt: skip


def _blocks_of(postings: Any, offset: int) -> Iterator[tuple[int, int, int, int]]:
    """(postings, compression level, start, end of its data) of each block of the W3
    posting list at `offset` of `postings` (bytes, or a segment file: see `_MappedFile`)."""
    get = postings.get if hasattr(postings, "get") else lambda at, n: postings[at : at + n]
    if get(offset, 4) != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"no W3 posting list at {offset} of {postings!r:.60}")
    position = offset + 4
    last = False
    while not last:
        length = _BLOCK_LENGTH.unpack(get(position, 4))[0]
        last = length < 0
        end = position + 4 + abs(length)
        block = io.BytesIO(get(position + 4, min(64, abs(length))))  # info: 20-40 bytes
        count, _, _, compression, _, _ = pickle.load(block)
        yield count, compression, position + 4 + block.tell(), end
        position = end


def _read_blocks(
    postfile: Any, offset: int, values: EncodedValues | None
) -> tuple[np.ndarray, np.ndarray]:
    # Only `get` (a slice of the segment's memory map): see `_MappedFile`.
    counts: list[int] = []
    deltas: list[Any] = []
    weights: list[Any] = []
    for count, compression, start, end in _blocks_of(postfile, offset):
        data = postfile.get(start, end - start)
        if compression:
            data = zlib.decompress(data)
        block_ids, block_weights = _ids_and_weights(data)
        if values is not None:
            values.blocks.append(data)
            values.counts.append(count)
        counts.append(count)
        deltas.append(block_ids)
        if block_weights is None:
            block_weights = repeat(1.0, count)
        elif isinstance(block_weights, float):
            block_weights = repeat(block_weights, count)
        weights.append(block_weights)
    total = sum(counts)
    flat = np.fromiter(chain.from_iterable(deltas), dtype=np.int64, count=total)
    # Each block's first id is whole and the rest are deltas: a running sum restarted per block.
    running = np.cumsum(flat)
    sizes = np.asarray(counts, dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    before = running[starts] - flat[starts]
    ids = running - np.repeat(before, sizes)
    return ids, np.fromiter(chain.from_iterable(weights), dtype=np.float64, count=total)


class _MappedFile(BufferFile):  # type: ignore[misc]
    """A file of a compound segment opened for reading: a slice of the segment's memory
    map. Whoosh's BufferFile copies the whole slice into a BytesIO when opened, for its
    read/seek methods: 300 MB copied when a 100,000-section index is opened, and again
    for every searcher. Here the copy is made only if those methods are used (Whoosh's
    own posting matchers use them; `read_term_postings` does not)."""

    def __init__(self, buf: Any, name: str | None = None, onclose: Any = None) -> None:
        self._buf = buf
        self._name = name
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    @property
    def file(self) -> io.BytesIO:
        stream = self.__dict__.get("_stream")
        if stream is None:
            stream = self.__dict__["_stream"] = io.BytesIO(self._buf)
        return stream

    def flush(self) -> None:
        pass  # read-only

    def close(self) -> None:
        if self.is_closed:
            raise ValueError("This file is already closed")
        if self.onclose:
            self.onclose(self)
        stream = self.__dict__.get("_stream")
        if stream is not None:
            stream.close()
        self.is_closed = True


# Compound segments open their files as `compound.BufferFile(memoryview)` (one name,
# read when a file is opened).
compound.BufferFile = _MappedFile


def segment_file_buffer(reader: Any, extension: str) -> memoryview | None:
    """The bytes of one file of a reader's (compound) segment, without a copy: a view of
    the segment's memory map; None when the segment has no such file or is not mapped."""
    if not isinstance(reader, SegmentReader):  # an empty index's reader
        return None
    name = reader.segment().make_filename(extension)
    storage = reader.storage()
    if not storage.file_exists(name):
        return None
    opened = storage.open_file(name)
    if not isinstance(opened, _MappedFile):  # a separate file (not compound): not mapped
        opened.close()
        return None
    return memoryview(opened._buf)


def create_segment_file(fieldwriter: Any, extension: str) -> Any:
    """A new file of the segment a field writer is writing (assembled into the compound
    segment file with the others, and removed with the segment)."""
    return fieldwriter._segment.create_file(fieldwriter._storage, extension)


def last_term_postings_offset(fieldwriter: Any) -> int:
    """Where the posting list of the term a field writer wrote last (`finish_term`)
    starts in the segment's postings file: what `term_postings_offset` reads back."""
    return int(fieldwriter._postwriter._startoffset)


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
    into the segment at commit (`write_pooled_postings`, to override).

    `own_temp`: spill runs into a temporary folder of this writer's own rather than the
    index's shared one, which the first writer to finish or fail removes (with the
    other writers' runs in it): a writer in another process than the committing one.
    """

    def __init__(self, ix: Any, *, own_temp: bool = False, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        # Whoosh compresses stored fields at level 3 whatever the codec's level for postings.
        level = getattr(self.codec, "_compression", None)
        stored = self.perdocwriter._colwriters.get("_stored")
        if level is not None and stored is not None and hasattr(stored._child, "_level"):
            stored._child._level = level
        if own_temp:
            self._tempstorage = self.storage.temp_storage(f"{self.newsegment.segid}.tmp")

    @classmethod
    def helping(cls, ix: Any, **kwargs: Any) -> Any:
        """A writer in another process than the writer that holds the index's lock and
        will commit this one's segment (`finish_segment`, `commit_with`): it takes no lock
        and spills into a temporary folder of its own."""
        return cls(ix, _lk=False, own_temp=True, **kwargs)

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

    def finish_segment(self) -> Any:
        """Write the new segment's files and return the segment, without committing it
        (a writer in another process than the one that will commit the segment)."""
        segment = self._finalize_segment()
        self._tempstorage.destroy()
        return segment

    def commit_with(self, others: list[Any]) -> None:
        """`commit`, with `others` (segments finished by `finish_segment` in other
        processes) after this writer's own segment in the new generation."""
        self._check_state()
        segments = self._merge_segments(None, False, False)  # the existing ones, unmerged
        if self._added:
            segments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc([*segments, *others])
        self._finish()

    def _flush_segment(self) -> None:
        self.write_pooled_postings()


# A block's postings are pickled with this protocol, not Whoosh's 2: protocol 2 writes each
# encoded value (a `bytes`) as a call to `_codecs.encode` on a `str`, which made reading a
# positional posting list three times slower (a phrase's first search) and writing one
# slower too. Whoosh's reader unpickles any protocol, so the segment reads the same.
BLOCK_PICKLE_PROTOCOL = 5


# A posting list shorter than this goes into its term's info (in the terms file) instead of
# a block of the postings file: a block is two pickles, a zlib stream and four writes, which
# for the index's one-posting terms (a section's key, rare words and numbers) were most of
# writing them. Whoosh reads inlined postings with any codec; its own writer, whose
# `finish_postings` calls a method its term info lacks, cannot write them, and our codec keeps
# its `inlinelimit` at 1 so that Whoosh's writer stays usable with it.
INLINE_POSTINGS_BELOW = 4


# What `W3TermInfo.to_bytes` packs first (flags, total weight, document frequency, min and
# max length as bytes, max weight, first and last id).
_TERM_INFO = W3TermInfo._struct


def write_term(
    fieldwriter: Any, tbytes: bytes, ids: Any, weights: Any, values: list[bytes],
    lengths: Any | None, infos: TermInfos,
) -> None:  # fmt: skip
    """Write one whole posting list of term `tbytes`, in the field `start_field` began:
    what `start_term`, `add` for each posting and `finish_term` write, in bulk.

    The postings go into W3 blocks of the codec's block size (the last marked as such),
    pickled with `BLOCK_PICKLE_PROTOCOL`, or into the term's info when the list is short
    (INLINE_POSTINGS_BELOW); the term's info, with the statistics `W3TermInfo.add_block`
    gathers block by block, goes into the terms file. A term costs these few calls instead
    of some forty (a third of writing a large vocabulary).
    `ids` and `weights` are arrays ("I" and "f", as a block holds them), `values` the
    non-empty encoded values, `lengths` each document's field length (an object whose
    `known_range(ids)` gives the shortest and longest non-zero length of those documents,
    `search.segment_writer.FieldLengths`), `infos` the `TermInfos` of `fieldwriter`'s terms
    file, which the term's info is added to.
    """
    writer = fieldwriter._postwriter
    postfile = writer._postfile
    # Where this list starts (`last_term_postings_offset` reads it): asked of the file for a
    # field's first term only, then counted (a tell is a seek, once per term before).
    start = getattr(writer, "_kb_next_offset", None)
    if start is None:
        start = postfile.tell()
    writer._startoffset = writer._kb_next_offset = start
    count = len(ids)
    if count < INLINE_POSTINGS_BELOW:
        weight, minlength, maxlength, maxweight = _block_figures(ids, weights, lengths)
        inlined = True
        where = pickle.dumps((tuple(ids), tuple(weights), tuple(values)), 2)
    else:
        inlined = False
        # The list is written in one piece: each write to a segment's file is a few calls
        # of Whoosh's (a tenth of writing the postings, three writes a block).
        parts = [WHOOSH3_HEADER_MAGIC]
        limit = writer._blocklimit
        fixed = fieldwriter._format.fixed_value_size()
        comp = writer._compression
        weight, minlength, maxlength, maxweight = 0, None, 0, 0
        for first in range(0, count, limit):
            end = min(first + limit, count)
            block_ids = ids[first:end]
            block_weights = weights[first:end]
            figures = _block_figures(block_ids, block_weights, lengths)
            parts.append(_block_bytes(block_ids, block_weights, values[first:end] if values else [],
                                      figures, fixed, comp, last=end == count))  # fmt: skip
            weight += figures[0]
            if minlength is None:
                minlength = figures[1]
            elif figures[1] is not None:
                minlength = min(minlength, figures[1])
            maxlength = max(maxlength, figures[2])
            maxweight = max(maxweight, figures[3])
        data = b"".join(parts)
        postfile.write(data)
        where = pack_long(start) + pack_int(len(data))
        writer._kb_next_offset = start + len(data)
    info = _TERM_INFO.pack(inlined, weight, count,
                           0 if minlength is None else length_to_byte(minlength),
                           length_to_byte(maxlength), maxweight, ids[0], ids[-1]) + where  # fmt: skip
    infos.add(pack_ushort(fieldwriter._fieldid) + tbytes, info)


class TermInfos:
    """The terms file's entries, added a batch at a time: for each, what Whoosh's
    `OrderedHashWriter.add` does (the record written, its place in the ordered index, its
    hash and place in one of 256 buckets), with one write a batch instead of three and
    five calls of Whoosh's a term (writing the postings of the 59,000 terms of
    ../shared/realdocs: 0.74 → 0.69 s).
    `flush` must come before the terms file is closed (`write_terms` does it)."""

    BATCH = 1024

    def __init__(self, tindex: Any) -> None:
        self.tindex = tindex
        self.pending: list[tuple[bytes, bytes]] = []

    @classmethod
    def of(cls, fieldwriter: Any) -> TermInfos:
        """The entries of `fieldwriter`'s terms file."""
        return cls(fieldwriter._tindex)

    def add(self, key: bytes, value: bytes) -> None:
        self.pending.append((key, value))
        if len(self.pending) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        tindex = self.tindex
        dbfile, buckets, index, hashfn = tindex.dbfile, tindex.buckets, tindex.index, tindex.hashfn
        last = tindex.lastkey
        pos = dbfile.tell()
        parts = []
        for key, value in self.pending:
            if key <= last:
                raise ValueError(f"Keys must increase: {last!r}..{key!r}")
            index.append(pos)
            h = hashfn(key)
            buckets[h & 255].append((h, pos))
            parts.extend((_RECORD_LENGTHS.pack(len(key), len(value)), key, value))
            pos += _RECORD_LENGTHS.size + len(key) + len(value)
            last = key
        dbfile.write(b"".join(parts))
        tindex.lastkey = last
        self.pending = []


def _block_figures(
    ids: Any, weights: Any, lengths: Any | None
) -> tuple[float, int | None, int, float]:
    """A block's total weight, shortest and longest (known) field length and top weight,
    as `W3PostingsWriter.add_posting` keeps them."""
    shortest, longest = lengths.known_range(ids) if lengths is not None else (None, 0)
    top = max(weights)
    return sum(weights), shortest, longest, top if top > 0 else 0


def _block_bytes(
    ids: Any, weights: Any, values: list[bytes],
    figures: tuple[float, int | None, int, float], fixed: int | None, comp: int, *, last: bool,
) -> bytes:  # fmt: skip
    """What `W3PostingsWriter._write_block` writes for one block, in bulk."""
    gaps = (ids[0], *map(sub, ids[1:], ids))
    size = len(weights)
    if weights.count(1.0) == size:
        mini_weights: Any = None
    elif weights.count(weights[0]) == size:
        mini_weights = weights[0]
    else:
        mini_weights = tuple(weights)
    if fixed is None or fixed < 0:
        mini_values: Any = tuple(values)
    elif fixed == 0:
        mini_values = None
    else:
        mini_values = b"".join(values)
    databytes = pickle.dumps((gaps, mini_weights, mini_values), BLOCK_PICKLE_PROTOCOL)
    if comp:
        databytes = zlib.compress(databytes, comp)
    _, minlength, maxlength, maxweight = figures
    info = (size, ids[-1], maxweight, comp,
            length_to_byte(minlength), length_to_byte(maxlength))  # fmt: skip
    infobytes = pickle.dumps(info, 2)
    blocklength = len(infobytes) + len(databytes)
    return pack_int(-blocklength if last else blocklength) + infobytes + databytes


# -- the codec of our indexes

# Posting blocks of 512 postings rather than 128, and zlib level 1 rather than 3 for them and
# for the stored fields: at 1,000 documents the index stage took 10 % less CPU and the index
# was 8 % smaller (bigger blocks compress better). Our reader reads whole posting lists
# (`read_term_postings`), where a block is a unit of work, not of skipping; Whoosh's own
# reader takes any block size and level.
INDEX_BLOCK_POSTINGS = 512
INDEX_ZLIB_LEVEL = 1


def index_codec() -> Any:
    """The codec the indexer writes with (Whoosh's W3 codec, see INDEX_BLOCK_POSTINGS)."""
    return default_codec(blocklimit=INDEX_BLOCK_POSTINGS, compression=INDEX_ZLIB_LEVEL)


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
