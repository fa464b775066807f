"""What a trainer and a legal advisor meet every day in the web pages: citations to copy,
the interface in Russian and Turkmen, numbers, dates and times in their convention,
the status page's warnings, a long law's contents and article links, accessibility."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from markupsafe import Markup
from web_support import FAILURE, build_small_home, web_client

from kb.home import paths as home_paths
from kb.store import Store
from kb.web import formats, views
from kb.web.i18n import MESSAGES, translator
from kb.web.i18n_tk import TURKMEN


@pytest.fixture(scope="module")
def corpus_client(corpus_home: Path) -> Any:
    return web_client(corpus_home)


@pytest.fixture()
def client(corpus_client: Any) -> Any:
    # A `?ui=` is remembered in a cookie: each test starts without one.
    corpus_client.cookies.clear()
    return corpus_client


@pytest.fixture(scope="module")
def status_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A knowledge base whose source web/broken.pdf failed in the last three nightly runs."""
    home = build_small_home(tmp_path_factory.mktemp("daily-status"))
    with Store(home_paths(home).store) as store:
        for day in (22, 23):
            run = store.start_run(f"2026-11-{day}T21:30:00+00:00")
            store.finish_run(run, f"2026-11-{day}T21:32:05+00:00", "completed",
                             {"sources": {"seen": 3, "failed": 1}}, [FAILURE])  # fmt: skip
    return web_client(home)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- citations --------------------------------------------------------------------------


def test_every_hit_has_a_citation_with_a_copy_button(client: Any) -> None:
    html = client.get("/search", params={"q": "indicators of labour exploitation"}).text
    hits = len(re.findall(r'class="hit[ "]', html))
    buttons = re.findall(r'<button type="button" class="copy-cite" data-copy="([^"]+)"', html)
    assert hits and len(buttons) == hits
    assert any(
        "Training Manual on Identification and Referral of Victims of Trafficking" in b
        and "section 3.2" in b
        and "pp. 15–16" in b
        for b in buttons
    )


def test_citations_are_written_in_the_interface_language(client: Any) -> None:
    html = client.get("/search", params={"q": "indicators of labour exploitation", "ui": "ru"})
    buttons = re.findall(r'class="copy-cite" data-copy="([^"]+)"', html.text)
    manual = next(b for b in buttons if "раздел 3.2" in b)
    assert "с. 15–16" in manual and "pp." not in manual
    assert 'data-copied="Ссылка скопирована"' in html.text and ">Скопировать ссылку<" in html.text
    tk = client.get("/search", params={"q": "indicators of labour exploitation", "ui": "tk"})
    assert any("sah. 15–16" in b for b in re.findall(r'data-copy="([^"]+)"', tk.text))


def test_unheaded_pdf_pages_are_named_in_the_interface_language(client: Any) -> None:
    # The Russian newsletter's pages are headed by their own larger type now; no English
    # "Page N" is left on its page, and a page the segmenter had to name is named in the
    # reader's language.
    html = client.get("/doc/newsletter-2011-12-ru", params={"ui": "ru"}).text
    headings = [
        text_of(h).strip()
        for h in re.findall(r'class="section-heading">\s*(.*?)\s*</h', html, re.S)
    ]
    assert "Телефоны доверия: статистика за январь–ноябрь 2011 года" in headings
    assert not any(re.fullmatch(r"Page \d+", h) for h in headings)
    assert views.heading_text("Page 3", translator("ru")) == "Страница 3"
    assert views.heading_path_text(["Page 3"], translator("en")) == "Page 3"
    assert views.heading_text("Page 3", translator("tk")) != "Page 3"


def test_document_and_each_section_carry_a_citation_to_copy(client: Any) -> None:
    html = client.get("/doc/law-ctip-2016-en").text
    sections = len(re.findall(r'class="doc-section[ "]', html))
    citations = re.findall(r'class="copy-cite" data-copy="([^"]+)"', html)
    assert len(citations) == sections + 1  # each section, and the document itself
    assert "Law of Turkmenistan on Combating Trafficking in Persons (2016), Article 5" in " ".join(
        citations
    )


def test_a_web_page_is_cited_by_its_address_and_a_saved_file_by_its_path() -> None:
    t = translator("en")
    hit = {"cite_title": "Training workshop", "cite_label": "“Programme”", "pages": [],
           "url": "https://turkmenistan.iom.int/news/training-workshop-2025",
           "source": "web/training-workshop-2025.html"}  # fmt: skip
    assert views.hit_citation(hit, t) == (
        "Training workshop, “Programme”, https://turkmenistan.iom.int/news/training-workshop-2025"
    )
    saved = {**hit, "url": ""}
    assert views.hit_citation(saved, t).endswith("web/training-workshop-2025.html")


# --- languages, numbers, dates, times ------------------------------------------------------


def test_turkmen_interface_translates_every_message() -> None:
    assert set(TURKMEN) == set(MESSAGES)
    assert all(text.strip() for text in TURKMEN.values())
    tk = translator("tk")
    untranslated = [k for k in MESSAGES if tk(k) == MESSAGES[k][0] and MESSAGES[k][0] != "API"]
    # Only words that are the same in both (e.g. "Element") may match the English.
    assert len(untranslated) <= 3, untranslated


def test_turkmen_pages_have_no_english_interface_words(client: Any) -> None:
    english = {
        text for key, (text, _) in MESSAGES.items() if not key.startswith(("lang.", "element."))
    }
    for url in ("/search?q=hotline&ui=tk", "/status?ui=tk", "/compare?ui=tk", "/nowhere?ui=tk"):
        page = client.get(url)
        assert '<html lang="tk">' in page.text
        words = text_of(page.text)
        for message in ("Search the knowledge base", "Filters", "Mentions", "Compare laws",
                        "Page not found", "Ingest status", "Copy citation"):  # fmt: skip
            assert message in english and message not in words, (url, message)


def test_russian_interface_has_russian_facets_expansion_and_definition_elements(
    client: Any,
) -> None:
    html = client.get("/search", params={"q": "Akhal velayat", "ui": "ru"}).text
    mentions = html[html.index('data-facet="tag"') :]
    mentions = mentions[: mentions.index("</section>")]
    assert "Ахалский велаят" in mentions and "Akhal" not in text_of(mentions)
    assert "означает «Ахалский велаят»" in html
    compare = client.get(
        "/compare", params={"a": "law-ctip-2007-en", "b": "law-ctip-2016-en", "ui": "ru"}
    ).text
    row = compare[compare.index('data-element="act.recruitment"') :]
    assert "вербовка" in row[: row.index("</th>")]
    assert re.search(r"сходство 0,\d\d", compare), "decimal comma"


def test_numbers_dates_and_times_in_the_readers_convention() -> None:
    en, ru, tk = translator("en"), translator("ru"), translator("tk")
    assert formats.number(0.79, "ru") == "0,79" and formats.number(0.79, "en") == "0.79"
    assert formats.number(4700, "ru") == "4\u202f700" and formats.number(4700, "en") == "4,700"
    assert formats.date("2026-12-05", "en", en) == "5 December 2026"
    assert formats.date("2026-12-05", "ru", ru) == "05.12.2026"
    assert formats.date("2011-12", "tk", tk) == "dekabr 2011"
    assert formats.date("2024", "ru", ru) == "2024"
    # Stored in UTC, shown in Ashgabat (UTC+5): a run at 21:30 UTC is 02:30 the next day.
    assert formats.moment("2026-11-22T21:30:00+00:00", "ru", ru) == "23.11.2026 02:30"
    assert formats.moment("2026-11-22T21:30:00", "en", en) == "23 November 2026, 02:30"
    assert formats.duration(125, ru) == "2 мин 5 с"
    assert formats.pages([15, 16], tk) == "sah. 15–16"


def test_the_display_time_zone_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_TIMEZONE", "Europe/Vienna")
    assert formats.moment("2026-11-22T21:30:00+00:00", "ru", translator("ru")) == "22.11.2026 22:30"
    monkeypatch.setenv("KB_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="KB_TIMEZONE='Mars/Olympus' is not a time zone"):
        formats.display_zone()


def test_russian_404_page(client: Any) -> None:
    page = client.get("/no/such/page", params={"ui": "ru"})
    assert page.status_code == 404
    assert "Страница не найдена" in page.text and "Страницы /no/such/page нет." in page.text
    assert "no page at" not in page.text


# --- the status page -----------------------------------------------------------------------


def test_a_run_with_failures_is_not_shown_as_plain_completed(status_client: Any) -> None:
    html = status_client.get("/status", params={"ui": "en"}).text
    newest = html[html.index('<article class="run') :]
    newest = newest[: newest.index("</h3>")]
    assert "state-completed_with_failures" in newest and "completed with 1 failures" in newest


def test_a_source_failing_run_after_run_is_flagged_with_since_when(status_client: Any) -> None:
    html = status_client.get("/status", params={"ui": "ru"}).text
    failing = html[html.index('class="failing"') : html.index('class="runs"')]
    # Three runs in a row; the first of them started 2026-11-21 02:00 UTC = 07:00 in Ashgabat.
    assert "ошибка в последних 3 запусках подряд, с 21.11.2026 07:00" in failing
    assert "web/broken.pdf" in failing
    assert "Время указано по часовому поясу Ашхабад." in html


def test_each_run_shows_its_duration(status_client: Any) -> None:
    html = status_client.get("/status", params={"ui": "en"}).text
    assert html.count('class="duration"') == 4
    assert "took 2 min 5 s" in html and "took 9 s" in html


# --- long documents -----------------------------------------------------------------------


def test_each_section_links_back_to_the_contents(client: Any) -> None:
    html = client.get("/doc/law-ctip-2016-en").text
    assert 'id="toc"' in html
    sections = len(re.findall(r'class="doc-section[ "]', html))
    assert html.count('class="no-print contents-link" href="#toc"') == sections


def test_article_references_link_to_that_article_but_not_to_another_acts() -> None:
    targets = {"5": "art-5", "6": "art-6", "129-1": "art-129-1"}
    linked = views.link_articles(
        Markup("<p>under Articles 5 and 6 of this Law; see Article 129-1 of the Criminal Code;"
               " согласно статье 5 настоящего Закона; 6-njy maddasynda</p>"),
        targets,
    )  # fmt: skip
    assert linked.count('href="#sec-art-5"') == 2 and linked.count('href="#sec-art-6"') == 2
    assert "art-129-1" not in linked  # the Criminal Code's article, not this law's
    assert (
        views.link_articles(Markup("Article <mark>5</mark>"), targets) == "Article <mark>5</mark>"
    )


# --- accessibility and small things --------------------------------------------------------


def test_search_page_has_an_h1_and_a_skip_link_to_the_results(client: Any) -> None:
    html = client.get("/search", params={"q": "hotline"}).text
    assert re.search(r"<h1[^>]*><label for=\"q\">Search the knowledge base</label></h1>", html)
    assert '<a class="skip" href="#results">Skip to the results</a>' in html
    assert 'id="results"' in html
    skip = html.index('href="#results"')
    assert skip < html.index('class="facets"'), "the skip link comes before the filters"


def test_headings_never_skip_a_level(client: Any) -> None:
    for url in ("/search?q=hotline", "/doc/law-ctip-2016-en", "/status",
                "/compare?a=law-ctip-2007-en&b=law-ctip-2016-en"):  # fmt: skip
        levels = [int(n) for n in re.findall(r"<h([1-6])\b", client.get(url).text)]
        assert levels[0] == 1 and levels.count(1) == 1, url
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (url, levels)


def test_russian_text_is_marked_russian(client: Any) -> None:
    html = client.get("/search", params={"q": "телефон доверия"}).text
    assert re.search(r'<h2 class="doc-title" lang="ru">', html)
    compare = client.get(
        "/compare", params={"a": "law-ctip-2016-en", "b": "law-ctip-2016-ru", "all": "true"}
    ).text
    assert 'class="side side-b" lang="ru"' in compare


def test_law_drop_downs_lead_with_what_tells_editions_apart(client: Any) -> None:
    html = client.get("/compare").text
    options = re.findall(r'<option value="law-ctip-(\d{4})-en"[^>]*>([^<]+)</option>', html)
    assert {year: label[:11] for year, label in options} == {
        "2007": "2007 · EN ·",
        "2016": "2016 · EN ·",
    }


def test_head_of_an_original_answers_like_get_without_a_body(client: Any) -> None:
    head = client.head("/file/law-ctip-2016-en")
    assert head.status_code == 200 and head.headers["content-type"] == "application/pdf"
    assert head.content == b""
    assert int(head.headers["content-length"]) > 1000


def test_a_page_fetched_from_the_web_is_cited_by_its_address(tmp_path: Path) -> None:
    from nightly_helpers import Page, html_page, run_plain, serve_site, write_manifest

    from search.query import searchers

    with serve_site() as site:
        site.pages["/news/workshop"] = Page(
            html_page("Workshop in Ashgabat", "Trainers met the kestrel team in Mary.")
        )
        manifest = write_manifest(
            tmp_path / "sources.toml", [{"url": site.url("/news/workshop"), "doctype": "news"}]
        )
        run_plain(tmp_path / "home", manifest)
    try:
        web = web_client(tmp_path / "home")
        address = site.url("/news/workshop")
        html = web.get("/search", params={"q": "kestrel", "ui": "ru"}).text
        cited = re.findall(r'class="copy-cite" data-copy="([^"]+)"', html)
        assert cited and all(c.endswith(address) for c in cited)
        doc = web.get("/doc/workshop", params={"ui": "en"}).text
        assert f"Workshop in Ashgabat, {address}" in doc
    finally:
        searchers.close()
