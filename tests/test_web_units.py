"""The web layer's small pieces: escaping and marks, links, interface language."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from kb.web.highlight import code_spans, marks_to_html, paragraphs, spans_to_html
from kb.web.i18n import choose_ui, translator
from kb.web.service import SearchParams
from kb.web.views import document_url, group_hits, page_links, search_url


def test_snippet_marks_become_mark_elements_after_escaping() -> None:
    html = marks_to_html("a **victim** of <script>alert(1)</script> & **trafficking**")
    assert str(html) == (
        "a <mark>victim</mark> of &lt;script&gt;alert(1)&lt;/script&gt; &amp; <mark>trafficking</mark>"
    )


def test_a_documents_own_lone_asterisks_stay_text() -> None:
    assert str(marks_to_html("**victim** rated 5** stars")) == "<mark>victim</mark> rated 5** stars"


def test_commands_in_messages_become_code_after_escaping() -> None:
    assert str(code_spans("run `kb build` for <b>")) == "run <code>kb build</code> for &lt;b&gt;"
    assert str(code_spans("a lone ` stays")) == "a lone ` stays"


def test_spans_are_marked_and_the_rest_escaped() -> None:
    text = "Article 129-1 <b>applies</b>"
    html = str(spans_to_html(text, [(8, 13), (10, 13), (15, 16)]))
    assert html == "Article <mark>129-1</mark> &lt;<mark>b</mark>&gt;applies&lt;/b&gt;"


def test_paragraphs_and_line_breaks() -> None:
    assert (
        str(paragraphs(spans_to_html("One\ntwo\n\nThree", []))) == "<p>One<br>two</p><p>Three</p>"
    )


def test_interface_language_precedence() -> None:
    assert choose_ui("ru", "en", "en-GB") == "ru"
    assert choose_ui(None, "ru", "en-GB") == "ru"
    assert choose_ui("xx", None, "ru-RU,ru;q=0.9") == "ru"
    assert choose_ui(None, None, "de-DE,fr;q=0.5") == "en"
    assert translator("ru")("search.total", total=3, documents=2) == "Разделов: 3, документов: 2"
    assert translator("en")("no.such.key") == "no.such.key"


def test_search_links_keep_the_state_and_a_new_filter_starts_at_page_one() -> None:
    params = SearchParams("жертвы", lang="ru", page=3, sort="date")
    next_page = parse_qs(urlsplit(search_url(params, page=4)).query)
    assert next_page == {"q": ["жертвы"], "lang": ["ru"], "sort": ["date"], "page": ["4"]}
    filtered = parse_qs(urlsplit(search_url(params, type="legislation")).query)
    assert "page" not in filtered and filtered["type"] == ["legislation"]
    assert "lang" not in parse_qs(urlsplit(search_url(params, lang=None)).query)


def test_document_links_jump_to_the_section() -> None:
    assert (
        document_url("law 2016/en", q="129-1", section="art-5")
        == "/doc/law%202016%2Fen?q=129-1&s=art-5#sec-art-5"
    )
    assert document_url("manual") == "/doc/manual"


def test_page_links_show_gaps() -> None:
    assert page_links(6, 20) == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert page_links(1, 3) == [1, 2, 3]


def test_hits_are_grouped_as_the_search_grouped_them() -> None:
    hit = {
        "doc_id": "a",
        "title": "A",
        "doctype": "news",
        "date": "",
        "lang": "en",
        "source": "a.html",
    }
    results = {
        "hits": [{**hit, "section_id": "s1"}, {**hit, "section_id": "s2"}],
        "groups": [
            {
                "doc_id": "a",
                "title": "A",
                "doctype": "news",
                "date": "",
                "sections": ["s2", "s1"],
                "more": 4,
            }
        ],
    }
    (group,) = group_hits(results)
    assert [h["section_id"] for h in group.hits] == ["s2", "s1"] and group.more == 4
