"""The whole ingest in one process without Prefect: for tests, benchmarks and embedding.

It calls the same stage functions as `flows/ingest.py`, in the same order, minus
orchestration (tasks, retries, caching, the process pool, the artifact).
"""

from __future__ import annotations

from pathlib import Path

from kb.commit import ChangeSet, commit_outcomes
from kb.home import paths as home_paths
from kb.listings import save_listing_states
from kb.lock import ingest_lock
from kb.nightly import (
    listing_failures,
    read_listings,
    record_for_fetch,
    relabel_refetched,
    sync_index,
    with_listed,
)
from kb.pipeline import build_documents, discovery_failures, hold_mass_removals, process_source
from kb.sources import discover_all, folder_manifest, listing_entries, manifest_hosts, read_manifest
from kb.store import Store


def run_ingest(
    home: Path | str,
    *,
    sources: Path | str | None = None,
    corpus: Path | str | None = None,
    full: bool = False,
    allow_mass_removal: bool = False,
) -> ChangeSet:
    paths = home_paths(home).ensure()
    if corpus is not None:
        root = Path(corpus).resolve()
        entries = folder_manifest(root)
    else:
        manifest = Path(sources or "corpus/sources.toml").resolve()
        root = manifest.parent
        entries = read_manifest(manifest)
    hosts = manifest_hosts(entries)
    with ingest_lock(paths.lock), Store(paths.store) as store:
        listings = read_listings(store, listing_entries(entries), hosts, full=full)
        discovery = discover_all(entries, root=root)
        refs = with_listed(discovery.refs, listings)
        held, held_failures = hold_mass_removals(
            store, discovery, allow=allow_mass_removal, root=root
        )
        outcomes = []
        for ref in refs:
            record = store.source(ref.key)
            outcome = process_source(
                ref,
                record_for_fetch(ref, record),
                full=full,
                allowed_hosts=hosts,
                allow_private=hosts,
            )
            outcomes.append(relabel_refetched(outcome, record))
        documents = build_documents(outcomes, store)
        changes = commit_outcomes(store, refs + held, outcomes, documents)
        save_listing_states(store, listings)
        more = [*discovery_failures(discovery), *held_failures, *listing_failures(listings)]
        changes.failures.extend(more)
        changes.sources["failed"] = changes.sources.get("failed", 0) + len(more)
        sync_index(paths, store, full=full)
    return changes
