"""Analysis and query syntax: what a query word becomes before it meets the index."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.formats import Positions

from kb.errors import QueryError
from search.analysis import (
    REF_PATTERN,
    american_spelling,
    english_analyzer,
    exact_analyzer,
    russian_analyzer,
    spelling_analyzer,
    turkmen_stem,
)
from search.field_terms import encode_positions, term_plan
from search.schema import build_schema
from search.syntax import AndQuery, FieldQuery, Not, OrQuery, Phrase, Word, parse, validate_query


def tokens(analyzer, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.text for t in analyzer(text)]


def test_british_and_american_spellings_meet() -> None:
    en = english_analyzer()
    assert tokens(en, "survivor-centred") == tokens(en, "survivor-centered")
    assert tokens(en, "labour organisations") == tokens(en, "labor organizations")
    assert american_spelling("promise") == "promise"  # not every -ise word is an -ize word


def test_russian_word_forms_meet_and_yo_is_e() -> None:
    ru = russian_analyzer()
    assert tokens(ru, "жертва") == tokens(ru, "жертвам") == tokens(ru, "жертв")
    assert tokens(ru, "партнёрство") == tokens(ru, "партнерство")


@pytest.mark.parametrize(
    ("forms", "stem"),
    [
        (["söwda", "söwdasy", "söwdasyna", "söwdasynyň"], "sowd"),
        (["Aşgabat", "Aşgabady", "Aşgabatda"], "asgaba"),
        (["çykarmak", "çykarmagyň"], "cykarma"),
        (["pidalary", "pidasy", "pida"], "pida"),
    ],
)
def test_turkmen_forms_share_the_prefix_they_are_searched_by(forms: list[str], stem: str) -> None:
    assert {turkmen_stem(f.lower()) for f in forms} == {stem}


def test_turkmen_prefix_reaches_longer_forms_of_an_ambiguous_ending() -> None:
    # "telefony" may be telefon + y or telefo + ny: the prefix covers both readings.
    assert "telefonlarynyn".startswith(turkmen_stem("telefony"))


def test_exact_analyzer_keeps_article_numbers_and_ids_whole() -> None:
    exact = exact_analyzer()
    assert tokens(exact, "Article 129-1 and 129¹") == ["article", "129-1", "and", "129-1"]
    assert tokens(exact, "Prima ID TM10P0524") == ["prima", "id", "tm10p0524"]
    assert tokens(exact, "Daşoguz") == ["dasoguz"]


def test_syntax_reads_phrases_or_not_fields_and_prefixes() -> None:
    tree = parse('"reflection period" shelter OR hotline -smuggling title:manual traffick*')
    assert isinstance(tree, AndQuery)
    phrase, either, excluded, field, prefix = tree.children
    assert isinstance(phrase, Phrase) and phrase.text == "reflection period"
    assert isinstance(either, OrQuery) and [c.text for c in either.children] == [
        "shelter",
        "hotline",
    ]  # type: ignore[union-attr]
    assert isinstance(excluded, Not) and excluded.child.text == "smuggling"  # type: ignore[union-attr]
    assert isinstance(field, FieldQuery) and field.name == "title" and field.value.text == "manual"
    assert isinstance(prefix, Word) and prefix.prefix and prefix.text == "traffick"


def test_syntax_keeps_references_whole_and_forgives_odd_input() -> None:
    tree = parse('129-1 "unclosed (victim Note: x')
    assert isinstance(tree, AndQuery)
    assert tree.children[0] == Word("129-1", 0, 5)
    assert isinstance(tree.children[1], Phrase)  # an unclosed quote runs to the end


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty query"),
        ("*", "no words"),
        ("x" * 10_000, "too long"),
        ("-smuggling", "only excludes"),
        (" ".join(["word"] * 60), "too many words"),
        ("(" * 20 + "victim", "nested"),
    ],
)
def test_unsearchable_queries_are_refused_with_a_reason(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(validate_query(query))


# The unstemmed field's pattern before each word's first run was read once (search.analysis).
_REF_PATTERN_BEFORE = r"\d++(?:[-–]\d++)++[a-zA-Z]?|[A-Za-z]++\d[A-Za-z0-9]*+|\w++"


@given(st.text(alphabet="aZq19_-–'’ éşяß٣\u00a0", max_size=24))
@settings(max_examples=3000, deadline=None)
def test_the_unstemmed_pattern_finds_the_words_it_always_found(text: str) -> None:
    assert re.findall(REF_PATTERN, text) == re.findall(_REF_PATTERN_BEFORE, text)


@given(st.lists(st.text(alphabet="abcAB1é şя-.,\u00a0\n", max_size=12), max_size=8))
@settings(max_examples=1000, deadline=None)
def test_the_spelling_field_finds_its_words_piece_by_piece(texts: list[str]) -> None:
    """The spelling field's terms, found per whitespace-separated piece (its plan reuses
    pieces across texts), are those of the whole text read with the pattern."""
    plan = term_plan(build_schema()["spell"])
    assert plan is not None and plan.pieces is not None
    for text in texts:
        expected = {t.text.encode() for t in spelling_analyzer()(text)}
        assert set(plan.places(text)) == expected
    assert all(not any(places) for t in texts for places in plan.places(t).values())


@given(st.lists(st.integers(min_value=0, max_value=70_000), min_size=1, max_size=5, unique=True))
def test_positions_are_encoded_as_whoosh_encodes_them(places: list[int]) -> None:
    positions = sorted(places)
    assert encode_positions(positions) == Positions().encode(positions)
