"""A faster Whoosh segment writer that writes the same segment as Whoosh's own.

Profiled on the benchmark's corpus, a third of a full build's index stage went to
Whoosh's bookkeeping around each posting rather than to analysis:
- spilled runs written and read back one pickle call per posting;
- the field length of every posting read back from the lengths file, one seek at a time;
- a method call with type assertions for every posting added to the pool.

`FastSegmentWriter` keeps Whoosh's design (an in-memory pool of sorted postings
spilled to disk past a memory limit, merged into the W3 codec's files) and its
output, and only does that bookkeeping in bulk:
- runs are marshalled in chunks;
- lengths are read once per field;
- a document's postings go to the pool together.

tests/test_segment_writer.py checks that both writers produce identical segments.
The private steps of Whoosh's writer that this takes part in are reached through
`search.whoosh_internals` (whoosh-reloaded 2.7.5's; the version is pinned, see README).
"""

from __future__ import annotations

import marshal
import struct
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from whoosh.fields import Schema

from search.whoosh_internals import (
    LENGTH_OF_CODE,
    PluggableSegmentWriter,
    Posting,
    RunFilePostingPool,
    length_codes,
)

# Postings marshalled per call when a run is spilled: large enough that the per-call
# cost vanishes, small enough that reading runs back holds little at a time.
RUN_CHUNK = 8192
# Whoosh's estimate of a pooled posting's memory (a tuple of five, its strings and
# numbers) without the lengths of its field name, term and value: see PostingPool.add.
_POSTING_OVERHEAD = 28 + 4 * 5 + 21 + 26 + 18 + 16 + 21
_CHUNK_SIZE = struct.Struct("<I")


class CompactPostingPool(RunFilePostingPool):
    """Whoosh's posting pool with runs written and read in marshalled chunks."""

    def add_postings(self, postings: list[Posting], size: int, fieldnames: Iterable[str]) -> None:
        """Add one document's postings (`size`: their estimated memory, as `add` counts it)."""
        self.fieldnames.update(fieldnames)
        self.current.extend(postings)
        self.currentsize += size
        if self.currentsize > self.limit:
            self.save()

    # Each chunk is its size then its marshalled bytes: `marshal.load` on a file reads
    # each object with calls of its own, 20 times slower than `loads` on one read.
    def write_run(self, f: Any, items: Iterable[Posting]) -> None:
        it = iter(items)
        while chunk := list(islice(it, RUN_CHUNK)):
            data = marshal.dumps(chunk)
            f.write(_CHUNK_SIZE.pack(len(data)))
            f.write(data)

    def read_run(self, f: Any) -> Iterator[Posting]:
        while header := f.read(_CHUNK_SIZE.size):
            (size,) = _CHUNK_SIZE.unpack(header)
            yield from marshal.loads(f.read(size))


class FastSegmentWriter(PluggableSegmentWriter):
    """`SegmentWriter` with a `CompactPostingPool` and postings written in bulk.

    Documents with boosts (`_boost`, `_<field>_boost`) or custom stored values, and
    schemas with term vectors or separate spelling fields, take Whoosh's own path.
    """

    def __init__(self, ix: Any, limitmb: int = 128, **kwargs: Any) -> None:
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self.pool = CompactPostingPool(self.temp_storage(), self.newsegment, limitmb=limitmb)
        self._plain_schema = not any(
            field.vector or field.separate_spelling() for _, field in self.schema.items()
        )

    def add_document(self, **fields: Any) -> None:
        if not self._plain_schema or any(name.startswith("_") for name in fields):
            super().add_document(**fields)
            return
        self.check_open()
        schema, perdoc, docnum = self.schema, self.perdocwriter, self.docnum
        names = sorted(fields)
        self.check_field_names(schema, names)
        postings: list[Posting] = []
        size = 0
        indexed: list[str] = []
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = schema[name]
                length = 0
                if field.indexed:
                    before = len(postings)
                    scorable = field.scorable
                    base = _POSTING_OVERHEAD + len(name)
                    for tbytes, freq, weight, vbytes in field.index(value):
                        if scorable:
                            length += freq
                        # Whoosh multiplies by the field boost, 1.0 here: weights are floats.
                        postings.append((name, tbytes, docnum, weight * 1.0, vbytes))
                        size += base + 2 * len(tbytes) + (len(vbytes) if vbytes else 0)
                    if len(postings) > before:
                        indexed.append(name)
                perdoc.add_field(name, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdoc.add_column_value(name, column, field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self.pool.add_postings(postings, size, indexed)
        self.mark_added()
        self.docnum += 1

    def write_pooled_postings(self) -> None:
        self.perdocwriter.close()
        lengths = self.per_document_reader() if self.codec.length_stats else None
        try:
            write_postings(self.fieldwriter, self.schema, lengths, self.pool.iter_postings())
        finally:
            self.fieldwriter.close()
            if lengths is not None:
                lengths.close()


def _field_lengths(perdoc: Any, fieldname: str) -> list[int] | None:
    """Every document's (quantised) length in `fieldname`, as `doc_field_length` gives it."""
    if perdoc is None:
        return None
    stored = length_codes(perdoc, fieldname)
    if stored is None:
        return None
    lengths = [LENGTH_OF_CODE[b] for b in stored]
    lengths.extend([0] * (perdoc.doc_count_all() + 1 - len(lengths)))
    return lengths


def write_postings(
    fieldwriter: Any, schema: Schema, perdoc: Any, postings: Iterable[Posting]
) -> None:
    """Whoosh's `FieldWriter.add_postings` for sorted postings, with lengths read in bulk."""
    field_name: str | None = None
    term: bytes | None = None
    lengths: list[int] | None = None
    add = fieldwriter.add
    for name, tbytes, docnum, weight, vbytes in postings:
        if name != field_name:
            if term is not None:
                fieldwriter.finish_term()
            if field_name is not None:
                fieldwriter.finish_field()
            fieldwriter.start_field(name, schema[name])
            field_name, term = name, None
            lengths = _field_lengths(perdoc, name)
        if docnum == -1:  # Whoosh's marker for a spelling word, never pooled here
            continue
        if tbytes != term:
            if term is not None:
                fieldwriter.finish_term()
            fieldwriter.start_term(tbytes)
            term = tbytes
        add(docnum, weight, vbytes or b"", lengths[docnum] if lengths is not None else 0)
    if term is not None:
        fieldwriter.finish_term()
    if field_name is not None:
        fieldwriter.finish_field()
