"""The trainer's and the legal advisor's paths in Chromium, at 1280 and 390 px wide, in each
interface language, with axe-core checking every page they pass.

axe-core is the npm package's axe.min.js (MPL-2.0), checked in under tests/browser/axe/
with its licence so that a fresh clone needs no network; `make axe` fetches it again
from the npm registry (the version is the one named at the top of the file).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).with_name("axe") / "axe.min.js"
WIDTHS = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
UIS = ("en", "ru", "tk")
# WCAG 2.2 AA and axe's best practices: every rule axe runs by default.
MIN_TARGET_PX = 24


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (rule, impact, where)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (no inline scripts) stays on.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }"""
    )
    return list(result)


def assert_accessible(page: Any, where: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"{where}: " + json.dumps(violations, ensure_ascii=False, indent=1)


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


@pytest.fixture(scope="module")
def status_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server over a small knowledge base whose runs have failures: one source
    failed in the last three runs."""
    import threading
    import time

    import uvicorn
    from web_support import FAILURE, build_small_home

    from kb.home import paths as home_paths
    from kb.store import Store
    from kb.web import create_app

    home = build_small_home(tmp_path_factory.mktemp("browser-status"))
    with Store(home_paths(home).store) as store:
        for day in (22, 23):
            run = store.start_run(f"2026-11-{day}T21:30:00+00:00")
            store.finish_run(run, f"2026-11-{day}T21:32:05+00:00", "completed",
                             {"sources": {"seen": 3, "failed": 1}}, [FAILURE])  # fmt: skip
    config = uvicorn.Config(create_app(home), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture()
def clipboard(browser_context: Any, server: str) -> None:
    browser_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)


@pytest.mark.parametrize("ui", UIS)
@pytest.mark.parametrize("width", list(WIDTHS))
def test_trainer_finds_the_indicators_copies_a_citation_and_reads_the_section(
    page: Any, server: str, screenshots: Path, clipboard: None, ui: str, width: str
) -> None:
    page.set_viewport_size(WIDTHS[width])
    page.goto(f"{server}/search?ui={ui}")
    assert page.locator("html").get_attribute("lang") == ui
    assert page.locator("h1").count() == 1
    assert_accessible(page, f"empty search page ({ui}, {width})")
    page.fill("#q", "indicators of labour exploitation")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?q=*")
    first = page.locator(".hit").first
    assert first.get_attribute("data-section") == "s-3-2"
    page.screenshot(path=str(screenshots / f"daily-search-{ui}-{width}.png"))

    # The filters come before the results; on a phone they start folded.
    filters, results = box(page, ".facets"), box(page, "#results")
    if width == "wide":
        assert filters["x"] + filters["width"] <= results["x"], "a column beside the results"
    else:
        assert filters["y"] + filters["height"] <= results["y"], "above the results"
    folded = not page.locator("details.filters").evaluate("d => d.open")
    assert folded == (width == "phone")
    if width == "phone":
        assert filters["height"] < 80, "folded filters take a line, not a screen"
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    # Page links and buttons are targets a finger can hit.
    for selector in (".hit .cite-page", ".hit .copy-cite", "details.filters > summary"):
        target = box(page, selector)
        assert min(target["width"], target["height"]) >= MIN_TARGET_PX, selector
    assert_accessible(page, f"results ({ui}, {width})")

    # The skip link leads past the filters to the results.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#results"

    # Copy the first citation: the clipboard holds the citation shown.
    button = first.locator(".copy-cite")
    assert button.is_visible(), "the script unhides the copy buttons"
    shown = first.locator(".cite-text").inner_text()
    button.click()
    assert page.evaluate("navigator.clipboard.readText()") == shown
    assert ("section 3.2" if ui == "en" else "раздел 3.2" if ui == "ru" else "3.2 bölüm") in shown
    page.wait_for_function("document.getElementById('copy-status').textContent.length > 0")

    # Open the section: it has its own citation and the contents stay at hand.
    first.locator("a.heading").click()
    page.wait_for_url("**/doc/**")
    section = page.locator("#sec-s-3-2")
    assert section.locator(".copy-cite").is_visible()
    toc = box(page, "#toc")
    text = box(page, "#sec-s-3-2")
    if width == "wide":
        assert toc["x"] > text["x"] + text["width"] - 1, "contents in a side column"
        assert 0 <= toc["y"] < 900, "the side column stays in view at the section"
    else:
        section.locator(".contents-link").click()
        assert page.evaluate("location.hash") == "#toc"
    page.screenshot(path=str(screenshots / f"daily-document-{ui}-{width}.png"))
    assert_accessible(page, f"document ({ui}, {width})")


@pytest.mark.parametrize("ui", UIS)
@pytest.mark.parametrize("width", list(WIDTHS))
def test_legal_advisor_compares_editions_and_checks_the_status(
    page: Any, server: str, status_server: str, screenshots: Path, ui: str, width: str
) -> None:
    page.set_viewport_size(WIDTHS[width])
    page.goto(f"{server}/compare?ui={ui}")
    # The two editions are told apart even where the drop-down cuts the title.
    labels = page.locator("#compare-a option").all_inner_texts()
    assert any(label.startswith("2007 · EN") for label in labels)
    assert any(label.startswith("2016 · EN") for label in labels)
    select = box(page, "#compare-a")
    assert select["x"] + select["width"] <= WIDTHS[width]["width"]
    page.select_option("#compare-a", "law-ctip-2007-en")
    page.select_option("#compare-b", "law-ctip-2016-en")
    page.click(".compare-form button[type=submit]")
    page.wait_for_url("**/compare?a=law-ctip-2007-en&b=law-ctip-2016-en*")
    assert page.locator(".pair.status-amended").first.is_visible()
    levels = page.evaluate(
        "Array.from(document.querySelectorAll('h1,h2,h3,h4')).map(h => +h.tagName[1])"
    )
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    page.screenshot(path=str(screenshots / f"daily-compare-{ui}-{width}.png"))
    assert_accessible(page, f"compare ({ui}, {width})")

    # A Russian law and its English version, side by side: each side in its language.
    page.goto(f"{server}/compare?a=law-ctip-2016-en&b=law-ctip-2016-ru&all=true&ui={ui}")
    assert page.locator(".side-b").first.get_attribute("lang") == "ru"
    assert_accessible(page, f"parallel compare ({ui}, {width})")

    page.goto(f"{server}/doc/law-ctip-2016-ru?ui={ui}")
    assert page.locator("h1").get_attribute("lang") == "ru"
    assert_accessible(page, f"Russian law ({ui}, {width})")

    page.goto(f"{status_server}/status?ui={ui}")
    assert page.locator(".run .badge.state-completed_with_failures").count() == 3
    assert page.locator(".failing-sources li").count() == 1
    assert page.locator(".run .duration").count() == 4
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(screenshots / f"daily-status-{ui}-{width}.png"), full_page=True)
    assert_accessible(page, f"status with failures ({ui}, {width})")
    page.goto(f"{server}/documents?ui={ui}")
    assert_accessible(page, f"documents ({ui}, {width})")
