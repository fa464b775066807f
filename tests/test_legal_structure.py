"""Structure of legislation: units, ids, numbers as laws write them, lookups, citations."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from kb.legal.numbering import normalize_number, number_key
from kb.legal.parse import parse_pages, parse_structure, parse_text
from kb.legal.render import render_structure
from kb.legal.units import (
    citation,
    find_unit,
    locate,
    provisions,
    structure_from_dict,
    structure_to_dict,
)
from kb.model import Document, Section, SourceRef

REPO = Path(__file__).resolve().parents[1]
LAWS = REPO / "corpus" / "src" / "laws"
PDFS = REPO / "corpus" / "legislation"
FIXTURES = REPO / "tests" / "fixtures" / "legal"


@pytest.fixture(scope="module")
def law_2016_en():
    return parse_text((LAWS / "law-ctip-2016-en.md").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def law_2016_ru():
    return parse_text((LAWS / "law-ctip-2016-ru.md").read_text(encoding="utf-8"))


def test_law_has_its_chapters_articles_parts_and_points(law_2016_en) -> None:
    assert law_2016_en.heading == "Law of Turkmenistan on Combating Trafficking in Persons"
    assert [c.number for c in law_2016_en.children] == ["I", "II", "III", "IV", "V"]
    articles = provisions(law_2016_en)
    assert [a.number for a in articles] == [str(n) for n in range(1, 23)]
    article_1 = find_unit(law_2016_en, "art_1")
    assert article_1.heading == "Basic concepts"
    assert [c.id for c in article_1.children] == [f"chp_1__art_1__para_{n}" for n in range(1, 6)]
    points = find_unit(law_2016_en, "chp_1__art_1__para_1").children
    assert [p.number for p in points] == ["a", "b", "c", "d", "e", "f"]
    assert points[3].text == "child — a person who has not reached eighteen years of age;"
    # The date line and the preamble are the act's own text, not an article's.
    assert law_2016_en.text.startswith("Ashgabat, 20 August 2016, No. 435-V")


def test_articles_without_numbered_parts_hold_points_directly(law_2016_en) -> None:
    article_6 = find_unit(law_2016_en, "art_6")
    assert article_6.text == "The Ministry of Interior of Turkmenistan:"
    assert [c.id for c in article_6.children][-1] == "chp_2__art_6__point_d"
    assert "exchanges information" in article_6.full_text()


def test_find_unit_by_id_tail_number_and_citation(law_2016_en, law_2016_ru) -> None:
    point = find_unit(law_2016_en, "chp_1__art_1__para_1__point_b")
    assert point is not None
    assert find_unit(law_2016_en, "art_1__para_1__point_b") is point
    assert find_unit(law_2016_en, "Article 1(1)(b)") is point
    assert find_unit(law_2016_en, "Art. 1(1)(b)") is point
    assert find_unit(law_2016_en, "5").id == "chp_2__art_5"
    assert find_unit(law_2016_en, "Article 99") is None
    russian = find_unit(law_2016_ru, "Статья 1(1)(б)")
    assert russian is not None and russian.id == "chp_1__art_1__para_1__point_b"
    # Latin and Cyrillic point letters of the same rank find the same point.
    assert find_unit(law_2016_ru, "Article 1(1)(b)") is russian


def test_citations_read_like_the_source(law_2016_en, law_2016_ru) -> None:
    assert (
        citation(law_2016_en, find_unit(law_2016_en, "art_1__para_1__point_b")) == "Article 1(1)(b)"
    )
    assert (
        citation(law_2016_ru, find_unit(law_2016_ru, "art_1__para_1__point_b")) == "Статья 1(1)(б)"
    )
    assert citation(law_2016_en, find_unit(law_2016_en, "art_6__point_a")) == "Article 6(a)"
    assert citation(law_2016_ru, find_unit(law_2016_ru, "chp_2")) == "Глава II"


def test_locate_finds_the_deepest_unit_quoting_a_fragment(law_2016_en) -> None:
    unit = locate(law_2016_en, "a person who has not reached  eighteen years")
    assert unit.id == "chp_1__art_1__para_1__point_d"
    assert locate(law_2016_en, "Article 129-1 of the Criminal Code").id == "chp_5__art_21__para_2"
    assert locate(law_2016_en, "words that are nowhere") is None


def test_structure_survives_a_round_trip_through_a_dict(law_2016_ru) -> None:
    again = structure_from_dict(structure_to_dict(law_2016_ru))
    assert structure_to_dict(again) == structure_to_dict(law_2016_ru)
    assert find_unit(again, "Статья 3(ж)").text.startswith("особая защита детей")


def test_render_structure_shows_headings_and_ids(law_2016_en) -> None:
    console = Console(width=200, record=True)
    console.print(render_structure(law_2016_en))
    shown = console.export_text()
    assert "Chapter I. General provisions" in shown
    assert "Article 15. National Referral Mechanism" in shown
    assert "chp_4__art_15__para_3" in shown


@pytest.mark.parametrize(
    ("written", "normal", "key"),
    [
        ("129¹", "129-1", "129-1"),
        ("129-1", "129-1", "129-1"),
        ("360 C", "360C", "360c"),
        ("225-4-1", "225-4-1", "225-4-1"),
        ("5–1", "5-1", "5-1"),
        ("286c", "286C", "286c"),
    ],
)
def test_numbers_in_their_written_forms(written: str, normal: str, key: str) -> None:
    assert normalize_number(written) == normal
    assert number_key(written) == key


def test_chapter_numbers_and_point_letters_have_comparable_keys() -> None:
    assert number_key("II", "chapter") == "2"
    assert number_key("вторая", "chapter") == "2"
    assert number_key("б", "point") == "b"
    assert number_key("ж", "point") == "g"


def test_common_law_sections_subsections_and_letters() -> None:
    act = parse_text((FIXTURES / "common-law-act.txt").read_text(encoding="utf-8"))
    assert act.heading == "PENAL CODE (AMENDMENT) ACT, No. 7 OF 2031"
    assert [s.number for s in provisions(act)] == ["1", "2", "360C", "360D"]
    section = find_unit(act, "Section 360C")
    assert section.id == "sec_360c"
    assert find_unit(act, "360C(1)(c)").text.startswith("recruits or receives a child")
    assert citation(act, find_unit(act, "sec_360c__para_2")) == "Section 360C(2)"
    # "(i)" after "(h)" is the ninth letter, not Roman one.
    letters = [p.number for p in find_unit(act, "360D").children]
    assert letters == list("abcdefghi")


def test_turkmen_chapters_and_articles() -> None:
    law = parse_text((FIXTURES / "turkmen-law-tk.md").read_text(encoding="utf-8"))
    article = find_unit(law, "1-nji madda")
    assert article is not None and article.id == "chp_1__art_1"
    assert article.heading == "Esasy düşünjeler"
    assert citation(law, find_unit(law, "art_1__para_1__point_b")) == "1-nji madda(1)(b)"


def test_french_article_with_roman_parts_and_degree_points() -> None:
    law = parse_text((FIXTURES / "french-definition-fr.md").read_text(encoding="utf-8"))
    article = find_unit(law, "Article 3")
    assert [c.id for c in article.children] == ["art_3__para_i", "art_3__para_ii"]
    # The unnumbered alinéa after part I belongs to part I.
    assert "travail forcé" in find_unit(law, "art_3__para_i").full_text()


def test_two_language_versions_in_one_file_become_two_parts() -> None:
    protocol = parse_text((FIXTURES / "palermo-like-two-languages.md").read_text(encoding="utf-8"))
    assert protocol.heading == "Model Protocol (for tests)"
    assert [p.id for p in protocol.children] == ["part_1", "part_2"]
    assert protocol.children[1].heading == "Modelprotocol (Nederlandse vertaling)"
    assert find_unit(protocol, "art_1").id == "part_1__chp_1__art_1"
    assert find_unit(protocol, "art_1").heading == "Use of terms"
    assert find_unit(protocol, "part_2__chp_1__art_1__point_b").text.startswith('"Kind"')
    assert "Preamble" in protocol.text


def test_table_of_contents_lines_and_superscript_numbers() -> None:
    law = parse_text((FIXTURES / "table-of-contents.txt").read_text(encoding="utf-8"))
    assert [a.id for a in provisions(law)] == ["art_1", "art_2", "art_129-1"]
    assert find_unit(law, "art_1").text == "This Law governs shelters for victims."
    assert find_unit(law, "Article 129¹").heading == "Liability"


def test_running_headers_page_numbers_and_wrapped_headings_in_pdf_pages() -> None:
    pages = [
        "Law on Tests\nArticle 1. Powers of the State Migration Service and the State Border\nService\n"
        "1. The Service identifies victims among persons returning from\nabroad.\n1",
        "Law on Tests\n2. The Service informs the Ministry.\nArticle 2. Entry into force\n"
        "This Law enters into force on the day of its publication.\n2",
        "Law on Tests\nArticle 3. Final provision\nNothing more.\n3",
    ]
    law = parse_pages(pages)
    article = find_unit(law, "art_1")
    assert article.heading == "Powers of the State Migration Service and the State Border Service"
    assert [p.text for p in article.children] == [
        "The Service identifies victims among persons returning from abroad.",
        "The Service informs the Ministry.",
    ]
    assert (article.page_start, article.page_end) == (1, 2)
    assert "Law on Tests" not in law.full_text()


def test_parse_structure_uses_sections_headings_and_pages() -> None:
    source = SourceRef(key="/tmp/law.pdf", location="law.pdf")
    sections = [
        Section("s1", 0, ["Chapter I. General provisions", "Article 1. Basic concepts"],
                "1. Terms used:\n\na) child — under eighteen;\n\nb) victim — a person harmed.", 2, 2),
        Section("s2", 1, ["Chapter I. General provisions", "Article 2. Scope"],
                "Article 2. Scope\nThis Law applies everywhere.", 3, 4),
        Section("s3", 2, ["Chapter II. Final provisions", "Article 3. Entry into force"],
                "This Law enters into force today.", 4, 4),
    ]  # fmt: skip
    doc = Document(id="law", source=source, format="pdf", title="Model Law", sections=sections)
    law = parse_structure(doc)
    assert law.heading == "Model Law"
    assert [u.id for u in law.walk() if u.kind == "article"] == [
        "chp_1__art_1",
        "chp_1__art_2",
        "chp_2__art_3",
    ]
    assert find_unit(law, "Article 1(1)(b)").text == "victim — a person harmed."
    assert find_unit(law, "art_2").text == "This Law applies everywhere."  # heading not repeated
    assert (find_unit(law, "art_2").page_start, find_unit(law, "art_2").page_end) == (3, 4)
    assert (law.children[0].page_start, law.children[0].page_end) == (2, 4)


@pytest.mark.parametrize("stem", ["law-ctip-2007-en", "law-ctip-2016-en", "law-ctip-2016-ru"])
def test_corpus_pdfs_give_the_same_tree_as_their_sources(stem: str) -> None:
    pdf_path = PDFS / f"{stem}.pdf"
    if not pdf_path.exists():
        pytest.skip("corpus PDFs not rendered (run corpus/make_corpus.py)")
    import pypdf

    pages = [page.extract_text() for page in pypdf.PdfReader(pdf_path).pages]
    from_pdf = parse_pages(pages)
    from_source = parse_text((LAWS / f"{stem}.md").read_text(encoding="utf-8"))
    assert from_pdf.heading == from_source.heading
    pdf_units = {u.id: " ".join(u.full_text().split()) for u in from_pdf.walk()}
    source_units = {u.id: " ".join(u.full_text().split()) for u in from_source.walk()}
    assert pdf_units == source_units
    assert all(a.page_start is not None for a in provisions(from_pdf))


def test_parse_structure_recovers_markers_from_joined_lines_and_ignores_page_headings() -> None:
    # What a segmenter gives for a PDF without headings: one section a page, lines joined.
    source = SourceRef(key="/tmp/act.pdf", location="act.pdf")
    text = (
        "3. The following section is inserted:— 360C. (1) Whoever— (a) sells any person; "
        "(b) recruits any person by threat for forced labour; or (c) receives a child for "
        "forced labour, shall be guilty of trafficking. (2) In this section “child” means a "
        "person under eighteen years of age."
    )
    doc = Document(
        id="act",
        source=source,
        format="pdf",
        title="Amendment Act",
        sections=[Section("p1", 0, ["Page 1"], text, 1, 1)],
    )
    act = parse_structure(doc)
    assert [u.id for u in provisions(act)] == ["sec_3", "sec_360c"]
    assert [u.id for u in find_unit(act, "360C").walk()][1:] == [
        "sec_360c__para_1",
        "sec_360c__para_1__point_a",
        "sec_360c__para_1__point_b",
        "sec_360c__para_1__point_c",
        "sec_360c__para_2",
    ]


def test_the_index_cites_each_provision_as_citation_does() -> None:
    """The index carries each unit's trail down its walk instead of finding it from the root:
    the citations it stores for an article and its parts are `citation`'s, in order."""
    from search.citation import legal_index

    source = SourceRef(key="/tmp/law.pdf", location="law.pdf")
    sections = [
        Section("s1", 0, ["Chapter I. General provisions", "Article 1. Basic concepts"],
                "1. Terms used:\n\na) child — under eighteen;\n\nb) victim — a person harmed.\n\n"
                "2. Other terms have their usual meaning.", 2, 2, number="1", kind="article"),
        Section("s2", 1, ["Chapter II. Final provisions", "Article 2. Entry into force"],
                "This Law enters into force today.", 3, 3, number="2", kind="article"),
    ]  # fmt: skip
    doc = Document(id="law", source=source, format="pdf", title="Model Law", sections=sections,
                   doctype="legislation")  # fmt: skip
    law = parse_structure(doc)
    index = legal_index(doc, None)
    assert index is not None
    for article in (u for u in law.walk() if u.kind == "article"):
        expected = [citation(law, unit) for unit in article.walk()]
        assert [
            cited for cited, _, _ in index.units_for(sections[0 if article.number == "1" else 1])
        ] == expected
    assert [c for c, _, _ in index.units_for(sections[0])] == [
        "Article 1", "Article 1(1)", "Article 1(1)(a)", "Article 1(1)(b)", "Article 1(2)"
    ]  # fmt: skip
