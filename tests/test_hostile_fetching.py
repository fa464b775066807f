"""Fetching under faults and content that must never disappear silently (issue 19).

Every server here is started by the test on 127.0.0.1 and counts what it is asked.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from nightly_helpers import Page, Site, html_page, links_page, serve_site, write_manifest
from pdf_fixtures import make_pdf

import kb.acquire.fetch
from kb.acquire.fetch import MAX_LISTING_LINKS, fetch_url
from kb.acquire.sources import read_manifest
from kb.errors import SourceError
from kb.ingest.listings import read_listing
from kb.ingest.pipeline import check_source
from kb.ingest.sequence import run_ingest
from kb.model import SourceRef
from kb.store import Store
from search.query import search

pytestmark = pytest.mark.usefixtures("closing_searchers")

LOCAL = {"127.0.0.1"}


class SlowHeaders:
    """A raw socket server: the status line at once, then one header byte a second, for ever."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(600):
                    if self.stop.wait(1.0):
                        return
                    conn.sendall(b"a")
            except OSError:
                return

    def __enter__(self) -> SlowHeaders:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=5)


def test_a_server_dripping_its_headers_is_cut_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 19: `fetch_url(max_seconds=5)` was held 30 s by one header byte a second, and
    `kb build` retried it three times. The deadline now covers the headers, and running out
    of it is a failure of the source, not an error worth retrying."""
    with SlowHeaders() as server:
        url = f"http://127.0.0.1:{server.port}/report.pdf"
        ref = SourceRef(key=url, location=url, kind="url")
        started = time.monotonic()
        with pytest.raises(SourceError, match="response too slow: not complete after 2 s"):
            fetch_url(ref, etag=None, last_modified=None, known_sha=None, allowed_hosts=LOCAL,
                      allow_private=LOCAL, max_seconds=2.0)  # fmt: skip
        assert time.monotonic() - started < 4

        # As the run checks it: one failed outcome, no exception for the flow to retry.
        monkeypatch.setattr(kb.acquire.fetch, "MAX_SECONDS", 1.5)  # the run's limit, shortened
        started = time.monotonic()
        outcome = check_source(ref, None, allowed_hosts=LOCAL, allow_private=LOCAL)
        assert outcome.state == "failed" and outcome.failure is not None
        assert "too slow" in outcome.failure.reason and time.monotonic() - started < 3.5
        assert server.connections == 2


def test_a_redirect_to_another_port_of_a_manifest_host_is_refused(site: Site) -> None:
    with serve_site() as other:
        other.pages["/page"] = Page(html_page("Elsewhere", "Served on another port."))
        site.pages["/moved"] = Page(b"", status=302, location=other.url("/page"))
        ref = SourceRef(key=site.url("/moved"), location=site.url("/moved"), kind="url")
        hosts = {"127.0.0.1", f"127.0.0.1:{site.port}"}
        with pytest.raises(SourceError, match="leaves the scheme, host and port"):
            fetch_url(ref, etag=None, last_modified=None, known_sha=None, allowed_hosts=hosts,
                      allow_private=hosts)  # fmt: skip
        assert other.requests == []


def test_a_listing_of_ten_thousand_links_is_capped(tmp_path: Path, site: Site) -> None:
    """Issue 19: 10,000 PDF links were all followed (10,001 requests, 6 min, 1.37 GB)."""
    site.pages["/newsletters"] = Page(links_page(*(f"/pdf/n{i}.pdf" for i in range(10_000))))
    manifest = write_manifest(tmp_path / "sources.toml", [
        {"url": site.url("/newsletters"), "listing": True, "doctype": "newsletter"},
    ])  # fmt: skip
    [entry] = read_manifest(manifest)
    result = read_listing(entry, None, allowed_hosts=LOCAL, allow_private=LOCAL)
    assert len(result.refs) == MAX_LISTING_LINKS == 500
    assert result.refs[0].key == site.url("/pdf/n0.pdf")
    assert result.failure is not None and result.failure.reason.startswith(
        "the page links to 10,000 PDFs: the first 500 are followed, 9,500 are not"
    )
    assert len(site.requests) == 1  # the listing only: nothing fetched yet

    # A whole run with a lower cap from the manifest: exactly that many PDFs are fetched.
    for i in range(3):
        pdf = make_pdf(
            tmp_path / f"n{i}.pdf", [[f"Newsletter {i}", f"Issue {i} on the kiwi case."]]
        )
        site.pages[f"/pdf/n{i}.pdf"] = Page(pdf.read_bytes(), content_type="application/pdf")
    manifest.write_text(
        f'[[source]]\nurl = "{site.url("/newsletters")}"\nlisting = true\nmax_links = 3\n',
        encoding="utf-8",
    )
    site.requests.clear()
    changes = run_ingest(tmp_path / "home", sources=manifest)
    assert changes.sources["new"] == 3
    assert sorted(r.path for r in site.requests) == [
        "/newsletters", "/pdf/n0.pdf", "/pdf/n1.pdf", "/pdf/n2.pdf",
    ]  # fmt: skip
    [failure] = changes.failures
    assert "9,997 are not" in failure.reason and "max_links" in failure.reason


def test_a_page_gone_is_a_failure_on_the_first_night_and_kept(tmp_path: Path, site: Site) -> None:
    site.pages["/hotline"] = Page(html_page("Hotline", "Call the hotline about the ibis case."))
    manifest = write_manifest(tmp_path / "sources.toml", [{"url": site.url("/hotline")}])
    home = tmp_path / "home"
    run_ingest(home, sources=manifest)
    del site.pages["/hotline"]
    first = run_ingest(home, sources=manifest)
    [failure] = first.failures
    assert failure.source == site.url("/hotline") and failure.reason.startswith("HTTP 404")
    assert first.sources["failed"] == 1 and first.sources["removed"] == 0
    assert {h.doc_id for h in search("ibis", home=home).hits} == {"hotline"}
    second = run_ingest(home, sources=manifest)
    assert second.sources["removed"] == 1


def _folder_corpus(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "corpus" / "web"
    folder.mkdir(parents=True)
    for i in range(count):
        (folder / f"page{i}.md").write_text(
            f"# Page {i}\n\nThe heron report number {i}.\n", "utf-8"
        )
    manifest = tmp_path / "corpus" / "sources.toml"
    manifest.write_text('[[source]]\nfolder = "web"\n', encoding="utf-8")
    return manifest


def _documents(home: Path) -> int:
    with Store(home / "kb.sqlite") as store:
        return int(store.counts()["documents"])


def test_an_emptied_folder_keeps_its_documents_and_fails(tmp_path: Path) -> None:
    """Issue 19: emptying web/ (as an unmounted share would) removed 195 of 300 documents."""
    manifest = _folder_corpus(tmp_path, 10)
    home = tmp_path / "home"
    assert not run_ingest(home, sources=manifest).failures
    for page in (tmp_path / "corpus" / "web").iterdir():
        page.unlink()

    first = run_ingest(home, sources=manifest)

    assert first.sources["removed"] == 0 and _documents(home) == 10
    [failure] = first.failures
    assert failure.source == "web" and failure.stage == "discover"
    assert failure.reason.startswith(
        "10 of its 10 documents are gone (more than 20%): all are kept"
    )
    assert "--allow-mass-removal" in failure.reason
    assert len(search("heron", home=home, limit=50).hits) == 10

    # Still gone on the next run: that confirms it.
    second = run_ingest(home, sources=manifest)
    assert second.sources["removed"] == 10 and _documents(home) == 0 and not second.failures


def test_a_mass_removal_goes_ahead_when_allowed_and_one_file_always(tmp_path: Path) -> None:
    manifest = _folder_corpus(tmp_path, 10)
    home = tmp_path / "home"
    run_ingest(home, sources=manifest)
    web = tmp_path / "corpus" / "web"
    (web / "page0.md").unlink()
    assert run_ingest(home, sources=manifest).sources["removed"] == 1  # 10 %: an edit
    for name in ("page1.md", "page2.md", "page3.md"):
        (web / name).unlink()
    held = run_ingest(home, sources=manifest)
    assert held.sources["removed"] == 0 and len(held.failures) == 1  # 3 of 9
    allowed = run_ingest(home, sources=manifest, allow_mass_removal=True)
    assert allowed.sources["removed"] == 3 and not allowed.failures


def test_the_share_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = _folder_corpus(tmp_path, 10)
    home = tmp_path / "home"
    run_ingest(home, sources=manifest)
    for name in ("page1.md", "page2.md", "page3.md"):
        (tmp_path / "corpus" / "web" / name).unlink()
    monkeypatch.setenv("KB_MAX_REMOVAL_SHARE", "0.5")
    assert run_ingest(home, sources=manifest).sources["removed"] == 3


def test_an_unreadable_subfolder_keeps_its_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = _folder_corpus(tmp_path, 2)
    sub = tmp_path / "corpus" / "web" / "reports"
    sub.mkdir()
    for i in range(3):
        (sub / f"report{i}.md").write_text(f"# Report {i}\n\nThe egret case {i}.\n", "utf-8")
    home = tmp_path / "home"
    run_ingest(home, sources=manifest)
    assert _documents(home) == 5

    # As a folder whose permissions changed (the tests run as root, which reads anything).
    real_scandir = os.scandir

    def scandir(path: str | int) -> object:
        if not isinstance(path, int) and Path(path) == sub:  # shutil.rmtree passes fds
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    changes = run_ingest(home, sources=manifest)

    assert changes.sources["removed"] == 0 and _documents(home) == 5
    [failure] = changes.failures
    assert failure.source == "web"
    assert failure.reason.startswith("cannot read web/reports: its 3 documents are kept;")
    assert "--allow-mass-removal" in failure.reason

    # Unreadable again on the next run: as for an emptied folder, that confirms the removal
    # (the folder may have been closed on purpose), and the run still says why.
    again = run_ingest(home, sources=manifest)
    assert again.sources["removed"] == 3 and _documents(home) == 2
    [failure] = again.failures
    assert failure.reason.startswith("cannot read web/reports: its 3 documents are removed")


def test_a_pdf_that_yields_no_text_is_a_failure_not_an_empty_document(tmp_path: Path) -> None:
    """Issue 19: a 1,400-page PDF with one line a page was stored with 0 sections and no
    warning (each page's only line looked like a running header). The extractor now keeps a
    line a page that differs from page to page; a PDF whose every page carries only the same
    line (furniture, nothing else) still leaves nothing, and that is a failure."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_pdf(corpus / "register.pdf", [["Register of entries, Mary velayat"] for _ in range(60)])
    make_pdf(corpus / "entries.pdf", [[f"Entry {i} of the register."] for i in range(1, 61)])
    (corpus / "note.md").write_text("# Note\n\nThe register is kept in Mary.\n", "utf-8")
    home = tmp_path / "home"

    changes = run_ingest(home, corpus=corpus, full=True)

    [failure] = changes.failures
    assert failure.source == "register.pdf" and failure.stage == "segment"
    assert failure.reason.startswith("no text: nothing is left of its 60 pages")
    assert changes.sources["failed"] == 1
    with Store(home / "kb.sqlite") as store:
        entries = store.load_document("entries")
        assert entries is not None
        assert "Entry 17 of the register." in "\n".join(s.text for s in entries.sections)
        assert store.load_document("register") is None
