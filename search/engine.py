"""Query evaluation over whole posting lists with numpy, instead of one posting at a time.

Whoosh's matchers walk the postings of every term one document at a time through several
layers of Python calls. With our queries (each word looked for in a dozen fields, names
expanded into three languages) that cost about 10 µs a matching section: on 100,000
sections a common word matched half of them and one search took seconds. Here each term's
posting list is read once per open index, scored by the same BM25F as
`search.scoring.LanguageBM25F`, kept in a bounded cache of numpy arrays, and a query is
combined from those arrays. Matches and scores are the same as Whoosh's own
(tests/test_search_engine.py compares them on the bundled corpus).

Facet values, dates and the document of each section are loaded once per open index as
arrays, so counting facets over 50,000 matches is a `bincount`, not a Python loop.

Reading the postings relies on the block layout of Whoosh 2.7's W3 codec, read in
`search.whoosh_internals`, which is why whoosh-reloaded is pinned to one exact version.
A first search pays for reading each term's posting list once: a long list's ids, weights
and positions from the arrays its segment stores beside its blocks (`search.posting_arrays`);
a short list's (or an older segment's) ids and weights unpickled from the blocks without the
positions stored beside them, which are decoded only for a phrase, only in the sections that
hold all its words, with numpy.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.scoring import BM25FScorer
from whoosh.searching import Searcher

from search.dismax import BestOf
from search.posting_arrays import SegmentPostingArrays, decode_positions
from search.whoosh_internals import (
    LENGTH_OF_CODE,
    EncodedValues,
    length_codes,
    read_term_postings,
    searcher_index,
    segment_per_document_reader,
    term_text,
)

# Cached posting lists, in MB of numpy arrays (ids, scores, positions); the least recently
# used terms are dropped first. Common words of a 100,000-section index take about 0.5 MB.
CACHE_MB = float(os.environ.get("KB_POSTINGS_CACHE_MB", "256"))
# Positions are stored per section as small integers; a phrase test packs (section,
# position) into one integer so that whole posting lists are compared at once.
_POSITION_STRIDE = 1 << 24
_LENGTH_OF_BYTE = np.array(LENGTH_OF_CODE, dtype=np.float64)
# A phrase needing the positions of more than a quarter of a term's sections decodes them
# all and keeps them (the words of a vocabulary term recur in many phrases); fewer are
# decoded for the phrase alone, the first time (see IndexArrays._keys_in).
_SHARE_FOR_ALL_POSITIONS = 4


@dataclass
class Matches:
    """Which sections match (a boolean per section) and their scores (0 where not matched)."""

    mask: np.ndarray
    scores: np.ndarray

    @property
    def count(self) -> int:
        return int(np.count_nonzero(self.mask))

    def ids(self) -> np.ndarray:
        return np.flatnonzero(self.mask)


@dataclass
class _Postings:
    ids: np.ndarray  # global section numbers, ascending
    weights: np.ndarray  # term frequency
    values: list[EncodedValues] | None  # encoded positions, per segment (positional fields)
    scores: np.ndarray | None = None  # BM25F of each posting, unboosted
    keys: np.ndarray | None = None  # section * stride + position, for phrases
    partly_decoded: bool = False  # some positions were decoded for one phrase (see _keys_in)

    @property
    def nbytes(self) -> int:
        arrays = (self.ids, self.weights, self.scores, self.keys)
        values = sum(v.nbytes for v in self.values) if self.values else 0
        return values + sum(a.nbytes for a in arrays if a is not None)

    def positions(
        self, field_format: Any, wanted: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(count per posting, positions in order) of the postings `wanted` marks (None:
        all): stored as arrays (search.posting_arrays), or decoded from the encoded values."""
        assert self.values is not None
        parts = []
        start = 0
        for part in self.values:
            size = part.kept
            chosen = None if wanted is None else wanted[start : start + size]
            found = part.positions_of(chosen)
            parts.append(found if found is not None else _decode(field_format, part.select(chosen)))
            start += size
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([c for c, _ in parts]), np.concatenate([f for _, f in parts])


def _decode(field_format: Any, values: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(count per posting, positions in order) of encoded values: all at once when they
    are in the form `decode_positions` reads, else one by one by Whoosh."""
    decoded = decode_positions(field_format, values)
    if decoded is not None:
        return decoded
    decode = field_format.decode_positions
    counts = np.empty(len(values), dtype=np.int64)
    positions: list[int] = []
    for i, value in enumerate(values):
        one = decode(value)
        counts[i] = len(one)
        positions.extend(one)
    return counts, np.asarray(positions, dtype=np.int64)


# Facet arrays saved beside the index (search.facet_arrays): one-valued fields (one code a
# section) and many-valued ones (the sections of each value).
FACET_COLUMNS = ("doc_id", "doctype", "lang", "year")
FACET_MANY_VALUED = ("tags",)


def facet_file(index_dir: Path, generation: int) -> Path:
    """The saved facet arrays of one state of an index (a later commit has another generation)."""
    return Path(index_dir) / f"facets-{generation}.npz"


def load_facet_arrays(index_dir: Path, generation: int) -> dict[str, Any] | None:
    """{"columns": {field: (codes, labels)}, "many": {field: {term: section ids}}}, or
    None when the index has no file for this generation."""
    path = facet_file(index_dir, generation)
    if not path.exists():
        return None
    try:
        with np.load(path) as data:
            columns = {
                name: (data[f"codes:{name}"], data[f"labels:{name}"].tolist())
                for name in FACET_COLUMNS
            }
            many: dict[str, dict[str, np.ndarray]] = {}
            for name in FACET_MANY_VALUED:
                sizes = data[f"sizes:{name}"]
                parts = np.split(data[f"ids:{name}"], np.cumsum(sizes)[:-1]) if len(sizes) else []
                many[name] = dict(zip(data[f"terms:{name}"].tolist(), parts, strict=True))
    except Exception:
        return None
    return {"columns": columns, "many": many}


class _Shared:
    """The caches of one index folder, shared by the searchers of every thread (the web
    server has one searcher per thread; each would otherwise read and hold every posting
    list again). Arrays in it are never changed once made; the lock guards the books."""

    def __init__(self, cache_mb: float) -> None:
        self.lock = threading.RLock()
        self.postings: OrderedDict[tuple[str, str], _Postings] = OrderedDict()
        self.postings_bytes = 0
        self.limit = int(cache_mb * 1024 * 1024)
        self.lengths: dict[str, np.ndarray] = {}
        self.columns: dict[str, tuple[np.ndarray, list[str]]] = {}
        self.filters: OrderedDict[str, np.ndarray] = OrderedDict()
        self.phrases: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self.phrase_bytes = 0
        self.prefixes: OrderedDict[tuple[str, str], list[bytes]] = OrderedDict()
        self.memo: dict[str, Any] = {}
        self.index: tuple[str, int] | None = None  # folder and generation, when known


# Shared caches by index folder and generation; an index swap leaves the old entry to be
# pushed out by the next ones.
_SHARED: OrderedDict[tuple[str, int], _Shared] = OrderedDict()
_SHARED_LOCK = threading.Lock()
_SHARED_INDEXES = 2


def _shared_for(searcher: Searcher, cache_mb: float) -> _Shared:
    ix = searcher_index(searcher)
    folder = getattr(getattr(ix, "storage", None), "folder", None)
    if ix is None or folder is None or cache_mb != CACHE_MB:
        return _Shared(cache_mb)
    key = (os.path.realpath(folder), ix.latest_generation())
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = _Shared(cache_mb)
            shared.index = key
            while len(_SHARED) > _SHARED_INDEXES:
                _SHARED.popitem(last=False)  # the least recently used
        else:
            _SHARED.move_to_end(key)
        return shared


class IndexArrays:
    """Per-index arrays and caches that queries are evaluated over.

    One per open searcher (and so per thread, like the searcher), reading through that
    searcher; the caches are shared by all the searchers of one index folder.
    """

    def __init__(self, searcher: Searcher, *, cache_mb: float = CACHE_MB) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.weighting = searcher.weighting
        self.leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        # Each segment's large posting lists as arrays (search.posting_arrays), when it has them.
        self.stored = [SegmentPostingArrays.of_segment(reader) for reader, _ in self.leaves]
        self.size = searcher.doc_count_all()
        self.live = np.ones(self.size, dtype=bool)
        for reader, offset in self.leaves:
            if not reader.has_deletions():  # an empty index's reader has no set to read
                continue
            for docnum in reader.deleted_docs_set:
                self.live[offset + docnum] = False
        self._shared = _shared_for(searcher, cache_mb)
        self._cache = self._shared.postings
        self._lengths = self._shared.lengths
        self._columns = self._shared.columns
        self._filters = self._shared.filters
        self._phrases = self._shared.phrases
        self._prefixes = self._shared.prefixes
        self._lock = self._shared.lock
        self.memo = self._shared.memo  # other per-index values callers derive once

    # -- postings

    def postings(self, fieldname: str, text: str | bytes) -> _Postings | None:
        """The whole posting list of a term (None if the index lacks it), cached."""
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        key = (fieldname, text)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        postings = self._read(fieldname, text)
        if postings is not None:
            self._remember(key, postings)
        return postings

    def _read(self, fieldname: str, text: str) -> _Postings | None:
        all_ids: list[np.ndarray] = []
        all_weights: list[np.ndarray] = []
        all_values: list[EncodedValues] = []
        for (reader, offset), stored in zip(self.leaves, self.stored, strict=True):
            found = read_term_postings(reader, fieldname, text, stored)
            if found is None:
                continue
            all_ids.append(found.ids + offset)
            all_weights.append(found.weights)
            if found.values is not None:
                all_values.append(found.values)
        if not all_ids:
            return None
        positional = len(all_values) == len(all_ids)
        return _Postings(np.concatenate(all_ids), np.concatenate(all_weights),
                         all_values if positional else None)  # fmt: skip

    def _remember(self, key: tuple[str, str], postings: _Postings) -> None:
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = postings
            self._grow(postings.nbytes)

    def _grow(self, nbytes: int) -> None:
        shared = self._shared
        with self._lock:
            shared.postings_bytes += nbytes
            while shared.postings_bytes > shared.limit and len(self._cache) > 1:
                _, dropped = self._cache.popitem(last=False)
                shared.postings_bytes -= dropped.nbytes

    def term_scores(
        self, fieldname: str, text: str | bytes
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Sections holding the term and the term's BM25F score in each (Whoosh's formula,
        with the statistics of `LanguageBM25F`)."""
        postings = self.postings(fieldname, text)
        if postings is None:
            return None
        if postings.scores is None:
            scores = self._score(fieldname, text, postings)
            with self._lock:
                if postings.scores is None:
                    postings.scores = scores
                    self._grow(scores.nbytes)
        return postings.ids, postings.scores

    def _score(self, fieldname: str, text: str | bytes, postings: _Postings) -> np.ndarray:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        scorer = self.weighting.scorer(self.searcher, fieldname, text)
        if not isinstance(scorer, BM25FScorer):
            # Unscored fields (ids, filters): Whoosh scores a posting by its weight.
            return postings.weights.copy()
        lengths = self.field_lengths(fieldname)[postings.ids]
        tf = postings.weights
        k1, b = scorer.K1, scorer.B
        return scorer.idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / scorer.avgfl)))

    def field_lengths(self, fieldname: str) -> np.ndarray:
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            parts = []
            for reader, _ in self.leaves:
                count = reader.doc_count_all()
                perdoc = segment_per_document_reader(reader)
                raw = length_codes(perdoc, fieldname, count) or b""
                codes = np.zeros(count, dtype=np.uint8)
                codes[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
                parts.append(_LENGTH_OF_BYTE[codes])
            lengths = np.concatenate(parts) if parts else np.zeros(0)
            self._lengths[fieldname] = lengths
        return lengths

    def phrase_keys(self, fieldname: str, text: str | _Postings) -> np.ndarray | None:
        """Every (section, position) of a term, packed as section * stride + position."""
        postings = text if isinstance(text, _Postings) else self.postings(fieldname, text)
        if postings is None or postings.values is None:
            return None
        if postings.keys is None:
            keys = self._keys(fieldname, postings, None)
            with self._lock:
                if postings.keys is None:
                    postings.keys = keys
                    self._grow(keys.nbytes)
        return postings.keys

    def _keys(self, fieldname: str, postings: _Postings, wanted: np.ndarray | None) -> np.ndarray:
        """The packed positions of the postings `wanted` marks (None: all)."""
        field_format = self.searcher.schema[fieldname].format
        counts, flat_positions = postings.positions(field_format, wanted)
        ids = postings.ids if wanted is None else postings.ids[wanted]
        return np.repeat(ids, counts) * _POSITION_STRIDE + flat_positions.astype(np.int64)

    def _keys_in(self, fieldname: str, postings: _Postings, sections: np.ndarray) -> np.ndarray:
        """The packed positions of a term in the given sections (ascending) only: a phrase
        decodes the positions of the sections holding all its words, not of every section
        holding one. A term's positions are all decoded, and kept, when they are most of
        them (see _SHARE_FOR_ALL_POSITIONS) or when a second phrase needs the term: the
        words of a vocabulary term recur in many phrases."""
        few = len(sections) * _SHARE_FOR_ALL_POSITIONS < len(postings.ids)
        if postings.keys is None and few and not postings.partly_decoded:
            postings.partly_decoded = True
            return self._keys(fieldname, postings, self._member(postings.ids, sections))
        keys = self.phrase_keys(fieldname, postings)
        assert keys is not None  # a positional field's term
        return keys

    def _member(self, ids: np.ndarray, sections: np.ndarray) -> np.ndarray:
        """A boolean per section of `ids`: is it one of `sections`? (A mark per section of
        the index: a look-up each, not a search.)"""
        inside = np.zeros(self.size, dtype=bool)
        inside[sections] = True
        return inside[ids]

    def _in_all(self, id_lists: list[np.ndarray]) -> np.ndarray:
        """The sections (ascending) in every one of the lists of distinct sections: counted
        over the index's sections, several times faster than searching one list in another."""
        if len(id_lists) == 1:
            return id_lists[0]
        times = np.zeros(self.size, dtype=np.int16)
        for ids in id_lists:
            times[ids] += 1
        return np.flatnonzero(times == len(id_lists))

    def prefix_terms(self, fieldname: str, prefix: str) -> list[bytes]:
        """The index's terms of a field that start with `prefix` (cached)."""
        key = (fieldname, prefix)
        terms = self._prefixes.get(key)
        if terms is None:
            terms = [t for t in self.reader.expand_prefix(fieldname, prefix) if t]
            with self._lock:
                self._prefixes[key] = terms
                while len(self._prefixes) > 4096:
                    self._prefixes.popitem(last=False)
        return terms

    def phrase_sections(self, fieldname: str, words: list[str]) -> np.ndarray | None:
        """The sections where the words follow one another (cached: a vocabulary term's
        phrase recurs in every query that names its entity)."""
        key = (fieldname, "\x00".join(words))
        with self._lock:
            found = self._phrases.get(key)
            if found is not None:
                self._phrases.move_to_end(key)
                return found
        postings = [self.postings(fieldname, w) for w in words]
        if any(p is None or p.values is None for p in postings):
            return None
        # Positions are read only where the phrase can still be: in the sections holding
        # every word, then, word by word, in those where the phrase so far was found.
        held = self._in_all([p.ids for p in postings])  # type: ignore[union-attr]
        common = self._keys_in(fieldname, postings[0], held)  # type: ignore[arg-type]
        for shift, later in enumerate(postings[1:], start=1):
            if not len(common):
                break
            held = _distinct_ascending(common // _POSITION_STRIDE)
            later_keys = self._keys_in(fieldname, later, held)  # type: ignore[arg-type]
            common = _sorted_intersection(common, later_keys - shift)
        sections = _distinct_ascending(common // _POSITION_STRIDE)
        shared = self._shared
        with self._lock:
            if key not in self._phrases:
                self._phrases[key] = sections
                shared.phrase_bytes += sections.nbytes
            while shared.phrase_bytes > shared.limit // 8 and len(self._phrases) > 1:
                _, dropped = self._phrases.popitem(last=False)
                shared.phrase_bytes -= dropped.nbytes
        return sections

    # -- columns: one value per section

    def saved_facets(self) -> dict[str, Any] | None:
        """The facet arrays saved with the index (search.facet_arrays), None without."""
        if "saved_facets" not in self.memo:
            index = self._shared.index
            found = load_facet_arrays(Path(index[0]), index[1]) if index else None
            if found is not None and any(len(c) != self.size for c, _ in found["columns"].values()):
                found = None  # not of this index
            self.memo["saved_facets"] = found
        return self.memo["saved_facets"]

    def column(self, fieldname: str) -> tuple[np.ndarray, list[str]]:
        """Each section's value of a one-valued field as an index into a list of values
        (-1: none)."""
        found = self._columns.get(fieldname)
        saved = self.saved_facets() if found is None else None
        if saved is not None and fieldname in saved["columns"]:
            found = self._columns[fieldname] = saved["columns"][fieldname]
        if found is None and self.reader.has_column(fieldname):
            found = self._sortable_column(fieldname)
            self._columns[fieldname] = found
        if found is None:
            codes = np.full(self.size, -1, dtype=np.int32)
            labels: list[str] = []
            for term in self.reader.lexicon(fieldname):
                postings = self.postings(fieldname, term)
                if postings is None:
                    continue
                codes[postings.ids] = len(labels)
                labels.append(term_text(term))
            found = (codes, labels)
            self._columns[fieldname] = found
        return found

    def _sortable_column(self, fieldname: str) -> tuple[np.ndarray, list[str]]:
        # A field with a column (doc_id, date) has thousands of values: reading the column
        # is one pass, where reading each value's postings would be one read per value.
        index: dict[bytes, int] = {}
        codes: list[int] = []
        for reader, _ in self.leaves:
            column = reader.column_reader(fieldname, translate=False)
            codes.extend(index.setdefault(value, len(index)) for value in column)
        labels = [term_text(v) for v in index]
        empty = index.get(b"")
        array = np.asarray(codes, dtype=np.int32)
        if empty is not None:
            array[array == empty] = -1
        return array, labels

    def counts(self, fieldname: str, matches: Matches) -> dict[str, int]:
        """How many matching sections have each value of a one-valued field."""
        _, labels = self.column(fieldname)
        tally = self.tally(fieldname, matches)
        return {labels[i]: int(tally[i]) for i in np.flatnonzero(tally).tolist()}

    def tally(self, fieldname: str, matches: Matches) -> np.ndarray:
        """Matching sections per value of a one-valued field, by the value's code."""
        codes, labels = self.column(fieldname)
        picked = codes[matches.mask]
        return np.bincount(picked[picked >= 0], minlength=len(labels))

    def term_counts(self, fieldname: str, matches: Matches) -> dict[str, int]:
        """How many matching sections hold each term of a many-valued field (tags)."""
        out: dict[str, int] = {}
        saved = self.saved_facets()
        if saved is not None and fieldname in saved["many"]:
            for term, ids in saved["many"][fieldname].items():
                n = int(np.count_nonzero(matches.mask[ids]))
                if n:
                    out[term] = n
            return out
        for term in self.reader.lexicon(fieldname):
            postings = self.postings(fieldname, term)
            if postings is None:
                continue
            n = int(np.count_nonzero(matches.mask[postings.ids]))
            if n:
                out[term_text(term)] = n
        return out

    # -- evaluation

    def empty(self) -> Matches:
        return Matches(np.zeros(self.size, dtype=bool), np.zeros(self.size))

    def docs(self, query: wq.Query) -> np.ndarray:
        """The sections a filter query matches, as a boolean array (cached: filters repeat)."""
        key = repr(query)
        with self._lock:
            found = self._filters.get(key)
            if found is not None:
                self._filters.move_to_end(key)
                return found
        mask = self.evaluate(query).mask
        with self._lock:
            self._filters[key] = mask
            while len(self._filters) > 64:
                self._filters.popitem(last=False)
        return mask

    def evaluate(self, query: wq.Query) -> Matches:
        """The sections a query matches and their scores, as Whoosh would give them."""
        method = _EVALUATORS.get(type(query))
        if method is None:
            return self._by_matcher(query)
        return method(self, query)

    def _term(self, query: wq.Term) -> Matches:
        out = self.empty()
        found = self.term_scores(query.fieldname, query.text)
        if found is not None:
            ids, scores = found
            out.mask[ids] = True
            out.scores[ids] = scores * query.boost
        return out

    def _or(self, query: wq.Or) -> Matches:
        subs = [q for q in query.subqueries if q is not wq.NullQuery]
        if len(subs) == 1:
            return self.evaluate(subs[0])  # Whoosh ignores the boost of a one-child compound
        out = self.empty()
        for sub in subs:
            if type(sub) is wq.Term:
                found = self.term_scores(sub.fieldname, sub.text)
                if found is not None:
                    ids, scores = found
                    out.mask[ids] = True
                    out.scores[ids] += scores * sub.boost
                continue
            matched = self.evaluate(sub)
            out.mask |= matched.mask
            out.scores += matched.scores
        if query.boost != 1.0 and len(subs) > 1:
            out.scores *= query.boost
        return out

    def _and(self, query: wq.And) -> Matches:
        subs = list(query.subqueries)
        if not subs:
            return self.empty()
        if len(subs) == 1:
            return self.evaluate(subs[0])
        out: Matches | None = None
        for sub in subs:
            matched = self.evaluate(sub)
            if out is None:
                out = matched
            else:
                out.mask &= matched.mask
                out.scores += matched.scores
            if not out.mask.any():
                break
        assert out is not None
        out.scores[~out.mask] = 0.0
        if query.boost != 1.0:
            out.scores *= query.boost
        return out

    def _and_not(self, query: wq.AndNot) -> Matches:
        out = self.evaluate(query.a)
        out.mask &= ~self.evaluate(query.b).mask
        out.scores[~out.mask] = 0.0
        return out

    def _best_of(self, query: BestOf) -> Matches:
        subs = list(query.subqueries)
        if not subs:
            return self.empty()
        if len(subs) == 1:
            return self.evaluate(subs[0])
        if query.tiebreak:
            return self._by_matcher(query)
        out = self.empty()
        for sub in subs:
            matched = self.evaluate(sub)
            out.mask |= matched.mask
            np.maximum(out.scores, matched.scores, out=out.scores)
        if query.boost != 1.0:
            out.scores *= query.boost
        return out

    def _prefix(self, query: wq.Prefix) -> Matches:
        terms = self.prefix_terms(query.fieldname, query.text)
        if not terms:
            return self.empty()
        if len(terms) == 1:
            return self._term(wq.Term(query.fieldname, terms[0]))  # Whoosh drops the boost here
        if query.constantscore:
            return self._by_matcher(query)
        return self._or(wq.Or([wq.Term(query.fieldname, t) for t in terms], boost=query.boost))

    def _phrase(self, query: wq.Phrase) -> Matches:
        if query.slop != 1 or not query.words:
            return self._by_matcher(query)
        schema = self.searcher.schema
        field = schema[query.fieldname] if query.fieldname in schema.names() else None
        if field is None or not field.format or not field.format.supports("positions"):
            return self._by_matcher(query)  # Whoosh raises a clear error
        words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in query.words]
        sections = self.phrase_sections(query.fieldname, words)
        if sections is None:
            return self.empty()
        out = self.empty()
        out.mask[sections] = True
        for word in words:
            found = self.term_scores(query.fieldname, word)
            assert found is not None
            ids, scores = found
            keep = out.mask[ids]
            out.scores[ids[keep]] += scores[keep]
        if query.boost != 1.0:
            out.scores *= query.boost
        return out

    def _every(self, query: wq.Every) -> Matches:
        if query.fieldname not in (None, "", "*"):
            return self._by_matcher(query)
        return Matches(self.live.copy(), self.live * float(query.boost))

    def _null(self, query: Any) -> Matches:
        return self.empty()

    def _constant(self, query: wq.ConstantScoreQuery) -> Matches:
        out = self.evaluate(query.child)
        out.scores = out.mask * float(query.score)
        return out

    def _by_matcher(self, query: wq.Query) -> Matches:
        """Anything else, through Whoosh's own matchers."""
        out = self.empty()
        context = self.searcher.context(weighting=self.weighting)
        for sub, offset in self.searcher.leaf_searchers():
            matcher = query.matcher(sub, context)
            while matcher.is_active():
                docnum = offset + matcher.id()
                out.mask[docnum] = True
                out.scores[docnum] = matcher.score()
                matcher.next()
        out.mask &= self.live
        return out


def index_arrays(searcher: Searcher) -> IndexArrays:
    """The query-evaluation arrays of an open searcher (made on first use, kept with it)."""
    arrays = getattr(searcher, "_kb_arrays", None)
    if arrays is None:
        arrays = IndexArrays(searcher)
        searcher._kb_arrays = arrays  # type: ignore[attr-defined]
    return arrays


_EVALUATORS: dict[type, Any] = {
    wq.Term: IndexArrays._term,
    wq.Or: IndexArrays._or,
    wq.And: IndexArrays._and,
    wq.AndNot: IndexArrays._and_not,
    BestOf: IndexArrays._best_of,
    wq.Prefix: IndexArrays._prefix,
    wq.Phrase: IndexArrays._phrase,
    wq.Every: IndexArrays._every,
    type(wq.NullQuery): IndexArrays._null,
    wq.ConstantScoreQuery: IndexArrays._constant,
}


def top(
    matches: Matches, limit: int, order_key: np.ndarray | None = None
) -> list[tuple[int, float]]:
    """The best `limit` matches, highest score first (equal scores: lower section number
    first, as Whoosh orders them); with `order_key`, ordered by it (ascending) then score."""
    ids = matches.ids()
    if not len(ids):
        return []
    scores = matches.scores[ids]
    if order_key is not None:
        order = np.lexsort((ids, -scores, order_key[ids]))[:limit]
    elif len(ids) > limit:
        cut = np.argpartition(-scores, limit - 1)[:limit]
        # Among sections tied with the last kept score, the lowest numbers must win.
        threshold = scores[cut].min()
        candidates = np.flatnonzero(scores >= threshold)
        order = candidates[np.lexsort((ids[candidates], -scores[candidates]))][:limit]
    else:
        order = np.lexsort((ids, -scores))
    return [(int(ids[i]), float(scores[i])) for i in order]


__all__ = ["CACHE_MB", "IndexArrays", "Matches", "index_arrays", "top"]


def _distinct_ascending(values: np.ndarray) -> np.ndarray:
    """np.unique of an ascending array, without its import of numpy.ma (40 ms of a cold `kb search`)."""
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _sorted_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values in both of two ascending arrays without repeats (no sorting needed)."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return a
    at = np.searchsorted(b, a)
    at[at == len(b)] = 0
    return a[b[at] == a]
