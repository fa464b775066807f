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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import httpx

from kb.errors import SourceError
from kb.model import SourceRef

MAX_BYTES = 100 * 1024 * 1024
# A listing page is a page of links: anything bigger is not one.
MAX_LISTING_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_SECONDS = 120.0  # a whole response, redirects included
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
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    deadline = time.monotonic() + max_seconds
    try:
        for _ in range(MAX_REDIRECTS + 1):
            check_url_allowed(url, allowed, allow_private=private_ok)
            with client.stream("GET", url, headers=headers) as resp:
                # 304 is a 3xx too (httpx's is_redirect says so): only a Location header redirects.
                if resp.status_code != 304 and resp.has_redirect_location:
                    url = urljoin(url, resp.headers["location"])
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
                state = (
                    "new" if not known_sha else ("unchanged" if digest == known_sha else "changed")
                )
                return Fetched(
                    ref, state, data=data, sha256=digest, size=len(data),
                    etag=resp.headers.get("etag"), last_modified=resp.headers.get("last-modified"),
                    content_type=resp.headers.get("content-type", ""), status=resp.status_code, url=url,
                )  # fmt: skip
        raise SourceError(
            f"too many redirects (more than {MAX_REDIRECTS})", stage="fetch", source=ref.location
        )
    finally:
        if own:
            client.close()


@dataclass
class ListingPage:
    """A listing page as fetched: the PDFs it links to, or why there are none."""

    url: str
    state: str  # fetched | unchanged (304: the caller keeps the links it had) | missing (404/410)
    links: list[str]
    etag: str | None = None
    last_modified: str | None = None


def linked_pdfs(html: bytes, page_url: str) -> list[str]:
    """Absolute URLs of the PDFs a page links to on its own host, in page order, once each.

    One level only: the linked PDFs are sources, nothing they link to is followed.
    """
    from bs4 import BeautifulSoup

    host = (urlparse(page_url).hostname or "").lower()
    soup = BeautifulSoup(html, "lxml")
    found: dict[str, None] = {}
    for anchor in soup.find_all("a", href=True):
        link = urldefrag(urljoin(page_url, str(anchor["href"]).strip())).url
        parsed = urlparse(link)
        if parsed.scheme not in ("http", "https") or (parsed.hostname or "").lower() != host:
            continue
        if parsed.path.lower().endswith((".pdf", ".docx", ".odt")):  # laws often come as Word
            found.setdefault(link)
    return list(found)


def fetch_listing(url: str, *, etag: str | None, last_modified: str | None,
                  allowed_hosts: set[str] | None = None, allow_private: set[str] | None = None,
                  client: httpx.Client | None = None) -> ListingPage:  # fmt: skip
    """Fetch a listing page (conditionally) and read the PDF links off it.

    Same refusals and retryable errors as `fetch_url`; links are resolved
    against the page's final URL, after redirects.
    """
    ref = SourceRef(key=url, location=url, kind="url")
    fetched = fetch_url(ref, etag=etag, last_modified=last_modified, known_sha=None, allowed_hosts=allowed_hosts,
                        allow_private=allow_private, client=client, max_bytes=MAX_LISTING_BYTES)  # fmt: skip
    if fetched.state == "missing":
        return ListingPage(url, "missing", [])
    if fetched.state == "unchanged":
        return ListingPage(url, "unchanged", [], etag=etag, last_modified=last_modified)
    assert fetched.data is not None
    return ListingPage(url, "fetched", linked_pdfs(fetched.data, fetched.url or url),
                       etag=fetched.etag, last_modified=fetched.last_modified)  # fmt: skip


class RetryableHTTPError(Exception):
    """A 5xx answer: worth retrying with back-off."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(f"{message} ({url})")
