"""The bundled sample corpus (corpus/) is what CORPUS.md says it is.

These tests read only files inside the repository. They check the committed PDFs and web
pages (page counts, bookmarks, extractable text in English, Russian and Turkmen,
encodings, shared boilerplate), the manifest, and that corpus/make_corpus.py reproduces
the committed files byte for byte.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader
from pypdf.generic import Destination

from kb.model import DOCTYPES

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
MANUAL = CORPUS / "manuals" / "training-manual-victim-identification.pdf"
NEWSLETTER_EN = CORPUS / "newsletters" / "newsletter-2011-12-en.pdf"
NEWSLETTER_RU = CORPUS / "newsletters" / "newsletter-2011-12-ru.pdf"
PLAN = CORPUS / "plans" / "national-action-plan-2025-2029.pdf"
WEB = CORPUS / "web"
WEB_PAGES = sorted(WEB.glob("*.html"))
MANUAL_HEADER = "IOM Turkmenistan · Training Manual on Identification and Referral"
TURKMEN_LETTERS = "ňýžäşçöü"


@cache
def make_corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = module
    spec.loader.exec_module(module)
    return module


@cache
def page_texts(pdf_path: Path) -> tuple[str, ...]:
    """Text of each page with runs of whitespace collapsed (justified lines extract with
    double spaces)."""
    reader = PdfReader(pdf_path)
    return tuple(re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages)


def pages_with(pdf_path: Path, phrase: str) -> list[int]:
    return [number for number, text in enumerate(page_texts(pdf_path), start=1) if phrase in text]


@cache
def outline(pdf_path: Path) -> tuple[tuple[str, int, int], ...]:
    """(title, level from 1, page from 1) for every bookmark, in document order."""
    reader = PdfReader(pdf_path)
    entries: list[tuple[str, int, int]] = []

    def walk(items: list[object], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            elif isinstance(item, Destination):
                page = reader.get_destination_page_number(item) + 1
                entries.append((str(item.title), level, page))

    walk(reader.outline, 1)
    return tuple(entries)


def law_sources() -> list[Path]:
    laws = CORPUS / "src" / "laws"
    return sorted(p for p in laws.glob("*.md") if not p.stem.isupper()) if laws.is_dir() else []


def decoded(page: Path) -> str:
    encoding = "windows-1251" if page.name.startswith("ru-") else "utf-8"
    return page.read_bytes().decode(encoding)


# --- the training manual ----------------------------------------------------


def test_manual_has_at_least_thirty_pages() -> None:
    assert len(PdfReader(MANUAL).pages) == 38


def test_manual_outline_nests_numbered_sections_under_modules() -> None:
    entries = outline(MANUAL)
    assert len(entries) == 46
    assert sum(1 for _, level, _ in entries if level == 1) == 15
    sections = [title for title, level, _ in entries if level == 2]
    assert len(sections) == 31
    assert all(re.match(r"^[1-7]\.\d ", title) for title in sections)
    titles = [title for title, _, _ in entries]
    module_3 = titles.index("Module 3. Identification of victims")
    assert titles[module_3 + 1 : module_3 + 4] == [
        "3.1 Principles of identification",
        "3.2 Indicators of labour exploitation",
        "3.3 Indicators of sexual exploitation",
    ]
    assert titles[0] == "Contents"


def test_manual_bookmarks_point_to_the_page_where_the_heading_is_printed() -> None:
    for title, _, page in outline(MANUAL)[1:]:  # "Contents" is drawn after the bookmarks
        assert title in page_texts(MANUAL)[page - 1], title
    pages = {title: page for title, _, page in outline(MANUAL)}
    assert pages["3.2 Indicators of labour exploitation"] == 15
    assert pages["5.6 The hotline"] == 27


def test_manual_has_running_header_and_printed_page_number_on_every_page_but_the_title() -> None:
    texts = page_texts(MANUAL)
    assert MANUAL_HEADER not in texts[0]
    assert "Page 1" not in texts[0]
    for number, text in enumerate(texts[1:], start=2):
        assert text.startswith(MANUAL_HEADER), number
        assert f"Page {number}" in text, number


def test_manual_table_of_contents_lists_sections_with_their_pages() -> None:
    contents = page_texts(MANUAL)[1] + page_texts(MANUAL)[2]
    assert re.search(r"3\.2 Indicators of labour exploitation \.+ 15\b", contents)
    assert re.search(r"Annex 4\. Key terms in Turkmen and Russian \.+ 38\b", contents)


@pytest.mark.parametrize(
    ("phrase", "pages"),
    [
        ("withheld passports", [16]),
        ("Debt bondage", [16, 37]),
        ("lover-boy", [17]),
        ("Kolb", [32]),
        ("andragogy", [32]),
        ("Kirkpatrick", [34]),
        ("reflection period", [13, 14]),
        ("thirty days", [13]),
        ("Serhetabat", [18]),
        ("Farap", [18]),
        ("+(993 12) 463514", [27]),
        ("mutual legal assistance", [31]),
        ("instruktaž", [38]),
    ],
)
def test_manual_phrase_occurs_only_on_the_documented_pages(phrase: str, pages: list[int]) -> None:
    assert pages_with(MANUAL, phrase) == pages


def test_manual_words_are_separated_and_turkmen_and_cyrillic_letters_extract() -> None:
    annex = page_texts(MANUAL)[37]
    assert "adam söwdasynyň pidasy" in annex
    assert "ugramazdan öňki instruktaž" in annex
    assert "pidalary ýüze çykarmak" in annex
    assert "mejbury zähmet" in annex
    assert "жертва торговли людьми" in annex
    assert all(letter in annex for letter in TURKMEN_LETTERS)
    assert (
        "Debt bondage is a situation in which a person is required to work"
        in (page_texts(MANUAL)[15])
    )


# --- newsletters --------------------------------------------------------------


@pytest.mark.parametrize("pdf_path", [NEWSLETTER_EN, NEWSLETTER_RU], ids=["en", "ru"])
def test_newsletters_have_four_pages_and_no_outline(pdf_path: Path) -> None:
    assert len(PdfReader(pdf_path).pages) == 4
    assert outline(pdf_path) == ()


def test_english_newsletter_reports_the_training_counts_and_all_velayats() -> None:
    text = " ".join(page_texts(NEWSLETTER_EN))
    assert (
        "237 law enforcement officers, prosecutors, police and 17 judges were trained"
        in (page_texts(NEWSLETTER_EN)[0])
    )
    for velayat in ("Ashgabat", "Ahal", "Balkan", "Daşoguz", "Lebap", "Mary"):
        assert velayat in text
    assert "Daşoguz 296 221 4" in text  # a row of the hotline table
    assert "Total 2,830 2,049 25" in text


def test_russian_newsletter_is_russian_text_with_inflected_forms() -> None:
    text = " ".join(page_texts(NEWSLETTER_RU))
    for form in (
        "Министерства внутренних дел",
        "жертв торговли людьми",
        "жертвам торговли людьми",
        "выявление жертв",
        "Государственной миграционной службы",
    ):
        assert form in text, form
    assert "обучены 237 сотрудников" in page_texts(NEWSLETTER_RU)[0]
    assert "Strengthening" not in text
    for velayat in ("Ашхабад", "Ахалский", "Балканский", "Дашогузский", "Лебапский", "Марыйский"):
        assert velayat in text


# --- the national action plan -----------------------------------------------


def test_action_plan_has_flat_outline_of_objectives() -> None:
    assert len(PdfReader(PLAN).pages) == 7
    entries = outline(PLAN)
    assert [level for _, level, _ in entries] == [1] * 7
    assert ("Objective 3. Prosecution of traffickers", 1, 5) in entries


def test_action_plan_lists_each_measure_number_once() -> None:
    lines = [
        line.strip() for page in PdfReader(PLAN).pages for line in page.extract_text().splitlines()
    ]
    numbers = [line for line in lines if re.fullmatch(r"\d\.\d", line)]
    expected = [
        f"{objective}.{n}"
        for objective, count in ((1, 7), (2, 7), (3, 6), (4, 6))
        for n in range(1, count + 1)
    ]
    assert numbers == expected


def test_action_plan_names_agencies_and_deadlines() -> None:
    text = " ".join(page_texts(PLAN))
    for agency in (
        "Ministry of Interior",
        "Prosecutor General's Office",
        "State Migration Service",
        "State Border Service",
        "Ministry of Labour and Social Protection of Population",
        "Ministry of Foreign Affairs",
        "Ministry of National Security",
        "Ministry of Education",
        "Ministry of Health and Medical Industry",
    ):
        assert agency in text, agency
    for deadline in ("2025–2026", "annually", "Q4 2027", "Q2 2026", "quarterly"):
        assert deadline in text, deadline


# --- legislation ----------------------------------------------------------------


@pytest.mark.parametrize("source", law_sources(), ids=lambda p: p.stem)
def test_each_law_text_is_rendered_with_one_bookmark_per_heading(source: Path) -> None:
    pdf_path = CORPUS / "legislation" / f"{source.stem}.pdf"
    assert pdf_path.is_file(), f"run corpus/make_corpus.py to render {source.name}"
    headings = [
        line.lstrip("#").strip().replace("**", "")
        for line in source.read_text(encoding="utf-8").splitlines()
        if re.match(r"^#{1,6}\s", line)
    ]
    assert [title for title, _, _ in outline(pdf_path)] == headings
    texts = page_texts(pdf_path)
    for number, text in enumerate(texts, start=1):
        assert text.rstrip().endswith(str(number)), number


def test_notes_next_to_the_laws_are_not_rendered() -> None:
    assert not (CORPUS / "legislation" / "CHANGES.pdf").exists()
    assert not (CORPUS / "legislation" / "README.pdf").exists()


def test_law_renderer_nests_chapters_and_articles(tmp_path: Path) -> None:
    module = make_corpus()
    source_path = tmp_path / "sample-law.md"
    source_path.write_text(
        "# Law of Turkmenistan on Sample Matters\n\n"
        "Preamble text.\n\n"
        "## Chapter I. General provisions\n\n"
        "### Article 1. Basic terms\n\n"
        "The following terms are used:\n"
        "1) adam söwdasy – trafficking in persons;\n"
        "2) жертва торговли людьми – victim of trafficking.\n\n"
        "### Article 129-1. Liability\n\nText.\n\n"
        "## Chapter II. Final provisions\n\n"
        "### Article 3. Entry into force\n\nThis Law enters into force.\n",
        encoding="utf-8",
    )
    source = module.parse_source(source_path, defaults=module.LAW_DEFAULTS)
    pdf_path = tmp_path / "sample-law.pdf"
    pdf_path.write_bytes(module.render_pdf(source))
    assert [(title, level) for title, level, _ in outline(pdf_path)] == [
        ("Law of Turkmenistan on Sample Matters", 1),
        ("Chapter I. General provisions", 2),
        ("Article 1. Basic terms", 3),
        ("Article 129-1. Liability", 3),
        ("Chapter II. Final provisions", 2),
        ("Article 3. Entry into force", 3),
    ]
    lines = PdfReader(pdf_path).pages[0].extract_text().splitlines()
    assert "1) adam söwdasy – trafficking in persons;" in lines  # a point keeps its own line
    assert "2) жертва торговли людьми – victim of trafficking." in lines


def test_renderer_reports_missing_fonts_with_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    module = make_corpus()
    monkeypatch.setattr(module, "FONT_DIR", tmp_path)
    with pytest.raises(module.CorpusError, match="apt-get install fonts-dejavu-core"):
        module.check_fonts()


# --- reproducibility ----------------------------------------------------------


@pytest.mark.parametrize(
    "stem", ["newsletter-2011-12-en", "newsletter-2011-12-ru", "national-action-plan-2025-2029"]
)
def test_make_corpus_reproduces_the_committed_pdf_byte_for_byte(stem: str) -> None:
    module = make_corpus()
    source = module.parse_source(CORPUS / "src" / f"{stem}.md")
    committed = CORPUS / source.meta["output"]
    assert module.render_pdf(source) == committed.read_bytes()


def test_make_corpus_reproduces_the_committed_web_pages() -> None:
    module = make_corpus()
    outputs = {output.relative_path: output.data for output in module.build_web()}
    assert sorted(outputs) == [f"web/{page.name}" for page in WEB_PAGES]
    for relative_path, data in outputs.items():
        assert (CORPUS / relative_path).read_bytes() == data, relative_path


# --- web pages ----------------------------------------------------------------


def test_there_are_seven_web_pages() -> None:
    assert [page.name for page in WEB_PAGES] == [
        "news-tot-mary-2018.html",
        "newsletters.html",
        "project-ctip-2008-2009.html",
        "project-legal-framework.html",
        "ru-hotline-campaign.html",
        "tk-habarlar-2024.html",
        "training-workshop-2025.html",
    ]


@pytest.mark.parametrize("page", WEB_PAGES, ids=lambda p: p.name)
def test_web_page_has_title_one_h1_and_h2_headings(page: Path) -> None:
    soup = BeautifulSoup(decoded(page), "lxml")
    assert soup.title is not None and soup.title.get_text().endswith(" | IOM Turkmenistan")
    assert len(soup.find_all("h1")) == 1
    assert soup.find("main").find_all("h2")


def test_web_pages_share_boilerplate_blocks_that_are_not_semantic_tags() -> None:
    boilerplate_selectors = (
        ".region-top-links",
        ".site-branding",
        ".hotline-banner",
        "#block-mainnavigation",
        ".region-sidebar",
        "footer",
    )
    blocks_by_page = []
    for page in WEB_PAGES:
        soup = BeautifulSoup(decoded(page), "lxml")
        blocks_by_page.append(
            [str(soup.select_one(selector)) for selector in boilerplate_selectors]
        )
        assert soup.find("nav") is None  # the menu is a plain div
        assert soup.select_one(".hotline-banner").name == "div"
    assert all(blocks == blocks_by_page[0] for blocks in blocks_by_page)
    menu = BeautifulSoup(decoded(WEB_PAGES[0]), "lxml").select_one("#block-mainnavigation")
    labels = [link.get_text() for link in menu.find_all("a")]
    for label in (
        "Who we are",
        "Our Work",
        "What We Do",
        "Partnerships",
        "Where we work",
        "Take Action",
        "Data and Research",
    ):
        assert label in labels


@pytest.mark.parametrize("page", WEB_PAGES, ids=lambda p: p.name)
def test_hotline_banner_is_on_every_page_and_never_in_the_content(page: Path) -> None:
    soup = BeautifulSoup(decoded(page), "lxml")
    banner = soup.select_one(".hotline-banner").get_text(" ")
    content = soup.find("main").get_text(" ")
    for line in (
        "Do you plan to travel abroad?",
        "Don't hurry...",
        "Call to the Hotline!",
        "Вы планируете выехать зарубеж? Не спешите....Позвоните на Горячую Линию!.",
        "+(993 12) 463514",
        "+(993 422) 32229",
    ):
        assert line in banner
    for line in ("Do you plan to travel abroad?", "Call to the Hotline!", "Не спешите"):
        assert line not in content
    assert soup.find_all("script")


def test_russian_page_is_windows_1251_on_disk() -> None:
    data = (WEB / "ru-hotline-campaign.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("windows-1251")
    assert '<meta charset="windows-1251">' in text
    assert "15 марта 2024 г." in text
    content = BeautifulSoup(text, "lxml").find("main").get_text(" ")
    for form in (
        "торговли людьми",
        "жертвам торговли людьми",
        "Государственной миграционной службы",
        "Министерства внутренних дел",
    ):
        assert form in content, form


def test_turkmen_page_has_turkmen_letters_and_date() -> None:
    soup = BeautifulSoup(decoded(WEB / "tk-habarlar-2024.html"), "lxml")
    assert soup.html["lang"] == "tk"
    content = soup.find("main").get_text(" ")
    assert "2024-nji ýylyň 12-nji iýuny" in content
    assert all(letter in content for letter in TURKMEN_LETTERS)


def test_pages_carry_non_breaking_spaces_like_the_live_site() -> None:
    ctip = (WEB / "project-ctip-2008-2009.html").read_text(encoding="utf-8")
    assert ctip.count("\u00a0") > 20
    text = BeautifulSoup(ctip, "lxml").find("main").get_text().replace("\u00a0", " ")
    assert "Project period: 01 December 2008 — 31 November 2009" in text
    assert "&nbsp;" in (WEB / "news-tot-mary-2018.html").read_text(encoding="utf-8")


def test_dated_pages_carry_their_publication_date() -> None:
    expected = {
        "news-tot-mary-2018.html": ("2018-06-12", "Published: 12 June 2018"),
        "training-workshop-2025.html": ("2025-01-20", "Published: 20 January 2025"),
        "tk-habarlar-2024.html": ("2024-06-12", "2024-nji ýylyň 12-nji iýuny"),
        "ru-hotline-campaign.html": ("2024-03-15", "15 марта 2024 г."),
    }
    for name, (iso_date, visible) in expected.items():
        soup = BeautifulSoup(decoded(WEB / name), "lxml")
        assert soup.find("meta", attrs={"name": "date"})["content"] == iso_date
        assert visible in soup.find("main").get_text().replace("\u00a0", " ")


def test_newsletter_listing_links_to_both_newsletter_pdfs() -> None:
    soup = BeautifulSoup(decoded(WEB / "newsletters.html"), "lxml")
    links = {a.get_text(): a["href"] for a in soup.find("main").find_all("a")}
    assert links["Newsletter in Eng"] == "../newsletters/newsletter-2011-12-en.pdf"
    assert links["Newsletter in Rus"] == "../newsletters/newsletter-2011-12-ru.pdf"
    for href in links.values():
        assert (WEB / href).resolve().is_file()


# --- the manifest -------------------------------------------------------------


def test_manifest_lists_every_corpus_file_once_with_valid_hints() -> None:
    manifest = tomllib.loads((CORPUS / "sources.toml").read_text(encoding="utf-8"))
    sources = manifest["source"]
    covered: list[Path] = []
    for source in sources:
        assert source.get("doctype", "other") in DOCTYPES
        assert ("path" in source) != ("folder" in source)
        if "path" in source:
            path = CORPUS / source["path"]
            assert path.is_file(), source["path"]
            covered.append(path)
        else:
            folder = CORPUS / source["folder"]
            assert folder.is_dir(), source["folder"]
            covered += [
                p for p in folder.rglob("*") if p.suffix in {".html", ".htm", ".pdf", ".txt", ".md"}
            ]
    assert len(covered) == len(set(covered))
    generated = [
        p
        for p in CORPUS.rglob("*")
        if p.suffix in {".pdf", ".html"} and "src" not in p.relative_to(CORPUS).parts
    ]
    assert sorted(covered) == sorted(generated)
    web_source = next(s for s in sources if s.get("folder") == "web")
    assert "doctype" not in web_source and "lang" not in web_source
    assert web_source["site"] == "turkmenistan.iom.int"
