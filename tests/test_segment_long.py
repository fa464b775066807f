"""Long documents without an outline are cut at the headings their text carries.

A 60-page penal code, generated here as a real PDF with fpdf2, has two "PART"
headings and some two hundred numbered provisions ("370. Trafficking of person.")
but no bookmarks: a search for one provision must land on that provision's own
section and page, not on half of the code.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import kb.cli  # noqa: F401  (registers the commands on the shared app)
from kb.home import paths as home_paths
from kb.ingest.pipeline import document_from_path
from kb.model import Block, Extracted, SourceRef
from kb.segment.headings import find_headings, numbered_chain
from kb.segment.sections import MAX_SECTION_PAGES, segment
from kb.store import Store
from search.indexer import build_index
from tests.cli_runner import invoke as run
from tests.pdf_fixtures import make_pdf

LINES_PER_PAGE = 26
FIRST, LAST = 300, 499
WORDS = [
    "court",
    "person",
    "offence",
    "property",
    "document",
    "officer",
    "public",
    "fine",
    "order",
    "notice",
    "record",
    "land",
    "vehicle",
    "tax",
    "licence",
    "contract",
    "witness",
    "evidence",
    "registry",
    "permit",
]
TRAFFICKING = (
    "Whoever recruits, transports, transfers, harbours or receives a person by means of "
    "threat, force, fraud or deception for the purpose of exploitation commits trafficking of "
    "person and shall be punished with imprisonment of not less than seven years."
)


def _title(number: int) -> str:
    if number == 370:
        return "Trafficking of person."
    return (
        f"{WORDS[number % len(WORDS)].capitalize()} and {WORDS[(number * 7) % len(WORDS)]} rules."
    )


def _body(number: int) -> list[str]:
    if number == 370:
        return [TRAFFICKING]
    words = [WORDS[(number * k) % len(WORDS)] for k in range(3, 9)]
    first = (
        f"(1) Any {words[0]} who misuses a {words[1]} or a {words[2]} held by another "
        f"{words[3]} shall be liable to a fine and to the loss of the {words[4]}."
    )
    second = (
        f"(2) The {words[5]} may order the return of the {words[1]} to its holder and the "
        f"publication of the decision in the official {words[2]} register of the district."
    )
    third = (
        f"(3) Proceedings under this section are heard by the district {words[0]} where the "
        f"{words[3]} is kept, within the time the {words[4]} register allows."
    )
    paragraphs = [first, second, third]
    if number == 420:
        # A numbered list inside a provision: its items are not provisions.
        paragraphs += [
            "The following are ordered:",
            "1. Shelter.",
            "2. Medical care.",
            "3. Legal aid.",
        ]
    return paragraphs


def penal_code_pages() -> tuple[list[list[str]], dict[int, int]]:
    """Pages of lines, and the page each provision's heading is printed on."""
    lines: list[str] = ["PART I. GENERAL PROVISIONS"]
    for number in range(FIRST, LAST + 1):
        if number == 400:
            lines += ["", "PART II. OFFENCES AGAINST PERSONS"]
        lines.append("")
        lines.append(f"{number}. {_title(number)}")
        for paragraph in _body(number):
            lines += textwrap.wrap(paragraph, width=88)
    pages: list[list[str]] = [["PENAL CODE OF THE REPUBLIC", "Adopted on 1 March 2020."]]
    where: dict[int, int] = {}
    for start in range(0, len(lines), LINES_PER_PAGE):
        page = lines[start : start + LINES_PER_PAGE]
        for line in page:
            head = line.split(". ", 1)[0]
            if head.isdigit() and FIRST <= int(head) <= LAST and line.endswith("."):
                where.setdefault(int(head), len(pages) + 1)
        pages.append([line or " " for line in page])
    return pages, where


@pytest.fixture(scope="module")
def code_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, int]]:
    pages, where = penal_code_pages()
    assert len(pages) >= 60
    path = make_pdf(tmp_path_factory.mktemp("code") / "penal-code.pdf", pages)
    return path, where


def test_every_provision_is_its_own_section_with_its_page(
    code_pdf: tuple[Path, dict[int, int]],
) -> None:
    path, where = code_pdf
    doc = document_from_path(path)
    numbered = {s.number: s for s in doc.sections if s.number.isdigit()}
    assert set(numbered) == {str(n) for n in range(FIRST, LAST + 1)}
    trafficking = numbered["370"]
    assert trafficking.heading_path == ["PART I. GENERAL PROVISIONS", "370. Trafficking of person."]
    assert trafficking.text == TRAFFICKING
    assert trafficking.pages == [where[370]]
    assert numbered["420"].heading_path[0] == "PART II. OFFENCES AGAINST PERSONS"
    assert "1. Shelter." in numbered["420"].text  # list items stay in their provision
    spans = [len(s.pages) for s in doc.sections]
    assert max(spans) <= MAX_SECTION_PAGES


def test_search_for_a_provision_finds_its_own_section_and_page(
    code_pdf: tuple[Path, dict[int, int]], tmp_path: Path
) -> None:
    path, where = code_pdf
    paths = home_paths(tmp_path).ensure()
    with Store(paths.store) as store:
        store.save_document(document_from_path(path))
        build_index(paths, store)
    code, out = run("search", "trafficking of person", "--json", "--flat", "--home", str(tmp_path))
    assert code == 0, out
    first = json.loads(out)["hits"][0]
    assert first["heading_path"][-1] == "370. Trafficking of person."
    assert first["pages"] == [where[370]]
    code, out = run("search", "section 370", "--json", "--flat", "--home", str(tmp_path))
    assert json.loads(out)["hits"][0]["heading_path"][-1] == "370. Trafficking of person."


def _extracted(texts: list[str], per_page: int = 3) -> Extracted:
    blocks = [Block(t, page=1 + i // per_page) for i, t in enumerate(texts)]
    return Extracted(
        source=SourceRef(key="/r.pdf", location="r.pdf"),
        format="pdf",
        title="A report",
        blocks=blocks,
        page_count=blocks[-1].page or 1,
    )


def test_a_report_without_outline_is_cut_at_its_capital_headings() -> None:
    paragraph = "Survivors described how the systems meant to help them failed them. " * 8
    texts: list[str] = []
    for heading in ("INTRODUCTION", "METHODOLOGY", "FINDINGS ON HOUSING", "RECOMMENDATIONS"):
        texts += [heading] + [paragraph] * 8
    doc = segment(_extracted(texts), "report")
    assert [s.heading_path for s in doc.sections] == [
        ["INTRODUCTION"],
        ["METHODOLOGY"],
        ["FINDINGS ON HOUSING"],
        ["RECOMMENDATIONS"],
    ]
    assert doc.sections[2].pages == [7, 8, 9]


def test_text_without_headings_is_still_cut_by_page() -> None:
    paragraph = "A long statistical annex with no headings at all, only figures. " * 8
    doc = segment(_extracted([paragraph] * 30), "annex")
    assert len(doc.sections) == 10
    assert all(len(s.pages) == 1 for s in doc.sections)


@pytest.mark.parametrize(
    ("texts", "numbers"),
    [
        # Headings glued to the end of the previous paragraph (a lost PDF line break).
        (["Intro.", "12. Definitions.", "Text.", "End of text. 13. Scope.", "Text.", "14. Offences.", "x"],
         ["12", "13", "14"]),
        # Consecutive numbered lines with nothing under them are a list, not headings.
        (["1. Shelter.", "2. Medical care.", "3. Legal aid.", "4. Interpreting."], []),
        # Numbers going back (a list restarting) do not join the chain.
        (["5. Scope.", "a", "6. Terms.", "b", "1. First.", "c", "7. Offences.", "d"], ["5", "6", "7"]),
    ],
)  # fmt: skip
def test_numbered_chain(texts: list[str], numbers: list[str]) -> None:
    assert [f.match.number for f in numbered_chain(texts)] == numbers


def test_keyword_headings_of_several_languages_are_found() -> None:
    texts = [
        "ОСОБЕННАЯ ЧАСТЬ", "Глава 16. Преступления против жизни", "Статья 105. Убийство", "Текст.",
        "5-берене. Адам сатуу", "Текст.", "12-nji madda. Adam söwdasy", "Tekst.",
        "Article 3 – Use of terms", "Text.", "Статья 5 настоящего Кодекса применяется к лицам.",
    ]  # fmt: skip
    found = {f.index: (f.match.kind, f.match.number) for f in find_headings(texts)}
    assert found == {
        0: ("book", ""), 1: ("chapter", "16"), 2: ("article", "105"), 4: ("article", "5"),
        6: ("article", "12"), 8: ("article", "3"),
    }  # fmt: skip
