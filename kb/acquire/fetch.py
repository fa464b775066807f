"""Fetching a source's bytes with a fingerprint: files by stat + SHA-256, web pages over HTTP.

Web fetching is deliberately narrow: http(s) only, hosts the manifest names,
no redirects to other hosts or to private addresses unless allowed, bounded
redirects, a size cap and timeouts. A 304 answer to a conditional request costs
nothing more.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlparse

import httpcore
import httpx

from kb.errors import SourceError
from kb.model import SourceRef

MAX_BYTES = 100 * 1024 * 1024
# A listing page is a page of links: anything bigger is not one.
MAX_LISTING_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_SECONDS = 120.0  # a whole response, connection, headers and redirects included
# A listing page's PDFs followed in one run, at most (the rest are reported, not fetched).
MAX_LISTING_LINKS = 500
_DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = "ctkb/0.1 (counter-trafficking knowledge base; nightly re-index)"


@dataclass
class Fetched:
    ref: SourceRef
    state: str  # new | changed | unchanged | missing
    data: bytes | None = None
    sha256: str = ""
    size: int | None = None
    mtime_ns: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""
    status: int | None = None
    url: str = ""  # where the body came from, after redirects
    # A file's bytes were read and hashed, then let go until extraction (`set_aside`).
    set_aside: bool = False


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_file(ref: SourceRef, *, size: int | None, mtime_ns: int | None, known_sha: str | None,
               max_bytes: int = MAX_BYTES, force: bool = False) -> Fetched:  # fmt: skip
    """Size + mtime is the fast check; the content hash is the truth."""
    path = Path(ref.key)
    try:
        st = path.stat()
    except FileNotFoundError:
        return Fetched(ref, "missing")
    except OSError as exc:
        raise SourceError(
            f"cannot read file: {exc.strerror}", stage="fetch", source=ref.location
        ) from None
    if not force and known_sha and st.st_size == size and st.st_mtime_ns == mtime_ns:
        return Fetched(ref, "unchanged", sha256=known_sha, size=size, mtime_ns=mtime_ns)
    if st.st_size > max_bytes:
        raise SourceError(
            f"file too large: {st.st_size / 1e6:.1f} MB (the limit is {max_bytes / 1e6:.0f} MB)",
            stage="fetch", source=ref.location,
        )  # fmt: skip
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(
            f"cannot read file: {exc.strerror}", stage="fetch", source=ref.location
        ) from None
    digest = sha256(data)
    state = (
        "new"
        if not known_sha
        else ("unchanged" if digest == known_sha and not force else "changed")
    )
    return Fetched(ref, state, data=data, sha256=digest, size=st.st_size, mtime_ns=st.st_mtime_ns)


def set_aside(fetched: Fetched) -> None:
    """Let go of a file's bytes once hashed; `read_again` reads them back when needed.

    A run checks every file before it extracts any: holding the bytes of them all in between
    made its memory grow with the number of files (200 MB at 10,000 documents).
    """
    if fetched.data is not None and fetched.ref.kind == "file":
        fetched.data, fetched.set_aside = None, True


def read_again(fetched: Fetched) -> bool:
    """Read back the bytes `set_aside` let go of; False if the file is no longer what was hashed
    (changed or removed since), and then it holds no bytes."""
    if not fetched.set_aside:
        return fetched.data is not None
    fetched.set_aside = False
    try:
        data = Path(fetched.ref.key).read_bytes()
    except OSError:
        return False
    if len(data) != fetched.size or sha256(data) != fetched.sha256:
        return False
    fetched.data = data
    return True


# The moment the fetch under way in this thread must be over (time.monotonic()), or None.
_deadline: ContextVar[float | None] = ContextVar("kb_fetch_deadline", default=None)


class FetchDeadlineError(httpcore.ReadTimeout):
    """The whole exchange ran past its deadline (raised inside httpcore, seen by fetch_url)."""


def _until_deadline(timeout: float | None) -> float | None:
    """A socket wait never longer than what is left of the fetch's time."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchDeadlineError("the fetch's time is up")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the fetch's deadline.

    httpx's timeouts bound each wait; a server sending its status line and then one
    header byte a second never exceeds them. Bounding each wait by the time left makes
    the deadline cover the connection, the headers and the body alike."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _until_deadline(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _until_deadline(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:  # fmt: skip
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _until_deadline(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None) -> httpcore.NetworkStream:  # fmt: skip
        inner = super().connect_tcp(
            host, port, _until_deadline(timeout), local_address, socket_options
        )
        return _DeadlineStream(inner)


def make_client() -> httpx.Client:
    """The HTTP client fetching uses: its connections honour each fetch's overall deadline."""
    transport = httpx.HTTPTransport()
    pool = transport._pool
    # httpx has no option for httpcore's network backend: set it on the pool it made
    # (tests/test_hostile_fetch.py fails if a new httpx moves it).
    if not hasattr(pool, "_network_backend"):
        raise RuntimeError(
            "httpx's connection pool has no _network_backend: update kb.acquire.fetch"
        )
    pool._network_backend = _DeadlineBackend()
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False, transport=transport)


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    try:
        port = parsed.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parsed.hostname or "").lower(), port


def redirect_refusal(current: str, target: str, allowed_hosts: set[str]) -> str | None:
    """Why a redirect from `current` to `target` is not followed, or None to follow it.

    It must keep the scheme, host and port of the page (an upgrade from http to https on
    the same host and default ports is fine), or go to a host the manifest names on the
    port the manifest gives it (its default port when none is given). Only checked here:
    the scheme and the private-address rules of `check_url_allowed` apply as well."""
    scheme, host, port = _origin(target)
    here = _origin(current)
    if (scheme, host, port) == here:
        return None
    if host == here[1] and here[0] == "http" and here[2] == 80 and (scheme, port) == ("https", 443):
        return None
    if host in allowed_hosts and (
        f"{host}:{port}" in allowed_hosts or port == _DEFAULT_PORTS.get(scheme)
    ):
        return None
    return (
        f"refused: a redirect to {scheme}://{host}:{port} leaves the scheme, host and port "
        "the manifest names"
    )


def _is_private(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved:
            return True
    return False


def check_url_allowed(url: str, allowed_hosts: set[str], *, allow_private: set[str]) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise SourceError(
            f"refused: only http(s) URLs are fetched, not {parsed.scheme!r}",
            stage="fetch",
            source=url,
        )
    host = (parsed.hostname or "").lower()
    if host not in allowed_hosts:
        raise SourceError(
            f"refused: host {host!r} is not named in the manifest", stage="fetch", source=url
        )
    if host not in allow_private and _is_private(host):
        raise SourceError(
            f"refused: {host!r} is a private or loopback address (allow it in the manifest)",
            stage="fetch",
            source=url,
        )


def fetch_url(ref: SourceRef, *, etag: str | None, last_modified: str | None, known_sha: str | None,
              allowed_hosts: set[str] | None = None, allow_private: set[str] | None = None,
              client: httpx.Client | None = None, max_bytes: int = MAX_BYTES,
              max_seconds: float = MAX_SECONDS) -> Fetched:  # fmt: skip
    """Conditional GET, following at most MAX_REDIRECTS redirects, each re-checked.

    The whole exchange, redirects included, must finish within `max_seconds`: the
    client's timeouts only bound each wait, which a server sending a byte every few
    seconds never exceeds.

    Raises SourceError for refusals and client errors; httpx.TransportError and
    RetryableHTTPError for what a retry may fix (5xx, connection errors).
    """
    url = ref.key
    allowed = (
        allowed_hosts if allowed_hosts is not None else {(urlparse(url).hostname or "").lower()}
    )
    private_ok = allow_private if allow_private is not None else set()
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    own = client is None
    client = client or make_client()
    deadline = time.monotonic() + max_seconds
    token = _deadline.set(deadline)
    try:
        return _fetch_within(ref, url, client, headers, allowed, private_ok, deadline, max_bytes,
                             max_seconds=max_seconds, etag=etag, last_modified=last_modified,
                             known_sha=known_sha)  # fmt: skip
    except httpx.TimeoutException:
        if time.monotonic() < deadline:
            raise  # a single wait timed out: a retry may fare better
        raise SourceError(
            f"response too slow: not complete after {max_seconds:g} s (the limit per page)",
            stage="fetch", source=ref.location,
        ) from None  # fmt: skip
    finally:
        _deadline.reset(token)
        if own:
            client.close()


def _fetch_within(ref: SourceRef, url: str, client: httpx.Client, headers: dict[str, str],
                  allowed: set[str], private_ok: set[str], deadline: float, max_bytes: int, *, max_seconds: float,
                  etag: str | None, last_modified: str | None, known_sha: str | None) -> Fetched:  # fmt: skip
    came_from: str | None = None
    for _ in range(MAX_REDIRECTS + 1):
        check_url_allowed(url, allowed, allow_private=private_ok)
        refusal = redirect_refusal(came_from, url, allowed) if came_from else None
        if refusal:
            raise SourceError(refusal, stage="fetch", source=ref.location)
        with client.stream("GET", url, headers=headers) as resp:
            # 304 is a 3xx too (httpx's is_redirect says so): only a Location header redirects.
            if resp.status_code != 304 and resp.has_redirect_location:
                came_from, url = url, urljoin(url, resp.headers["location"])
                continue
            if resp.status_code == 304:
                return Fetched(ref, "unchanged", sha256=known_sha or "", etag=etag,
                               last_modified=last_modified, status=304)  # fmt: skip
            if resp.status_code in (404, 410):
                return Fetched(ref, "missing", status=resp.status_code)
            if resp.status_code >= 500:
                raise RetryableHTTPError(f"server error {resp.status_code}", url)
            if resp.status_code >= 400:
                raise SourceError(
                    f"HTTP {resp.status_code} from the server",
                    stage="fetch",
                    source=ref.location,
                )
            if resp.status_code >= 300:
                raise SourceError(
                    f"HTTP {resp.status_code} without a redirect location",
                    stage="fetch",
                    source=ref.location,
                )
            declared = int(resp.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise SourceError(
                    f"response too large: {declared} bytes", stage="fetch", source=ref.location
                )
            chunks: list[bytes] = []
            total = 0
            for chunk in resp.iter_bytes():
                if time.monotonic() > deadline:
                    raise SourceError(
                        f"response too slow: not complete after {max_seconds:g} s (the limit per page)",
                        stage="fetch",
                        source=ref.location,
                    )
                total += len(chunk)
                if total > max_bytes:
                    raise SourceError(
                        f"response too large: over {max_bytes} bytes",
                        stage="fetch",
                        source=ref.location,
                    )
                chunks.append(chunk)
            data = b"".join(chunks)
            digest = sha256(data)
            state = "new" if not known_sha else ("unchanged" if digest == known_sha else "changed")
            return Fetched(
                ref, state, data=data, sha256=digest, size=len(data),
                etag=resp.headers.get("etag"), last_modified=resp.headers.get("last-modified"),
                content_type=resp.headers.get("content-type", ""), status=resp.status_code, url=url,
            )  # fmt: skip
    raise SourceError(
        f"too many redirects (more than {MAX_REDIRECTS})", stage="fetch", source=ref.location
    )


@dataclass
class ListingPage:
    """A listing page as fetched: the PDFs it links to, or why there are none."""

    url: str
    state: str  # fetched | unchanged (304: the caller keeps the links it had) | missing (404/410)
    links: list[str]
    etag: str | None = None
    last_modified: str | None = None
    not_followed: list[str] = field(default_factory=list)  # links past the listing's cap


def linked_pdfs(html: bytes, page_url: str) -> list[str]:
    """Absolute URLs of the PDFs a page links to on its own site, in page order, once each.

    Its own site: the page's scheme, host and port (or https on the same host). One level
    only: the linked PDFs are sources, nothing they link to is followed.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    found: dict[str, None] = {}
    for anchor in soup.find_all("a", href=True):
        link = urldefrag(urljoin(page_url, str(anchor["href"]).strip())).url
        parsed = urlparse(link)
        if parsed.scheme not in ("http", "https") or redirect_refusal(page_url, link, set()):
            continue
        if parsed.path.lower().endswith((".pdf", ".docx", ".odt")):  # laws often come as Word
            found.setdefault(link)
    return list(found)


def fetch_listing(url: str, *, etag: str | None, last_modified: str | None,
                  allowed_hosts: set[str] | None = None, allow_private: set[str] | None = None,
                  client: httpx.Client | None = None, max_links: int = MAX_LISTING_LINKS) -> ListingPage:  # fmt: skip
    """Fetch a listing page (conditionally) and read the PDF links off it.

    Same refusals and retryable errors as `fetch_url`; links are resolved
    against the page's final URL, after redirects. Only the first `max_links` are
    followed: the others come back in `not_followed`, for the run to report.
    """
    ref = SourceRef(key=url, location=url, kind="url")
    fetched = fetch_url(ref, etag=etag, last_modified=last_modified, known_sha=None, allowed_hosts=allowed_hosts,
                        allow_private=allow_private, client=client, max_bytes=MAX_LISTING_BYTES)  # fmt: skip
    if fetched.state == "missing":
        return ListingPage(url, "missing", [])
    if fetched.state == "unchanged":
        return ListingPage(url, "unchanged", [], etag=etag, last_modified=last_modified)
    assert fetched.data is not None
    links = linked_pdfs(fetched.data, fetched.url or url)
    return ListingPage(url, "fetched", links[:max_links], etag=fetched.etag,
                       last_modified=fetched.last_modified, not_followed=links[max_links:])  # fmt: skip


class RetryableHTTPError(Exception):
    """A 5xx answer: worth retrying with back-off."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(f"{message} ({url})")
