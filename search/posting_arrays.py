"""Each segment's large posting lists also stored as plain arrays, for the first searches.

A search reads a term's whole posting list once per open index (`search.engine` caches it).
From the W3 codec's blocks that is, for every 128 postings, a zlib decompression and an
unpickling of ids and weights as Python objects: a common word of a 100,000-section index
has about 50,000 postings in 400 blocks, and the first searches after opening the index
read dozens of such lists, several milliseconds each. So when a segment is written, the
ids and weights of each of its terms with at least MIN_POSTINGS postings are written
again, as little-endian arrays, into one more file of the segment (EXTENSION), and so are
the positions of a positional field's term (a phrase's words are its most common terms,
whose positions cost most to decode from the blocks). Reading one is an `np.frombuffer`
on the segment's memory map and a running sum.

The file is one of the segment's files: Whoosh assembles it into the compound `.seg` file
with the others, so it lives and dies with its segment (merges, Whoosh's clean-up, the
links of an incremental update), and deleted documents are left out when it is read, as
from the blocks. A term is found by where its posting list starts in the segment's
postings file, and used only if its number of postings and first and last ids are those
of the term's own info. A segment without the file (an index built by an earlier
version, or by Whoosh's own writer) is read from its blocks: the same ids and weights.

Layout: each recorded term's ids, weights, positions per posting and positions (each part
padded to 4 bytes), then one TABLE row per recorded term in the order of their postings
offsets, then the TRAILER (where the table starts, how many rows, the format's magic). Ids
are stored as their gaps (uint16) after the first id (in the row) when every gap fits,
else whole (uint32); weights not at all when all are 1.0, as uint8 when all are integers
below 256 (most of ours: term frequencies), else as the float32 the blocks hold: read
back, each is the same float64 as from the blocks. Positions (within a section, not
deltas) and their counts in the smallest unsigned type that holds them, the counts left out
when they are the weights (a field without a boost: all of ours); a term whose
values are not Whoosh `Positions` in the form `decode_positions` reads has none stored
(its positions come from the blocks).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

import numpy as np
from whoosh.fields import Schema
from whoosh.formats import Positions

from search.whoosh_internals import (
    INLINE_POSTINGS_BELOW,
    create_segment_file,
    last_term_postings_offset,
    segment_file_buffer,
    term_postings_offset,
)

EXTENSION = ".kbarrays"
# Shorter lists fit one or two blocks: reading those is cheap, and leaving them out keeps
# the file's table small (about 4,500 terms of 63,000 in a 47,000-section segment hold 98 %
# of its postings).
MIN_POSTINGS = 64
MAGIC = b"KBA1"

TABLE = np.dtype(
    [
        ("postings", "<i8"),  # where the term's posting list starts in the postings file
        ("data", "<i8"),  # where its arrays start in this file
        ("count", "<u4"),
        ("first", "<u4"),  # its first id
        ("last", "<u4"),  # its last id
        ("ids", "u1"),  # IDS_GAPS or IDS_WHOLE
        ("weights", "u1"),  # WEIGHTS_ONE, WEIGHTS_BYTE or WEIGHTS_FLOAT
        ("counts", "u1"),  # bytes of each posting's count of positions; 0: its weight
        ("positions", "u1"),  # bytes of each position; 0: no positions stored
    ]
)
TRAILER = np.dtype([("table", "<i8"), ("rows", "<u4"), ("magic", "S4")])
IDS_GAPS, IDS_WHOLE = 16, 32
WEIGHTS_ONE, WEIGHTS_BYTE, WEIGHTS_FLOAT = 0, 8, 32
_GAP_LIMIT = 1 << 16
_UNSIGNED = {1: "<u1", 2: "<u2", 4: "<u4"}

# (ids, weights, positions): ids (int64) and weights (float64) of every posting, deleted
# documents' too; positions as (count per posting, every position in posting order), or None.
StoredPostings = tuple[np.ndarray, np.ndarray, "tuple[np.ndarray, np.ndarray] | None"]

# One term's entry as `search.segment_writer.write_terms` gets it: field name, term bytes,
# ids (array "I"), weights (array "f"), encoded values, and every posting's positions one
# after the other (array "I"; None, or short of some postings', when not all were kept).
TermEntry = tuple[str, bytes, Any, Any, list[bytes], Any]


def recorded_terms(
    fieldwriter: Any, schema: Schema, terms: Iterable[TermEntry]
) -> Iterator[TermEntry]:
    """`terms`, passed through to the segment's field writer, each written by the caller
    before it asks for the next (as `write_terms` does); the large posting lists among
    them are recorded, and the segment's arrays file written once the last has gone by."""
    out = create_segment_file(fieldwriter, EXTENSION)
    rows: list[tuple[int, ...]] = []
    written = 0
    try:
        for entry in terms:
            yield entry
            name, _, ids, weights, values, flat = entry
            # A list kept in its term's info has no postings of its own to point at.
            if len(ids) < MIN_POSTINGS or len(ids) < INLINE_POSTINGS_BELOW:
                continue
            # The caller has written this term: its postings offset is the writer's last.
            offset = last_term_postings_offset(fieldwriter)
            ids_code, ids_bytes = _encode_ids(ids)
            weights_code, weights_bytes = _encode_weights(weights)
            counts_size, positions_size, positions_bytes = _encode_positions(
                schema[name].format, values, weights, flat
            )
            rows.append((offset, written, len(ids), ids[0], ids[-1], ids_code, weights_code,
                         counts_size, positions_size))  # fmt: skip
            for part in (ids_bytes, weights_bytes, positions_bytes):
                out.write(part)
                written += len(part)
        table = np.array(rows, dtype=TABLE)
        out.write(table.tobytes())
        out.write(np.array([(written, len(rows), MAGIC)], dtype=TRAILER).tobytes())
    finally:
        out.close()


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _encode_ids(ids: Any) -> tuple[int, bytes]:
    whole = np.asarray(ids, dtype=np.uint32)  # no copy of an array "I"
    gaps = np.diff(whole)
    if len(gaps) and int(gaps.max()) < _GAP_LIMIT:
        return IDS_GAPS, _padded(gaps.astype("<u2").tobytes())
    return IDS_WHOLE, whole.astype("<u4").tobytes()


def _encode_weights(weights: Any) -> tuple[int, bytes]:
    values = np.asarray(weights, dtype=np.float32)  # as a block holds them (array "f")
    if (values == 1.0).all():
        return WEIGHTS_ONE, b""
    if values.min() >= 0 and values.max() < 256:
        small = values.astype(np.uint8)
        if (small == values).all():
            return WEIGHTS_BYTE, _padded(small.tobytes())
    return WEIGHTS_FLOAT, values.astype("<f4").tobytes()


def _encode_positions(
    field_format: Any, values: list[bytes], weights: Any, flat: Any = None
) -> tuple[int, int, bytes]:
    """(bytes a count takes, bytes a position takes, counts then positions) of a term's
    encoded values; (0, 0, b"") when it has none to store. A posting's count of positions
    is its weight in a field without a boost (all of ours): then the counts are not stored
    again (0 bytes a count). `flat`: the postings' positions as the writer kept them, used
    when they are all there (see `kept_positions`), else the values are decoded."""
    if len(values) != len(weights):  # not one value a posting (a field without positions)
        return 0, 0, b""
    decoded = kept_positions(field_format, weights, flat)
    if decoded is None:
        decoded = decode_positions(field_format, values)
    if decoded is None:
        return 0, 0, b""
    counts, deltas_summed = decoded
    positions_size = _unsigned_size(int(deltas_summed.max()) if len(deltas_summed) else 0)
    positions_bytes = _padded(deltas_summed.astype(_UNSIGNED[positions_size]).tobytes())
    if np.array_equal(counts, np.asarray(weights, dtype=np.float32)):
        return 0, positions_size, positions_bytes
    counts_size = _unsigned_size(int(counts.max()))
    counts_bytes = _padded(counts.astype(_UNSIGNED[counts_size]).tobytes())
    return counts_size, positions_size, counts_bytes + positions_bytes


def kept_positions(
    field_format: Any, weights: Any, flat: Any
) -> tuple[np.ndarray, np.ndarray] | None:
    """What `decode_positions` gives, from the positions the writer kept (`flat`), when
    they are every posting's: in a field without a boost a posting's weight is its count of
    positions, so the counts must be whole and add up to the positions kept (a posting that
    came without them, or with a document boost, leaves them short or the weights not
    counts). None otherwise."""
    if flat is None or type(field_format) is not Positions or field_format.field_boost != 1:
        return None
    counts_f = np.asarray(weights, dtype=np.float32)
    counts = counts_f.astype(np.int64)
    if not np.array_equal(counts, counts_f) or int(counts.sum()) != len(flat):
        return None
    return counts, np.asarray(flat, dtype=np.int64)


def _unsigned_size(largest: int) -> int:
    return 1 if largest < 1 << 8 else 2 if largest < 1 << 16 else 4


class SegmentPostingArrays:
    """The arrays file of one open segment: the ids and weights of its large posting lists."""

    def __init__(self, buffer: memoryview) -> None:
        if len(buffer) < TRAILER.itemsize:
            raise ValueError("arrays file too short")
        trailer = np.frombuffer(buffer, dtype=TRAILER, offset=len(buffer) - TRAILER.itemsize)[0]
        if trailer["magic"] != MAGIC:
            raise ValueError("not an arrays file of this format")
        rows = int(trailer["rows"])
        self._buffer = buffer
        self._table = np.frombuffer(buffer, dtype=TABLE, count=rows, offset=int(trailer["table"]))
        self._offsets = self._table["postings"].copy()

    @classmethod
    def of_segment(cls, reader: Any) -> SegmentPostingArrays | None:
        """The arrays of a segment's reader; None when its segment has none (or none of
        this format: its blocks are read instead)."""
        buffer = segment_file_buffer(reader, EXTENSION)
        if buffer is None:
            return None
        try:
            return cls(buffer)
        except ValueError:
            return None

    def __call__(self, terminfo: Any) -> StoredPostings | None:
        """The term's ids, weights and positions (see StoredPostings), all postings
        including deleted documents', as its blocks hold them; None when the file does not
        have the term."""
        offset = term_postings_offset(terminfo)
        at = int(np.searchsorted(self._offsets, offset))
        if at == len(self._offsets) or self._offsets[at] != offset:
            return None
        row = self._table[at]
        count, first, last = int(row["count"]), int(row["first"]), int(row["last"])
        if (count, first, last) != (terminfo.doc_frequency(), terminfo.min_id(), terminfo.max_id()):
            return None  # not this term's: read the blocks
        start = int(row["data"])
        if row["ids"] == IDS_GAPS:
            gaps, start = self._part("<u2", count - 1, start)
            ids = np.empty(count, dtype=np.int64)
            ids[0] = first
            np.cumsum(gaps, dtype=np.int64, out=ids[1:])
            ids[1:] += first
        else:
            whole, start = self._part("<u4", count, start)
            ids = whole.astype(np.int64)
        kind = row["weights"]
        if kind == WEIGHTS_ONE:
            weights = np.ones(count, dtype=np.float64)
        else:
            stored, start = self._part("u1" if kind == WEIGHTS_BYTE else "<f4", count, start)
            weights = stored.astype(np.float64)
        positions = None
        if row["positions"]:
            if row["counts"]:
                counts, start = self._part(_UNSIGNED[int(row["counts"])], count, start)
                counts = counts.astype(np.int64)
            else:  # each posting's weight
                counts = weights.astype(np.int64)
            # Kept in their stored type (a view of the memory map would outlive it: copied).
            flat, _ = self._part(_UNSIGNED[int(row["positions"])], int(counts.sum()), start)
            positions = (counts, flat.copy())
        return ids, weights, positions

    def _part(self, dtype: str, count: int, start: int) -> tuple[np.ndarray, int]:
        """`count` values of `dtype` at `start`, and where the next part starts."""
        part = np.frombuffer(self._buffer, dtype=dtype, count=count, offset=start)
        return part, start + part.nbytes + (-part.nbytes % 4)


# A Positions value is a 4-byte count (big-endian) then pickle protocol 2 of the position
# deltas: PROTO 2, EMPTY_LIST, BINPUT 0, the ints (after a MARK when more than one), then
# APPEND(S) and STOP. An int below 256 is 'K' and one byte, so a value whose deltas are all
# below 256 holds its deltas at every other byte: those are read with numpy, straight
# from the values joined together. The others (a delta of 256 or more: 'M', 'J') are
# decoded in one `pickle.loads` of a list holding all their lists, framed by MARK ... LIST,
# instead of one call a section (106,000 calls were two thirds of the first searches'
# time on 10,000 sections).
_PICKLE_PROTO_2 = b"\x80\x02"
_VALUE_HEADER = np.frombuffer(b"\x80\x02]q\x00", dtype=np.uint8)
_BININT1 = ord("K")
_BIG_ENDIAN_UINT32 = np.dtype(">u4")


def _places_within(counts: np.ndarray) -> np.ndarray:
    """For groups of `counts` items laid end to end, each item's place in its group."""
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(counts) - counts, counts
    )


def decode_positions(
    field_format: Any, values: list[bytes]
) -> tuple[np.ndarray, np.ndarray] | None:
    """(positions per posting, all positions in order) of Whoosh `Positions` values, or
    None when the values are not in the form this relies on (the caller decodes one by one)."""
    if type(field_format) is not Positions or not values:
        return None
    sizes = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    if sizes.min() < 13:  # count, header, one int, APPEND, STOP
        return None
    joined = b"".join(values)
    buf = np.frombuffer(joined, dtype=np.uint8)
    ends = np.cumsum(sizes)
    starts = ends - sizes
    header = buf[starts[:, None] + np.arange(4, 9)]
    if not (header == _VALUE_HEADER).all() or not (buf[ends - 1] == ord(".")).all():
        return None
    counts = buf[starts[:, None] + np.arange(4)].copy().view(_BIG_ENDIAN_UINT32).ravel()
    counts = counts.astype(np.int64)
    ints_at = starts + 9 + (counts > 1)  # after the MARK of a list of several
    simple = (ends - 2 - ints_at) == 2 * counts
    total = int(counts.sum())
    deltas = np.empty(total, dtype=np.int64)
    out_at = np.cumsum(counts) - counts
    picked = np.flatnonzero(simple)
    if len(picked):
        n = counts[picked]
        within = _places_within(n)
        source = np.repeat(ints_at[picked], n) + 2 * within
        if not (buf[source] == _BININT1).all():
            return None
        deltas[np.repeat(out_at[picked], n) + within] = buf[source + 1]
    others = np.flatnonzero(~simple)
    if len(others):
        rest = [joined[a + 6 : b - 1] for a, b in zip(starts[others].tolist(), ends[others].tolist(), strict=True)]  # fmt: skip
        try:
            lists = pickle.loads(_PICKLE_PROTO_2 + b"(" + b"".join(rest) + b"l.")
        except Exception:
            return None
        n = counts[others]
        if len(lists) != len(others) or any(len(one) != k for one, k in zip(lists, n.tolist(), strict=True)):  # fmt: skip
            return None
        within = _places_within(n)
        deltas[np.repeat(out_at[others], n) + within] = np.fromiter(
            chain.from_iterable(lists), dtype=np.int64, count=int(n.sum())
        )
    # Positions are stored as deltas within each posting: a running sum restarted per posting.
    running = np.cumsum(deltas)
    nonempty = counts > 0
    before = np.zeros(len(counts), dtype=np.int64)
    before[nonempty] = running[out_at[nonempty]] - deltas[out_at[nonempty]]
    return counts, running - np.repeat(before, counts)
