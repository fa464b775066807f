"""Steps of an incremental run that sit between the stages: listing pages, and the index catch-up.

`flows/ingest.py` runs these inside Prefect tasks; `kb.runner` and tests can call
them as they are.
"""

from __future__ import annotations

from kb.commit import clear_pending_index_changes, pending_index_changes
from kb.extract import EXTRACTOR_VERSIONS
from kb.home import HomePaths
from kb.listings import ListingResult, load_listing_state, read_listing
from kb.model import SourceRef
from kb.pipeline import Failure, Outcome
from kb.sources import ManifestEntry
from kb.store import SourceRecord, Store


def read_listings(
    store: Store, entries: list[ManifestEntry], hosts: set[str], *, full: bool = False
) -> list[ListingResult]:
    """Every listing page once, without retries (the flow retries each in its own task)."""
    return [
        read_listing(
            e, load_listing_state(store, e.url), full=full, allowed_hosts=hosts, allow_private=hosts
        )
        for e in entries
    ]


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
    if fetched is None or fetched.data is None:
        return False
    if full or outcome.state in ("new", "changed"):
        return True
    fetched.data = None
    return False


def sync_index(paths: HomePaths, store: Store, *, full: bool = False) -> int:
    """Bring the index up to the store; returns the number of sections (re)indexed.

    Indexes every change committed and not indexed yet (the store's journal,
    see kb.commit), including those of an earlier run killed between its store
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
