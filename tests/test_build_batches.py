"""The full build at scale: index writers in several processes and the flow's batched commits.

Several writer processes are only used for larger stores (search.indexer
`full_build_procs`), so these tests force them on the bundled corpus; the batched
commit is forced with a batch of one source.
"""

from __future__ import annotations

import multiprocessing
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from pdf_fixtures import make_pdf
from whoosh import index as windex

from kb.home import paths as home_paths
from kb.ingest.commit import pending_index_changes
from kb.store import Store
from search import indexer, shards
from search.indexer import build_index, full_build_procs, live_index_dir
from search.query import search, searchers
from search.schema import INDEX_NAME
from search.shards import (
    SECTION_WORK_CHARS,
    ShardWriterError,
    document_shards,
    document_work,
    store_work,
    writer_start_method,
)

pytestmark = pytest.mark.usefixtures("closing_searchers")

QUERIES = [
    "indicators of labour exploitation",
    "идентификация жертв",
    '"referral mechanism"',
    "129-1",
    "adam söwdasy",
    "hotline",
]


def _answers(home: Path) -> dict[str, Any]:
    searchers.close()
    out: dict[str, Any] = {}
    for query in QUERIES:
        results = search(query, home=home, limit=50, flat=True)
        out[query] = (results.total, sorted(f"{h.doc_id}#{h.section_id}" for h in results.hits))
    return out


def _copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def test_large_full_builds_use_a_writer_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexer.os, "cpu_count", lambda: 2)
    assert full_build_procs(100) == 1  # starting processes costs more than it saves
    assert full_build_procs(indexer.MULTIPROCESS_MIN_WORK) == 2
    monkeypatch.setattr(indexer.os, "cpu_count", lambda: 8)
    assert full_build_procs(100_000_000) == indexer.MAX_INDEX_PROCS


def test_the_writer_count_follows_the_text_not_only_the_sections(
    corpus_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexer.os, "cpu_count", lambda: 2)
    with Store(home_paths(corpus_home).store) as store:
        docs = list(store.iter_documents())
        work = store_work(store)
        assert work == sum(document_work(store).values())
    sections = [s for doc in docs for s in doc.sections]
    assert work == sum(len(s.text) for s in sections) + SECTION_WORK_CHARS * len(sections)
    # A law of 800 long articles is worth two writers; 2,000 one-line sections are not.
    assert full_build_procs(800 * (4_000 + SECTION_WORK_CHARS)) == 2
    assert full_build_procs(2_000 * (100 + SECTION_WORK_CHARS)) == 1


def _keys_in_index_order(home: Path) -> list[str]:
    live = live_index_dir(home_paths(home))
    assert live is not None
    with windex.open_dir(str(live), indexname=INDEX_NAME).searcher() as searcher:
        return [fields["key"] for fields in searcher.all_stored_fields()]


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_two_writer_processes_give_the_same_search(
    corpus_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_method: str
) -> None:
    one = _copy_home(corpus_home, tmp_path / "one")
    two = _copy_home(corpus_home, tmp_path / "two")
    with Store(home_paths(one).store) as store:
        count_one = build_index(home_paths(one), store, procs=1)
    chosen: list[str] = []

    def method(store: Store) -> str:
        chosen.append(writer_start_method(store))  # what this process would have used
        return start_method

    monkeypatch.setattr(shards, "writer_start_method", method)
    with Store(home_paths(two).store) as store:
        count_two = build_index(home_paths(two), store, procs=2)
    assert len(chosen) == 1
    assert count_one == count_two > 0
    live = live_index_dir(home_paths(two))
    assert live is not None and len(list(live.glob("*.seg"))) == 2  # one segment per process
    assert multiprocessing.active_children() == []
    assert _answers(one) == _answers(two)
    # The segments go in in the store's order: the sections are numbered as by one writer,
    # so equal scores break ties the same way.
    assert _keys_in_index_order(two) == _keys_in_index_order(one)
    for home in (one, two):  # "did you mean" reads the per-document spelling field
        results = search("hotline numbrs", home=home, flat=True)
        assert results.suggestion == "hotline numbers"
        assert search("palermo protocl", home=home).suggestion == "palermo protocol"


def test_writers_are_forked_only_from_a_process_with_no_other_thread_or_transaction(
    corpus_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(home_paths(corpus_home).store) as store:
        stop = threading.Event()
        helper = threading.Thread(target=stop.wait)
        helper.start()
        try:
            assert writer_start_method(store) == "spawn"  # as in a flow run, Prefect's threads
        finally:
            stop.set()
            helper.join()
        # A rebuild's process: nothing but its own thread (the test run may keep others).
        monkeypatch.setattr(shards.threading, "active_count", lambda: 1)
        assert writer_start_method(store) == "fork"
        with store.transaction():
            assert writer_start_method(store) == "spawn"
        assert writer_start_method(store) == "fork"


def test_shards_are_contiguous_runs_of_the_store_with_about_equal_work(corpus_home: Path) -> None:
    with Store(home_paths(corpus_home).store, readonly=True) as store:
        doc_ids = store.document_ids()
        work = document_work(store)
        assert work["law-ctip-2016-en"] > work["news-tot-mary-2018"]  # a law, a news item
        for count in (1, 2, 3):
            shards = document_shards(store, count)
            assert [d for shard in shards for d in shard] == doc_ids
            assert len(shards) == count
            sizes = [sum(work.get(d, 0) for d in shard) for shard in shards]
            # No shard is bigger than its share by more than the store's largest document.
            assert max(sizes) <= sum(sizes) / count + max(work.values())
        many = document_shards(store, len(doc_ids) + 5)
        assert 1 < len(many) <= len(doc_ids) and all(many)  # never an empty shard


def test_a_failed_multiprocess_build_stops_its_writers_and_keeps_the_index(
    corpus_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build's own work fails while its writer processes are writing."""
    home = _copy_home(corpus_home, tmp_path / "home")
    before = _answers(home)
    live = live_index_dir(home_paths(home))

    def failing(*args: Any, **kwargs: Any) -> None:
        assert len(multiprocessing.active_children()) == 2  # both writers are at work
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(indexer, "_beside_writers", failing)
    with Store(home_paths(home).store) as store, pytest.raises(RuntimeError, match="disk on fire"):
        build_index(home_paths(home), store, procs=2)
    assert multiprocessing.active_children() == []  # the writers are stopped
    assert live_index_dir(home_paths(home)) == live
    assert sorted(p.name for p in home_paths(home).indexes.iterdir()) == [live.name]
    assert _answers(home) == before


def test_a_writer_process_that_fails_is_named_and_the_index_kept(
    corpus_home: Path, tmp_path: Path
) -> None:
    """A document the second writer cannot read (a damaged row in the store)."""
    home = _copy_home(corpus_home, tmp_path / "home")
    before = _answers(home)
    live = live_index_dir(home_paths(home))
    with Store(home_paths(home).store) as store:
        damaged = document_shards(store, 2)[1][-1]
        with store.transaction() as db:
            db.execute(
                "UPDATE sections SET heading_path = '[not json' WHERE doc_id = ?", (damaged,)
            )
        with pytest.raises(
            ShardWriterError, match=f"{re.escape(damaged)}.*failed: JSONDecodeError"
        ):
            build_index(home_paths(home), store, procs=2)
    assert multiprocessing.active_children() == []
    assert live_index_dir(home_paths(home)) == live
    assert sorted(p.name for p in home_paths(home).indexes.iterdir()) == [live.name]
    assert _answers(home) == before


# --- the flow commits in batches --------------------------------------------------------------


def _write_corpus(docs: Path) -> Path:
    docs.mkdir(parents=True)
    make_pdf(docs / "manual.pdf", [["Module 1 Identification", "Indicators: the quokka case."]])
    make_pdf(docs / "newsletter.pdf", [["Newsletter", "A training on the platypus method."]])
    for name, word in (("page", "wombat"), ("other", "echidna"), ("third", "numbat")):
        (docs / f"{name}.html").write_text(
            f"<!doctype html><html><head><title>{name}</title></head><body><h1>{name}</h1>"
            f"<p>The hotline answered calls about the {word} scheme in Ashgabat.</p></body></html>",
            encoding="utf-8",
        )
    manifest = docs.parent / "sources.toml"
    manifest.write_text('[[source]]\nfolder = "docs"\n', encoding="utf-8")
    return manifest


@pytest.fixture
def one_source_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    import kb.ingest.sequence

    monkeypatch.setattr(kb.ingest.sequence, "COMMIT_BATCH_SOURCES", 1)


@pytest.mark.flow
def test_flow_commits_in_batches_and_counts_the_run_once(
    prefect_api: str, tmp_path: Path, one_source_batches: None, restore_environment: None
) -> None:
    from flows.ingest import ingest

    manifest = _write_corpus(tmp_path / "docs")
    home = tmp_path / "home"
    first = ingest(home=str(home), sources=str(manifest))
    assert first["sources"]["seen"] == 5 and first["sources"]["new"] == 5
    assert first["documents"]["added"] == 5 and first["indexed_sections"] >= 5
    assert {h.doc_id for h in search("hotline", home=home).hits} == {"page", "other", "third"}

    (tmp_path / "docs" / "other.html").unlink()
    (tmp_path / "docs" / "third.html").write_text(
        "<!doctype html><html><head><title>third</title></head><body><h1>third</h1>"
        "<p>The shelter took in a bilby.</p></body></html>",
        encoding="utf-8",
    )
    second = ingest(home=str(home), sources=str(manifest))
    assert second["sources"] | {"duplicate": 0} == {"seen": 4, "new": 0, "changed": 1,
        "unchanged": 3, "removed": 1, "failed": 0, "duplicate": 0}  # fmt: skip
    searchers.close()
    assert {h.doc_id for h in search("hotline", home=home).hits} == {"page"}
    assert {h.doc_id for h in search("bilby", home=home).hits} == {"third"}


@pytest.mark.flow
def test_a_run_failing_between_batches_keeps_the_index_and_the_next_run_catches_up(
    prefect_api: str,
    tmp_path: Path,
    one_source_batches: None,
    restore_environment: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kb.ingest.sequence
    from flows.ingest import ingest

    manifest = _write_corpus(tmp_path / "docs")
    home = tmp_path / "home"
    ingest(home=str(home), sources=str(manifest))
    before = _answers(home)
    for name in ("page", "other", "third"):
        (tmp_path / "docs" / f"{name}.html").write_text(
            f"<!doctype html><html><head><title>{name}</title></head><body><h1>{name}</h1>"
            f"<p>The {name} office now runs a dingo programme.</p></body></html>",
            encoding="utf-8",
        )
    real = kb.ingest.sequence.commit_outcomes
    commits = {"n": 0}

    def second_commit_fails(*args: Any, **kwargs: Any) -> Any:
        commits["n"] += 1
        if commits["n"] == 2:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(kb.ingest.sequence, "commit_outcomes", second_commit_fails)
    with pytest.raises(RuntimeError, match="power cut"):
        ingest(home=str(home), sources=str(manifest))
    assert _answers(home) == before  # the live index is untouched
    with Store(home_paths(home).store) as store:
        changed, _removed = pending_index_changes(store)
    assert len(changed) == 1  # the first batch is committed and journalled for the index

    monkeypatch.setattr(kb.ingest.sequence, "commit_outcomes", real)
    ingest(home=str(home), sources=str(manifest))
    searchers.close()
    assert {h.doc_id for h in search("dingo", home=home).hits} == {"page", "other", "third"}
    assert not search("wombat", home=home).hits


def test_the_documents_an_index_holds_leave_out_deleted_ones(
    corpus_home: Path, tmp_path: Path
) -> None:
    """After a run the build checks which documents the live index holds against the store
    (a mismatch rebuilds it); a removed document's terms stay in the lexicon until a merge."""
    from search.indexer import indexed_doc_ids, update_index

    home = _copy_home(corpus_home, tmp_path / "home")
    paths = home_paths(home)
    with Store(paths.store) as store:
        stored = set(store.document_ids())
        build_index(paths, store, procs=2)
        assert indexed_doc_ids(paths) == stored
        gone, changed = sorted(stored)[0], sorted(stored)[-1]
        update_index(paths, store, [changed], [gone])
    live = live_index_dir(paths)
    assert live is not None
    with windex.open_dir(str(live), indexname=INDEX_NAME).reader() as reader:
        assert reader.has_deletions()
        assert gone.encode() in set(reader.lexicon("doc_id"))
    assert indexed_doc_ids(paths) == stored - {gone}
