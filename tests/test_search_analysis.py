"""Analysis and query syntax: what a query word becomes before it meets the index."""

from __future__ import annotations

import pytest

from kb.errors import QueryError
from search.analysis import (
    american_spelling,
    english_analyzer,
    exact_analyzer,
    russian_analyzer,
    turkmen_stem,
)
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
