"""Commit one run's outcomes to the store in a single transaction, and say what changed.

Removed sources lose their documents; a source that fails keeps its last good
document (nothing is lost to a broken download); a source whose content equals
another's is recorded as a duplicate of it and indexed once.

The documents a commit changes are also written, in the same transaction, to a
journal of changes the index has not seen yet. The index update clears it after
its swap; a run killed in between leaves the journal for the next run, which
re-indexes those documents, so the index never stays behind the store.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from kb.ingest.pipeline import (
    MISSING_RUNS_BEFORE_REMOVAL,
    Failure,
    Outcome,
    add_structure,
    extractor_version,
)
from kb.model import LEGAL_DOCTYPES, Document, SourceRef
from kb.runtime.testhooks import pause_point
from kb.store import SourceRecord, Store


@dataclass
class ChangeSet:
    changed_docs: list[str] = field(default_factory=list)
    removed_docs: list[str] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)
    sections: dict[str, int] = field(
        default_factory=lambda: {"added": 0, "updated": 0, "removed": 0}
    )
    documents: dict[str, int] = field(
        default_factory=lambda: {"added": 0, "updated": 0, "removed": 0}
    )
    failures: list[Failure] = field(default_factory=list)
    digest: dict[str, Any] = field(
        default_factory=lambda: {"new": [], "updated": [], "removed": [], "legislation": []}
    )


def merge_changes(total: ChangeSet, part: ChangeSet) -> ChangeSet:
    """Add one commit's changes to a run's (a run that commits in batches); returns `total`.

    Every batch is given all the run's sources as `seen`, so "seen" is not a sum.
    """
    total.changed_docs.extend(part.changed_docs)
    total.removed_docs.extend(part.removed_docs)
    for key, value in part.sources.items():
        total.sources[key] = (
            max(total.sources.get(key, 0), value)
            if key == "seen"
            else total.sources.get(key, 0) + value
        )
    for key, value in part.sections.items():
        total.sections[key] = total.sections.get(key, 0) + value
    for key, value in part.documents.items():
        total.documents[key] = total.documents.get(key, 0) + value
    total.failures.extend(part.failures)
    for key, entries in part.digest.items():
        total.digest.setdefault(key, []).extend(entries)
    return total


def changes_to_dict(changes: ChangeSet, counts: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "sources": dict(counts if counts is not None else changes.sources),
        "sections": dict(changes.sections),
        "documents": dict(changes.documents),
        "digest": changes.digest,
    }


def changes_from_dict(data: dict[str, Any]) -> ChangeSet:
    changes = ChangeSet(sources=dict(data.get("sources", {})))  # the other fields' defaults
    changes.sections.update(data.get("sections", {}))
    changes.documents.update(data.get("documents", {}))
    changes.digest.update(data.get("digest", {}))
    return changes


def commit_outcomes(
    store: Store,
    seen: list[SourceRef],
    outcomes: list[Outcome],
    documents: list[Document],
    *,
    remove_unseen: bool = True,
    run_id: int | None = None,
) -> ChangeSet:
    """Commit `outcomes` (and their `documents`) in one transaction.

    With `run_id`, what this commit changed is added to that run's record in the same
    transaction, so a run killed after some commits can still be reported (see
    `committed_changes`).

    A run may commit its sources in several batches, each a transaction of its own with
    its own index journal: only the last (`remove_unseen`) removes the sources the run
    did not see, since until then `outcomes` is not the whole run.
    """
    changes = ChangeSet()
    counts = {
        "seen": len(seen),
        "new": 0,
        "changed": 0,
        "unchanged": 0,
        "removed": 0,
        "failed": 0,
        "duplicate": 0,
    }
    docs_by_key = {d.source.key: d for d in documents}
    seen_keys = {r.key for r in seen}
    with store.transaction() as db:
        hashes_in_run: dict[str, str] = {}
        for outcome in outcomes:
            ref = outcome.ref
            record = store.source(ref.key) or SourceRecord(
                key=ref.key, location=ref.location, kind=ref.kind
            )
            record.location = ref.location
            # A page not extracted this run keeps the site its own address gave it earlier.
            if ref.site_given or outcome.extracted is not None or not record.site:
                record.site = ref.site
            fetched = outcome.fetched
            if outcome.state == "failed":
                counts["failed"] += 1
                assert outcome.failure is not None
                changes.failures.append(outcome.failure)
                record.status = "failed" if not record.doc_id else "ok"
                record.error, record.error_stage = outcome.failure.reason, outcome.failure.stage
                store.put_source(record, db)
                continue
            if outcome.state == "missing":
                record.missing_runs += 1
                if ref.kind == "file" or record.missing_runs >= MISSING_RUNS_BEFORE_REMOVAL:
                    _remove(store, db, record, changes)
                    counts["removed"] += 1
                else:
                    # Kept for now, but a failure of this run: a page gone is news.
                    store.put_source(record, db)
                    counts["failed"] += 1
                    changes.failures.append(Failure(ref.location, "fetch", (
                        f"HTTP {fetched.status if fetched and fetched.status else '404/410'}: the "
                        "page is gone; its document is kept until it is missing on the next run "
                        "too")))  # fmt: skip
                continue
            assert fetched is not None
            record.missing_runs = 0
            record.error = record.error_stage = None
            record.size, record.mtime_ns = fetched.size, fetched.mtime_ns
            record.etag = fetched.etag or record.etag
            record.last_modified = fetched.last_modified or record.last_modified
            record.sha256 = fetched.sha256 or record.sha256
            doc = docs_by_key.get(ref.key)
            if doc is None:
                counts["unchanged"] += 1
                store.put_source(record, db)
                continue
            original = _duplicate_of(store, record, hashes_in_run)
            if original is not None:
                counts["duplicate"] += 1
                if record.doc_id:
                    _drop_document(store, db, record.doc_id, changes)
                record.status, record.duplicate_of, record.doc_id = "duplicate", original, None
                # Extracted with today's code like any other source, so not stale next run.
                record.extractor = extractor_version(doc.format)
                store.put_source(record, db)
                continue
            hashes_in_run[record.sha256 or ""] = ref.key
            counts["new" if outcome.state == "new" else "changed"] += 1
            _save(store, db, doc, changes)
            record.doc_id, record.status, record.duplicate_of = doc.id, "ok", None
            record.extractor = extractor_version(doc.format)
            if outcome.extracted is not None:
                record.block_hashes = outcome.extracted.block_hashes
            store.put_source(record, db)
        for record in store.sources(block_hashes=False) if remove_unseen else []:
            if record.key not in seen_keys:
                _remove(store, db, record, changes)
                counts["removed"] += 1
        _journal_for_index(db, changes.changed_docs, changes.removed_docs)
        if run_id is not None:
            store.add_run_progress(run_id, changes_to_dict(changes, counts), db)
        pause_point("store")  # crash tests: every write done, the transaction not committed
    changes.sources = counts
    return changes


_PENDING_KEY = "index_pending"


def _journal_for_index(db: sqlite3.Connection, changed: list[str], removed: list[str]) -> None:
    if not changed and not removed:
        return
    old_changed, old_removed = _read_pending(db)
    pending = {
        "changed": sorted(old_changed | set(changed)),
        "removed": sorted(old_removed | set(removed)),
    }
    db.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (_PENDING_KEY, json.dumps(pending))
    )


def _read_pending(db: sqlite3.Connection) -> tuple[set[str], set[str]]:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (_PENDING_KEY,)).fetchone()
    if row is None:
        return set(), set()
    pending = json.loads(row[0])
    return set(pending.get("changed", [])), set(pending.get("removed", []))


def pending_index_changes(store: Store) -> tuple[list[str], list[str]]:
    """Document ids committed to the store but not yet in the live index: (changed, removed)."""
    changed, removed = _read_pending(store.db)
    return sorted(changed), sorted(removed)


def clear_pending_index_changes(store: Store) -> None:
    """Call after the index swap: the live index now reflects every committed change."""
    store.db.execute("DELETE FROM meta WHERE key = ?", (_PENDING_KEY,))


def _duplicate_of(store: Store, record: SourceRecord, in_run: dict[str, str]) -> str | None:
    if not record.sha256:
        return None
    if record.sha256 in in_run and in_run[record.sha256] != record.key:
        return in_run[record.sha256]
    row = store.db.execute(
        "SELECT key FROM sources WHERE sha256 = ? AND key != ? AND status = 'ok' AND doc_id IS NOT NULL",
        (record.sha256, record.key),
    ).fetchone()
    return row["key"] if row else None


def _save(store: Store, db: Any, doc: Document, changes: ChangeSet) -> None:
    old = store.load_document(doc.id)
    store.save_document(doc, db)
    if doc.doctype in LEGAL_DOCTYPES:
        _save_structure(store, db, doc)
    changes.changed_docs.append(doc.id)
    new_sections = {s.id: s for s in doc.sections}
    if old is None:
        changes.documents["added"] += 1
        changes.sections["added"] += len(doc.sections)
        changes.digest["new"].append({"id": doc.id, "title": doc.title, "doctype": doc.doctype})
        return
    changes.documents["updated"] += 1
    old_sections = {s.id: s for s in old.sections}
    added = [i for i in new_sections if i not in old_sections]
    removed = [i for i in old_sections if i not in new_sections]
    amended = [
        i
        for i in new_sections
        if i in old_sections and new_sections[i].text != old_sections[i].text
    ]
    changes.sections["added"] += len(added)
    changes.sections["removed"] += len(removed)
    changes.sections["updated"] += len(amended)
    changes.digest["updated"].append({"id": doc.id, "title": doc.title, "doctype": doc.doctype})
    if doc.doctype in LEGAL_DOCTYPES:
        label = {s.id: (s.heading or s.id) for s in [*old.sections, *doc.sections]}
        changes.digest["legislation"].append({
            "id": doc.id, "title": doc.title,
            "added": [label[i] for i in added], "removed": [label[i] for i in removed],
            "amended": [label[i] for i in amended],
        })  # fmt: skip


def _save_structure(store: Store, db: Any, doc: Document) -> None:
    """Keep the law's article tree, so results cite "Article 5(2)(b)" and compare needs no
    re-parse: as the build parsed it (`add_structure`), else parsed now."""
    if doc.structure is None and not doc.structure_error:
        add_structure(doc)  # a document built without the build stage's parse
    if doc.structure is None:
        doc.warnings.append(f"legal structure not parsed: {doc.structure_error}")
        return
    store.save_artifact(doc.id, "structure", doc.structure, db)


def _drop_document(store: Store, db: Any, doc_id: str, changes: ChangeSet) -> None:
    old = store.load_document(doc_id)
    if old is None:
        return
    store.delete_document(doc_id, db)
    changes.removed_docs.append(doc_id)
    changes.documents["removed"] += 1
    changes.sections["removed"] += len(old.sections)
    changes.digest["removed"].append({"id": doc_id, "title": old.title})


def _remove(store: Store, db: Any, record: SourceRecord, changes: ChangeSet) -> None:
    if record.doc_id:
        _drop_document(store, db, record.doc_id, changes)
    store.delete_source(record.key, db)
