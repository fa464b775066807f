"""What the web pages and the JSON API ask of the library.

Each function is a thin call into `kb`/`search`, sharing the CLI's own helpers
where the CLI has them, so that `/api/search` answers with the same object as
`kb search --json`, `/api/documents/{id}` with that of `kb show --json`, and
`/api/compare` with that of `kb compare --json`. Nothing here knows about HTTP.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import KBError, NotFoundError, QueryError
from kb.home import paths as home_paths
from kb.model import DOCTYPES, Document, Section, Tag
from kb.store import Store

MAX_LIMIT = 200
LEGAL_DOCTYPES = ("legislation", "international_instrument")
COMPARE_METHODS = ("tfidf", "rapidfuzz")
_YEAR = re.compile(r"^\d{4}(?:-\d{4})?$")
_LANG = re.compile(r"^[a-z]{2,3}$")


class ParameterError(QueryError):
    """A request parameter out of range or of the wrong form (a 400 on the API)."""


def open_store(home: Path) -> Store:
    """The store in `home`; a clear error, not a new empty store, when there is none."""
    from kb.cli.core import open_store as cli_open_store

    return cli_open_store(home)


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
    from search.query import search

    params.check()
    with _borrowed_searchers():
        results = search(
            params.q,
            home=home,
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
    from search.query import similar as similar_sections

    if not 1 <= limit <= MAX_LIMIT:
        raise ParameterError(f"limit {limit}: use a number from 1 to {MAX_LIMIT}")
    with _borrowed_searchers():
        return similar_sections(doc_id, section_id, home=home, limit=limit).as_dict()


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


@dataclass
class DocumentView:
    """A document with what its page shows besides the sections."""

    document: Document
    duplicates: list[str]
    source_available: bool
    entities: list[Tag] = field(default_factory=list)
    facts: dict[str, list[str]] = field(default_factory=dict)  # "partner" -> the partners named
    # A law: its status (kb.legal.editions.EditionInfo) and its other editions and
    # languages, newest first: {"id", "title", "lang", "date", "status"}.
    edition: Any = None
    editions: list[dict[str, str]] = field(default_factory=list)
    in_force_id: str = ""  # a repealed law: the edition in force to read instead


def list_documents(home: Path) -> list[dict[str, Any]]:
    """The same rows as `kb docs --json`."""
    with open_store(home) as store:
        return store.documents()


def load_document(home: Path, doc_id: str) -> DocumentView:
    with open_store(home) as store:
        doc = store.load_document(doc_id)
        if doc is None:
            raise NotFoundError(f"no document {doc_id!r}; /api/documents lists them")
        duplicates = [r.location for r in store.sources() if r.duplicate_of == doc.source.key]
        record = store.source(doc.source.key)
        edition, editions, in_force_id = _editions(store, doc)
    available = record is not None and (record.kind == "url" or Path(record.key).is_file())
    entities: dict[str, Tag] = {}
    for tag in [*doc.tags, *(t for s in doc.sections for t in s.tags)]:
        if tag.kind == "entity":
            entities.setdefault(tag.value, tag)
    return DocumentView(
        document=doc,
        duplicates=duplicates,
        source_available=available,
        entities=sorted(
            entities.values(), key=lambda t: (t.value.split(".", 1)[0], t.label or t.value)
        ),
        facts=_facts(doc.tags),
        edition=edition,
        editions=editions,
        in_force_id=in_force_id,
    )


def _editions(store: Any, doc: Document) -> tuple[Any, list[dict[str, str]], str]:
    """A law's status and its other editions and languages (laws are few: computed here)."""
    from kb.legal.editions import (
        LEGAL_DOCTYPES,
        edition_statuses,
        in_force_successor,
        legal_documents,
    )

    if doc.doctype not in LEGAL_DOCTYPES:
        return None, [], ""
    laws = {d.id: d for d in legal_documents(store)}
    statuses = edition_statuses(laws.values())
    info = statuses.get(doc.id)
    if info is None:
        return None, [], ""
    rows = [
        {
            "id": other,
            "title": laws[other].title,
            "lang": laws[other].lang,
            "date": laws[other].date,
            "status": statuses[other].status,
        }
        for other in info.editions
        if other in laws
    ]
    successor = in_force_successor(doc.id, statuses, {i: d.lang for i, d in laws.items()})
    return info, rows, successor


def _facts(tags: list[Tag]) -> dict[str, list[str]]:
    facts: dict[str, list[str]] = {}
    for tag in tags:
        if tag.kind == "fact":
            values = facts.setdefault(tag.value, [])
            if (tag.label or tag.text) not in values:
                values.append(tag.label or tag.text)
    return facts


def document_dict(view: DocumentView, *, with_text: bool = False) -> dict[str, Any]:
    """The same object as `kb show DOC --json` (`--json --text` with `with_text`)."""
    from kb.cli.core import _section_dict

    data = view.document.to_dict()
    data["sections"] = [_section_dict(s, with_text=with_text) for s in view.document.sections]
    data["duplicates"] = view.duplicates
    return data


def section_dict(view: DocumentView, section_id: str) -> dict[str, Any]:
    """The same object as `kb show DOC#SECTION --json`."""
    from kb.cli.core import _section_dict

    section = find_section(view.document, section_id)
    return {
        "doc_id": view.document.id,
        "title": view.document.title,
        **_section_dict(section, with_text=True),
    }


def find_section(doc: Document, section_id: str) -> Section:
    section = doc.section(section_id)
    if section is None:
        raise NotFoundError(f"document {doc.id!r} has no section {section_id!r}")
    return section


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


@dataclass
class CompareResult:
    """A comparison, with the definition check for each side that is a national law."""

    comparison: Any  # kb.legal.compare.Comparison
    elements: Any | None  # the CLI's report: one side an instrument, the other national
    side_elements: dict[str, Any]  # "a"/"b" -> ElementsReport for each national law

    def as_dict(self) -> dict[str, Any]:
        """`kb compare --json`'s object, plus `definition` for each national law."""
        from kb.legal.compare import comparison_to_dict
        from kb.legal.elements import report_to_dict

        data = comparison_to_dict(self.comparison)
        if self.elements is not None:
            data["elements"] = report_to_dict(self.elements)
        data["definition"] = {
            side: report_to_dict(report) for side, report in self.side_elements.items()
        }
        return data


def legal_documents(home: Path) -> list[dict[str, Any]]:
    """Documents that can be compared: laws and international instruments."""
    return [d for d in list_documents(home) if d["doctype"] in LEGAL_DOCTYPES]


def compare_documents(home: Path, a: str, b: str, method: str = "tfidf") -> CompareResult:
    """Two documents of the store, aligned article by article (as `kb compare A B`).

    Only document ids are accepted, never file paths: the web must not read files
    the store does not hold."""
    from kb.cli.legal import _elements_for_other_side, load_from_store
    from kb.legal.compare import compare_structures
    from kb.legal.elements import check_elements

    if method not in COMPARE_METHODS:
        raise ParameterError(f"method {method!r}: use {' or '.join(COMPARE_METHODS)}")
    if not a or not b:
        raise ParameterError("pick two documents to compare: a and b")
    left, right = load_from_store(a, home), load_from_store(b, home)
    comparison = compare_structures(
        left.root,
        right.root,
        a_lang=left.lang,
        b_lang=right.lang,
        method=method,
        a_name=left.name,
        b_name=right.name,
    )
    side_elements: dict[str, Any] = {}
    for side, source in (("a", left), ("b", right)):
        if not source.is_instrument:
            report = check_elements(source.root, lang=source.lang)
            report.document = report.document or source.name
            side_elements[side] = report
    return CompareResult(comparison, _elements_for_other_side(left, right), side_elements)


# --- status ----------------------------------------------------------------------------


def status(home: Path, limit: int = 10) -> dict[str, Any]:
    """`kb status --json`'s object (the last runs, the next scheduled run), each run with its
    id and "what changed" digest added from the store, and the knowledge base's totals."""
    from kb.cli.ops import status_data

    if not 1 <= limit <= 100:
        raise ParameterError(f"limit {limit}: use a number from 1 to 100")
    paths = home_paths(home)
    data = status_data(paths, limit=limit)
    with Store(paths.store, readonly=True) as store:
        recorded = {row["started"]: row for row in store.runs(limit)}
        data["totals"] = store.counts()
    for run in data["runs"]:
        row = recorded.get(run["started"], {})
        run.setdefault("id", row.get("id"))
        run.setdefault("digest", row.get("digest") or {})
    return data


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
