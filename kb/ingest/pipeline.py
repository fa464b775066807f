"""The ingest pipeline's stages as plain functions over the document model.

check (fetch + fingerprint) -> extract -> build (boilerplate, segment, tag) ->
commit (store) -> index. `kb.ingest.sequence.run_pipeline` puts them in order (as Prefect
tasks in `flows/ingest.py`); tests and `document_from_path` call them directly.
"""

from __future__ import annotations

import os
import re
from array import array
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import kb.acquire.fetch as fetch_module
from kb.acquire.fetch import Fetched, RetryableHTTPError, fetch_file, fetch_url, sha256
from kb.acquire.sources import Discovery, source_format
from kb.errors import SourceError
from kb.extract import EXTRACTOR_VERSIONS, extract_bytes
from kb.extract.boilerplate import remove_repeated, repeated_blocks
from kb.extract.worker import extract_isolated
from kb.model import LEGAL_DOCTYPES, Document, Extracted, SourceRef
from kb.normalize import slugify
from kb.runtime.limits import Limits, current_limits
from kb.runtime.testhooks import pause_point
from kb.segment.sections import segment
from kb.store import SourceRecord, Store

# The library's extractor, as imported: see `_extract` for why the name is compared.
_library_extract_bytes = extract_bytes
# A source whose segmentation or tagging failed comes back from `build_many` (maybe
# from another process) as a document without sections carrying these two keys.
BUILD_FAILURE_STAGE = "kb.build_failure.stage"
BUILD_FAILURE_REASON = "kb.build_failure.reason"

# A web page answering 404/410 is removed only after this many runs in a row,
# so one flaky night does not wipe it.
MISSING_RUNS_BEFORE_REMOVAL = 2
# A run that would remove more than this share of a folder's documents (an unmounted
# share, an emptied folder) keeps them and fails the folder instead, unless told to go on
# (`kb build --allow-mass-removal`) or the previous run held the same folder back.
# KB_MAX_REMOVAL_SHARE overrides it (0 to 1).
MAX_REMOVAL_SHARE = 0.2
# Removing one file is an everyday edit, never a mass removal, whatever the folder's size.
MIN_MASS_REMOVAL = 2
_HELD_PREFIX = "held_removal:"


@dataclass
class Failure:
    source: str
    stage: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "stage": self.stage, "reason": self.reason}


@dataclass
class Outcome:
    """What happened to one source in this run."""

    ref: SourceRef
    state: str  # new | changed | unchanged | missing | failed
    fetched: Fetched | None = None
    extracted: Extracted | None = None
    failure: Failure | None = None

    @property
    def needs_build(self) -> bool:
        return self.extracted is not None


def extractor_version(fmt: str) -> str:
    return EXTRACTOR_VERSIONS.get(fmt, fmt)


def check_source(ref: SourceRef, record: SourceRecord | None, *, full: bool = False,
                 allowed_hosts: set[str] | None = None, allow_private: set[str] | None = None) -> Outcome:  # fmt: skip
    """Fetch with a fingerprint; decide whether the source needs extraction.

    Files and responses over the byte limit (`kb.runtime.limits`) fail here, before they are read.
    """
    max_bytes = current_limits().max_file_bytes
    try:
        if ref.kind == "url":
            fetched = fetch_url(
                ref,
                etag=None if full or record is None else record.etag,
                last_modified=None if full or record is None else record.last_modified,
                known_sha=record.sha256 if record else None,
                allowed_hosts=allowed_hosts,
                allow_private=allow_private,
                max_bytes=max_bytes,
                max_seconds=fetch_module.MAX_SECONDS,  # read now: a test may shorten it
            )
        else:
            stale = record is not None and record.extractor not in set(EXTRACTOR_VERSIONS.values())
            fetched = fetch_file(
                ref,
                size=record.size if record else None,
                mtime_ns=record.mtime_ns if record else None,
                known_sha=record.sha256 if record and record.status == "ok" else None,
                force=full or stale,
                max_bytes=max_bytes,
            )
    except SourceError as exc:
        return Outcome(ref, "failed", failure=Failure(ref.location, exc.stage, exc.reason))
    except RetryableHTTPError:
        raise
    except Exception as exc:
        if _is_transport_error(exc):
            raise
        return Outcome(
            ref, "failed", failure=Failure(ref.location, "fetch", f"{type(exc).__name__}: {exc}")
        )
    return Outcome(ref, fetched.state, fetched=fetched)


def _is_transport_error(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.TransportError)


def extract_outcome(
    outcome: Outcome, *, full: bool = False, limits: Limits | None = None
) -> Outcome:
    """Extract a new or changed source (or every fetched one with `full`), within `limits`.

    Whatever goes wrong with one source becomes its failure, never an exception.
    """
    fetched = outcome.fetched
    if fetched is None or fetched.data is None or outcome.state in ("missing", "failed"):
        return outcome
    if outcome.state == "unchanged" and not full:
        fetched.data = None
        return outcome
    limits = limits or current_limits()
    pause_point("extract")
    try:
        outcome.extracted = _extract(outcome.ref, fetched.data, fetched.content_type, limits)
    except SourceError as exc:
        outcome.state = "failed"
        outcome.failure = Failure(outcome.ref.location, exc.stage, exc.reason)
    except RecursionError:
        outcome.state = "failed"
        outcome.failure = Failure(
            outcome.ref.location, "extract", "unreadable: the markup is nested too deeply"
        )
    except MemoryError:
        outcome.state = "failed"
        outcome.failure = Failure(outcome.ref.location, "extract", "too large to extract in memory")
    except Exception as exc:
        outcome.state = "failed"
        outcome.failure = Failure(
            outcome.ref.location, "extract", f"extractor error: {type(exc).__name__}: {exc}"
        )
    fetched.data = None  # the bytes are not needed past extraction
    return outcome


def _extract(ref: SourceRef, data: bytes, content_type: str, limits: Limits) -> Extracted:
    """The library's extractor in a worker process when a time or memory limit is on.

    A substitute put in place of `kb.ingest.pipeline.extract_bytes` (a test's spy) is called
    as it is, in this process: a worker could not see it.
    """
    if extract_bytes is not _library_extract_bytes:
        return extract_bytes(ref, data, content_type)
    if limits.isolated:
        return extract_isolated(ref, data, content_type, limits)
    return extract_bytes(ref, data, content_type, limits=limits)


def process_source(
    ref: SourceRef, record: SourceRecord | None, *, full: bool = False, **fetch_options: Any
) -> Outcome:
    return extract_outcome(check_source(ref, record, full=full, **fetch_options), full=full)


def extract_many(
    batch: list[Outcome], full: bool = False, limits: Limits | None = None
) -> list[Outcome]:
    """Extract a batch (module-level, so a process pool can pickle it).

    With a time or memory limit on, each source goes to a worker process of
    `kb.extract.worker`, several at a time; else they are extracted here, in turn.
    """
    limits = limits or current_limits()
    busy = [o for o in batch if o.fetched is not None and o.fetched.data is not None]
    if limits.isolated and len(busy) > 1:
        with ThreadPoolExecutor(max_workers=min(len(busy), os.cpu_count() or 1)) as threads:
            list(threads.map(lambda o: extract_outcome(o, full=full, limits=limits), busy))
    # Sources extracted above have given up their bytes, so this pass leaves them as they
    # are; it extracts the batch when it ran one at a time, and tidies what had nothing to do.
    return [extract_outcome(o, full=full, limits=limits) for o in batch]


def build_many(items: list[tuple[Outcome, str]]) -> list[Document]:
    """Segment and tag a batch of extracted sources (in a worker process, when there are some).

    A source that fails here comes back as a document without sections whose metadata
    says why (`BUILD_FAILURE_STAGE`, `BUILD_FAILURE_REASON`): `take_build_failures`
    turns those into failures, so one bad source does not lose the batch.
    """
    out = []
    for outcome, doc_id in items:
        assert outcome.extracted is not None
        sha = outcome.fetched.sha256 if outcome.fetched else ""
        try:
            out.append(document_from_extracted(outcome.extracted, doc_id, sha))
        except SourceError as exc:
            out.append(_failed_document(outcome.extracted, doc_id, exc))
    return out


def _failed_document(extracted: Extracted, doc_id: str, exc: SourceError) -> Document:
    return Document(id=doc_id, source=extracted.source, format=extracted.format, title=extracted.title,
                    sections=[], metadata={BUILD_FAILURE_STAGE: exc.stage, BUILD_FAILURE_REASON: exc.reason})  # fmt: skip


def take_build_failures(outcomes: list[Outcome], documents: list[Document]) -> list[Document]:
    """Mark the sources `build_many` could not segment or tag as failed; return the good documents."""
    by_key = {o.ref.key: o for o in outcomes}
    good = []
    for doc in documents:
        reason = doc.metadata.get(BUILD_FAILURE_REASON)
        if reason is None:
            good.append(doc)
            continue
        outcome = by_key.get(doc.source.key)
        if outcome is not None:
            outcome.state, outcome.extracted = "failed", None
            outcome.failure = Failure(
                outcome.ref.location, doc.metadata.get(BUILD_FAILURE_STAGE, "tag"), reason
            )
    return good


def wanted_doc_id(ref: SourceRef) -> str:
    if ref.kind == "url":
        from urllib.parse import urlparse

        parsed = urlparse(ref.key)
        last = Path(parsed.path).stem or parsed.hostname or "page"
        return slugify(last)
    return slugify(Path(ref.key).stem)


def page_site(ref: SourceRef, extracted: Extracted) -> str:
    """The site a page belongs to: the manifest's, else the host of the page's own address.

    A folder of pages saved from many sites is then grouped site by site (so blocks
    repeated across one site's pages are found) without a manifest; a page that does not
    say where it lives stays with its folder.
    """
    if ref.site_given or ref.kind == "url":
        return ref.site
    from urllib.parse import urlparse

    address = extracted.metadata.get("address") or extracted.metadata.get("base_address", "")
    host = (urlparse(address).hostname or "").lower()
    return host.removeprefix("www.") or ref.site


class SiteBlocks:
    """The block fingerprints of each site's pages, gathered page by page as they are extracted.

    Blocks repeated across a site's pages are boilerplate (`repeated_blocks`). Only the
    fingerprints are kept here, so a run need not hold every page's extraction at once to
    find them (`kb.ingest.sequence.run_pipeline` keeps its extractions on disk meanwhile),
    and each as the 8-byte number its 16 hex digits spell (`kb.extract.html.block_hash`)
    rather than as text: at 10,000 documents the run held 10 MB of them as strings, a
    thousand bytes a page, more than anything else it keeps per source.
    """

    def __init__(self) -> None:
        self._pages: dict[str, dict[str, array[int]]] = defaultdict(dict)  # site -> key -> ints

    def add(self, outcome: Outcome) -> None:
        """Note an extracted page's fingerprints under its site (which it is relabelled with)."""
        extracted = outcome.extracted
        if extracted is None or extracted.format != "html":
            return
        site = page_site(outcome.ref, extracted)
        if site != outcome.ref.site:
            # Recorded with the page, so later runs compare it with the same site's pages.
            outcome.ref = replace(outcome.ref, site=site)
            extracted.source = replace(extracted.source, site=site)
        self._pages[site][outcome.ref.key] = fingerprint_numbers(extracted.block_hashes)

    def repeated(self, store: Store | None) -> dict[str, set[str]]:
        """Each site's repeated blocks, over this run's pages and earlier runs' (in `store`)."""
        out = {}
        for site, pages in self._pages.items():
            earlier = store.site_block_hashes(site, exclude=set(pages)) if store is not None else []
            numbers = repeated_blocks([*pages.values(), *map(fingerprint_numbers, earlier)])
            out[site] = {f"{n:016x}" for n in numbers}
        return out

    @staticmethod
    def clean(outcome: Outcome, repeated: dict[str, set[str]]) -> None:
        """Remove its site's repeated blocks from an extracted page (one `add`ed before)."""
        extracted = outcome.extracted
        if extracted is not None and extracted.format == "html":
            remove_repeated(extracted, repeated.get(outcome.ref.site, set()))


_FINGERPRINT = re.compile(r"[0-9a-f]{16}")


def fingerprint_numbers(hashes: list[str]) -> array[int]:
    """A page's distinct block fingerprints as numbers (a fingerprint that is not 16 hex
    digits, which `block_hash` never makes, is left out: it could match nothing but itself)."""
    return array("Q", sorted({int(h, 16) for h in hashes if _FINGERPRINT.fullmatch(h)}))


def clean_site_boilerplate(outcomes: list[Outcome], store: Store | None) -> None:
    """Remove blocks repeated across each site's pages (this run's and earlier runs')."""
    blocks = SiteBlocks()
    for o in outcomes:
        blocks.add(o)
    repeated = blocks.repeated(store)
    for o in outcomes:
        blocks.clean(o, repeated)


def document_from_extracted(extracted: Extracted, doc_id: str, content_hash: str = "") -> Document:
    """Segment and tag one extracted source.

    An unexpected error in either stage is a bug, but it is one source's: it is raised
    as a SourceError naming the stage, and the run goes on without that source.
    """
    from kb.tagging.tagger import tag_document

    try:
        doc = segment(extracted, doc_id)
    except Exception as exc:
        raise SourceError(
            _bug_reason("segmentation", exc), stage="segment", source=extracted.source.location
        ) from exc
    doc.content_hash = content_hash
    if not doc.sections:
        raise SourceError(
            _no_text_reason(extracted), stage="segment", source=extracted.source.location
        )
    try:
        doc = tag_document(doc)
    except Exception as exc:
        raise SourceError(
            _bug_reason("tagging", exc), stage="tag", source=extracted.source.location
        ) from exc
    if doc.doctype in LEGAL_DOCTYPES:
        add_structure(doc)
    return doc


def add_structure(doc: Document) -> None:
    """Parse a law's article tree where it is built (a worker process, in a large run): the
    commit saves it (`kb.ingest.commit`). Parsed in the commit, a law PDF was read and laid
    out again in the run's one process while the workers waited: most of the commits' time
    at 100,000 documents. (Kept with the extraction instead, each PDF page's printed lines
    took the flow's process 59 MB higher at 10,000 documents.)"""
    from kb.legal.files import law_structure
    from kb.legal.units import structure_to_dict

    try:
        doc.structure = structure_to_dict(law_structure(doc))
    except Exception as exc:
        doc.structure_error = str(exc)


def _no_text_reason(extracted: Extracted) -> str:
    """Why a source that extracted without error still left nothing to index."""
    if extracted.format == "pdf":
        return (
            f"no text: nothing is left of its {extracted.page_count} pages once lines repeated on "
            "every page (running headers, footers, page numbers) are removed"
        )
    return "no text: nothing readable is left after extraction"


def max_removal_share() -> float:
    """MAX_REMOVAL_SHARE, or KB_MAX_REMOVAL_SHARE when set to a number from 0 to 1."""
    raw = os.environ.get("KB_MAX_REMOVAL_SHARE", "").strip()
    if not raw:
        return MAX_REMOVAL_SHARE
    try:
        share = float(raw)
    except ValueError:
        raise SourceError(
            f"KB_MAX_REMOVAL_SHARE={raw!r}: give a number from 0 to 1", stage="discover",
            source="environment",
        ) from None  # fmt: skip
    if not 0 <= share <= 1:
        raise SourceError(
            f"KB_MAX_REMOVAL_SHARE={raw!r}: give a number from 0 to 1", stage="discover",
            source="environment",
        )  # fmt: skip
    return share


def discovery_failures(discovery: Discovery) -> list[Failure]:
    """One failure a source that discovery refused (a symbolic link leaving its folder)."""
    return [Failure(r.location, "discover", r.reason) for r in discovery.refused]


def hold_mass_removals(
    store: Store,
    discovery: Discovery,
    *,
    allow: bool = False,
    share: float | None = None,
    root: Path | None = None,
) -> tuple[list[SourceRef], list[Failure]]:
    """Documents a run must keep although their files are gone, and the failures saying why.

    For each folder of the manifest: the documents under a subfolder that could not be
    read are kept (nothing is known about them) and the folder fails; and if more than `share` of the
    folder's documents would go, and at least MIN_MASS_REMOVAL of them, (the folder emptied, a share not mounted), they are all
    kept and the folder fails, unless `allow` or the previous run held the same folder
    back (a second run in a row confirms the removal, as for web pages answering 404).
    Returns the kept sources, to be counted as seen so the commit does not remove them.
    """
    share = max_removal_share() if share is None else share
    seen = {r.key for r in discovery.refs}
    files = [r for r in store.sources(block_hashes=False) if r.kind == "file"]
    held_before = _held_folders(store)
    held_now: dict[str, int] = {}
    kept: list[SourceRecord] = []
    failures: list[Failure] = []
    for folder in discovery.folders:
        where = _shown(folder, root)
        stored = [r for r in files if _under(r.key, folder)]
        gone = [r for r in stored if r.key not in seen]
        unreadable = discovery.unreadable.get(folder, [])
        if unreadable:
            blind = [
                r for r in gone if any(_under(r.key, u) or r.key == str(u) for u in unreadable)
            ]
            gone = [r for r in gone if r not in blind]
            names = ", ".join(_shown(u, root) for u in unreadable[:3])
            more = f" and {len(unreadable) - 3} more" if len(unreadable) > 3 else ""
            if blind and (allow or str(folder) in held_before):
                outcome = f"its {len(blind)} documents are removed (unreadable on two runs in a row, or allowed)"
            else:
                kept.extend(blind)
                if blind:
                    held_now[str(folder)] = len(blind)
                outcome = (f"its {len(blind)} documents are kept; `kb build --allow-mass-removal` "
                           "removes them, and so does the next run if it still cannot read it")  # fmt: skip
            failures.append(Failure(where, "discover", f"cannot read {names}{more}: {outcome}"))
        if len(gone) < MIN_MASS_REMOVAL or len(gone) <= share * len(stored):
            continue
        if allow or str(folder) in held_before:
            continue
        kept.extend(gone)
        held_now[str(folder)] = held_now.get(str(folder), 0) + len(gone)
        failures.append(Failure(where, "discover", (
            f"{len(gone)} of its {len(stored)} documents are gone (more than {share:.0%}): all are "
            "kept; if they were removed on purpose, run `kb build --allow-mass-removal`, or the "
            "next run removes them if they are still gone")))  # fmt: skip
    _save_held_folders(store, held_now)
    refs = [SourceRef(key=r.key, location=r.location, kind="file", site=r.site) for r in kept]
    return refs, failures


def _under(key: str, folder: Path) -> bool:
    return key.startswith(str(folder).rstrip(os.sep) + os.sep)


def _shown(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.relative_to(root)) or "."
        except ValueError:
            pass
    return str(path)


def _held_folders(store: Store) -> set[str]:
    rows = store.db.execute("SELECT key FROM meta WHERE key LIKE ?", (_HELD_PREFIX + "%",))
    return {row[0][len(_HELD_PREFIX) :] for row in rows}


def _save_held_folders(store: Store, held: dict[str, int]) -> None:
    with store.transaction() as db:
        db.execute("DELETE FROM meta WHERE key LIKE ?", (_HELD_PREFIX + "%",))
        db.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?)",
            [(_HELD_PREFIX + folder, str(count)) for folder, count in held.items()],
        )


def _bug_reason(stage: str, exc: BaseException) -> str:
    return f"{stage} failed (a bug; please report it): {type(exc).__name__}: {exc}"[:300]


def document_from_path(path: Path) -> Document:
    """Extract, segment and tag one file without a store (for `kb compare FILE …`)."""
    path = Path(path).resolve()
    if not path.is_file():
        raise SourceError("file not found", stage="fetch", source=str(path))
    ref = SourceRef(key=str(path), location=path.name, site=path.parent.name)
    data = path.read_bytes()
    return document_from_extracted(extract_bytes(ref, data), slugify(path.stem), sha256(data))


def detect_format(ref: SourceRef, data: bytes) -> str:
    return source_format(ref, "", data[:1024])
