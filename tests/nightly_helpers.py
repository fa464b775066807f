"""Helpers for the nightly re-indexing tests: a local web site, manifests, one run without Prefect."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kb.ingest.commit import ChangeSet
from kb.ingest.sequence import run_ingest


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    etag: str | None = None
    content_type: str = "text/html; charset=utf-8"
    location: str = ""  # for redirects
    fail_first: int = 0  # answer 503 this many times before answering properly


@dataclass
class Request:
    path: str
    if_none_match: str | None
    status: int


@dataclass
class Site:
    """A web site on 127.0.0.1 (http.server in a thread) whose pages a test changes at will."""

    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def statuses(self, path: str) -> list[int]:
        return [r.status for r in self.requests if r.path == path]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = site.pages.get(self.path)
            condition = self.headers.get("If-None-Match")
            status = self._answer(page, condition)
            site.requests.append(Request(self.path, condition, status))

        def _answer(self, page: Page | None, condition: str | None) -> int:
            if page is None:
                return self._send(404, b"not found")
            if page.fail_first > 0:
                page.fail_first -= 1
                return self._send(503, b"try later")
            if page.status in (301, 302, 307, 308):
                return self._send(page.status, b"", {"Location": page.location})
            if page.status != 200:
                return self._send(page.status, b"")
            if page.etag and condition == page.etag:
                return self._send(304, b"", {"ETag": page.etag})
            headers = {"Content-Type": page.content_type}
            if page.etag:
                headers["ETag"] = page.etag
            return self._send(200, page.body, headers)

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> int:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)
            return status

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve_site() -> Iterator[Site]:
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def html_page(title: str, *paragraphs: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>".encode()


def links_page(*hrefs: str) -> bytes:
    items = "".join(
        f'<li><a href="{h}">Newsletter {n}</a></li>' for n, h in enumerate(hrefs, start=1)
    )
    return f"<!doctype html><html><body><h1>Newsletters</h1><ul>{items}</ul></body></html>".encode()


def write_manifest(path: Path, entries: list[dict[str, Any]]) -> Path:
    """A sources.toml with one [[source]] table per dict (strings and booleans only)."""
    lines = []
    for entry in entries:
        lines.append("[[source]]")
        for key, value in entry.items():
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, list):
                lines.append(
                    f"{key} = [{', '.join(repr(str(v)).replace(chr(39), chr(34)) for v in value)}]"
                )
            else:
                lines.append(f'{key} = "{value}"')
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run_plain(home: Path, manifest: Path, *, full: bool = False) -> ChangeSet:
    """One incremental run with the library functions only (no Prefect), in the flow's order."""
    return run_ingest(home, sources=manifest, full=full)
