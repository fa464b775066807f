"""The knowledge base as a library: what a user can do with one home folder.

`KnowledgeBase(home)` holds the use cases both shells offer — search, similar
sections, the list of documents, a document or section, a law's structure, project
facts, a law compared with another, a definition checked against the Palermo
Protocol, the ingest status and the next scheduled run. The command line (kb/cli)
and the web interface (kb/web) parse their input, call it and format its answer;
neither holds logic the other needs, and neither imports the other.

Readers open the store read-only, so they answer at once while an ingest writes.
The search library, the legal modules and the schedule's client are imported on
use: `kb search` starts without the legal modules, and `kb status` without Prefect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.errors import KBError, NotFoundError
from kb.home import HomePaths, resolve_home
from kb.home import paths as home_paths
from kb.model import LEGAL_DOCTYPES, Document, Section, Tag
from kb.runtime.lock import pid_alive, waiting_runs
from kb.store import Store

if TYPE_CHECKING:
    from kb.facts import ProjectFacts
    from kb.legal.compare import Comparison
    from kb.legal.elements import ElementsReport
    from kb.legal.units import LegalUnit
    from search.query import Results

SOURCE_COUNTS = ("seen", "new", "changed", "unchanged", "removed", "failed")
SECTION_COUNTS = ("added", "updated", "removed")

# Files a law can be read from for a comparison or a definition check.
TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
FILE_SUFFIXES = TEXT_SUFFIXES | {".pdf", ".html", ".htm", ".docx", ".odt"}
_INSTRUMENT_TITLE = re.compile(
    r"\b(?:protocol|convention|конвенци|протокол|konwensiýa|protokol)", re.IGNORECASE
)

_NATIONAL_ACT_TITLE = re.compile(
    r"\b(?:Act,? No\.?|Act of \d{4}|Закон|Law No\.?|Kanuny)\b|\bAct\s*$", re.IGNORECASE
)


# --- what the answers are made of ----------------------------------------------------------


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


@dataclass
class LegalSource:
    """A law or instrument ready for comparison: its tree, language and kind."""

    name: str
    root: LegalUnit
    lang: str
    doctype: str

    @property
    def is_instrument(self) -> bool:
        return self.doctype == "international_instrument"


@dataclass
class CompareResult:
    """A comparison, with the definition check for each side that is a national law."""

    comparison: Comparison
    elements: ElementsReport | None  # one side an instrument: the other side's definition
    side_elements: dict[str, ElementsReport]  # "a"/"b" -> the report of each national law

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


def section_dict(sec: Section, *, with_text: bool = False) -> dict[str, Any]:
    """A section as `kb show --json` and the API give it."""
    data = {
        "id": sec.id, "heading_path": sec.heading_path, "pages": sec.pages, "lang": sec.lang,
        "number": sec.number, "kind": sec.kind, "chars": len(sec.text),
        "tags": [{"kind": t.kind, "value": t.value, "text": t.text} for t in sec.tags],
    }  # fmt: skip
    if with_text:
        data["text"] = sec.text
    return data


def document_dict(
    doc: Document, duplicates: list[str], *, with_text: bool = False
) -> dict[str, Any]:
    """A document as `kb show DOC --json` and the API give it (each section's text with
    `with_text`)."""
    data = doc.to_dict()
    data["sections"] = [section_dict(s, with_text=with_text) for s in doc.sections]
    data["duplicates"] = duplicates
    return data


def find_section(doc: Document, section_id: str, hint: str = "") -> Section:
    section = doc.section(section_id)
    if section is None:
        raise NotFoundError(
            f"document {doc.id!r} has no section {section_id!r}" + (f"; {hint}" if hint else "")
        )
    return section


# --- the knowledge base ---------------------------------------------------------------------


class KnowledgeBase:
    """The use cases over one home folder (the store, the index, fetched copies)."""

    def __init__(self, home: Path | str | None = None) -> None:
        self.home = resolve_home(home)
        self.paths: HomePaths = home_paths(self.home)

    def open_store(self) -> Store:
        """The store, read-only; a clear error, not a new empty store, when there is none."""
        if not self.paths.store.exists():
            raise NotFoundError(f"no knowledge base in {self.paths.root}: run `kb build` first")
        return Store(self.paths.store, readonly=True)

    # --- search ---------------------------------------------------------------------------

    def search(self, query: str, **options: Any) -> Results:
        """Sections matching `query`: `search.query.search`'s options (doctype, lang, year,
        tag, doc, limit, page, sort, flat, expand, per_document, in_force)."""
        from search.query import search

        return search(query, home=self.home, **options)

    def similar(self, target: str, section_id: str | None = None, **options: Any) -> Results:
        """Sections of other documents most like a section (DOC#SECTION, or DOC and
        SECTION) or a document: `search.query.similar`'s options (limit, same_document,
        doctype, lang)."""
        from search.query import similar

        return similar(target, section_id, home=self.home, **options)

    # --- documents --------------------------------------------------------------------------

    def documents(self) -> list[dict[str, Any]]:
        """One row a document: id, title, doctype, lang, date, sections."""
        with self.open_store() as store:
            return store.documents()

    def legal_documents(self) -> list[dict[str, Any]]:
        """Documents that can be compared: laws and international instruments."""
        return [d for d in self.documents() if d["doctype"] in LEGAL_DOCTYPES]

    def document(self, doc_id: str, *, hint: str = "", details: bool = True) -> DocumentView:
        """A document, the other places its source was found at and whether its original
        can be opened; with `details`, its entities, facts and (a law) its editions.

        `hint` ends the error for an unknown id: where the caller's user finds the ids."""
        with self.open_store() as store:
            doc = store.load_document(doc_id)
            if doc is None:
                raise NotFoundError(f"no document {doc_id!r}" + (f"; {hint}" if hint else ""))
            duplicates = [r.location for r in store.sources() if r.duplicate_of == doc.source.key]
            record = store.source(doc.source.key)
            edition, editions, in_force_id = _editions(store, doc) if details else (None, [], "")
        available = record is not None and (record.kind == "url" or Path(record.key).is_file())
        view = DocumentView(document=doc, duplicates=duplicates, source_available=available)
        if details:
            entities: dict[str, Tag] = {}
            for tag in [*doc.tags, *(t for s in doc.sections for t in s.tags)]:
                if tag.kind == "entity":
                    entities.setdefault(tag.value, tag)
            view.entities = sorted(
                entities.values(), key=lambda t: (t.value.split(".", 1)[0], t.label or t.value)
            )
            view.facts = _facts(doc.tags)
            view.edition, view.editions, view.in_force_id = edition, editions, in_force_id
        return view

    def structure(self, doc: Document) -> LegalUnit:
        """A law's chapters, articles, parts and points: as saved at ingest, else parsed now."""
        from kb.legal.parse import parse_structure
        from kb.legal.units import structure_from_dict

        with self.open_store() as store:
            saved = store.load_artifact(doc.id, "structure")
        return structure_from_dict(saved) if saved else parse_structure(doc)

    def facts(self, doc_id: str | None = None, *, by_time: bool = False) -> list[ProjectFacts]:
        """Project facts found in the documents (one document's with `doc_id`), each with
        the sentence it came from; `by_time`: the projects in time order."""
        from kb.facts import collect_facts, timeline  # the tagging modules load slowly

        with self.open_store() as store:
            projects = collect_facts(store, doc_id=doc_id)
        return timeline(projects) if by_time else projects

    # --- legal texts ----------------------------------------------------------------------

    def legal_source(self, ref: str, *, files: bool = False) -> LegalSource:
        """A document id in the store, or with `files` also a file path
        (.pdf/.docx/.odt/.md/.txt/.html). The web passes no `files`: it must not read
        files the store does not hold."""
        if files:
            path = Path(ref).expanduser()
            if path.is_file():
                return load_from_file(path)
            if "/" in ref or path.suffix.lower() in FILE_SUFFIXES:
                raise NotFoundError(f"file not found: {ref}")
        store_path = self.paths.store
        if not store_path.exists():
            raise NotFoundError(
                f"{ref!r} is neither a file nor a document: no store at {store_path}"
            )
        with Store(store_path, readonly=True) as store:
            doc = store.load_document(ref)
            if doc is None:
                raise NotFoundError(f"{ref!r} is neither a file nor a document in {store_path}")
            structure = store.load_artifact(ref, "structure")
        return source_from_document(doc, ref, structure)

    def compare(
        self,
        a: str,
        b: str,
        *,
        method: str = "tfidf",
        concordance: Path | None = None,
        files: bool = False,
        definitions: bool = True,
    ) -> CompareResult:
        """Two laws aligned article by article (see `legal_source` for `files`), with the
        definition check of the national side when the other is an instrument and, with
        `definitions`, that of each national law."""
        from kb.legal.compare import compare_structures, load_concordance
        from kb.legal.elements import check_elements

        left, right = self.legal_source(a, files=files), self.legal_source(b, files=files)
        forced = load_concordance(concordance) if concordance else None
        comparison = compare_structures(
            left.root,
            right.root,
            a_lang=left.lang,
            b_lang=right.lang,
            concordance=forced,
            method=method,
            a_name=left.name,
            b_name=right.name,
        )
        side_elements: dict[str, ElementsReport] = {}
        for side, source in (("a", left), ("b", right)) if definitions else ():
            if not source.is_instrument:
                report = check_elements(source.root, lang=source.lang)
                report.document = report.document or source.name
                side_elements[side] = report
        return CompareResult(comparison, elements_for_other_side(left, right), side_elements)

    def elements(
        self, source: LegalSource, unit: str | None = None, lang: str | None = None
    ) -> ElementsReport:
        """A definition of trafficking checked against the Palermo Protocol, element by
        element (in `unit`, else the definition article found by its wording)."""
        from kb.legal.elements import check_elements

        report = check_elements(source.root, unit or None, lang=lang or source.lang)
        report.document = report.document or source.name
        return report

    # --- ingest status and schedule ----------------------------------------------------------

    def status(
        self, limit: int = 10, *, ask_server: bool = True, totals: bool = False
    ) -> dict[str, Any]:
        """The last runs, newest first, the next scheduled run, runs waiting for the ingest
        lock, and the state of `kb schedule` and its Prefect server (`kb status --json`).

        With `totals`, each run also has its id and "what changed" digest, and the
        knowledge base's totals are added (the web's status page)."""
        # On use (it brings httpx): `kb search` starts without it. It asks the Prefect
        # server over HTTP and imports no Prefect to answer.
        from kb.schedule.record import next_run, read_scheduler_health, recorded_schedule

        paths = self.paths
        if not paths.store.exists():
            raise NotFoundError(f"no knowledge base in {paths.root}: run `kb build` first")
        with Store(paths.store, readonly=True) as store:
            rows = store.runs(limit)
            schedule = recorded_schedule(store)
            counts = store.counts() if totals else None
        holder_alive = _lock_holder_alive(paths.lock)
        runs = [
            _run_entry(row, newest=n == 0, holder_alive=holder_alive) for n, row in enumerate(rows)
        ]
        scheduler = read_scheduler_health(paths) if schedule is not None else None
        upcoming = None
        # A scheduler known to be gone or without its server starts nothing: no "next run" then.
        if scheduler is None or scheduler["state"] == "serving":
            upcoming = next_run(schedule, ask_server=ask_server, home=paths.root)
        data = {
            "runs": runs,
            "next_run": upcoming.isoformat() if upcoming else None,
            "waiting_for_lock": waiting_runs(paths.lock),
            "scheduler": scheduler,
        }
        if totals:
            data["totals"] = counts
            for run, row in zip(runs, rows, strict=True):
                run.setdefault("id", row.get("id"))
                run.setdefault("digest", row.get("digest") or {})
        return data


# --- documents: helpers ---------------------------------------------------------------------


def _editions(store: Store, doc: Document) -> tuple[Any, list[dict[str, str]], str]:
    """A law's status and its other editions and languages (laws are few: computed here)."""
    from kb.legal.editions import (
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


# --- legal texts: helpers -------------------------------------------------------------------


def _doctype_of(root: LegalUnit, given: str = "") -> str:
    if given and given != "other":
        return given
    title = root.heading or ""
    # "Convention on … Trafficking … Act, No. 30 of 2005" is a national act giving effect
    # to a convention: legislation.
    if _INSTRUMENT_TITLE.search(title) and not _NATIONAL_ACT_TITLE.search(title):
        return "international_instrument"
    return "legislation"


def load_from_file(path: Path) -> LegalSource:
    """Markdown and text are parsed as they are; PDF and HTML go through the pipeline."""
    from kb.legal.elements import guess_language
    from kb.legal.files import DIRECT_SUFFIXES, parse_law_file

    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise KBError(
            f"{path}: cannot read {suffix or 'a file without extension'} (use .pdf, .docx, .odt, .md, .txt or .html)"
        )
    if suffix in DIRECT_SUFFIXES:
        # The same reading `kb build` keeps for the index (kb.legal.files).
        root = parse_law_file(path)
        return LegalSource(path.name, root, guess_language(root.full_text()), _doctype_of(root))
    from kb.ingest.pipeline import document_from_path  # the pipeline pulls in every extractor

    doc = document_from_path(path)
    return source_from_document(doc, path.name, doc.structure)  # a law's, parsed in the build


def source_from_document(
    doc: Document, name: str = "", structure: dict | None = None
) -> LegalSource:
    from kb.legal.elements import LANGUAGES, guess_language
    from kb.legal.parse import parse_structure
    from kb.legal.units import structure_from_dict

    root = structure_from_dict(structure) if structure else parse_structure(doc)
    lang = doc.lang if doc.lang in LANGUAGES else guess_language(root.full_text())
    return LegalSource(name or doc.id, root, lang, _doctype_of(root, doc.doctype))


def elements_for_other_side(a: LegalSource, b: LegalSource) -> ElementsReport | None:
    """One side an international instrument, the other national: the national definition
    checked against it."""
    from kb.legal.elements import check_elements

    if a.is_instrument == b.is_instrument:
        return None
    national = b if a.is_instrument else a
    return check_elements(national.root, lang=national.lang)


# --- status: helpers ------------------------------------------------------------------------


def _run_entry(row: dict[str, Any], *, newest: bool, holder_alive: bool) -> dict[str, Any]:
    sources, sections = row.get("sources", {}), row.get("sections", {})
    failures = [
        {"source": f["source"], "stage": f["stage"], "reason": f["reason"]} for f in row["failures"]
    ]
    if row.get("error"):  # the whole run failed (a bad manifest, a full disk): say why
        failures.append({"source": "(run)", "stage": "run", "reason": row["error"]})
    state = row["state"]
    # A run left 'running' whose process is gone was killed; the next run records it so too.
    if state == "running" and not (newest and holder_alive):
        state = "interrupted"
    return {
        "started": row["started"],
        "finished": row["finished"],
        "state": state,
        "sources": {k: int(sources.get(k, 0)) for k in SOURCE_COUNTS},
        "sections": {k: int(sections.get(k, 0)) for k in SECTION_COUNTS},
        "failures": failures,
        "seconds": dict(row.get("seconds", {})),
    }


def _lock_holder_alive(lock: Path) -> bool:
    """Whether the process that last took the ingest lock still exists (the lock file holds its pid)."""
    try:
        pid = int(lock.read_text().strip() or 0)
    except (OSError, ValueError):
        return False
    return pid_alive(pid)


__all__ = [
    "CompareResult",
    "DocumentView",
    "KnowledgeBase",
    "LegalSource",
    "document_dict",
    "elements_for_other_side",
    "find_section",
    "load_from_file",
    "section_dict",
    "source_from_document",
]
