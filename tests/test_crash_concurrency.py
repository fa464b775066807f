"""Searches running while the index is rebuilt and swapped: every one succeeds, on the old or the new index."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from kb.home import paths as home_paths
from kb.model import Document, Section, SourceRef
from kb.store import Store
from search.indexer import build_index, update_index
from search.query import search

pytestmark = pytest.mark.usefixtures("closing_searchers")

SWAPS = 6
SEARCH_THREADS = 3


def _doc(doc_id: str, text: str) -> Document:
    source = SourceRef(key=f"/corpus/{doc_id}.html", location=f"{doc_id}.html")
    section = Section(id="s-1", order=0, heading_path=["Overview"], text=text, lang="en")
    return Document(
        id=doc_id,
        source=source,
        format="html",
        title=f"Report {doc_id}",
        sections=[section],
        lang="en",
    )


def test_searches_during_reindexing_see_the_old_or_the_new_index(tmp_path: Path) -> None:
    paths = home_paths(tmp_path / "home").ensure()
    store = Store(paths.store)
    with store.transaction() as db:
        for n in range(3):
            store.save_document(
                _doc(f"r{n}", f"Labour migration report number {n} on recruitment agencies."), db
            )
    build_index(paths, store)
    extra = _doc("r9", "A further labour migration report on recruitment agencies.")

    totals: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def keep_searching() -> None:
        while not stop.is_set():
            try:
                totals.append(
                    search("labour migration", home=paths.root, flat=True, limit=20).total
                )
            except BaseException as exc:  # every error counts, not only ours
                errors.append(exc)
                return

    threads = [threading.Thread(target=keep_searching) for _ in range(SEARCH_THREADS)]
    for thread in threads:
        thread.start()
    try:
        for swap in range(SWAPS):
            if swap % 2 == 0:
                with store.transaction() as db:
                    store.save_document(extra, db)
                update_index(paths, store, ["r9"], [])
            else:
                with store.transaction() as db:
                    store.delete_document("r9", db)
                update_index(paths, store, [], ["r9"])
            time.sleep(0.05)
        build_index(paths, store)  # a full rebuild and swap too
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        store.close()

    assert not errors, f"{len(errors)} searches failed, first: {errors[0]!r}"
    assert len(totals) > SWAPS and set(totals) <= {3, 4}
    assert search("labour migration", home=paths.root, flat=True).total == 3
