"""The sources manifest (`sources.toml`) and discovery of what is there to ingest."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from kb.errors import ManifestError
from kb.model import DOCTYPES, SourceRef

SUPPORTED_SUFFIXES = {".pdf": "pdf", ".html": "html", ".htm": "html", ".txt": "text", ".md": "text",
                      ".docx": "docx", ".odt": "odt"}  # fmt: skip
# Content types of Word and OpenDocument text files, as web servers send them.
_OFFICE_CONTENT_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.oasis.opendocument.text": "odt",
}


@dataclass(frozen=True)
class ManifestEntry:
    """One `[[source]]` table: a file, a folder, a web page, or a listing page of PDFs."""

    path: Path | None = None
    folder: Path | None = None
    url: str = ""
    listing: bool = False  # url is a page whose linked PDFs are followed (one level, same site)
    collection: str = ""
    doctype: str = ""
    lang: str = ""
    title: str = ""
    site: str = ""
    allow_hosts: tuple[str, ...] = ()
    supersedes: str = ""  # a law's manifest hint: the ids of the editions it repeals
    in_force_from: str = ""
    # Follow symbolic links that lead out of the folder (off: each is refused with a failure).
    allow_symlinks: bool = False
    # A listing follows at most this many PDF links (the rest are reported).
    max_links: int = 500


def read_manifest(manifest: Path) -> list[ManifestEntry]:
    """Parse a sources manifest; every problem names the file and the entry."""
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{manifest}: manifest not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{manifest}: not valid TOML: {exc}") from None
    base = manifest.parent
    entries = []
    for number, raw in enumerate(data.get("source", []), start=1):
        where = f"{manifest}: [[source]] #{number}"
        kinds = [k for k in ("path", "folder", "url") if k in raw]
        if len(kinds) != 1:
            raise ManifestError(f"{where}: give exactly one of path, folder or url")
        doctype = raw.get("doctype", "")
        if doctype and doctype not in DOCTYPES:
            raise ManifestError(
                f"{where}: unknown doctype {doctype!r} (one of {', '.join(DOCTYPES)})"
            )
        url = raw.get("url", "")
        if url and urlparse(url).scheme not in ("http", "https"):
            raise ManifestError(f"{where}: only http(s) URLs can be sources, not {url!r}")
        if raw.get("listing") and not url:
            raise ManifestError(f"{where}: listing = true needs a url (a page linking to PDFs)")
        if "allow_symlinks" in raw and not isinstance(raw["allow_symlinks"], bool):
            raise ManifestError(f"{where}: allow_symlinks is true or false")
        max_links = raw.get("max_links", 500)
        if not isinstance(max_links, int) or isinstance(max_links, bool) or max_links < 1:
            raise ManifestError(f"{where}: max_links is a whole number of at least 1")
        entries.append(
            ManifestEntry(
                path=(base / raw["path"]).resolve() if "path" in raw else None,
                folder=(base / raw["folder"]).resolve() if "folder" in raw else None,
                url=url,
                listing=bool(raw.get("listing", False)),
                collection=raw.get("collection", ""),
                doctype=doctype,
                lang=raw.get("lang", ""),
                title=raw.get("title", ""),
                site=raw.get("site", ""),
                allow_hosts=tuple(raw.get("allow_hosts", ())),
                supersedes=_ids(raw.get("supersedes", "")),
                in_force_from=str(raw.get("in_force_from", "")),
                allow_symlinks=bool(raw.get("allow_symlinks", False)),
                max_links=max_links,
            )
        )
    if not entries:
        raise ManifestError(f"{manifest}: no [[source]] entries")
    return entries


def _ids(value: object) -> str:
    """`supersedes = "a"` or `supersedes = ["a", "b"]`, kept as "a,b"."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value or "")


def folder_manifest(folder: Path) -> list[ManifestEntry]:
    """`kb build --corpus DIR`: every supported file under DIR, no hints."""
    folder = folder.resolve()
    if not folder.is_dir():
        raise ManifestError(f"{folder}: not a folder")
    # No site: each page's own address (canonical link, og:url) groups it, else the folder.
    return [ManifestEntry(folder=folder, collection=folder.name)]


@dataclass
class Refusal:
    """Something discovery left out, and why: a run reports it as a failure."""

    location: str
    reason: str


@dataclass
class Discovery:
    """What discovery found, what it refused, and the folders it could not read in full."""

    refs: list[SourceRef] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    # folder of a manifest entry -> the folders under it (itself included) it could not list
    unreadable: dict[Path, list[Path]] = field(default_factory=dict)
    folders: list[Path] = field(default_factory=list)  # every folder entry, resolved


def discover(entries: list[ManifestEntry], *, root: Path | None = None) -> list[SourceRef]:
    """Expand manifest entries into sources, one per file or URL, in a stable order
    (`discover_all` also says what was refused and what could not be read)."""
    return discover_all(entries, root=root).refs


def discover_all(entries: list[ManifestEntry], *, root: Path | None = None) -> Discovery:
    """Expand manifest entries into sources, one per file or URL, in a stable order.

    A file listed twice (directly and through a folder) is kept once, with the
    most specific entry's hints. A symbolic link in a folder that leads out of it is
    refused (one line each) unless the entry has `allow_symlinks = true`: otherwise a
    link to /etc/passwd dropped into a shared folder would be published and searchable.
    """
    discovery = Discovery()
    found: dict[str, SourceRef] = {}
    for entry in entries:
        if entry.listing:
            continue  # its PDFs are known only once the page is fetched: see kb.ingest.listings
        if entry.url:
            host = urlparse(entry.url).hostname or ""
            found.setdefault(
                entry.url,
                SourceRef(
                    key=entry.url,
                    location=entry.url,
                    kind="url",
                    collection=entry.collection,
                    doctype_hint=entry.doctype,
                    lang_hint=entry.lang,
                    title_hint=entry.title,
                    site=entry.site or host,
                    site_given=True,
                    supersedes=entry.supersedes,
                    in_force_from=entry.in_force_from,
                ),
            )
            continue
        if entry.path is not None:
            files = [entry.path]
        else:
            assert entry.folder is not None
            if not entry.folder.is_dir():
                raise ManifestError(f"{entry.folder}: folder named in the manifest does not exist")
            discovery.folders.append(entry.folder)
            files = _folder_files(entry, root, discovery)
        for file in files:
            key = str(file)
            ref = SourceRef(
                key=key,
                location=_relative(file, root),
                kind="file",
                collection=entry.collection,
                doctype_hint=entry.doctype,
                lang_hint=entry.lang,
                title_hint=entry.title,
                site=entry.site or entry.collection or file.parent.name,
                site_given=bool(entry.site),
                supersedes=entry.supersedes,
                in_force_from=entry.in_force_from,
            )
            # A direct `path` entry is more specific than a folder sweep.
            if key not in found or entry.path is not None:
                found[key] = ref
    discovery.refs = list(found.values())
    return discovery


def _folder_files(entry: ManifestEntry, root: Path | None, discovery: Discovery) -> list[Path]:
    """The supported files under a folder entry, hidden ones left out, links checked."""
    assert entry.folder is not None
    folder = entry.folder
    real_folder = os.path.realpath(folder)
    unreadable: list[Path] = []
    files: list[Path] = []
    visited: set[str] = set()

    def outside(path: str) -> bool:
        target = os.path.realpath(path)
        return os.path.commonpath([target, real_folder]) != real_folder

    def refuse(path: Path, what: str) -> None:
        discovery.refused.append(Refusal(
            _relative(path, root),
            f"refused: a symbolic link to {what} outside the source folder "
            "(set allow_symlinks = true on the manifest entry to follow it)",
        ))  # fmt: skip

    def walk(top: str) -> None:
        visited.add(os.path.realpath(top))
        try:
            with os.scandir(top) as listing:
                items = sorted(listing, key=lambda e: e.name)
        except OSError:
            unreadable.append(Path(top))
            return
        for item in items:
            if item.name.startswith("."):
                continue
            path = Path(top) / item.name
            try:
                is_link = item.is_symlink()
                is_dir = item.is_dir()  # follows a link
                is_file = item.is_file()
            except OSError:
                unreadable.append(path)
                continue
            leaves = is_link and outside(item.path)
            if leaves and not entry.allow_symlinks:
                if is_dir or (is_file and path.suffix.lower() in SUPPORTED_SUFFIXES):
                    refuse(path, "a folder" if is_dir else "a file")
                continue
            if is_dir:
                # A link to a folder inside is not walked: its files are found where they are.
                if (leaves or not is_link) and os.path.realpath(item.path) not in visited:
                    walk(item.path)
            elif is_file and path.suffix.lower() in SUPPORTED_SUFFIXES:
                files.append(path)

    walk(str(folder))
    if unreadable:
        discovery.unreadable[folder] = unreadable
    return sorted(files)


def listing_entries(entries: list[ManifestEntry]) -> list[ManifestEntry]:
    """The manifest's listing pages, whose linked PDFs become sources at fetch time."""
    return [e for e in entries if e.url and e.listing]


def listing_sources(entry: ManifestEntry, links: list[str]) -> list[SourceRef]:
    """One source per PDF a listing page links to, carrying the listing's hints.

    The listing's title names the listing, not each PDF, so it is not passed on;
    the PDF's own title comes from extraction.
    """
    host = urlparse(entry.url).hostname or ""
    return [
        SourceRef(
            key=link,
            location=link,
            kind="url",
            collection=entry.collection,
            doctype_hint=entry.doctype,
            lang_hint=entry.lang,
            site=entry.site or host,
            site_given=True,
        )
        for link in links
    ]


def manifest_hosts(entries: list[ManifestEntry]) -> set[str]:
    """Hosts the manifest names: those of its URLs and its `allow_hosts`.

    Only these are fetched from (redirects included), and only these may be
    private or loopback addresses (a test server, an intranet site).
    """
    hosts = {(urlparse(e.url).hostname or "").lower() for e in entries if e.url}
    # "host:port" for a URL naming its port: a redirect may reach that port, and no other
    # than the scheme's default (kb.acquire.fetch.redirect_refusal).
    hosts |= {_host_port(e.url) for e in entries if e.url and _host_port(e.url)}
    hosts |= {h.lower() for e in entries for h in e.allow_hosts}
    return hosts - {""}


def _host_port(url: str) -> str:
    parsed = urlparse(url)
    try:
        port = parsed.port
    except ValueError:
        return ""
    return f"{(parsed.hostname or '').lower()}:{port}" if port else ""


def _relative(file: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(file.relative_to(root))
        except ValueError:
            pass
    return str(file)


def source_format(ref: SourceRef, content_type: str = "", head: bytes = b"") -> str:
    """pdf | html | text | docx | odt, from the bytes first (a '.pdf' that is HTML is HTML), then the name."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        office = _office_format(ref, content_type, head)
        if office:
            return office
    sniff = head[:512].lstrip().lower()
    if sniff.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "html"
    if "pdf" in content_type:
        return "pdf"
    if "html" in content_type:
        return "html"
    suffix = Path(urlparse(ref.key).path if ref.kind == "url" else ref.key).suffix.lower()
    if ref.kind == "url" and not suffix:
        return "html"
    return SUPPORTED_SUFFIXES.get(suffix, "text")


def _office_format(ref: SourceRef, content_type: str, head: bytes) -> str:
    """'docx' or 'odt' for a ZIP package that says (or is named) so, else ''.

    An OpenDocument file names its type in its first entry; a Word file usually
    starts with its content-types part or its `word/` folder. The extractor
    opens the package and refuses it clearly if it is something else.
    """
    if head[30:38] == b"mimetype":
        return "odt" if head[38:].startswith(b"application/vnd.oasis.opendocument.text") else ""
    if b"word/" in head or b"[Content_Types].xml" in head:
        return "docx"
    mime = content_type.split(";")[0].strip().lower()
    if mime in _OFFICE_CONTENT_TYPES:
        return _OFFICE_CONTENT_TYPES[mime]
    suffix = Path(urlparse(ref.key).path if ref.kind == "url" else ref.key).suffix.lower()
    return SUPPORTED_SUFFIXES.get(suffix, "") if suffix in (".docx", ".odt") else ""
