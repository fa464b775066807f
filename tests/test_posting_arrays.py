"""Long posting lists stored as arrays beside the blocks (search.posting_arrays): a search
reads from them exactly what the blocks hold, in every state an index goes through
(a new build, an index built before them, deletions, an incremental update, a merge)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as windex
from whoosh.fields import NUMERIC, TEXT, Schema

from bench.queries import QUERIES
from kb.home import paths as home_paths
from kb.store import Store
from search import posting_arrays, segment_writer
from search.analysis import english_analyzer
from search.compile import Compiler
from search.engine import CACHE_MB, IndexArrays
from search.indexer import build_index, update_index
from search.posting_arrays import SegmentPostingArrays, decode_positions
from search.query import search
from search.schema import INDEX_NAME
from search.segment_writer import FastSegmentWriter
from search.syntax import parse
from search.whoosh_internals import INLINE_POSTINGS_BELOW, read_term_postings

pytestmark = pytest.mark.usefixtures("closing_searchers")

_FILTERS = ("doctype", "lang", "year", "tag")
_QUERIES = [(q.text, {k: v for k, v in q.filters.items() if k in _FILTERS}) for q in QUERIES]
_QUERIES += [("victims", {"sort": "date"}), ('"victims of trafficking"', {})]


# The bundled corpus is small: few of its terms reach MIN_POSTINGS. Its index is rebuilt
# with every list of at least this many postings stored, so that nearly all are checked
# (shorter ones are kept in their term's info, search.whoosh_internals).
_STORED_FROM = INLINE_POSTINGS_BELOW


def _rebuilt_copy(
    corpus_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, min_postings: int
) -> Path:
    """A copy of the bundled corpus's home, its index rebuilt storing the arrays of every
    list of at least `min_postings` postings."""
    copy = tmp_path / "home"
    shutil.copytree(corpus_home, copy, symlinks=True)
    monkeypatch.setattr(posting_arrays, "MIN_POSTINGS", min_postings)
    with Store(home_paths(copy).store) as store:
        build_index(home_paths(copy), store)
    return copy


@pytest.fixture
def home(corpus_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bundled corpus's home, its index rebuilt storing nearly every list."""
    return _rebuilt_copy(corpus_home, tmp_path, monkeypatch, _STORED_FROM)


def _index_dir(home: Path) -> str:
    return os.path.realpath(home_paths(home).index_link)


def _results(home: Path) -> list[dict]:
    out = []
    for text, options in _QUERIES:
        results = search(text, home=home, limit=20, **options).as_dict()
        results.pop("seconds")
        out.append(results)
    return out


def _assert_arrays_read_as_blocks(index_dir: str) -> int:
    """Every long posting list of every segment read from the arrays equals its blocks:
    ids, weights and positions. Returns how many were read from arrays."""
    from_arrays = 0
    with windex.open_dir(index_dir, indexname=INDEX_NAME).reader() as reader:
        for segment, _ in reader.leaf_readers():
            stored = SegmentPostingArrays.of_segment(segment)
            assert stored is not None
            for fieldname, term in segment.all_terms():
                field = segment.schema[fieldname]
                if isinstance(field, NUMERIC):
                    continue  # tiered number terms, not read back from their text
                if segment.doc_frequency(fieldname, term) < posting_arrays.MIN_POSTINGS:
                    continue
                text = field.from_bytes(term)
                blocks = read_term_postings(segment, fieldname, text)
                arrays = read_term_postings(segment, fieldname, text, stored)
                assert blocks is not None and arrays is not None
                assert np.array_equal(arrays.ids, blocks.ids), (fieldname, term)
                assert np.array_equal(arrays.weights, blocks.weights), (fieldname, term)
                if blocks.values is not None:
                    assert arrays.values is not None and arrays.values.positions is not None
                    stored_counts, stored_positions = arrays.values.positions_of(None)
                    if not len(blocks.ids):  # every posting's document deleted
                        assert not len(stored_counts) and not len(stored_positions)
                        continue
                    counts, positions = decode_positions(field.format, blocks.values.all())
                    assert np.array_equal(stored_counts, counts), (fieldname, term)
                    assert np.array_equal(stored_positions, positions), (fieldname, term)
                from_arrays += 1
    return from_arrays


def _assert_searches_agree(index_dir: str) -> None:
    """Each benchmark query matches and scores the same sections read from the arrays as
    read from the blocks alone."""
    with windex.open_dir(index_dir, indexname=INDEX_NAME).searcher() as searcher:
        # Caches of their own (a cache size of its own): nothing another reader put there.
        with_arrays = IndexArrays(searcher, cache_mb=CACHE_MB + 1)
        from_blocks = IndexArrays(searcher, cache_mb=CACHE_MB + 2)
        assert all(stored is not None for stored in with_arrays.stored)
        from_blocks.stored = [None] * len(from_blocks.stored)
        compiler = Compiler(searcher, None)
        matched = 0
        for text, _ in _QUERIES:
            query = compiler.compile(parse(text)).query
            a, b = with_arrays.evaluate(query), from_blocks.evaluate(query)
            assert np.array_equal(a.mask, b.mask), text
            assert np.array_equal(a.scores, b.scores), text
            matched += a.count > 0
        assert matched >= 20


def test_a_new_index_stores_its_long_posting_lists_as_its_blocks_hold_them(home: Path) -> None:
    index_dir = _index_dir(home)
    # 2,369 lists of 4 postings or more in the bundled corpus's index (those of 2 and 3 are
    # kept in their term's info).
    assert _assert_arrays_read_as_blocks(index_dir) >= 2000
    _assert_searches_agree(index_dir)


def test_a_boosted_field_stores_its_counts_of_positions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Our fields have no boost, so a posting's count of positions is its weight and is not
    # stored twice; with a boost the weights differ from the counts, which are stored.
    monkeypatch.setattr(posting_arrays, "MIN_POSTINGS", _STORED_FROM)
    schema = Schema(text=TEXT(phrase=True, field_boost=2.0), plain=TEXT(phrase=True))
    ix = windex.create_in(str(tmp_path), schema, indexname=INDEX_NAME)
    writer = FastSegmentWriter(ix)
    for n in range(300):
        words = " ".join(["alpha beta"] * (1 + n % 3) + [f"w{n % 7}", "gamma"] * (n % 2))
        writer.add_document(text=words, plain=words)
    writer.commit()
    assert _assert_arrays_read_as_blocks(str(tmp_path)) >= 10
    with ix.reader() as reader:
        segment, _ = reader.leaf_readers()[0]
        stored = SegmentPostingArrays.of_segment(segment)
        boosted = read_term_postings(segment, "text", "alpha", stored)
        plain = read_term_postings(segment, "plain", "alpha", stored)
    assert boosted is not None and plain is not None
    for postings, boost in ((boosted, 2.0), (plain, 1.0)):
        assert postings.values is not None and postings.values.positions is not None
        counts, _ = postings.values.positions_of(None)
        assert np.array_equal(postings.weights, counts * boost)
        assert set(counts.tolist()) == {1, 2, 3}


def test_an_index_built_without_arrays_gives_the_same_results(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An index built before the arrays existed: the writer without its recording step.
    older = tmp_path / "older"
    shutil.copytree(home, older, symlinks=True)
    with monkeypatch.context() as patched:
        patched.setattr(segment_writer, "recorded_terms", lambda _writer, _schema, terms: terms)
        with Store(home_paths(older).store) as store:
            build_index(home_paths(older), store)
    with windex.open_dir(_index_dir(older), indexname=INDEX_NAME).reader() as reader:
        assert all(SegmentPostingArrays.of_segment(r) is None for r, _ in reader.leaf_readers())
    assert _results(older) == _results(home)


def test_after_an_incremental_update_and_a_merge_results_stay_right(home: Path) -> None:
    paths = home_paths(home)
    before = search("trafficking", home=home, limit=20)
    removed = before.hits[0].doc_id
    changed = next(hit.doc_id for hit in before.hits if hit.doc_id != removed)
    with Store(paths.store) as store:
        update_index(paths, store, [changed], [removed])
    index_dir = _index_dir(home)
    with windex.open_dir(index_dir, indexname=INDEX_NAME).reader() as reader:
        assert len(reader.leaf_readers()) == 2 and reader.has_deletions()
    _assert_arrays_read_as_blocks(index_dir)
    _assert_searches_agree(index_dir)
    after = search("trafficking", home=home, limit=500)
    assert removed not in {hit.doc_id for hit in after.hits}
    assert changed in {hit.doc_id for hit in after.hits}

    # Merged into one segment (deleted documents dropped): its arrays are written anew.
    ix = windex.open_dir(index_dir, indexname=INDEX_NAME)
    FastSegmentWriter(ix).commit(optimize=True)
    with ix.reader() as reader:
        assert len(reader.leaf_readers()) == 1 and not reader.has_deletions()
    ix.close()
    _assert_arrays_read_as_blocks(index_dir)
    _assert_searches_agree(index_dir)


def test_lists_kept_in_their_term_info_get_no_arrays(
    corpus_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list short enough to be inlined has no postings of its own: recording arrays for it
    would point them at the next term's postings."""
    copy = _rebuilt_copy(corpus_home, tmp_path, monkeypatch, 1)
    with windex.open_dir(_index_dir(copy), indexname=INDEX_NAME).reader() as reader:
        for segment, _ in reader.leaf_readers():
            stored = SegmentPostingArrays.of_segment(segment)
            assert stored is not None
            counts = stored._table["count"]
            assert len(counts) and counts.min() >= INLINE_POSTINGS_BELOW
            offsets = stored._table["postings"]
            assert len(np.unique(offsets)) == len(offsets), "two lists at one offset"


def test_positions_kept_by_the_writer_are_stored_and_document_boosts_fall_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer keeps each planned posting's positions with its term, and the arrays file
    takes them from there, decoding nothing; a document with a boost (Whoosh's own path)
    leaves its terms' kept positions short, and those are decoded from the values."""
    monkeypatch.setattr(posting_arrays, "MIN_POSTINGS", _STORED_FROM)
    decoded: list[int] = []
    real_decode = posting_arrays.decode_positions

    def counting_decode(field_format, values):  # type: ignore[no-untyped-def]
        decoded.append(len(values))
        return real_decode(field_format, values)

    monkeypatch.setattr(posting_arrays, "decode_positions", counting_decode)
    schema = Schema(text=TEXT(analyzer=english_analyzer(), phrase=True))  # a planned analysis
    writes: dict[str, list[int]] = {}
    for name, boosted in (("plain", False), ("boosted", True)):
        folder = tmp_path / name
        folder.mkdir()
        ix = windex.create_in(str(folder), schema, indexname=INDEX_NAME)
        writer = FastSegmentWriter(ix)
        for n in range(300):
            words = " ".join(["alpha beta"] * (1 + n % 3) + [f"w{n % 7}", "gamma"] * (n % 2))
            writer.add_document(text=words, **({"_boost": 2.0} if boosted and n == 150 else {}))
        decoded.clear()
        writer.commit()
        writes[name] = list(decoded)
        # Either way the arrays hold what the blocks hold.
        assert _assert_arrays_read_as_blocks(str(folder)) >= 3
    assert writes["plain"] == [], "a plain build decodes no values"
    assert writes["boosted"], "the boosted document's terms are decoded"
