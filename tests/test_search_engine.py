"""search.engine gives exactly what Whoosh's own matchers give: the same sections, the same
scores, the same facet counts — on every judged query of the bundled corpus, on an index
of several segments with deleted sections, and with a cache too small to keep anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import index as windex
from whoosh import query as wq
from whoosh import sorting

from kb.home import paths as home_paths
from search.compile import Compiler, filter_term
from search.engine import IndexArrays, Matches, index_arrays, top
from search.query import searchers
from search.schema import build_schema
from search.scoring import LanguageBM25F
from search.syntax import parse
from search.vocabulary import load_vocabulary_for
from tests.relevance.evaluate import load_judgments

EXTRA_QUERIES = [
    '"forced labour"',
    '"торговли людьми"',
    "trafficking -labour",
    "hotline OR shelter",
    "adam söwdasy",
    "traff*",
    "129-1",
    "Article 5",
    "title:manual victims",
    "heading:indicators",
    "type:legislation victims",
    "-type:legislation victims",
]


def _whoosh(searcher, query: wq.Query) -> dict[int, float]:
    results = searcher.search(query, limit=None)
    return {docnum: score for score, docnum in results.top_n}


def _ours(matches: Matches) -> dict[int, float]:
    return {int(d): float(matches.scores[d]) for d in matches.ids()}


def _assert_same(ours: dict[int, float], theirs: dict[int, float], label: str) -> None:
    assert set(ours) == set(theirs), f"{label}: sections differ"
    for docnum, score in theirs.items():
        assert ours[docnum] == pytest.approx(score, rel=1e-9, abs=1e-12), (
            f"{label}: section {docnum}"
        )


@pytest.fixture(scope="module")
def opened(corpus_home: Path):
    searcher, folder = searchers.get_with_folder(home_paths(corpus_home))
    return searcher, load_vocabulary_for(folder)


@pytest.mark.parametrize("relaxed", [False, True])
def test_every_judged_query_matches_and_scores_as_whoosh(opened, relaxed: bool) -> None:
    searcher, vocabulary = opened
    arrays = index_arrays(searcher)
    texts = [j.q for j in load_judgments()] + EXTRA_QUERIES
    compared = 0
    for text in texts:
        compiled = Compiler(searcher, vocabulary, relaxed=relaxed).compile(parse(text))
        _assert_same(
            _ours(arrays.evaluate(compiled.query)), _whoosh(searcher, compiled.query), text
        )
        compared += 1
    assert compared >= 80


def test_facet_counts_and_filters_match_whoosh(opened) -> None:
    searcher, vocabulary = opened
    arrays = index_arrays(searcher)
    compiled = Compiler(searcher, vocabulary).compile(parse("victims"))
    only_en = filter_term("lang", "en")
    facets = sorting.Facets()
    for name in ("doctype", "lang", "year"):
        facets.add_field(name)
    facets.add_field("tags", allow_overlap=True)
    results = searcher.search(compiled.query, limit=None, filter=only_en, groupedby=facets,
                              maptype=sorting.Count)  # fmt: skip
    matches = arrays.evaluate(compiled.query)
    matches.mask &= arrays.docs(only_en)
    assert matches.count == len(results.top_n) > 10
    for name in ("doctype", "lang", "year"):
        expected = {k: v for k, v in results.groups(name).items() if k}
        ours = {k: v for k, v in arrays.counts(name, matches).items() if k}
        assert ours == expected, name
    expected_tags = {k: v for k, v in results.groups("tags").items() if k}
    assert arrays.term_counts("tags", matches) == expected_tags


def test_top_orders_by_score_then_section_number() -> None:
    mask = [False, True, True, True, True]
    import numpy as np

    matches = Matches(np.array(mask), np.array([0.0, 1.0, 3.0, 1.0, 2.0]))
    assert top(matches, 10) == [(2, 3.0), (4, 2.0), (1, 1.0), (3, 1.0)]
    assert top(matches, 3) == [(2, 3.0), (4, 2.0), (1, 1.0)]
    # Ties at the cut: the lower section number is kept.
    assert top(matches, 1) == [(2, 3.0)]
    dates = np.array([0, 2, 1, 0, 0])
    assert [d for d, _ in top(matches, 4, dates)] == [4, 3, 2, 1]


def _segmented_index(folder: Path) -> windex.Index:
    """An index of three segments, two sections deleted, built with our schema."""
    ix = windex.create_in(str(folder), build_schema(), indexname="sections")
    texts = [
        "victims of trafficking in persons receive shelter",
        "the hotline answers victims day and night",
        "forced labour and debt bondage are forms of trafficking",
        "labour migrants learn about safe migration",
        "shelter staff identify victims of forced labour",
        "trafficking in persons is a crime under article 129-1",
    ]
    for batch in (texts[:3], texts[3:5], texts[5:]):
        writer = ix.writer()
        for text in batch:
            n = texts.index(text)
            writer.add_document(key=f"d{n}#s", doc_id=f"d{n}", section_id="s", body_en=text,
                                exact=text, lang="en", body_lang="en", doctype="report")  # fmt: skip
        writer.commit(merge=False)
    writer = ix.writer()
    writer.delete_by_term("key", "d1#s")
    writer.delete_by_term("key", "d4#s")
    writer.commit(merge=False)
    return ix


@pytest.mark.parametrize("cache_mb", [256.0, 0.0])
def test_segments_deletions_and_a_tiny_cache(tmp_path: Path, cache_mb: float) -> None:
    ix = _segmented_index(tmp_path)
    with ix.searcher(weighting=LanguageBM25F()) as searcher:
        assert len(searcher.leaf_searchers()) >= 2
        arrays = IndexArrays(searcher, cache_mb=cache_mb)
        queries = [
            wq.Term("body_en", "victim"),
            wq.Or([wq.Term("body_en", "labour"), wq.Term("exact", "trafficking", boost=0.5)]),
            wq.And([wq.Term("body_en", "traffick"), wq.Term("body_en", "person")]),
            wq.Phrase("body_en", ["forc", "labour"]),
            wq.AndNot(wq.Term("body_en", "labour"), wq.Term("body_en", "forc")),
            wq.Prefix("exact", "traff", constantscore=False, boost=2.0),
            wq.Term("exact", "129-1"),
            wq.Every(),
        ]
        for query in queries * 2:  # the second time from the cache (or not, when it is tiny)
            _assert_same(_ours(arrays.evaluate(query)), _whoosh(searcher, query), repr(query))
        deleted = arrays.evaluate(wq.Term("body_en", "hotlin"))
        assert deleted.count == 0


def test_searchers_of_different_threads_share_one_cache(corpus_home: Path) -> None:
    import threading

    from search.query import search

    search("trafficking", home=corpus_home)
    mine = index_arrays(searchers.get(home_paths(corpus_home)))
    seen: list[IndexArrays] = []

    def other_thread() -> None:
        search("trafficking", home=corpus_home)
        seen.append(index_arrays(searchers.get(home_paths(corpus_home))))

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen and seen[0] is not mine  # a searcher of its own (Whoosh readers are not shared)
    assert seen[0].searcher is not mine.searcher
    assert seen[0]._shared is mine._shared  # but the postings it read are


def test_warm_loads_what_every_search_needs(corpus_home: Path) -> None:
    from search.query import warm

    seconds = warm(corpus_home)
    assert seconds >= 0
    arrays = index_arrays(searchers.get(home_paths(corpus_home)))
    for fieldname in ("doc_id", "date", "doctype", "lang", "year"):
        assert fieldname in arrays._columns
    codes, labels = arrays.column("doc_id")
    assert "training-manual-victim-identification" in labels
    assert (codes >= 0).sum() == arrays.live.sum()
    assert "body_en" in arrays._lengths
