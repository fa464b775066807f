"""A faster Whoosh segment writer that writes the same segment as Whoosh's own.

Profiled on the benchmark's corpus, Whoosh's writer spends its time per word and per
posting, not per document:
- every word goes through the analyzer chain as a `Token` (half the index stage);
- every posting is a tuple that is sorted, spilled to a run, read back, merged, and
  added to its posting block with type assertions, one call each.

`FastSegmentWriter` keeps Whoosh's design (postings gathered in memory, spilled to disk
past a memory limit, merged into the W3 codec's files) and its output, but:
- a text field's words are analysed once per distinct word (`search.field_terms`);
- postings are gathered by term as they come (documents arrive in number order, so each
  term's list is already sorted): nothing is sorted but the terms of a run;
- a run is the terms of a memory's worth of documents, each with its whole posting list,
  marshalled in chunks; runs merge by term;
- a term's postings go into the codec's blocks a block at a time.

tests/test_segment_writer.py checks that both writers produce identical segments.
The private steps of Whoosh's writer that this takes part in are reached through
`search.whoosh_internals` (whoosh-reloaded 2.7.5's; the version is pinned, see README).
"""

from __future__ import annotations

import heapq
import marshal
import struct
from array import array
from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import Any, NamedTuple

import numpy as np
from whoosh.fields import Schema

from search.field_terms import TermPlan, term_plan, whole_value_field
from search.posting_arrays import recorded_terms
from search.whoosh_internals import (
    LENGTH_OF_CODE,
    PluggableSegmentWriter,
    Posting,
    RunFilePostingPool,
    TermInfos,
    length_codes,
    write_term,
)

# Terms marshalled per call when a run is spilled: large enough that the per-call cost
# vanishes, small enough that reading runs back holds little at a time (the merge holds a
# chunk of every run: at 10,000 documents a writer peaked at 410 MB with 8,192 terms a
# chunk and 280 MB with 1,024, in the same time).
RUN_CHUNK = 1024
# A chunk also ends at this many postings: terms sort numbers and short words first, the
# most frequent ones, and 1,024 of them held some 250,000 postings a run (90 MB of the
# merge's 5 runs at 10,000 documents); 8,192 rather than 32,768: a writer of 10,000
# documents' half peaked at 139 MB against 146 MB, in the same time.
RUN_CHUNK_POSTINGS = 8_192
# Estimated memory of a gathered term (its tuple, two arrays, a list, the dict slot), of a
# posting in it (a document number and a weight in arrays, a list slot for its value) and
# of a value of its own (a bytes object, besides its length). A posting at one place shares
# its value with every other at that place (`TermPlan.single`): counted as one of its own,
# the estimate was 70 bytes a posting where the pool's objects took 40 (`sys.getsizeof`,
# 400 documents; the estimate is now 40.2), and each writer of the bench's 1,000 documents
# spilled a run it did not need.
_TERM_OVERHEAD = 64 + 2 * 80 + 56 + 100
_POSTING_OVERHEAD = 4 + 4 + 8
_VALUE_OVERHEAD = 33
_EXISTING_POSTING = 4 + 4  # a number and a weight, no value
_POSITION_SIZE = 4  # a position kept with its term's postings (TermPostings)
_CHUNK_SIZE = struct.Struct("<I")
# Values remembered per field by `FastSegmentWriter._indexed` (a field without a planned
# analysis, such as a number) before it starts again: values that repeat fit, and a field
# whose values are mostly new cannot grow it (the refs, before they were planned: 50,000 of
# them held 75 MB of a writer's postings at 10,000 documents).
INDEXED_VALUES_LIMIT = 4_096
# A posting block of at least this many documents takes their field lengths with numpy (a
# list comprehension a posting was a fortieth of a build); a shorter one, one by one.
VECTOR_LENGTHS_FROM = 48

# One term's postings: document numbers (ascending), weights, encoded values (none for
# formats that store no value), and, in a field with positions, every posting's positions
# one after the other as the planned analysis found them (None: not kept). The arrays file
# (search.posting_arrays) takes them from there instead of decoding the values again; a
# posting that came another way leaves them short, and they are then not used.
TermPostings = tuple[array, array, list[bytes], array | None]
# (term bytes, frequency, weight, encoded value): what `FieldType.index` yields.
FieldPosting = tuple[bytes, int, float, bytes]
# A term with its postings, as runs hold and merge them.
TermEntry = tuple[str, bytes, array, array, list[bytes], array | None]


class TermPostingPool(RunFilePostingPool):
    """Whoosh's posting pool, with postings gathered by field and term instead of one by one.

    Each way postings come in (`add_field_postings`, `add_planned` and its two variants)
    looks its term's entry up in its own loop: a call per posting to share that look-up
    would cost more than the look-up itself, on the two million postings of 1,000 documents.
    """

    def __init__(self, tempstore: Any, segment: Any, limitmb: float = 128) -> None:
        super().__init__(tempstore, segment, limitmb=limitmb)
        self.terms: dict[str, dict[bytes, TermPostings]] = {}

    def add_field_postings(self, name: str, docnum: int, postings: Iterable[FieldPosting]) -> None:
        """Add one document's postings in field `name` (at most one per term)."""
        terms = self._field_terms(name)
        size = 0
        for tbytes, _freq, weight, vbytes in postings:
            entry = terms.get(tbytes)
            if entry is None:
                entry = terms[tbytes] = (array("I"), array("f"), [], None)
                size += _TERM_OVERHEAD + len(tbytes)
            entry[0].append(docnum)
            entry[1].append(weight)
            if vbytes:
                entry[2].append(vbytes)
                size += _POSTING_OVERHEAD + _VALUE_OVERHEAD + len(vbytes)
            else:
                size += _EXISTING_POSTING
        self.currentsize += size

    def _field_terms(self, name: str) -> dict[bytes, TermPostings]:
        """The terms gathered so far in field `name` (a field new to the pool is noted)."""
        terms = self.terms.get(name)
        if terms is None:
            terms = self.terms[name] = {}
            self.fieldnames.add(name)
        return terms

    def add_planned(self, name: str, docnum: int, plan: TermPlan, text: str) -> int:
        """Add one document's postings in field `name` from its planned analysis of `text`;
        returns the field's length (its number of terms)."""
        terms = self._field_terms(name)
        if plan.existence:
            return self._add_existing(terms, docnum, plan, text)
        if not plan.positional:
            return self._add_counted(terms, docnum, plan, text)
        places = plan.places(text)
        length = sum(map(len, places.values()))  # the field's length: all its positions
        size = _POSTING_OVERHEAD * len(places) + _POSITION_SIZE * length
        boost, value_of, single = plan.boost, plan.value, plan.single
        for tbytes, positions in places.items():
            freq = len(positions)
            entry = terms.get(tbytes)
            if entry is None:
                entry = terms[tbytes] = (array("I"), array("f"), [], array("I"))
                size += _TERM_OVERHEAD + len(tbytes)
            ids, weights, values, flat = entry
            ids.append(docnum)
            weights.append(freq * boost)
            # Most terms occur once in a section: their value is looked up, not encoded.
            vbytes = single.get(positions[0]) if freq == 1 else None
            if vbytes is None:
                vbytes = value_of(positions)
                size += _VALUE_OVERHEAD + len(vbytes)
            values.append(vbytes)
            if flat is not None:
                flat.extend(positions)
        self.currentsize += size
        return length

    def _add_counted(
        self, terms: dict[bytes, TermPostings], docnum: int, plan: TermPlan, text: str
    ) -> int:
        """`add_planned` for a field that records how often a term occurs, not where."""
        size = length = 0
        boost, value_of = plan.boost, plan.value
        for tbytes, positions in plan.places(text).items():
            freq = len(positions)
            length += freq
            entry = terms.get(tbytes)
            if entry is None:
                entry = terms[tbytes] = (array("I"), array("f"), [], None)
                size += _TERM_OVERHEAD + len(tbytes)
            entry[0].append(docnum)
            entry[1].append(freq * boost)
            vbytes = value_of(positions)
            entry[2].append(vbytes)
            size += _POSTING_OVERHEAD + _VALUE_OVERHEAD + len(vbytes)
        self.currentsize += size
        return length

    def _add_existing(
        self, terms: dict[bytes, TermPostings], docnum: int, plan: TermPlan, text: str
    ) -> int:
        """`add_planned` for a field that records only which terms occur (Whoosh's
        `Existence`: each posting weighs the field's boost and has no value)."""
        size = 0
        boost = plan.boost
        places = plan.places(text)
        for tbytes in places:
            entry = terms.get(tbytes)
            if entry is None:
                entry = terms[tbytes] = (array("I"), array("f"), [], None)
                size += _TERM_OVERHEAD + len(tbytes)
            entry[0].append(docnum)
            entry[1].append(boost)
        self.currentsize += size + _EXISTING_POSTING * len(places)
        return len(places)

    def check_size(self) -> None:
        """Spill the gathered postings to a run if they are past the memory limit."""
        if self.currentsize > self.limit:
            self.save()

    def add(self, item: Posting) -> None:
        """One posting (Whoosh's merge of an older segment, and its path for boosts)."""
        name, tbytes, docnum, weight, vbytes = item
        if docnum == -1:  # Whoosh's marker for a spelling word: no such fields here
            return
        self.add_field_postings(name, docnum, ((tbytes, 1, weight, vbytes or b""),))
        self.check_size()

    def _sorted_terms(self) -> Iterator[TermEntry]:
        for name in sorted(self.terms):
            terms = self.terms[name]
            for tbytes in sorted(terms):
                yield name, tbytes, *terms[tbytes]

    def save(self) -> None:
        if not self.terms:
            return
        self.spill(self._sorted_terms())
        self.terms = {}
        self.currentsize = 0

    # Each chunk is its size then its marshalled bytes: `marshal.load` on a file reads
    # each object with calls of its own, 20 times slower than `loads` on one read.
    def write_run(self, f: Any, items: Iterable[Any]) -> None:
        chunk: list[Any] = []
        postings = 0
        for name, tbytes, ids, weights, values, flat in items:
            chunk.append((name, tbytes, ids.tobytes(), weights.tobytes(), values,
                          None if flat is None else flat.tobytes()))  # fmt: skip
            postings += len(ids)
            if len(chunk) >= RUN_CHUNK or postings >= RUN_CHUNK_POSTINGS:
                self._write_chunk(f, chunk)
                chunk, postings = [], 0
        if chunk:
            self._write_chunk(f, chunk)

    @staticmethod
    def _write_chunk(f: Any, chunk: list[Any]) -> None:
        data = marshal.dumps(chunk)
        f.write(_CHUNK_SIZE.pack(len(data)))
        f.write(data)

    def read_run(self, f: Any) -> Iterator[Any]:
        while header := f.read(_CHUNK_SIZE.size):
            (size,) = _CHUNK_SIZE.unpack(header)
            for name, tbytes, ids, weights, values, flat in marshal.loads(f.read(size)):
                yield (name, tbytes, array("I", ids), array("f", weights), values,
                       None if flat is None else array("I", flat))  # fmt: skip

    def iter_terms(self) -> Iterator[TermEntry]:
        """Every term with its whole posting list, by field then term."""
        if not self.runs:
            yield from self._sorted_terms()
            return
        # The postings still in memory go to a run of their own first: the merge then holds a
        # chunk of each run and not them as well.
        self.save()
        sources = self.read_runs()
        # Runs hold documents in number order and merge keeps their order for a term.
        merged = heapq.merge(*sources, key=lambda e: (e[0], e[1]))
        for (name, tbytes), group in groupby(merged, key=lambda e: (e[0], e[1])):
            first, *rest = group
            _, _, ids, weights, values, flat = first
            for _, _, more_ids, more_weights, more_values, more_flat in rest:
                ids.extend(more_ids)
                weights.extend(more_weights)
                values.extend(more_values)
                if flat is not None and more_flat is not None:
                    flat.extend(more_flat)
                else:
                    flat = None
            yield name, tbytes, ids, weights, values, flat
        self.runs = []

    def iter_postings(self) -> Iterator[Posting]:
        for name, tbytes, ids, weights, values, _ in self.iter_terms():
            for n, docnum in enumerate(ids):
                yield name, tbytes, docnum, weights[n], values[n] if values else None


class _FieldHandling(NamedTuple):
    field: Any
    plan: TermPlan | None  # its analysis planned (search.field_terms), or None
    whole: bool  # indexed as one term, its whole value (`whole_value_field`)
    indexed: bool
    stored: bool
    scorable: bool
    column: Any  # its column type, or None


class FastSegmentWriter(PluggableSegmentWriter):
    """`SegmentWriter` with a `TermPostingPool`, planned analysis and postings written by term.

    Documents with boosts (`_boost`, `_<field>_boost`) or custom stored values, and
    schemas with term vectors or separate spelling fields, take Whoosh's own path
    (into the same pool).
    """

    def __init__(self, ix: Any, limitmb: int = 128, **kwargs: Any) -> None:
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self.pool = TermPostingPool(self.temp_storage(), self.newsegment, limitmb=limitmb)
        self._plain_schema = not any(
            field.vector or field.separate_spelling() for _, field in self.schema.items()
        )
        self._plans: dict[str, TermPlan | None] = {
            name: term_plan(field) for name, field in self.schema.items() if field.indexed
        }
        self._whole: set[str] = {n for n, f in self.schema.items() if whole_value_field(f)}
        self._indexed_values: dict[str, dict[Any, tuple[list[FieldPosting], int]]] = {}
        # What `add_document` needs of each field, looked up once a field instead of
        # attribute by attribute for every field of every document.
        self._handling: dict[str, _FieldHandling] = {
            name: _FieldHandling(
                field,
                self._plans.get(name),
                name in self._whole,
                field.indexed,
                field.stored,
                field.scorable,
                field.column_type,
            )
            for name, field in self.schema.items()
        }

    def add_document(self, **fields: Any) -> None:
        if not self._plain_schema or any(name.startswith("_") for name in fields):
            super().add_document(**fields)
            return
        self.check_open()
        perdoc, docnum, pool, handling = self.perdocwriter, self.docnum, self.pool, self._handling
        names = sorted(fields)
        self.check_field_names(self.schema, names)
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field, plan, whole, indexed, stored, scorable, column = handling[name]
                length = 0
                if indexed:
                    if plan is not None and isinstance(value, str):
                        length = pool.add_planned(name, docnum, plan, value)
                    elif whole and isinstance(value, str):
                        boost = field.format.field_boost * 1.0
                        pool.add_field_postings(name, docnum, ((value.encode(), 1, boost, b""),))
                    else:
                        postings, length = self._indexed(name, field, value)
                        if postings:
                            pool.add_field_postings(name, docnum, postings)
                    if not scorable:
                        length = 0
                if stored or length:  # else Whoosh's `add_field` has nothing to do
                    perdoc.add_field(name, field, value if stored else None, length)
                if column:
                    perdoc.add_column_value(name, column, field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        pool.check_size()
        self.mark_added()
        self.docnum += 1

    def _indexed(self, name: str, field: Any, value: Any) -> tuple[list[FieldPosting], int]:
        """`field.index(value)` and the field length it gives, remembered by value (values
        repeat from section to section)."""
        cache = self._indexed_values.setdefault(name, {})
        key = (type(value), value) if isinstance(value, str | int) else None
        found = cache.get(key) if key is not None else None
        if found is None:
            # Whoosh multiplies by the field boost, 1.0 here: weights are floats.
            postings = [(t, f, w * 1.0, v) for t, f, w, v in field.index(value)]
            found = (postings, sum(f for _, f, _, _ in postings))
            if key is not None:
                if len(cache) >= INDEXED_VALUES_LIMIT:
                    cache.clear()
                cache[key] = found
        return found

    def write_pooled_postings(self) -> None:
        self.perdocwriter.close()
        lengths = self.per_document_reader() if self.codec.length_stats else None
        try:
            write_terms(self.fieldwriter, self.schema, lengths, self.pool.iter_terms())
        finally:
            self.fieldwriter.close()
            if lengths is not None:
                lengths.close()


class FieldLengths:
    """Every document's (quantised) length in one field, as `doc_field_length` gives it."""

    def __init__(self, lengths: list[int]) -> None:
        self.each = lengths
        self.array = np.array(lengths, dtype=np.uint32)

    def known_range(self, ids: array) -> tuple[int | None, int]:
        """The shortest and longest non-zero length of documents `ids` (None, 0: none)."""
        if len(ids) < VECTOR_LENGTHS_FROM:
            each = self.each
            known = [each[d] for d in ids if each[d]]
            return (min(known), max(known)) if known else (None, 0)
        found = self.array[np.frombuffer(ids, dtype=np.uint32)]
        found = found[found > 0]
        return (int(found.min()), int(found.max())) if len(found) else (None, 0)


def _field_lengths(perdoc: Any, fieldname: str) -> FieldLengths | None:
    """Every document's length in `fieldname` (None: not stored)."""
    if perdoc is None:
        return None
    stored = length_codes(perdoc, fieldname)
    if stored is None:
        return None
    lengths = [LENGTH_OF_CODE[b] for b in stored]
    lengths.extend([0] * (perdoc.doc_count_all() + 1 - len(lengths)))
    return FieldLengths(lengths)


def write_terms(fieldwriter: Any, schema: Schema, perdoc: Any, terms: Iterable[TermEntry]) -> None:
    """Whoosh's `FieldWriter.add_postings` for whole posting lists sorted by field and term."""
    field_name: str | None = None
    lengths: FieldLengths | None = None
    infos = TermInfos.of(fieldwriter)
    terms = recorded_terms(fieldwriter, schema, terms)  # large lists also as arrays
    for name, tbytes, ids, weights, values, _ in terms:
        if name != field_name:
            if field_name is not None:
                fieldwriter.finish_field()
            fieldwriter.start_field(name, schema[name])
            field_name = name
            lengths = _field_lengths(perdoc, name)
        write_term(fieldwriter, tbytes, ids, weights, values, lengths, infos)
    if field_name is not None:
        fieldwriter.finish_field()
    infos.flush()
