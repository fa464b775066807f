"""Web sources against a local site: conditional requests, 304, changes, 404s, refusals, listing pages."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from nightly_helpers import Page, Site, html_page, links_page, run_plain, write_manifest
from pdf_fixtures import make_pdf

import kb.ingest.pipeline
from kb.acquire.fetch import RetryableHTTPError, fetch_url, linked_pdfs
from kb.acquire.sources import read_manifest
from kb.errors import ManifestError, SourceError
from kb.extract import EXTRACTOR_VERSIONS
from kb.model import SourceRef
from kb.store import Store
from search.query import search

pytestmark = pytest.mark.usefixtures("closing_searchers")


@pytest.fixture
def extracted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = kb.ingest.pipeline.extract_bytes

    def spy(ref, data, content_type=""):  # type: ignore[no-untyped-def]
        seen.append(ref.location)
        return real(ref, data, content_type)

    monkeypatch.setattr(kb.ingest.pipeline, "extract_bytes", spy)
    return seen


def _hits(home: Path, query: str) -> set[str]:
    return {h.doc_id for h in search(query, home=home).hits}


def _pdf_bytes(tmp_path: Path, name: str, lines: list[str]) -> bytes:
    return make_pdf(tmp_path / name, [lines]).read_bytes()


def test_page_is_fetched_conditionally_then_changed_then_removed_after_two_404s(
    tmp_path: Path, site: Site, extracted: list[str]
) -> None:
    site.pages["/news/workshop"] = Page(
        html_page("Workshop in Ashgabat", "Trainers met the kestrel team."), etag='"v1"'
    )
    manifest = write_manifest(
        tmp_path / "sources.toml", [{"url": site.url("/news/workshop"), "doctype": "news"}]
    )
    home = tmp_path / "home"

    first = run_plain(home, manifest)
    assert first.sources["new"] == 1 and _hits(home, "kestrel") == {"workshop"}
    extracted.clear()

    # Unchanged: the ETag goes back, the server answers 304, nothing is extracted.
    second = run_plain(home, manifest)
    assert site.requests[-1].if_none_match == '"v1"' and site.requests[-1].status == 304
    assert second.sources["unchanged"] == 1 and extracted == []

    # Changed: 200 with new content and a new ETag.
    site.pages["/news/workshop"] = Page(
        html_page("Workshop in Ashgabat", "Trainers met the falcon team."), etag='"v2"'
    )
    third = run_plain(home, manifest)
    assert third.sources["changed"] == 1 and extracted == [site.url("/news/workshop")]
    assert _hits(home, "falcon") == {"workshop"} and _hits(home, "kestrel") == set()
    with Store(home / "kb.sqlite") as store:
        assert store.source(site.url("/news/workshop")).etag == '"v2"'  # type: ignore[union-attr]

    # Gone: kept after the first 404 (one bad night wipes nothing), removed after the second.
    del site.pages["/news/workshop"]
    fourth = run_plain(home, manifest)
    assert fourth.sources["removed"] == 0 and _hits(home, "falcon") == {"workshop"}
    fifth = run_plain(home, manifest)
    assert fifth.sources["removed"] == 1 and fifth.removed_docs == ["workshop"]
    assert _hits(home, "falcon") == set()
    assert site.statuses("/news/workshop") == [200, 304, 200, 404, 404]


def test_a_page_back_after_one_404_is_kept(tmp_path: Path, site: Site) -> None:
    page = Page(html_page("Hotline", "Call the hotline about the heron case."), etag='"a"')
    site.pages["/hotline"] = page
    manifest = write_manifest(tmp_path / "sources.toml", [{"url": site.url("/hotline")}])
    home = tmp_path / "home"
    run_plain(home, manifest)
    del site.pages["/hotline"]
    run_plain(home, manifest)
    site.pages["/hotline"] = page
    run_plain(home, manifest)
    del site.pages["/hotline"]
    again = run_plain(home, manifest)  # a single miss again: the count started over
    assert again.sources["removed"] == 0 and _hits(home, "heron") == {"hotline"}


def test_bumping_the_html_extractor_refetches_a_304_page_and_re_extracts_it(
    tmp_path: Path, site: Site, extracted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site.pages["/p"] = Page(
        html_page("Project page", "The project trains the ibis unit."), etag='"x"'
    )
    site.pages["/n.pdf"] = Page(
        _pdf_bytes(
            tmp_path,
            "n.pdf",
            ["Newsletter December", "A report on the training of border guards in Mary."],
        ),
        etag='"n"',
        content_type="application/pdf",
    )
    manifest = write_manifest(
        tmp_path / "sources.toml", [{"url": site.url("/p")}, {"url": site.url("/n.pdf")}]
    )
    home = tmp_path / "home"
    run_plain(home, manifest)
    extracted.clear()
    monkeypatch.setitem(EXTRACTOR_VERSIONS, "html", EXTRACTOR_VERSIONS["html"] + "-next")

    changes = run_plain(home, manifest)

    assert extracted == [site.url("/p")]
    assert changes.sources["changed"] == 1 and changes.sources["unchanged"] == 1
    assert [r.if_none_match for r in site.requests if r.path == "/p"] == [None, None]
    assert site.statuses("/n.pdf") == [200, 304]


def test_server_errors_are_retryable_and_client_errors_are_not(site: Site) -> None:
    site.pages["/flaky"] = Page(html_page("Flaky", "text"), fail_first=1)
    site.pages["/forbidden"] = Page(status=403)
    allowed = {"127.0.0.1"}
    with pytest.raises(RetryableHTTPError, match="server error 503"):
        fetch_url(
            _ref(site, "/flaky"),
            etag=None,
            last_modified=None,
            known_sha=None,
            allowed_hosts=allowed,
            allow_private=allowed,
        )
    assert fetch_url(_ref(site, "/flaky"), etag=None, last_modified=None, known_sha=None,
                     allowed_hosts=allowed, allow_private=allowed).state == "new"  # fmt: skip
    with pytest.raises(SourceError, match="HTTP 403"):
        fetch_url(
            _ref(site, "/forbidden"),
            etag=None,
            last_modified=None,
            known_sha=None,
            allowed_hosts=allowed,
            allow_private=allowed,
        )


def _ref(site: Site, path: str) -> SourceRef:
    return SourceRef(key=site.url(path), location=site.url(path), kind="url")


def test_size_cap_redirect_limit_and_host_checks(site: Site) -> None:
    allowed = {"127.0.0.1"}
    site.pages["/big"] = Page(b"x" * 5000)
    with pytest.raises(SourceError, match="response too large"):
        fetch_url(_ref(site, "/big"), etag=None, last_modified=None, known_sha=None,
                  allowed_hosts=allowed, allow_private=allowed, max_bytes=1000)  # fmt: skip

    site.pages["/loop"] = Page(status=302, location="/loop")
    with pytest.raises(SourceError, match="too many redirects"):
        fetch_url(
            _ref(site, "/loop"),
            etag=None,
            last_modified=None,
            known_sha=None,
            allowed_hosts=allowed,
            allow_private=allowed,
        )

    site.pages["/away"] = Page(status=302, location="http://elsewhere.example/x")
    with pytest.raises(SourceError, match=r"'elsewhere\.example' is not named in the manifest"):
        fetch_url(
            _ref(site, "/away"),
            etag=None,
            last_modified=None,
            known_sha=None,
            allowed_hosts=allowed,
            allow_private=allowed,
        )

    site.pages["/ok"] = Page(html_page("OK", "text"))
    with pytest.raises(SourceError, match="private or loopback address"):
        fetch_url(
            _ref(site, "/ok"),
            etag=None,
            last_modified=None,
            known_sha=None,
            allowed_hosts=allowed,
            allow_private=set(),
        )


def test_manifest_takes_only_http_urls_and_listing_needs_a_url(tmp_path: Path) -> None:
    with pytest.raises(
        ManifestError, match=r"#1: only http\(s\) URLs can be sources, not 'ftp://x.org/a.pdf'"
    ):
        read_manifest(write_manifest(tmp_path / "a.toml", [{"url": "ftp://x.org/a.pdf"}]))
    with pytest.raises(ManifestError, match="#1: listing = true needs a url"):
        read_manifest(write_manifest(tmp_path / "b.toml", [{"path": "x.pdf", "listing": True}]))


def test_linked_pdfs_are_same_host_pdfs_once_each_in_page_order() -> None:
    html = b"""<html><body>
      <a href="/files/newsletter-en.pdf">Newsletter in Eng</a>
      <a href="files/newsletter-ru.PDF#page=2">Newsletter in Rus</a>
      <a href="https://iom.example/files/newsletter-en.pdf">again</a>
      <a href="https://other.example/x.pdf">elsewhere</a>
      <a href="/about">About</a>
      <a href="mailto:a@iom.example">mail</a>
    </body></html>"""
    assert linked_pdfs(html, "https://iom.example/newsletters/") == [
        "https://iom.example/files/newsletter-en.pdf",
        "https://iom.example/newsletters/files/newsletter-ru.PDF",
    ]


def test_listing_page_pdfs_become_sources_and_leave_when_no_longer_linked(
    tmp_path: Path, site: Site, extracted: list[str]
) -> None:
    site.pages["/newsletters"] = Page(links_page("/nl/2011-en.pdf", "/nl/2011-ru.pdf"), etag='"l1"')
    site.pages["/nl/2011-en.pdf"] = Page(_pdf_bytes(tmp_path, "en.pdf", ["Newsletter December 2011", "The lynx project started."]),
                                         etag='"e"', content_type="application/pdf")  # fmt: skip
    site.pages["/nl/2011-ru.pdf"] = Page(_pdf_bytes(tmp_path, "ru.pdf", ["Информационный бюллетень", "Проект рысь начался."]),
                                         etag='"r"', content_type="application/pdf")  # fmt: skip
    manifest = write_manifest(
        tmp_path / "sources.toml",
        [
            {
                "url": site.url("/newsletters"),
                "listing": True,
                "doctype": "newsletter",
                "collection": "newsletters",
            }
        ],
    )
    home = tmp_path / "home"

    first = run_plain(home, manifest)

    assert first.sources["new"] == 2 and not first.failures
    with Store(home / "kb.sqlite") as store:
        docs = {d.id: d for d in store.iter_documents()}
    assert sorted(docs) == ["2011-en", "2011-ru"]
    assert {d.doctype for d in docs.values()} == {"newsletter"}
    assert {d.source.collection for d in docs.values()} == {"newsletters"}
    assert _hits(home, "lynx") == {"2011-en"}

    # The listing answers 304: its PDFs stay, each checked with its own ETag.
    extracted.clear()
    second = run_plain(home, manifest)
    assert second.sources["unchanged"] == 2 and extracted == []
    assert site.statuses("/newsletters")[-1] == 304 and site.statuses("/nl/2011-en.pdf")[-1] == 304

    # The listing stops linking the English one: it leaves the store and search.
    site.pages["/newsletters"] = Page(links_page("/nl/2011-ru.pdf"), etag='"l2"')
    third = run_plain(home, manifest)
    assert third.removed_docs == ["2011-en"]
    assert _hits(home, "lynx") == set()


def test_listing_that_fails_keeps_its_pdfs_and_says_why(tmp_path: Path, site: Site) -> None:
    site.pages["/newsletters"] = Page(links_page("/nl/a.pdf"), etag='"l1"')
    site.pages["/nl/a.pdf"] = Page(
        _pdf_bytes(tmp_path, "a.pdf", ["Newsletter", "The ocelot project."]),
        content_type="application/pdf",
    )
    manifest = write_manifest(
        tmp_path / "sources.toml", [{"url": site.url("/newsletters"), "listing": True}]
    )
    home = tmp_path / "home"
    run_plain(home, manifest)

    site.pages["/newsletters"] = Page(status=403)
    refused = run_plain(home, manifest)
    assert [(f.source, f.stage, f.reason) for f in refused.failures] == [
        (site.url("/newsletters"), "listing", "HTTP 403 from the server")
    ]
    assert refused.removed_docs == [] and _hits(home, "ocelot") == {"a"}

    # Gone (404): kept the first time, its PDFs removed the second time.
    del site.pages["/newsletters"]
    once = run_plain(home, manifest)
    assert once.removed_docs == [] and "kept" in once.failures[0].reason
    twice = run_plain(home, manifest)
    assert twice.removed_docs == ["a"] and "removed" in twice.failures[0].reason
    assert _hits(home, "ocelot") == set()


def test_listing_follows_one_level_only(tmp_path: Path, site: Site) -> None:
    site.pages["/newsletters"] = Page(links_page("/archive", "/nl/b.pdf"))
    site.pages["/archive"] = Page(links_page("/nl/old.pdf"))
    site.pages["/nl/b.pdf"] = Page(
        _pdf_bytes(tmp_path, "b.pdf", ["Newsletter", "The serval project."]),
        content_type="application/pdf",
    )
    site.pages["/nl/old.pdf"] = Page(
        _pdf_bytes(tmp_path, "old.pdf", ["Old", "Old text."]), content_type="application/pdf"
    )
    manifest = write_manifest(
        tmp_path / "sources.toml", [{"url": site.url("/newsletters"), "listing": True}]
    )

    changes = run_plain(tmp_path / "home", manifest)

    assert changes.sources["seen"] == 1
    assert "/archive" not in {r.path for r in site.requests} and "/nl/old.pdf" not in {
        r.path for r in site.requests
    }


def test_connection_refused_is_a_transport_error_worth_retrying(tmp_path: Path) -> None:
    from flows.schedule import free_port

    url = f"http://127.0.0.1:{free_port()}/gone"
    ref = SourceRef(key=url, location=url, kind="url")
    with pytest.raises(httpx.TransportError):
        fetch_url(
            ref,
            etag=None,
            last_modified=None,
            known_sha=None,
            allowed_hosts={"127.0.0.1"},
            allow_private={"127.0.0.1"},
        )
