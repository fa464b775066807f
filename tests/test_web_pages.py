"""The HTML pages as a browser without JavaScript receives them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner
from web_support import SCRIPT, build_small_home, web_client

from kb.cli import app as cli_app
from kb.web.app import missing_messages
from kb.web.i18n import MESSAGES

# Any script but our own file (kb.js: the copy-citation button, the phone's folded filters).
RAW_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=\"/static/kb\.js\")", re.IGNORECASE)


@pytest.fixture(scope="module")
def client(corpus_home: Path) -> Any:
    return web_client(corpus_home)


@pytest.fixture(scope="module")
def small_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_home(tmp_path_factory.mktemp("web-pages"))


@pytest.fixture()
def small(small_home: Path) -> Any:
    return web_client(small_home)


def links(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)]


# --- search ----------------------------------------------------------------------------


def test_search_page_shows_grouped_results_with_marks_pages_and_facets(client: Any) -> None:
    html = client.get("/search", params={"q": "indicators of labour exploitation"}).text
    assert 'value="indicators of labour exploitation"' in html
    assert "Training Manual on Identification and Referral of Victims of Trafficking" in html
    assert "3.2 Indicators of labour exploitation" in html
    assert "<mark>" in html
    assert "pp. 15–16" in html
    assert "/file/training-manual-victim-identification#page=15" in html
    assert (
        "/doc/training-manual-victim-identification?q=indicators+of+labour+exploitation&s=s-3-2#sec-s-3-2"
        in links(html)
    )
    # facets with counts, each a link that keeps the query
    facet = re.search(
        r'href="(/search\?[^"]*type=training_manual[^"]*)"[^>]*>\s*Training manual', html
    )
    assert facet and "q=indicators+of+labour+exploitation" in facet.group(1).replace("&amp;", "&")


def test_the_url_holds_the_whole_query_state(client: Any) -> None:
    state = {"q": "trafficking", "lang": "en", "sort": "date", "limit": "3", "page": "2"}
    html = client.get("/search", params=state).text
    assert 'aria-current="page">2<' in html
    for href in links(html):
        if href.startswith("/search?") and "page=3" in href:
            assert parse_qs(urlsplit(href).query) == {
                k: [v] for k, v in {**state, "page": "3"}.items()
            }
            break
    else:
        pytest.fail("no link to page 3 keeping the query, the filter, the sort and the page size")
    # the form keeps the active filter for the next query
    assert '<input type="hidden" name="lang" value="en">' in html


def test_russian_query_shows_russian_results_and_the_expansions_used(client: Any) -> None:
    html = client.get("/search", params={"q": "жертвы торговли людьми", "lang": "ru"}).text
    assert "Телефон доверия и выявление жертв торговли людьми" in html
    assert 'lang="ru"' in html


def test_did_you_mean_is_offered_for_a_misspelt_word(client: Any) -> None:
    html = client.get("/search", params={"q": "trafiking"}).text
    assert "trafficking" in html
    assert "did-you-mean" in html


def test_a_bad_query_gets_a_friendly_message_not_a_traceback(client: Any) -> None:
    response = client.get("/search", params={"q": "x" * 1001})
    assert response.status_code == 400
    assert "query too long" in response.text
    assert 'role="alert"' in response.text
    response = client.get("/search", params={"q": "victims", "limit": "many"})
    assert response.status_code == 422
    assert "limit: Input should be a valid integer" in response.text
    assert "<html" in response.text


def test_search_page_without_query_shows_examples(client: Any) -> None:
    html = client.get("/search").text
    assert "/search?q=129-1" in links(html)


# --- documents -------------------------------------------------------------------------


def test_document_page_has_metadata_tags_contents_and_highlighted_sections(client: Any) -> None:
    html = client.get("/doc/training-manual-victim-identification", params={"q": "passport"}).text
    assert (
        '<h1 id="top" lang="en">Training Manual on Identification and Referral of Victims of '
        "Trafficking</h1>" in html
    )
    assert 'href="/file/training-manual-victim-identification"' in html
    assert "Training manual" in html and "International Organization for Migration" in html
    assert 'href="#sec-s-3-2"' in html and 'id="sec-s-3-2"' in html
    section = html[html.index('id="sec-s-3-2"') : html.index('id="sec-s-3-3"')]
    assert "<mark>passport" in section.lower()
    assert 'href="/file/training-manual-victim-identification#page=15"' in section


def test_document_page_with_a_section_lists_similar_sections(client: Any) -> None:
    html = client.get("/doc/training-manual-victim-identification", params={"s": "s-3-2"}).text
    similar = html[html.index('class="similar"') : html.index('class="toc"')]
    assert similar.count("<li>") >= 1
    assert "/doc/training-manual-victim-identification?" not in similar, "other documents only"


def test_documents_page_lists_every_document(client: Any) -> None:
    html = client.get("/documents").text
    assert html.count("<tr data-doc=") == 14


def test_unknown_document_is_a_friendly_404(client: Any) -> None:
    response = client.get("/doc/no-such-doc")
    assert response.status_code == 404
    assert "no document" in response.text and "<html" in response.text


# --- what a document contains is shown as text ------------------------------------------------


def test_markup_in_a_document_is_shown_as_text_everywhere(small: Any) -> None:
    pages = [
        small.get("/search", params={"q": "hotline shelter"}),
        small.get("/doc/shelter-notes", params={"q": "hotline", "s": "hotline"}),
        small.get("/documents"),
        small.get("/status"),
        small.get("/search", params={"q": SCRIPT}),
        small.get("/search", params={"q": "hotline", "type": SCRIPT}),
        small.get("/doc/" + SCRIPT),
    ]
    for response in pages:
        assert response.status_code in (200, 400, 404), response.url
        assert not RAW_SCRIPT.search(response.text), response.url
        assert "<b>Referral</b>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1].text
    assert "&lt;b&gt;Referral&lt;/b&gt;" in pages[1].text


def test_pages_allow_only_their_own_script_file(small: Any) -> None:
    policy = small.get("/search").headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy


# --- originals -------------------------------------------------------------------------


def test_original_file_is_served_for_a_document_id(small: Any, small_home: Path) -> None:
    response = small.get("/file/shelter-notes")
    assert response.status_code == 200
    assert response.content == (small_home.parent / "notes" / "shelter-notes.md").read_bytes()
    assert response.headers["x-content-type-options"] == "nosniff"


def test_original_pdf_and_web_page(client: Any) -> None:
    pdf = client.get("/file/law-ctip-2007-en")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    page = client.get("/file/news-tot-mary-2018")
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("sandbox")


@pytest.mark.parametrize(
    "url",
    [
        "/file/no-such-doc",
        "/file/..%2F..%2Fetc%2Fpasswd",
        "/file/../../etc/passwd",
        "/file/%2Fetc%2Fpasswd",
        "/file/shelter-notes/../../kb.sqlite",
        "/file/",
    ],
)
def test_file_links_serve_only_sources_of_the_store(small: Any, url: str) -> None:
    response = small.get(url)
    assert response.status_code == 404
    assert b"root:" not in response.content and b"SQLite" not in response.content


# --- compare and status --------------------------------------------------------------------


def test_compare_page_aligns_two_editions_with_changes_marked(client: Any) -> None:
    html = client.get("/compare", params={"a": "law-ctip-2007-en", "b": "law-ctip-2016-en"}).text
    assert "<del>" in html and "<ins>" in html
    assert 'class="badge status-amended"' in html
    assert 'class="side side-a"' in html and 'class="side side-b"' in html
    assert 'id="elements"' in html and 'data-element="act.recruitment"' in html
    assert "Article 1(1)(a)" in html


def test_compare_page_offers_laws_to_pick(client: Any) -> None:
    html = client.get("/compare").text
    assert html.count('<option value="law-ctip-') == 6  # three laws, in each of the two lists


def test_compare_page_from_a_document_preselects_it_and_another_law(client: Any) -> None:
    html = client.get("/compare", params={"a": "law-ctip-2016-ru"}).text
    assert '<option value="law-ctip-2016-ru" selected>' in html.split('id="compare-b"')[0]
    assert '<option value="law-ctip-2007-en" selected>' in html.split('id="compare-b"')[1]


def test_compare_page_with_the_same_text_twice_says_so(client: Any) -> None:
    html = client.get("/compare", params={"a": "law-ctip-2007-en", "b": "law-ctip-2007-en"}).text
    assert "Pick two different texts." in html


def test_status_page_shows_runs_changes_failures_and_schedule(small: Any) -> None:
    html = small.get("/status").text
    assert "encrypted PDF: a password is required" in html
    assert "web/broken.pdf" in html
    assert 'href="/doc/shelter-notes"' in html
    assert "kb schedule" in html


# --- interface language ------------------------------------------------------------------


def test_interface_language_from_the_url_is_kept_in_a_cookie(small_home: Path) -> None:
    client = web_client(small_home)
    english = client.get("/search").text
    assert "Search the knowledge base" in english and '<html lang="en">' in english
    russian = client.get("/search", params={"ui": "ru"})
    assert "Поиск по базе знаний" in russian.text and '<html lang="ru">' in russian.text
    assert "kb_ui=ru" in russian.headers["set-cookie"]
    assert "Состояние загрузки" in client.get("/status").text, "the cookie keeps Russian"
    assert "Ingest status" in client.get("/status", params={"ui": "en"}).text


def test_the_language_switch_keeps_the_query(small: Any) -> None:
    html = small.get("/search", params={"q": "hotline", "type": "other"}).text
    switch = html[html.index('class="ui-switch"') :]
    assert "/search?q=hotline&type=other&ui=ru" in links(switch)


def test_browser_language_is_used_when_nothing_was_chosen(small_home: Path) -> None:
    client = web_client(small_home)
    html = client.get("/search", headers={"accept-language": "ru-RU,ru;q=0.9,en;q=0.8"}).text
    assert "Поиск по базе знаний" in html


def test_every_interface_text_has_english_and_russian() -> None:
    assert missing_messages() == set()
    from kb.legal.compare import STATUSES

    built_from_values = [
        *(
            f"status.{s}"
            for s in (*STATUSES, "present", "partial", "absent", "broader", "unknown", "extra")
        ),
        *(f"compare.mode.{m}" for m in ("redline", "parallel")),
        *(f"facet.{f}" for f in ("type", "lang", "year", "tag", "doc")),
        *(f"search.sort.{s}" for s in ("relevance", "date")),
        *(f"ops.{k}" for k in ("new", "updated", "removed")),
        *(f"ops.state.{s}" for s in ("completed", "failed", "running", "interrupted")),
    ]
    assert [k for k in built_from_values if k not in MESSAGES] == []
    for key, (english, russian) in MESSAGES.items():
        assert english and russian, key
        assert re.findall(r"{(\w+)}", english) == re.findall(r"{(\w+)}", russian), key


# --- kb serve ----------------------------------------------------------------------------


def test_kb_serve_is_a_command_bound_to_this_machine_by_default() -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "127.0.0.1" in result.output and "--port" in result.output
