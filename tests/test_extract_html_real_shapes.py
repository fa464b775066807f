"""Web pages in the shapes real sites have: the article kept, everything else dropped.

Every page here is written for the test, modelled on layouts met on real sites (an
ASP.NET page inside one <form>, an article in a wrapper named "sidebar", comment
threads, hidden copies, banners) and on our own material's charsets. Assertions are
what a user sees: the article's sentences in the section text, the menu's words absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.acquire.sources import discover, folder_manifest
from kb.extract import extract_bytes
from kb.ingest.pipeline import Outcome, clean_site_boilerplate, document_from_extracted
from kb.model import SourceRef

# Long enough that the main-content pass judges the page (short pages are all article).
ARTICLE = [
    "Ashgabat hosted a two-day training on the identification of victims of trafficking for"
    " thirty-two practitioners from the police, the prosecution and the migration service.",
    "Participants worked through cases of labour exploitation met in construction, in"
    " agriculture and in domestic work, and practised the first interview with a survivor.",
    "The trainers explained how the National Referral Mechanism passes a survivor from the"
    " first contact to shelter, medical help, legal counselling and, when wanted, return home.",
    "A second part covered the collection of evidence that does not depend on the testimony"
    " of the victim, such as payment records, travel documents and messages from recruiters.",
    "At the end of the training the participants agreed on a checklist of indicators that"
    " every frontline officer in the velayats will receive in Turkmen and in Russian.",
]
MENU = (
    '<ul class="menu"><li><a href="/">Home page</a></li><li><a href="/who">Who we are</a></li></ul>'
)


def article_html(heading: str = "Training on victim identification") -> str:
    paras = "".join(f"<p>{p}</p>" for p in ARTICLE[:3])
    more = "".join(f"<p>{p}</p>" for p in ARTICLE[3:])
    return f"<h1>{heading}</h1>{paras}<h2>Evidence and indicators</h2>{more}"


def sections_text(data: bytes, name: str = "page.html") -> str:
    ref = SourceRef(key=f"/site/{name}", location=name, site="site")
    doc = document_from_extracted(extract_bytes(ref, data), "page")
    return "\n".join([" / ".join(s.heading_path) + "\n" + s.text for s in doc.sections])


def assert_article(text: str) -> None:
    for sentence in ARTICLE:
        assert sentence in text, sentence[:60]


def test_asp_net_page_whole_in_one_form_keeps_its_article() -> None:
    page = (
        "<html><head><title>News</title></head><body>"
        '<form method="post" action="./News.aspx?id=12" id="form1">'
        '<input type="hidden" name="__VIEWSTATE" value="dDwtMTA4">'
        f"{MENU}<div id='ContentPlaceHolder1_pnlNews'>{article_html()}</div>"
        '<div class="footer">Copyright ministry portal</div></form></body></html>'
    )
    text = sections_text(page.encode())
    assert_article(text)
    assert "Who we are" not in text and "Copyright ministry portal" not in text
    assert "Evidence and indicators" in text  # sections still cut at the page's h2


def test_article_inside_a_wrapper_named_sidebar_is_kept_and_the_real_sidebar_goes() -> None:
    page = (
        "<html><body>"
        f'<div class="layout-with-sidebar">{MENU}'
        f'<div class="content-column">{article_html()}</div>'
        '<div class="sidebar"><h3>Latest news</h3><ul><li><a href="/n/1">Flood warning in'
        " Dashoguz</a></li><li><a href=/n/2>Cotton harvest begins early</a></li></ul></div>"
        "</div></body></html>"
    )
    text = sections_text(page.encode())
    assert_article(text)
    assert "Flood warning in Dashoguz" not in text and "Home page" not in text


def test_comments_related_lists_tickers_banners_and_share_bars_are_dropped() -> None:
    page = (
        "<html><body>"
        '<div class="cookie-banner">We use cookies to improve your experience. Accept all</div>'
        '<div class="news-ticker">Breaking: markets close higher in Ashgabat today</div>'
        f"<article>{article_html()}"
        '<div class="share-bar"><a href="#">Share on Facebook</a><a href="#">Tweet this</a></div>'
        "</article>"
        '<section class="related-articles"><h2>Related articles</h2><ul>'
        '<li><a href="/r1">Shelter opens its doors in Turkmenabat</a></li></ul></section>'
        '<div id="comments"><h3>3 comments</h3><ol class="comment-list">'
        "<li><p>Reader Aman wrote: a very useful training, we need more of these in Lebap"
        " province, especially for the border guards who meet travellers first.</p></li>"
        "<li><p>Reader Maya wrote: when will the checklist be published online for NGOs?</p></li>"
        "</ol></div>"
        '<div class="newsletter-signup">Subscribe to our newsletter for weekly updates</div>'
        "</body></html>"
    )
    text = sections_text(page.encode())
    assert_article(text)
    for gone in (
        "We use cookies",
        "markets close higher",
        "Share on Facebook",
        "Shelter opens its doors",
        "Reader Aman wrote",
        "Reader Maya wrote",
        "Subscribe to our newsletter",
    ):
        assert gone not in text, gone


def test_hidden_copies_are_dropped() -> None:
    page = (
        "<html><body>"
        f"<main>{article_html()}</main>"
        '<div style="display: none"><p>Hidden copy: the training gathered many people.</p></div>'
        "<div hidden><p>Collapsed menu text about opening hours of the office.</p></div>"
        '<div aria-hidden="true"><p>Screen-reader-hidden duplicate of the lead.</p></div>'
        '<p style="visibility:hidden">Invisible teaser line.</p>'
        "</body></html>"
    )
    text = sections_text(page.encode())
    assert_article(text)
    for gone in ("Hidden copy", "Collapsed menu text", "Screen-reader-hidden", "Invisible teaser"):
        assert gone not in text, gone


def test_a_hidden_copy_of_the_whole_article_goes_but_a_page_hidden_until_scripts_run_stays() -> (
    None
):
    copy = f'<html><body><main>{article_html()}</main><div style="display:none">'
    copy += "".join(f"<p>Copy: {p}</p>" for p in ARTICLE) + "</div></body></html>"
    text = sections_text(copy.encode())
    assert_article(text)
    assert "Copy:" not in text
    whole = f'<html><body><div id="page" style="display: none">{MENU}{article_html()}</div>'
    whole += "</body></html>"
    assert_article(sections_text(whole.encode()))


def test_a_block_holding_most_of_the_page_is_never_dropped_by_a_markup_rule() -> None:
    # An article inside <aside class="nav-panel"> with nothing else on the page.
    page = f'<html><body><aside class="nav-panel">{article_html()}</aside></body></html>'
    assert_article(sections_text(page.encode()))


def _site_page(host: str, n: int, banner: str) -> str:
    body = "".join(f"<p>{s} (page {n} of {host})</p>" for s in ARTICLE[:2])
    return (
        f'<html><head><link rel="canonical" href="https://{host}/news/{n}"></head><body>'
        f"<div class='strip'>{banner}</div><h1>News {n} from {host}</h1>{body}</body></html>"
    )


def test_two_sites_in_one_folder_are_told_apart_by_their_own_addresses(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    banners = {
        "iom.example.org": "Call the hotline 8 800 free of charge, day and night",
        "news.example.com": "Weather in Ashgabat: sunny, plus 31 degrees",
    }
    for host, banner in banners.items():
        for n in range(3):
            (folder / f"{host}-{n}.html").write_text(_site_page(host, n, banner), "utf-8")
    # A page that says nothing of its address stays with its folder.
    (folder / "loose.html").write_text("<html><body><p>A loose page.</p></body></html>", "utf-8")
    outcomes = []
    for ref in discover(folder_manifest(folder)):
        outcomes.append(
            Outcome(ref, "new", extracted=extract_bytes(ref, Path(ref.key).read_bytes()))
        )
    clean_site_boilerplate(outcomes, None)
    sites = {Path(o.ref.key).name: o.ref.site for o in outcomes}
    assert sites["iom.example.org-0.html"] == "iom.example.org"
    assert sites["news.example.com-2.html"] == "news.example.com"
    assert sites["loose.html"] == "saved"
    for o in outcomes:
        assert o.extracted is not None
        text = "\n".join(b.text for b in o.extracted.blocks)
        assert not any(banner in text for banner in banners.values()), o.ref.key
        if "loose" not in o.ref.key:
            assert ARTICLE[0] in text


RU = "Горячая линия помогает людям, пострадавшим от торговли людьми, в Ашхабаде и велаятах."
TK = "Aşgabatda adam söwdasynyň pidalaryny ýüze çykarmak boýunça seminar geçirildi; žurnalistler."


def _charset_page(sentence: str, meta: str = "") -> str:
    return (
        f"<html><head>{meta}<title>Page</title></head><body><h1>Habar</h1>"
        f"<p>{sentence}</p><p>{sentence}</p></body></html>"
    )


@pytest.mark.parametrize(
    ("name", "data", "sentence"),
    [
        ("windows-1251", _charset_page(RU, '<meta charset="windows-1251">').encode("cp1251"), RU),
        ("windows-1251 undeclared", _charset_page(RU).encode("cp1251"), RU),
        (
            "KOI8-R",
            _charset_page(
                RU, '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
            ).encode("koi8_r"),
            RU,
        ),
        ("KOI8-R undeclared", _charset_page(RU).encode("koi8_r"), RU),
        ("UTF-16 LE with BOM", b"\xff\xfe" + _charset_page(RU).encode("utf-16-le"), RU),
        ("UTF-16 BE with BOM", b"\xfe\xff" + _charset_page(RU).encode("utf-16-be"), RU),
        ("UTF-16 LE without BOM", _charset_page(RU).encode("utf-16-le"), RU),
        ("UTF-16 BE without BOM", _charset_page(RU).encode("utf-16-be"), RU),
        (
            "UTF-16 without BOM declaring utf-16",
            _charset_page(RU, '<meta charset="utf-16">').encode("utf-16-le"),
            RU,
        ),
        (
            "meta says windows-1251, bytes are KOI8-R",
            _charset_page(RU, '<meta charset="windows-1251">').encode("koi8_r"),
            RU,
        ),
        (
            "meta says KOI8-R, bytes are windows-1251",
            _charset_page(RU, '<meta charset="koi8-r">').encode("cp1251"),
            RU,
        ),
        (
            "meta says utf-8, bytes are windows-1251",
            _charset_page(RU, '<meta charset="utf-8">').encode("cp1251"),
            RU,
        ),
        (
            "meta says windows-1251, bytes are UTF-8",
            _charset_page(RU, '<meta charset="windows-1251">').encode("utf-8"),
            RU,
        ),
        (
            "Turkmen Latin in windows-1250",
            _charset_page(TK, '<meta charset="windows-1250">').encode("cp1250"),
            TK,
        ),
        ("Turkmen Latin in ISO-8859-2, undeclared", _charset_page(TK).encode("iso8859_2"), TK),
        (
            "Turkmen Latin in windows-1250, meta says utf-8",
            _charset_page(TK, '<meta charset="utf-8">').encode("cp1250"),
            TK,
        ),
    ],
)
def test_charsets_are_decoded_right(name: str, data: bytes, sentence: str) -> None:
    text = sections_text(data)
    assert sentence in text, name
    assert "\ufffd" not in text, name


def test_page_address_comes_from_canonical_then_og_url_and_base_groups_only() -> None:
    def meta(head: str) -> dict[str, str]:
        ref = SourceRef(key="/x/p.html", location="p.html")
        page = f"<html><head>{head}</head><body><p>{ARTICLE[0]}</p></body></html>"
        return extract_bytes(ref, page.encode()).metadata

    assert (
        meta('<link rel="canonical" href="https://a.example/x">')["address"]
        == "https://a.example/x"
    )
    assert (
        meta('<meta property="og:url" content="https://b.example/y">')["address"]
        == "https://b.example/y"
    )
    base = meta('<base href="https://c.example/">')
    assert base["base_address"] == "https://c.example/" and "address" not in base
    assert "address" not in meta('<link rel="canonical" href="/relative/only">')


def test_a_changed_page_is_still_cleaned_with_its_sites_earlier_pages(tmp_path: Path) -> None:
    from kb.home import paths as home_paths
    from kb.ingest.sequence import run_ingest
    from kb.store import Store

    folder = tmp_path / "saved"
    folder.mkdir()
    banner = "Call the hotline 8 800 free of charge, day and night"
    for n in range(3):
        (folder / f"iom-{n}.html").write_text(_site_page("iom.example.org", n, banner), "utf-8")
    (folder / "other.html").write_text(_site_page("news.example.com", 9, "Weather today"), "utf-8")
    home = tmp_path / "home"
    assert not run_ingest(home, corpus=folder, full=True).failures
    # Only one page changes: the other two are not extracted again, yet they still count.
    changed = _site_page("iom.example.org", 0, banner).replace("page 0 of", "page zero of")
    (folder / "iom-0.html").write_text(changed, "utf-8")
    assert not run_ingest(home, corpus=folder).failures
    with Store(home_paths(home).store) as store:
        sites = {Path(r.key).name: r.site for r in store.sources()}
        doc = store.load_document("iom-0")
    assert sites == {
        "iom-0.html": "iom.example.org",
        "iom-1.html": "iom.example.org",
        "iom-2.html": "iom.example.org",
        "other.html": "news.example.com",
    }
    assert doc is not None
    assert "page zero of" in doc.text and banner not in doc.text
