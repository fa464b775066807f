"""The search library on a small hand-made knowledge base: matching, ranking, results."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from kb.errors import IndexMissingError, NotFoundError, QueryError
from kb.home import paths as home_paths
from kb.model import Section
from kb.store import Store
from search.dismax import BestOf
from search.indexer import build_index
from search.query import search, searchers, similar
from tests.relevance.handmade import build_small_home


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_home(tmp_path_factory.mktemp("search-home"))


def keys(results) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.key for h in results.hits]


# --- matching ------------------------------------------------------------------------------


def test_article_number_finds_that_article_first_and_highlights_it_whole(home: Path) -> None:
    results = search("129-1", home=home, flat=True)
    assert keys(results)[:2] == ["criminal-code#art-129-1", "criminal-code#art-129"]
    mention = results.hits[1].snippet
    assert "**129-1**" in mention
    assert "**1**" not in mention and "Part 1 " in mention  # the "1" of "Part 1" is not a match


def test_superscript_form_of_an_article_number_is_the_same_article(home: Path) -> None:
    assert keys(search("129¹", home=home, flat=True))[0] == "criminal-code#art-129-1"


def test_id_matches_as_written(home: Path) -> None:
    assert keys(search("TM10P0524", home=home)) == ["project#information"]


def test_russian_query_finds_the_english_section_through_the_vocabulary(home: Path) -> None:
    results = search("идентификация жертв", home=home, flat=True)
    assert "manual#s-3-1" in keys(results)[:3]
    assert [e.entity for e in results.expansions] == ["topic.victim_identification"]
    assert "victim identification" in results.expansions[0].terms["en"]
    without = search("идентификация жертв", home=home, flat=True, expand=False)
    assert "manual#s-3-1" not in keys(without) and not without.expansions


def test_turkmen_query_finds_trafficking_in_persons(home: Path) -> None:
    found = keys(search("adam söwdasy", home=home, flat=True))
    assert "tk-seminar#intro" in found  # "adam söwdasynyň": another form of the same words
    assert "criminal-code#art-129-1" in found  # "Trafficking in persons"


def test_own_words_weigh_more_than_expanded_ones(home: Path) -> None:
    results = search("ynam telefony", home=home, flat=True)
    assert keys(results)[0] == "tk-seminar#intro"  # "Ynam telefonlarynyň", as typed
    assert {"manual#s-5-6", "newsletter#hotline"} <= set(keys(results))  # "hotline"


@pytest.mark.parametrize(
    ("query", "expected"),
    [("Dashoguz", "project#background"), ("Akhal", "project#background"), ("Ahal", "manual#s-5-6")],
)
def test_place_name_spellings_find_each_other(home: Path, query: str, expected: str) -> None:
    results = search(query, home=home, flat=True)
    assert expected in keys(results)
    assert results.suggestion is None  # a vocabulary term is not a typo


def test_british_query_finds_american_text_and_back(home: Path) -> None:
    assert keys(search("survivor-centered", home=home))[0] == "manual#s-4-4"
    assert "manual#s-3-2" in keys(search("labor exploitation", home=home))


def test_misspelt_query_is_corrected_when_it_finds_nothing(home: Path) -> None:
    results = search("hotline numbrs", home=home, flat=True)
    assert results.suggestion == "hotline numbers"
    assert results.corrected and results.searched == "hotline numbers"
    assert "manual#s-5-6" in keys(results)


def test_no_match_gives_an_empty_result_not_an_error(home: Path) -> None:
    results = search("zzqqxx", home=home)
    assert results.total == 0 and results.hits == [] and results.suggestion is None


# --- query syntax ----------------------------------------------------------------------------


def test_phrase_or_not_prefix(home: Path) -> None:
    assert set(keys(search('"debt bondage"', home=home))) == {"manual#s-3-2", "project#background"}
    assert set(keys(search("andragogy OR Kolb", home=home))) == {"manual#s-7-1"}
    excluded = keys(search("hotline -numbers", home=home, expand=False))
    assert excluded == [] or all(k not in excluded for k in ("manual#s-5-6", "newsletter#hotline"))
    assert "criminal-code#art-129-1" in keys(search("traffick*", home=home))


def test_field_queries_and_filters(home: Path) -> None:
    assert keys(search("title:newsletter hotline", home=home)) == ["newsletter#hotline"]
    assert keys(search('heading:"survivor-centred approach"', home=home)) == ["manual#s-4-4"]
    assert {h.doctype for h in search("hotline type:newsletter", home=home).hits} == {"newsletter"}
    assert {h.lang for h in search("идентификация жертв lang:ru", home=home).hits} == {"ru"}
    years = {h.date[:4] for h in search("debt bondage", home=home, year="2020-2025").hits}
    assert years == {"2023", "2024"}
    assert set(keys(search("tag:Akhal", home=home))) == {"manual#s-5-6", "project#background"}
    assert keys(search("hotline", home=home, tag="place.ahal")) == ["manual#s-5-6"]
    assert {h.doc_id for h in search("victims", home=home, doc="manual").hits} == {"manual"}


def test_unknown_filter_values_are_refused_with_the_choices(home: Path) -> None:
    with pytest.raises(QueryError, match="use one of"):
        search("hotline", home=home, doctype="memo")
    with pytest.raises(QueryError, match="en, ru or tk"):
        search("hotline lang:fr", home=home)
    with pytest.raises(QueryError, match="no vocabulary entry"):
        search("tag:Atlantis", home=home)


@pytest.mark.parametrize("query", ["*", "a*", "x" * 10_000, "-smuggling", "the of и"])
def test_unbounded_or_empty_queries_raise_query_error(home: Path, query: str) -> None:
    with pytest.raises(QueryError):
        search(query, home=home)


# --- ranking ---------------------------------------------------------------------------------


def test_heading_match_ranks_above_body_match(home: Path) -> None:
    # "exploitation" is in the heading of 3.2 and in the body of Article 129-1 only.
    assert keys(search("exploitation", home=home, flat=True))[:2] == [
        "manual#s-3-2",
        "criminal-code#art-129-1",
    ]


def test_sections_matching_all_words_come_before_partial_matches(home: Path) -> None:
    results = search("withheld passports", home=home, flat=True)
    assert keys(results)[0] == "manual#s-3-2"
    assert [h.partial for h in results.hits] == [False, True]  # Article 129-1 says only "passports"
    assert results.relaxed


def test_best_of_scores_a_section_by_its_best_alternative_only(home: Path) -> None:
    searcher = searchers.get(home_paths(home))
    a, b = wq.Term("body_en", "hotlin"), wq.Term("body_en", "andragogi")
    scores = {h["key"]: h.score for h in searcher.search(BestOf([a, b]), limit=None)}
    alone = {h["key"]: h.score for h in searcher.search(a, limit=None)}
    assert set(scores) == {*alone, "manual#s-7-1"}
    assert all(scores[k] == pytest.approx(alone[k]) for k in alone)


# --- results ---------------------------------------------------------------------------------


def test_snippet_shows_the_matching_passage_not_the_first_lines(home: Path) -> None:
    hit = search("withheld passports", home=home).hits[0]
    assert hit.snippet.startswith("…") and "**withheld** **passports**" in hit.snippet
    assert not hit.snippet.startswith("Labour exploitation ranges")


def test_citations_name_the_section_and_the_provision(home: Path) -> None:
    manual = search("withheld passports", home=home).hits[0]
    assert manual.citation == ("Training Manual on Identification of Victims (2024), section 3.2 "
                               "“Indicators of labour exploitation”, pp. 15–16")  # fmt: skip
    law = search("passports child", home=home)
    assert (
        law.hits[0].citation
        == "Criminal Code of Turkmenistan (extract) (2016), Article 129-1(2)(b), pp. 3–4"
    )


def test_grouped_pages_keep_a_documents_sections_together(home: Path) -> None:
    grouped = search("victims OR hotline", home=home, limit=50)
    doc_order = [h.doc_id for h in grouped.hits]
    assert doc_order == sorted(doc_order, key=doc_order.index)  # each document in one run
    assert [g.doc_id for g in grouped.groups] == list(dict.fromkeys(doc_order))
    assert all(len(g.sections) <= 3 for g in grouped.groups)


def test_pages_do_not_overlap_and_sort_by_date_puts_newest_first(home: Path) -> None:
    first = search("victims OR hotline OR passports", home=home, flat=True, limit=2)
    second = search("victims OR hotline OR passports", home=home, flat=True, limit=2, page=2)
    assert first.pages >= 2 and not set(keys(first)) & set(keys(second))
    dated = search("victims OR hotline OR passports", home=home, flat=True, sort="date", limit=50)
    dates = [h.date for h in dated.hits]
    assert dates[0] == "2024-06-12" and "2024" in dates  # a year alone comes after its days
    padded = [(d + "-00-00")[:10] for d in dates if d]
    assert padded == sorted(padded, reverse=True)
    undated = [i for i, d in enumerate(dates) if not d]
    assert undated == list(range(len(dates) - len(undated), len(dates)))  # undated last


def test_facets_count_every_matching_section(home: Path) -> None:
    results = search("hotline", home=home, expand=False)
    facets = {
        name: {row["value"]: row["count"] for row in rows} for name, rows in results.facets.items()
    }
    assert sum(facets["doctype"].values()) == results.total
    assert facets["doctype"] == {"training_manual": 1, "newsletter": 1}
    assert facets["tags"]["topic.hotline"] == 2
    assert results.facets["doctype"][0]["label"] in ("Training manual", "Newsletter")


def test_json_shape_keeps_the_original_keys(home: Path) -> None:
    data = search("hotline", home=home).as_dict()
    assert {"query", "total", "hits"} <= set(data)
    assert {"facets", "expansions", "suggestion", "page", "pages", "groups"} <= set(data)
    hit_keys = {"doc_id", "section_id", "title", "heading", "pages", "lang", "doctype", "date",
                "score", "snippet", "source"}  # fmt: skip
    assert hit_keys | {"citation", "heading_path", "rank"} <= set(data["hits"][0])


def test_similar_finds_other_documents_and_crosses_languages(home: Path) -> None:
    results = similar("manual#s-3-2", home=home)
    found = keys(results)
    assert found and all(not k.startswith("manual#") for k in found)
    assert "ru-seminar#intro" in found  # shares the labour-exploitation tag
    assert keys(similar("manual", "s-3-2", home=home, same_document=True))
    with pytest.raises(NotFoundError):
        similar("manual#nope", home=home)


def test_reading_is_fast_and_sees_a_rebuilt_index(home: Path, tmp_path: Path) -> None:
    local = build_small_home(tmp_path / "kb")
    started = time.perf_counter()
    for query in ("hotline", "идентификация жертв", "129-1", "adam söwdasy"):
        search(query, home=local)
    assert time.perf_counter() - started < 2.0
    with Store(home_paths(local).store) as store:
        doc = store.load_document("newsletter")
        assert doc is not None
        doc.sections.append(
            Section("extra", 1, ["Quarterly update"], "A zebra crossing was painted.", lang="en")
        )
        with store.transaction() as db:
            store.save_document(doc, db)
        build_index(home_paths(local), store)
    assert keys(search("zebra", home=local)) == ["newsletter#extra"]


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="kb build"):
        search("hotline", home=tmp_path)


_SYNTAX = st.sampled_from(['"', "(", ")", " OR ", " AND ", " NOT ", "-", "*", ":", "title:", "type:",
                           "year:", "tag:", "lang:", "129-1", "hotline", "жертв", "söwda", " ", "¹"])  # fmt: skip


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(_SYNTAX, st.text(max_size=6)), max_size=8).map("".join))
def test_any_typed_query_gives_results_or_a_query_error(home: Path, query: str) -> None:
    try:
        results = search(query, home=home)
    except QueryError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert results.total >= len(results.hits)
