"""A text field's postings as Whoosh's analyzer chain makes them, one dictionary look-up a word.

Whoosh analyses text by passing one `Token` through every filter for every word: for our
fields (a tokenizer and five filters) that was half of an index build, although a word
always comes out of the filters the same way. `TermPlan` runs the chain once for each
distinct word it meets and remembers the result, and the writer (search.segment_writer)
takes a field's postings from it instead of from `FieldType.index`.

Only chains whose every step depends on the word alone are planned: a `RegexTokenizer`
followed by filters of the classes in `PER_WORD_FILTERS`. Any other field keeps Whoosh's
own path. tests/test_segment_writer.py checks that both give the same segment.
"""

from __future__ import annotations

import struct
from collections import Counter
from operator import sub
from pickle import dumps
from typing import Any

from whoosh.analysis import (
    CompositeAnalyzer,
    IDTokenizer,
    LowercaseFilter,
    RegexTokenizer,
    StopFilter,
    StripFilter,
    Token,
)
from whoosh.formats import Existence, Frequency, Positions
from whoosh.system import pack_uint

from search.analysis import (
    FoldFilter,
    SnowballFilter,
    SpacelessTokenizer,
    SpellingFilter,
    SuperscriptFilter,
    YoFilter,
)

# Filters that change or drop a token by its text alone, never by its neighbours
# (`StripFilter`: the comma-separated lists of the tags and refs fields).
PER_WORD_FILTERS = (
    LowercaseFilter,
    StripFilter,
    StopFilter,
    FoldFilter,
    YoFilter,
    SuperscriptFilter,
    SpellingFilter,
    SnowballFilter,
)
# Distinct words remembered per plan before it starts again (a plan lives for one writer):
# words follow Zipf, so the cache stays useful while a corpus full of numbers and ids
# cannot grow it past some 30 MB a field.
WORD_CACHE_LIMIT = 200_000
_UNSEEN = object()
_NO_PLACES: list[int] = []  # the places of a term in a field that records none


class TermPlan:
    """The analysis of one field, planned: its words, each word's term, the term's positions."""

    def __init__(self, tokenizer: RegexTokenizer, filters: list[Any], fmt: Any) -> None:
        self.words = tokenizer.expression.findall
        self.filters = filters
        self.positional = isinstance(fmt, Positions)
        # Only whether a term occurs: no positions, counts or values (`places` gives each
        # term an empty list).
        self.existence = isinstance(fmt, Existence)
        # The terms of each whitespace-separated piece of text, when only the distinct terms
        # matter and no word holds a space (`SpacelessTokenizer`): see `_distinct_terms`.
        self.pieces: dict[str, tuple[bytes, ...]] | None = (
            {} if self.existence and isinstance(tokenizer, SpacelessTokenizer) else None
        )
        self.boost = fmt.field_boost
        self.stops = [f for f in filters if isinstance(f, StopFilter)]
        # With `renumber`, Whoosh numbers the kept words on from the first one's place.
        self.renumber = all(f.renumber for f in self.stops)
        self.terms: dict[str, Any] = {}  # word -> term bytes, or None for a stop word
        self.single: dict[int, bytes] = {}  # encoded positions of a term met once, by place
        # The last text analysed and its places: a document's title is indexed with each
        # of its sections, and consecutive sections often share their heading.
        self._last: tuple[str, dict[bytes, list[int]]] = ("", {})

    def term_of(self, word: str) -> bytes | None:
        """The term `word` is indexed as (None: a stop word), by Whoosh's own filters."""
        token = Token(positions=False, chars=False, removestops=True, mode="index")
        token.text, token.boost, token.stopped = word, 1.0, False
        tokens: Any = iter([token])
        for f in self.filters:
            tokens = f(tokens)
        kept = [t.text for t in tokens if not t.stopped]
        return kept[0].encode("utf-8") if kept else None

    def places(self, text: str) -> dict[bytes, list[int]]:
        """Each term of `text` and its positions, as Whoosh's analysis numbers them
        (the caller does not change them)."""
        last_text, last_places = self._last
        if text is last_text or text == last_text:
            return last_places
        places = self._analyse(text)
        self._last = (text, places)
        return places

    def _analyse(self, text: str) -> dict[bytes, list[int]]:
        terms = self.terms
        if len(terms) > WORD_CACHE_LIMIT:
            terms.clear()
        if self.pieces is not None:
            return dict.fromkeys(self._distinct_terms(text), _NO_PLACES)
        words = self.words(text)
        if not self.stops:
            return self._grouped(words)
        # Every word's term first (the filters run once per word new to the plan), then
        # one pass over the kept terms: most of a field's time is per word.
        for word in set(words).difference(terms):
            terms[word] = self.term_of(word)
        mapped = list(map(terms.__getitem__, words))
        places: dict[bytes, list[int]] = {}
        if self.renumber:  # the kept words are numbered on from the first one's place
            kept = [term for term in mapped if term is not None]
            if not kept:
                return places
            numbered: Any = enumerate(kept, mapped.index(kept[0]))
        else:
            numbered = ((raw, term) for raw, term in enumerate(mapped) if term is not None)
        for pos, term in numbered:
            found = places.get(term)
            if found is None:
                places[term] = [pos]
            else:
                found.append(pos)
        return places

    def _distinct_terms(self, text: str) -> set[bytes]:
        """The distinct terms of `text`, found piece by distinct piece: splitting on
        whitespace and looking pieces up is cheap, and the pattern reads only pieces not
        met before (a document repeats its pieces, and documents each other's). Half the
        time of reading every text with the pattern on the bench's corpus (a small
        vocabulary), the same on the real documents of ../shared/realdocs."""
        pieces = self.pieces
        assert pieces is not None
        if len(pieces) > WORD_CACHE_LIMIT:
            pieces.clear()
        distinct = set(text.split())
        for piece in distinct.difference(pieces):
            pieces[piece] = tuple({self._term(word) for word in self.words(piece)} - {None})
        return set().union(*map(pieces.__getitem__, distinct))

    def _term(self, word: str) -> bytes | None:
        """`term_of(word)`, remembered."""
        term = self.terms.get(word, _UNSEEN)
        if term is _UNSEEN:
            term = self.terms[word] = self.term_of(word)
        return term  # type: ignore[return-value]

    def _grouped(self, words: list[str]) -> dict[bytes, list[int]]:
        """`places` when no word is dropped: each word's places are its positions, and the
        words are grouped first, so the filters' cache is asked once per distinct word."""
        by_word: dict[str, list[int]] = {}
        if self.positional:
            for raw, word in enumerate(words):
                by_word.setdefault(word, []).append(raw)
        elif self.existence:
            by_word = dict.fromkeys(words, _NO_PLACES)
        else:  # only the count matters: a list of that many (unused) places
            by_word = {word: [0] * n for word, n in Counter(words).items()}
        places: dict[bytes, list[int]] = {}
        terms = self.terms
        for word, where in by_word.items():
            term = terms.get(word, _UNSEEN)
            if term is _UNSEEN:
                term = terms[word] = self.term_of(word)
            found = places.get(term)
            if found is None:
                places[term] = where
            elif self.existence:
                continue
            elif self.positional:  # two spellings of one term ("Law", "law")
                places[term] = sorted(found + where)
            else:
                found.extend(where)
        return places

    def value(self, positions: list[int]) -> bytes:
        """The posting value of a term at `positions`, as the field's format encodes it."""
        if not self.positional:
            return pack_uint(len(positions))
        if len(positions) == 1:
            value = self.single.get(positions[0])
            if value is None:
                value = self.single[positions[0]] = encode_positions(positions)
            return value
        return encode_positions(positions)


# Two and three positions are most of the terms met more than once in a section (425,000 of
# 513,000 at the bench's 1,000 documents): when every gap is below 256 their value is packed
# whole, the bytes `dumps` writes (PROTO 2, EMPTY_LIST, BINPUT 0, MARK, a BININT1 per gap,
# APPENDS, STOP) after the count, in a sixth of the time.
_LIST_HEAD = b"\x80\x02]q\x00("
_TWO = struct.Struct(">I6scBcB2s")
_THREE = struct.Struct(">I6scBcBcB2s")


def encode_positions(positions: list[int]) -> bytes:
    """`Positions.encode`: the count, then the pickled gaps between positions."""
    count = len(positions)
    if count == 2:
        first, gap = positions[0], positions[1] - positions[0]
        if first < 256 and gap < 256:
            return _TWO.pack(2, _LIST_HEAD, b"K", first, b"K", gap, b"e.")
    elif count == 3:
        first, second, third = positions
        if first < 256 and second - first < 256 and third - second < 256:
            return _THREE.pack(3, _LIST_HEAD, b"K", first, b"K", second - first, b"K",
                               third - second, b"e.")  # fmt: skip
    gaps = [positions[0], *map(sub, positions[1:], positions)]
    return pack_uint(count) + dumps(gaps, 2)


def whole_value_field(field: Any) -> bool:
    """Whether `field` indexes its value whole, as one term (an `ID` field)."""
    return type(field.analyzer) is IDTokenizer and type(field.format) is Existence


def term_plan(field: Any) -> TermPlan | None:
    """A plan for `field`, or None when its analysis must go through Whoosh (see module doc)."""
    fmt = getattr(field, "format", None)
    analyzer = getattr(field, "analyzer", None)
    if type(fmt) not in (Positions, Frequency, Existence) or not isinstance(
        analyzer, CompositeAnalyzer
    ):
        return None
    tokenizer, *filters = analyzer.items
    if type(tokenizer) not in (RegexTokenizer, SpacelessTokenizer) or tokenizer.gaps:
        return None
    if tokenizer.expression.groups:  # findall would give groups, not the words
        return None
    if not all(type(f) in PER_WORD_FILTERS for f in filters):
        return None
    if sum(isinstance(f, StopFilter) for f in filters) > 1:
        return None
    return TermPlan(tokenizer, filters, fmt)
