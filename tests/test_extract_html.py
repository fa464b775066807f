from __future__ import annotations

from kb.extract.boilerplate import remove_repeated, repeated_blocks
from kb.extract.html import extract_html
from kb.model import SourceRef

BOILER = """
<div class="top">RSS | Site map</div>
<div class="brand"><span>International Organization for Migration</span><br>the migration agency</div>
<div class="promo"><p>Do you plan to travel abroad?</p><p>Call to the Hotline!</p>
<p>Вы планируете выехать зарубеж? Не спешите....Позвоните на Горячую Линию!.</p></div>
<ul class="main"><li><a href="#">Who we are</a></li><li><a href="#">Our Work</a></li></ul>
"""
FOOT = '<div class="bottom">© IOM Turkmenistan, Ashgabat</div><script>var x = "hidden";</script>'


def page(body: str, charset: str = "utf-8") -> str:
    return (f'<html><head><meta charset="{charset}"><title>T | IOM</title></head><body>'
            f"{BOILER}<div class='content'>{body}</div>{FOOT}</body></html>")  # fmt: skip


def ref(name: str) -> SourceRef:
    return SourceRef(key=f"/x/{name}", location=name, site="iom")


def test_html_keeps_headings_and_drops_scripts_and_menus() -> None:
    html = page("<h1>Workshop on identification</h1><p>Ashgabat,\u00a015-16 January 2025. Forty officers met.</p>"
                "<h2>Results</h2><p>They modelled a referral.</p>")  # fmt: skip
    ex = extract_html(ref("a.html"), html.encode())
    assert ex.title == "Workshop on identification"
    texts = [b.text for b in ex.blocks]
    assert "Ashgabat, 15-16 January 2025. Forty officers met." in texts  # NBSP normalised
    assert any(b.kind == "heading" and b.text == "Results" and b.level == 2 for b in ex.blocks)
    assert not any("hidden" in t for t in texts)


def test_blocks_repeated_across_site_pages_are_removed() -> None:
    pages = [extract_html(ref(f"{n}.html"), page(f"<h1>Page {n}</h1><p>Unique text number {n}.</p>").encode())
             for n in range(3)]  # fmt: skip
    repeated = repeated_blocks([p.block_hashes for p in pages])
    for p in pages:
        remove_repeated(p, repeated)
        text = " ".join(b.text for b in p.blocks)
        assert (
            "Hotline" not in text and "Горячую" not in text and "the migration agency" not in text
        )
        assert "Unique text number" in text


def test_declared_windows_1251_is_honoured() -> None:
    html = page(
        "<h1>Горячая линия</h1><p>Жертвам торговли людьми помогают.</p>", charset="windows-1251"
    )
    ex = extract_html(ref("ru.html"), html.encode("cp1251"))
    assert ex.title == "Горячая линия"
    assert any("Жертвам торговли людьми" in b.text for b in ex.blocks)


def test_wrong_declared_charset_falls_back_to_detection() -> None:
    html = page(
        "<h1>Горячая линия</h1><p>Жертвам торговли людьми помогают в Ашхабаде.</p>",
        charset="windows-1251",
    )
    ex = extract_html(ref("ru.html"), html.encode("utf-8"))
    assert any("торговли людьми" in b.text for b in ex.blocks)
    assert any("does not match" in w for w in ex.warnings)


def test_publication_date_from_meta() -> None:
    html = '<html><head><meta name="date" content="2018-06-12"></head><body><h1>X</h1><p>Text here.</p></body></html>'
    assert extract_html(ref("d.html"), html.encode()).published == "2018-06-12"
