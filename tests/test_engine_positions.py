"""Phrase positions decoded a whole posting list at a time agree with Whoosh's own decoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from whoosh.formats import Characters, Positions

from kb.home import paths as home_paths
from search.engine import _POSITION_STRIDE, index_arrays
from search.posting_arrays import MIN_POSTINGS, decode_positions
from search.query import searchers


def _whooshs_keys(searcher, fieldname: str, term: bytes) -> np.ndarray:
    """Every (section, position) of a term as Whoosh's own matchers give them."""
    keys: list[int] = []
    for sub, offset in searcher.leaf_searchers():
        if (fieldname, term) not in sub.reader():
            continue
        matcher = sub.reader().postings(fieldname, term)
        while matcher.is_active():
            section = offset + matcher.id()
            keys.extend(section * _POSITION_STRIDE + p for p in matcher.value_as("positions"))
            matcher.next()
    return np.asarray(keys, dtype=np.int64)


def test_phrase_keys_of_real_postings_are_whooshs_positions(corpus_home: Path) -> None:
    searcher = searchers.get(home_paths(corpus_home))
    arrays = index_arrays(searcher)
    reader = searcher.reader()
    checked = stored = 0
    for fieldname in ("body_en", "body_ru", "exact"):
        field_format = searcher.schema[fieldname].format
        assert type(field_format) is Positions
        # The field's most common terms: long posting lists with many positions each.
        common = sorted(reader.iter_field(fieldname), key=lambda t: -t[1].doc_frequency())[:15]
        for term, _ in common:
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            postings = arrays.postings(fieldname, text)
            assert postings is not None and postings.values
            # A long list's positions were stored as arrays when the index was built.
            if reader.doc_frequency(fieldname, term) >= MIN_POSTINGS:
                assert all(part.positions is not None for part in postings.values)
                stored += 1
            postings.keys = None  # decode afresh
            keys = arrays.phrase_keys(fieldname, text)
            assert np.array_equal(keys, _whooshs_keys(searcher, fieldname, term))
            checked += 1
    assert checked == 45
    assert stored >= 10, stored


def test_values_in_another_form_are_left_to_whoosh() -> None:
    # Another format, or a value not written by pickle protocol 2, is not batch-decoded.
    assert decode_positions(Characters(), [Characters().encode([(1, 0, 4)])]) is None
    assert decode_positions(Positions(), [b"\x00\x00\x00\x01garbage."]) is None
    counts, positions = decode_positions(Positions(), [Positions().encode([3, 9, 40])])
    assert counts.tolist() == [3] and positions.tolist() == [3, 9, 40]


def test_small_and_large_gaps_decode_alike() -> None:
    # Gaps under 256 are read byte by byte, larger ones through pickle: mixed in one list.
    lists = [[7], [0, 255], [300, 301, 70_000], [5, 6, 7, 8], [256], [1, 2, 100_000]]
    values = [Positions().encode(one) for one in lists]
    counts, positions = decode_positions(Positions(), values)
    assert counts.tolist() == [len(one) for one in lists]
    assert positions.tolist() == [p for one in lists for p in one]
