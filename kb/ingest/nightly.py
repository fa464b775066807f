"""Steps of an incremental run that sit between the stages: listing pages, and the index catch-up.

`kb.ingest.sequence.run_pipeline` puts them in order (inside Prefect tasks when `flows/ingest.py`
runs it); tests can call them as they are.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.errors import KBError
from kb.extract import EXTRACTOR_VERSIONS
from kb.home import HomePaths
from kb.ingest.commit import (
    ChangeSet,
    changes_from_dict,
    clear_pending_index_changes,
    merge_changes,
    pending_index_changes,
)
from kb.ingest.listings import ListingResult
from kb.ingest.pipeline import Failure, Outcome
from kb.model import SourceRef
from kb.store import SourceRecord, Store


def with_listed(refs: list[SourceRef], listings: list[ListingResult]) -> list[SourceRef]:
    """The manifest's own sources, then each listing's PDFs not already among them."""
    out = {r.key: r for r in refs}
    for result in listings:
        for ref in result.refs:
            out.setdefault(ref.key, ref)
    return list(out.values())


def listing_failures(listings: list[ListingResult]) -> list[Failure]:
    return [r.failure for r in listings if r.failure is not None]


def is_stale(record: SourceRecord | None) -> bool:
    """Whether the source was last extracted by extractor code that has changed since."""
    return record is not None and record.extractor not in set(EXTRACTOR_VERSIONS.values())


def record_for_fetch(ref: SourceRef, record: SourceRecord | None) -> SourceRecord | None:
    """The fingerprint to fetch a web page against: none if its extraction is stale.

    Without a fingerprint the request is unconditional, so a page that would
    answer 304 is downloaded and extracted again by the new code. (Files need
    nothing here: `check_source` forces a re-read of stale files itself.)
    """
    if ref.kind == "url" and is_stale(record):
        return None
    return record


def relabel_refetched(outcome: Outcome, record: SourceRecord | None) -> Outcome:
    """A known page fetched afresh (see `record_for_fetch`) is changed, not new."""
    if outcome.state == "new" and record is not None and record.doc_id:
        outcome.state = "changed"
    return outcome


def needs_extraction(outcome: Outcome, full: bool) -> bool:
    """New or changed bytes (all fetched bytes with `full`); a touched but equal file stops here."""
    fetched = outcome.fetched
    if fetched is None or (fetched.data is None and not fetched.set_aside):
        return False
    if full or outcome.state in ("new", "changed"):
        return True
    fetched.data, fetched.set_aside = None, False
    return False


def sync_index(paths: HomePaths, store: Store, *, full: bool = False) -> int:
    """Bring the index up to the store; returns the number of sections (re)indexed.

    Indexes every change committed and not indexed yet (the store's journal,
    see kb.ingest.commit), including those of an earlier run killed between its store
    commit and its index swap; `full` rebuilds the index from the store.
    """
    from search.indexer import build_index, update_index

    if full:
        count = build_index(paths, store)
    else:
        changed, removed = pending_index_changes(store)
        count = update_index(paths, store, changed, removed)
    clear_pending_index_changes(store)
    return count


@dataclass
class Recovered:
    """What stopped runs had committed and no run has reported yet."""

    run_ids: list[int]
    changes: ChangeSet


def recovered_changes(store: Store, run_id: int) -> Recovered | None:
    """Take over the report of runs that stopped after committing changes.

    A run killed (or stopped) after some of its commits leaves those changes in the
    store, so the next run sees the sources as unchanged and would report nothing.
    Their commits were recorded with the run (kb.ingest.commit, `run_id`); they are moved to
    run `run_id`'s record here (so a kill of this run passes them on again) and
    reported as part of this run.
    """
    rows = store.db.execute(
        "SELECT id, stats FROM runs WHERE id != ? AND state IN ('interrupted', 'failed') ORDER BY id",
        (run_id,),
    ).fetchall()
    ids: list[int] = []
    parts: list[dict[str, Any]] = []
    for row in rows:
        stats = json.loads(row["stats"])
        pending = [*stats.get("committed", []), *stats.get("recovered", [])]
        if "reported_by" in stats or not pending:
            continue
        ids.append(int(row["id"]))
        parts.extend(pending)
        store.set_run_stats(int(row["id"]), {**stats, "reported_by": run_id})
    if not ids:
        return None
    store.set_run_stats(
        run_id, {**store.runs_stats(run_id), "recovered": parts, "recovered_from": ids}
    )
    total = ChangeSet()
    for part in parts:
        merge_changes(total, changes_from_dict(part))
    return Recovered(ids, total)


def report_recovered(changes: ChangeSet, recovered: ChangeSet) -> None:
    """Add what stopped runs committed to this run's report.

    Those sources were found unchanged by this run because the stopped run had
    already stored them: they move from "unchanged" to what they were for it.
    """
    moved = recovered.sources.get("new", 0) + recovered.sources.get("changed", 0)
    unchanged = changes.sources.get("unchanged", 0)
    recovered_sources = {k: v for k, v in recovered.sources.items() if k != "seen"}
    merge_changes(changes, ChangeSet(sources=recovered_sources, sections=recovered.sections,
                                     documents=recovered.documents, digest=recovered.digest))  # fmt: skip
    changes.sources["unchanged"] = max(0, unchanged - moved)


# -- parameters of scheduled runs -------------------------------------------------------
# `kb schedule` puts the parameters it configured here, as JSON; the runs it serves
# inherit its environment, so they can check what the API asked them to do.
NIGHTLY_PARAMETERS_ENV = "KB_NIGHTLY_PARAMETERS"


class ParameterError(KBError):
    pass


def check_run_parameters(home: str, sources: str | None, corpus: str | None) -> None:
    """Refuse a served run whose home or sources differ from what `kb schedule` configured.

    Anyone who can reach the Prefect API could otherwise start the deployment with
    any `home` and `sources`, writing where the service's user may write. Outside a
    served run (no configuration in the environment) there is nothing to check.
    """
    configured_json = os.environ.get(NIGHTLY_PARAMETERS_ENV)
    if not configured_json:
        return
    configured = json.loads(configured_json)
    wanted = {"home": home, "sources": sources, "corpus": corpus}
    for name, value in wanted.items():
        allowed = configured.get(name)
        given = str(Path(value).resolve()) if value else None
        if given != allowed:
            raise ParameterError(
                f"refused: parameter {name}={value!r} is not the one `kb schedule` configured "
                f"({allowed!r})"
            )
