"""Each segment's large posting lists also stored as plain arrays, for the first searches.

A search reads a term's whole posting list once per open index (`search.engine` caches it).
From the W3 codec's blocks that is, for every 128 postings, a zlib decompression and an
unpickling of ids and weights as Python objects: a common word of a 100,000-section index
has about 50,000 postings in 400 blocks, and the first searches after opening the index
read dozens of such lists, several milliseconds each. So when a segment is written, the
ids and weights of each of its terms with at least MIN_POSTINGS postings are written
again, as little-endian arrays, into one more file of the segment (EXTENSION). Reading one
is an `np.frombuffer` on the segment's memory map and a running sum.

The file is one of the segment's files: Whoosh assembles it into the compound `.seg` file
with the others, so it lives and dies with its segment (merges, Whoosh's clean-up, the
links of an incremental update), and deleted documents are left out when it is read, as
from the blocks. A term is found by where its posting list starts in the segment's
postings file, and used only if its number of postings and first and last ids are those
of the term's own info. A segment without the file (an index built by an earlier
version, or by Whoosh's own writer) is read from its blocks: the same ids and weights.

Layout: each recorded term's ids then weights (each part padded to 4 bytes), then one
TABLE row per recorded term in the order of their postings offsets, then the TRAILER
(where the table starts, how many rows, the format's magic). Ids are stored as their
gaps (uint16) after the first id (in the row) when every gap fits, else whole (uint32);
weights not at all when all are 1.0, as uint8 when all are integers below 256 (most of
ours: term frequencies), else as the float32 the blocks hold: read back, each is the
same float64 as from the blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from search.whoosh_internals import (
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
        ("pad", "<u2"),
    ]
)
TRAILER = np.dtype([("table", "<i8"), ("rows", "<u4"), ("magic", "S4")])
IDS_GAPS, IDS_WHOLE = 16, 32
WEIGHTS_ONE, WEIGHTS_BYTE, WEIGHTS_FLOAT = 0, 8, 32
_GAP_LIMIT = 1 << 16

# One term's entry as `search.segment_writer.write_terms` gets it: field name, term bytes,
# ids (array "I"), weights (array "f"), encoded values.
TermEntry = tuple[str, bytes, Any, Any, list[bytes]]


def recorded_terms(fieldwriter: Any, terms: Iterable[TermEntry]) -> Iterator[TermEntry]:
    """`terms`, passed through to the segment's field writer, each written by the caller
    before it asks for the next (as `write_terms` does); the large posting lists among
    them are recorded, and the segment's arrays file written once the last has gone by."""
    out = create_segment_file(fieldwriter, EXTENSION)
    rows: list[tuple[int, int, int, int, int, int, int, int]] = []
    written = 0
    try:
        for entry in terms:
            yield entry
            ids, weights = entry[2], entry[3]
            if len(ids) < MIN_POSTINGS:
                continue
            # The caller has written this term: its postings offset is the writer's last.
            offset = last_term_postings_offset(fieldwriter)
            ids_code, ids_bytes = _encode_ids(ids)
            weights_code, weights_bytes = _encode_weights(weights)
            rows.append((offset, written, len(ids), ids[0], ids[-1], ids_code, weights_code, 0))
            for part in (ids_bytes, weights_bytes):
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
    whole = np.frombuffer(ids, dtype="=u4")  # native order, as array "I" holds them
    gaps = np.diff(whole)
    if len(gaps) and int(gaps.max()) < _GAP_LIMIT:
        return IDS_GAPS, _padded(gaps.astype("<u2").tobytes())
    return IDS_WHOLE, whole.astype("<u4").tobytes()


def _encode_weights(weights: Any) -> tuple[int, bytes]:
    values = np.frombuffer(weights, dtype="=f4")
    if (values == 1.0).all():
        return WEIGHTS_ONE, b""
    small = values.astype(np.uint8)
    if (small == values).all():
        return WEIGHTS_BYTE, _padded(small.tobytes())
    return WEIGHTS_FLOAT, values.astype("<f4").tobytes()


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

    def __call__(self, terminfo: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """The term's ids (int64) and weights (float64), all postings including deleted
        documents', as its blocks hold them; None when the file does not have the term."""
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
            gaps = np.frombuffer(self._buffer, dtype="<u2", count=count - 1, offset=start)
            ids = np.empty(count, dtype=np.int64)
            ids[0] = first
            np.cumsum(gaps, dtype=np.int64, out=ids[1:])
            ids[1:] += first
            start += 2 * (count - 1) + (-2 * (count - 1) % 4)
        else:
            ids = np.frombuffer(self._buffer, dtype="<u4", count=count, offset=start)
            ids = ids.astype(np.int64)
            start += 4 * count
        kind = row["weights"]
        if kind == WEIGHTS_ONE:
            weights = np.ones(count, dtype=np.float64)
        elif kind == WEIGHTS_BYTE:
            weights = np.frombuffer(self._buffer, dtype=np.uint8, count=count, offset=start)
            weights = weights.astype(np.float64)
        else:
            weights = np.frombuffer(self._buffer, dtype="<f4", count=count, offset=start)
            weights = weights.astype(np.float64)
        return ids, weights
