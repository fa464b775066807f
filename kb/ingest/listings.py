"""Listing pages: a manifest `url` with `listing = true` whose linked PDFs are sources.

This is how newsletters are published ("Newsletter in Eng / Newsletter in Rus"):
a page of links. Each run fetches the listing (conditionally), and every PDF it
links to on the same site becomes its own source with the listing's hints. A PDF
the listing stops linking to leaves the manifest, so its document is removed.

What each listing linked to last time is kept in the store, so that a listing
that answers 304, fails, or is briefly missing keeps its PDFs rather than
dropping them all.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from kb.acquire.fetch import fetch_listing
from kb.acquire.sources import ManifestEntry, listing_sources
from kb.ingest.pipeline import MISSING_RUNS_BEFORE_REMOVAL, Failure
from kb.model import SourceRef
from kb.store import Store

_META_PREFIX = "listing:"


@dataclass
class ListingState:
    """What a listing page linked to when last read, and how to ask whether it changed."""

    url: str
    links: list[str] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    missing_runs: int = 0


@dataclass
class ListingResult:
    entry: ManifestEntry
    refs: list[SourceRef]
    state: ListingState | None  # what to remember for the next run (None: forget the listing)
    failure: Failure | None = None


def load_listing_state(store: Store, url: str) -> ListingState | None:
    row = store.db.execute("SELECT value FROM meta WHERE key = ?", (_META_PREFIX + url,)).fetchone()
    return ListingState(**json.loads(row["value"])) if row else None


def save_listing_states(store: Store, results: list[ListingResult]) -> None:
    """Remember what each listing linked to; forget listings no longer in the manifest."""
    with store.transaction() as db:
        db.execute("DELETE FROM meta WHERE key LIKE ?", (_META_PREFIX + "%",))
        db.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?)",
            [
                (_META_PREFIX + r.entry.url, json.dumps(asdict(r.state)))
                for r in results
                if r.state is not None
            ],
        )


def read_listing(entry: ManifestEntry, previous: ListingState | None, *, full: bool = False,
                 allowed_hosts: set[str] | None = None, allow_private: set[str] | None = None) -> ListingResult:  # fmt: skip
    """Fetch a listing page and turn its PDF links into sources.

    Refusals and client errors become a failure that keeps the previous links;
    5xx answers and connection errors are raised so that the caller can retry
    (and then call `listing_unreachable`).
    """
    from kb.errors import SourceError

    try:
        page = fetch_listing(
            entry.url,
            etag=None if full or previous is None else previous.etag,
            last_modified=None if full or previous is None else previous.last_modified,
            allowed_hosts=allowed_hosts,
            allow_private=allow_private,
            max_links=entry.max_links,
        )
    except SourceError as exc:
        return listing_unreachable(entry, previous, exc.reason)
    if page.state == "unchanged" and previous is not None:
        return ListingResult(entry, listing_sources(entry, previous.links), previous)
    if page.state == "missing":
        misses = (previous.missing_runs if previous else 0) + 1
        if misses >= MISSING_RUNS_BEFORE_REMOVAL or previous is None:
            reason = (
                f"listing page gone (HTTP 404/410 on {misses} runs in a row): its PDFs are removed"
            )
            return ListingResult(entry, [], None, Failure(entry.url, "listing", reason))
        kept = ListingState(
            previous.url, previous.links, previous.etag, previous.last_modified, misses
        )
        reason = "listing page answered 404/410: its PDFs are kept until it is missing on the next run too"
        return ListingResult(
            entry,
            listing_sources(entry, previous.links),
            kept,
            Failure(entry.url, "listing", reason),
        )
    state = ListingState(entry.url, page.links, page.etag, page.last_modified)
    capped = None
    if page.not_followed:
        capped = Failure(entry.url, "listing", (
            f"the page links to {len(page.links) + len(page.not_followed):,} PDFs: the first "
            f"{len(page.links):,} are followed, {len(page.not_followed):,} are not (first not "
            f"followed: {page.not_followed[0]}); raise max_links in the manifest to follow more"))  # fmt: skip
    return ListingResult(entry, listing_sources(entry, page.links), state, capped)


def listing_unreachable(
    entry: ManifestEntry, previous: ListingState | None, reason: str
) -> ListingResult:
    """A listing that could not be read this run keeps the PDFs it linked to last time."""
    links = previous.links if previous else []
    return ListingResult(
        entry, listing_sources(entry, links), previous, Failure(entry.url, "listing", reason)
    )
