"""What the web pages and the JSON API ask of the library.

Each function checks a request's parameters and calls the library
(`kb.library.KnowledgeBase`) that the command line calls too, so that `/api/search`
answers with the same object as `kb search --json`, `/api/documents/{id}` with that
of `kb show --json`, and `/api/compare` with that of `kb compare --json`. Nothing
here knows about HTTP.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb import library
from kb.errors import KBError, NotFoundError, QueryError
from kb.home import paths as home_paths
from kb.library import CompareResult, DocumentView, KnowledgeBase, find_section
from kb.model import DOCTYPES
from kb.store import Store

MAX_LIMIT = 200
COMPARE_METHODS = ("tfidf", "rapidfuzz")
_YEAR = re.compile(r"^\d{4}(?:-\d{4})?$")
_LANG = re.compile(r"^[a-z]{2,3}$")


class ParameterError(QueryError):
    """A request parameter out of range or of the wrong form (a 400 on the API)."""


def open_store(home: Path) -> Store:
    """The store in `home`; a clear error, not a new empty store, when there is none."""
    return KnowledgeBase(home).open_store()


# --- search ------------------------------------------------------------------------

# No lock is held across a search: each request's thread borrows a searcher of its own
# from the search library (Whoosh's readers keep a file position per open segment file)
# and gives it back when done, so a slow search never makes the others wait for it.
SORTS = ("relevance", "date")

Spans = list[tuple[int, int]]


@dataclass
class SearchParams:
    """The whole state of a search, as it appears in the URL."""

    q: str = ""
    doctype: str | None = None
    lang: str | None = None
    year: str | None = None
    tag: str | None = None
    doc: str | None = None
    page: int = 1
    limit: int = 10
    sort: str | None = None
    flat: bool = False
    per_doc: int = 3
    expand: bool = True
    in_force: bool = False  # laws: leave out the repealed ones

    def check(self) -> SearchParams:
        """Refuse parameters the library would silently ignore or clamp."""
        if self.doctype and self.doctype not in DOCTYPES:
            raise ParameterError(
                f"type {self.doctype!r} is not a document type; use one of {', '.join(DOCTYPES)}"
            )
        if self.lang and not _LANG.match(self.lang):
            raise ParameterError(f"lang {self.lang!r}: use a language code such as en, ru or tk")
        if self.year and not _YEAR.match(self.year):
            raise ParameterError(
                f"year {self.year!r}: use a year or a range, e.g. 2016 or 2011-2018"
            )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ParameterError(f"limit {self.limit}: use a number from 1 to {MAX_LIMIT}")
        if self.page < 1:
            raise ParameterError(f"page {self.page}: pages are numbered from 1")
        if not 1 <= self.per_doc <= MAX_LIMIT:
            raise ParameterError(f"per_doc {self.per_doc}: use a number from 1 to {MAX_LIMIT}")
        if self.sort and self.sort not in SORTS:
            raise ParameterError(f"sort {self.sort!r}: use {' or '.join(SORTS)}")
        return self

    @property
    def filters(self) -> dict[str, str]:
        """The active filters, by their URL names."""
        pairs = (
            ("type", self.doctype),
            ("lang", self.lang),
            ("year", self.year),
            ("tag", self.tag),
            ("doc", self.doc),
        )
        return {name: value for name, value in pairs if value}


def run_search(home: Path, params: SearchParams) -> dict[str, Any]:
    """The same object as `kb search --json` for these parameters (as there, a search
    within one document lists all its sections, ungrouped)."""
    params.check()
    with _borrowed_searchers():
        results = KnowledgeBase(home).search(
            params.q,
            doctype=params.doctype,
            lang=params.lang,
            year=params.year,
            tag=params.tag,
            doc=params.doc,
            limit=params.limit,
            page=params.page,
            sort=params.sort or "relevance",
            flat=params.flat or bool(params.doc),
            expand=params.expand,
            per_document=params.per_doc,
            in_force=params.in_force,
        )
    return results.as_dict()


@contextmanager
def _borrowed_searchers() -> Iterator[None]:
    """Searchers this request's thread opens go back to the library's pool afterwards."""
    from search.query import searchers

    try:
        yield
    finally:
        searchers.release()


def similar(home: Path, doc_id: str, section_id: str, limit: int = 5) -> dict[str, Any]:
    """Sections of other documents most like this one: `kb similar DOC#SECTION --json`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ParameterError(f"limit {limit}: use a number from 1 to {MAX_LIMIT}")
    with _borrowed_searchers():
        return KnowledgeBase(home).similar(doc_id, section_id, limit=limit).as_dict()


def query_highlighter(home: Path, query: str) -> Callable[[str, str], Spans]:
    """A function giving, for a section's text and language, where the query matches it.

    The query is compiled as a search compiles it (stems, phrases, the cross-lingual
    expansions), so the document page marks what the search matched. Without an index
    or with a query that cannot run, nothing is marked: the page still shows the text."""
    from search.compile import Compiler
    from search.query import searchers
    from search.snippets import matched_spans
    from search.syntax import parse, validate_query
    from search.vocabulary import load_vocabulary_for

    def nothing(text: str, lang: str) -> Spans:
        return []

    if not query.strip():
        return nothing
    try:
        with _borrowed_searchers():
            searcher, folder = searchers.get_with_folder(home_paths(home))
            compiled = Compiler(searcher, load_vocabulary_for(folder)).compile(
                parse(validate_query(query))
            )
    except KBError:
        return nothing
    schema = searcher.schema

    def spans(text: str, lang: str) -> Spans:
        return [(s.start, s.end) for s in matched_spans(text, lang, compiled.highlight, schema)]

    return spans


# --- documents -------------------------------------------------------------------------


def list_documents(home: Path) -> list[dict[str, Any]]:
    """The same rows as `kb docs --json`."""
    return KnowledgeBase(home).documents()


def load_document(home: Path, doc_id: str, *, details: bool = True) -> DocumentView:
    """A document and what its page shows; `details=False` for the JSON API, which gives only
    the document and its duplicates (no entities, facts, or the store's laws for editions)."""
    return KnowledgeBase(home).document(doc_id, hint="/api/documents lists them", details=details)


def document_dict(view: DocumentView, *, with_text: bool = False) -> dict[str, Any]:
    """The same object as `kb show DOC --json` (`--json --text` with `with_text`)."""
    return library.document_dict(view.document, view.duplicates, with_text=with_text)


def section_dict(view: DocumentView, section_id: str) -> dict[str, Any]:
    """The same object as `kb show DOC#SECTION --json`."""
    section = find_section(view.document, section_id)
    return {
        "doc_id": view.document.id,
        "title": view.document.title,
        **library.section_dict(section, with_text=True),
    }


@dataclass
class OriginalFile:
    """A document's original: the bytes of a file on this machine, or a web address."""

    path: Path | None
    url: str | None
    media_type: str
    data: bytes = b""  # the file's bytes, as they were ingested


def original_of(home: Path, doc_id: str) -> OriginalFile:
    """Only ever a source recorded in the store for this document: no path comes from the request.

    A file is read once and served only if its bytes are those that were ingested (same
    size and SHA-256): a file swapped since for a symlink to something else, or edited, is
    refused until the next build has ingested it."""
    with open_store(home) as store:
        doc = store.load_document(doc_id)
        record = store.source(doc.source.key) if doc is not None else None
    if record is None:
        raise NotFoundError(f"no document {doc_id!r}")
    if record.kind == "url":
        if not record.key.startswith(("https://", "http://")):
            raise NotFoundError(f"the original of {doc_id!r} is not a web address")
        return OriginalFile(None, record.key, "text/html")
    path = Path(record.key)
    data = _ingested_bytes(path, record.size, record.sha256)
    if data is None:
        raise NotFoundError(
            f"the original of {doc_id!r} is no longer at {record.location} as it was ingested "
            "(moved, changed or replaced): the next `kb build` picks up what is there now"
        )
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return OriginalFile(path, None, media_type, data)


def _ingested_bytes(path: Path, size: int | None, digest: str | None) -> bytes | None:
    """The file's bytes if they are the ones recorded at ingest, else None."""
    if not digest or size is None:
        return None
    try:
        with path.open("rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size != size:
                return None
            data = handle.read(size + 1)
    except OSError:
        return None
    if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
        return None
    return data


# --- legal texts -------------------------------------------------------------------------


def legal_documents(home: Path) -> list[dict[str, Any]]:
    """Documents that can be compared: laws and international instruments."""
    return KnowledgeBase(home).legal_documents()


def compare_documents(home: Path, a: str, b: str, method: str = "tfidf") -> CompareResult:
    """Two documents of the store, aligned article by article (as `kb compare A B`).

    Only document ids are accepted, never file paths: the web must not read files
    the store does not hold."""
    if method not in COMPARE_METHODS:
        raise ParameterError(f"method {method!r}: use {' or '.join(COMPARE_METHODS)}")
    if not a or not b:
        raise ParameterError("pick two documents to compare: a and b")
    return KnowledgeBase(home).compare(a, b, method=method)


# --- status ----------------------------------------------------------------------------


def status(home: Path, limit: int = 10) -> dict[str, Any]:
    """`kb status --json`'s object (the last runs, the next scheduled run), each run with its
    id and "what changed" digest added from the store, and the knowledge base's totals."""
    if not 1 <= limit <= 100:
        raise ParameterError(f"limit {limit}: use a number from 1 to 100")
    return KnowledgeBase(home).status(limit, totals=True)


__all__ = [
    "CompareResult",
    "DocumentView",
    "KBError",
    "OriginalFile",
    "ParameterError",
    "SearchParams",
    "compare_documents",
    "document_dict",
    "legal_documents",
    "list_documents",
    "load_document",
    "original_of",
    "query_highlighter",
    "run_search",
    "section_dict",
    "similar",
    "status",
]
