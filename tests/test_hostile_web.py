"""Web safety against a hostile local server: only http(s), only named hosts, capped size and time.

The server runs on 127.0.0.1. Loopback is a private address, so each test names
127.0.0.1 as allowed to be private explicitly, and `localhost` serves as "another
host" that a redirect must not reach.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from kb.acquire.fetch import Fetched, RetryableHTTPError, check_url_allowed, fetch_url
from kb.errors import SourceError
from kb.ingest.pipeline import check_source
from kb.model import SourceRef

LOCAL = {"127.0.0.1"}
PAGE = b"<html><body><h1>Hotline</h1><p>Call before you travel.</p></body></html>"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        routes: dict[str, Any] = {
            "/page": lambda: self._send(200, PAGE),
            "/to-localhost": lambda: self._redirect(f"http://localhost:{port}/page"),
            "/to-file": lambda: self._redirect("file:///etc/passwd"),
            "/to-ftp": lambda: self._redirect(f"ftp://127.0.0.1:{port}/page"),
            "/to-page": lambda: self._redirect("/page"),
            "/endless": lambda: self._chunked(b"x" * 4096, forever=True),
            "/drip": self._drip,
            "/silent": lambda: time.sleep(5),
        }
        routes.get(self.path, lambda: self._send(404, b"not found"))()

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _chunked(self, chunk: bytes, *, forever: bool) -> None:
        """No Content-Length: the size is only known by counting what arrives."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for _ in range(100_000 if forever else 1):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _drip(self) -> None:
        """A byte every 0.2 s: each read is quick, the whole never ends in time."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _fetch(
    url: str, *, hosts: set[str] = LOCAL, private: set[str] = LOCAL, **options: Any
) -> Fetched:
    ref = SourceRef(key=url, location=url, kind="url")
    return fetch_url(ref, etag=None, last_modified=None, known_sha=None, allowed_hosts=hosts,
                     allow_private=private, **options)  # fmt: skip


def _refusal(url: str, **options: Any) -> str:
    with pytest.raises(SourceError) as refused:
        _fetch(url, **options)
    assert refused.value.stage == "fetch"
    return refused.value.reason


def test_a_named_local_host_allowed_to_be_private_is_fetched(server: str) -> None:
    fetched = _fetch(f"{server}/to-page")
    assert fetched.data == PAGE and fetched.url == f"{server}/page"


def test_loopback_is_refused_unless_allowed(server: str) -> None:
    reason = _refusal(f"{server}/page", private=set())
    assert (
        reason == "refused: '127.0.0.1' is a private or loopback address (allow it in the manifest)"
    )


def test_a_redirect_to_another_host_is_refused(server: str) -> None:
    assert (
        _refusal(f"{server}/to-localhost")
        == "refused: host 'localhost' is not named in the manifest"
    )
    # Named, but not allowed to be private: still refused, for being loopback.
    reason = _refusal(f"{server}/to-localhost", hosts=LOCAL | {"localhost"})
    assert (
        reason == "refused: 'localhost' is a private or loopback address (allow it in the manifest)"
    )
    # Named and allowed to be private, but on a port the manifest does not name: a redirect
    # keeps the scheme, host and port the manifest gives.
    port = server.rsplit(":", 1)[1]
    reason = _refusal(
        f"{server}/to-localhost", hosts=LOCAL | {"localhost"}, private=LOCAL | {"localhost"}
    )
    assert reason == (
        f"refused: a redirect to http://localhost:{port} leaves the scheme, host and port "
        "the manifest names"
    )
    hosts = LOCAL | {"localhost", f"localhost:{port}"}
    assert _fetch(f"{server}/to-localhost", hosts=hosts, private=hosts).data == PAGE


@pytest.mark.parametrize(("path", "scheme"), [("/to-file", "file"), ("/to-ftp", "ftp")])
def test_a_redirect_to_another_scheme_is_refused(server: str, path: str, scheme: str) -> None:
    assert _refusal(f"{server}{path}") == f"refused: only http(s) URLs are fetched, not {scheme!r}"


def test_schemes_and_hosts_are_checked_before_any_request() -> None:
    with pytest.raises(SourceError, match="only http"):
        check_url_allowed("file:///etc/passwd", {""}, allow_private=set())
    with pytest.raises(SourceError, match="not named in the manifest"):
        check_url_allowed(
            "http://169.254.169.254/latest/meta-data/",
            {"turkmenistan.iom.int"},
            allow_private=set(),
        )


def test_a_response_without_length_is_cut_at_the_size_cap(server: str) -> None:
    reason = _refusal(f"{server}/endless", max_bytes=100_000)
    assert reason == "response too large: over 100000 bytes"


def test_a_response_that_drips_is_cut_at_the_time_cap(server: str) -> None:
    started = time.monotonic()
    reason = _refusal(f"{server}/drip", max_seconds=1.0)
    assert time.monotonic() - started < 10
    assert reason == "response too slow: not complete after 1 s (the limit per page)"


def test_a_silent_server_times_out_as_a_retryable_error(server: str) -> None:
    with (
        httpx.Client(timeout=httpx.Timeout(0.5), follow_redirects=False) as client,
        pytest.raises(httpx.TransportError),
    ):
        _fetch(f"{server}/silent", client=client)


def test_check_source_turns_refusals_into_one_failure(server: str) -> None:
    ref = SourceRef(key=f"{server}/to-localhost", location=f"{server}/to-localhost", kind="url")
    outcome = check_source(ref, None, allowed_hosts=LOCAL, allow_private=LOCAL)
    assert outcome.state == "failed" and outcome.failure is not None
    assert outcome.failure.as_dict() == {
        "source": f"{server}/to-localhost",
        "stage": "fetch",
        "reason": "refused: host 'localhost' is not named in the manifest",
    }
    missing = SourceRef(key=f"{server}/nowhere", location=f"{server}/nowhere", kind="url")
    assert check_source(missing, None, allowed_hosts=LOCAL, allow_private=LOCAL).state == "missing"


def test_server_errors_are_left_to_retries(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: Any, **kwargs: Any) -> Fetched:
        raise RetryableHTTPError("server error 503", f"{server}/page")

    monkeypatch.setattr("kb.ingest.pipeline.fetch_url", failing)
    ref = SourceRef(key=f"{server}/page", location=f"{server}/page", kind="url")
    with pytest.raises(RetryableHTTPError):
        check_source(ref, None, allowed_hosts=LOCAL, allow_private=LOCAL)
