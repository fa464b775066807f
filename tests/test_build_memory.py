"""A build's memory is flat in the number of documents: it never holds every file's bytes or
every extraction at once.

The check lets go of each file's bytes once hashed, and extraction reads them again a few
batches at a time; extractions wait on disk (kb.ingest.spill) from extraction until their
segmentation batch, and the flow lets go of each finished task's result. Checked by counting
the bytes, extraction results and documents alive in this process at the moments a run used
to hold them all, not by timing or RSS.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

import kb.ingest.pipeline
import kb.ingest.sequence
from kb.acquire.fetch import Fetched
from kb.home import paths as home_paths
from kb.ingest.pipeline import Outcome
from kb.ingest.sequence import LocalExecutor, SilentProgress, run_ingest, run_pipeline
from kb.ingest.spill import SPILL_FOLDER
from kb.model import LEGAL_DOCTYPES, Document, Extracted
from kb.store import Store
from search.query import search

pytestmark = pytest.mark.usefixtures("closing_searchers")

BATCH = 2  # sources segmented and committed together in these tests
PAGES = 14


def _write_corpus(root: Path) -> Path:
    """Pages of one site sharing a menu and a footer (its boilerplate), and a markdown note."""
    docs = root / "docs"
    docs.mkdir(parents=True)
    for n in range(PAGES):
        (docs / f"page{n}.html").write_text(
            "<!doctype html><html><head><title>Page {n}</title></head><body>"
            "<div><p>Home | News | Contacts of the shelter network</p></div>"
            f"<h1>Story {n}</h1><p>The hotline answered call number {n} about animal{n}.</p>"
            "<div><p>Copyright the quokka foundation, all rights reserved.</p></div>"
            "</body></html>",
            encoding="utf-8",
        )
    (docs / "note.md").write_text("# Note\n\nThe tapir programme.\n", "utf-8")
    manifest = root / "sources.toml"
    manifest.write_text('[[source]]\nfolder = "docs"\nsite = "example.org"\n', encoding="utf-8")
    return manifest


def _alive(kind: type) -> int:
    gc.collect()
    return sum(isinstance(o, kind) for o in gc.get_objects())


class Counted(list[dict[str, Any]]):
    """What `counted_commits` saw; `restart` forgets it and counts from what is alive now."""

    def __init__(self) -> None:
        super().__init__()
        self.before: dict[type, int] = {}
        self.restart()

    def restart(self) -> None:
        self.clear()
        self.before.update({kind: _alive(kind) for kind in (Extracted, Document, Outcome, Fetched)})


@pytest.fixture
def counted_commits(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Counted:
    """Once every source is extracted, then at each batch's commit (of `tmp_path/home`): the
    extractions and documents alive (beyond those alive before the run), and the extractions
    waiting on disk."""
    monkeypatch.setattr(kb.ingest.sequence, "COMMIT_BATCH_SOURCES", BATCH)
    seen = Counted()
    real = kb.ingest.sequence.commit_outcomes
    spill = tmp_path / "home" / SPILL_FOLDER
    before = seen.before

    def counting(store: Store, seen_refs: Any, outcomes: Any, documents: Any, **kw: Any) -> Any:
        seen.append({
            "documents_committed": len(documents),
            "extractions_alive": _alive(Extracted) - before[Extracted],
            "documents_alive": _alive(Document) - before[Document],
            "outcomes_alive": _alive(Outcome) - before[Outcome],
            "fetched_alive": _alive(Fetched) - before[Fetched],
            "spilled": sum(1 for _ in spill.rglob("*.pickle")),
        })  # fmt: skip
        return real(store, seen_refs, outcomes, documents, **kw)

    monkeypatch.setattr(kb.ingest.sequence, "commit_outcomes", counting)
    real_shutdown = kb.ingest.sequence.shutdown_workers

    def extraction_done() -> None:  # called once every source is extracted
        seen.append({
            "documents_committed": 0,
            "extractions_alive": _alive(Extracted) - before[Extracted],
            "documents_alive": 0,
            "outcomes_alive": _alive(Outcome) - before[Outcome],
            "fetched_alive": _alive(Fetched) - before[Fetched],
            "spilled": sum(1 for _ in spill.rglob("*.pickle")),
        })  # fmt: skip
        real_shutdown()

    monkeypatch.setattr(kb.ingest.sequence, "shutdown_workers", extraction_done)
    return seen


def _check_bounded(commits: list[dict[str, Any]], home: Path, *, flow: bool = False) -> None:
    extracted, *commits = commits
    assert extracted["spilled"] == PAGES + 1 and extracted["extractions_alive"] <= BATCH
    batches = [c for c in commits if c["documents_committed"]]
    assert sum(c["documents_committed"] for c in batches) == PAGES + 1
    # This batch and the next one (segmented while this one is committed), never all 15.
    assert max(c["extractions_alive"] for c in commits) <= 2 * BATCH
    if not flow:
        # In the flow, a task thread keeps the result of the last task it ran until it runs
        # another: how many documents that is depends on the threads' timing.
        assert max(c["documents_alive"] for c in commits) <= 2 * BATCH
    # A committed batch's outcomes are let go of: by the last commit most are gone (a run
    # used to hold every source's outcome, with its fetch fingerprints, to its end). In the
    # flow, Prefect holds each extraction task's result to the end, a copy emptied once taken.
    assert commits[-1]["fetched_alive"] < (PAGES + 1) // 2
    if not flow:
        assert commits[-1]["outcomes_alive"] < (PAGES + 1) // 2
    # The others wait on disk: all but the first two batches at the first commit.
    assert batches[0]["spilled"] == PAGES + 1 - 2 * BATCH
    assert not (home / SPILL_FOLDER).exists()  # removed when the run ends


def _check_boilerplate_removed(home: Path) -> None:
    assert {h.doc_id for h in search("hotline", home=home, limit=50).hits} == {
        f"page{n}" for n in range(PAGES)
    }
    assert not search("quokka", home=home).hits  # the site's footer, on every page


def test_a_library_build_holds_a_batch_or_two_of_extractions(
    tmp_path: Path, counted_commits: Counted
) -> None:
    manifest, home = _write_corpus(tmp_path), tmp_path / "home"
    changes = run_ingest(home, sources=manifest)
    assert changes.sources["new"] == PAGES + 1 and not changes.failures
    _check_bounded(counted_commits, home)
    _check_boilerplate_removed(home)


def test_a_failed_build_removes_its_spilled_extractions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kb.ingest.sequence, "COMMIT_BATCH_SOURCES", BATCH)
    manifest, home = _write_corpus(tmp_path), tmp_path / "home"
    spilled: list[int] = []

    def power_cut(store: Store, *args: Any, **kw: Any) -> Any:
        spilled.append(sum(1 for _ in (home / SPILL_FOLDER).rglob("*.pickle")))
        raise RuntimeError("power cut")

    monkeypatch.setattr(kb.ingest.sequence, "commit_outcomes", power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        run_ingest(home, sources=manifest)
    assert spilled[0] > 0
    assert not (home / SPILL_FOLDER).exists()


def test_a_killed_run_s_spill_folder_is_removed_by_the_next_run(tmp_path: Path) -> None:
    manifest, home = _write_corpus(tmp_path), tmp_path / "home"
    left = home / SPILL_FOLDER / "extracted-killed"
    left.mkdir(parents=True)
    (left / "0.pickle").write_bytes(b"from a run killed with kill -9")
    run_ingest(home, sources=manifest)
    assert not (home / SPILL_FOLDER).exists()


@pytest.mark.flow
def test_the_flow_lets_go_of_finished_tasks_results(
    prefect_api: str,
    tmp_path: Path,
    counted_commits: Counted,
    restore_environment: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows import progress
    from flows.ingest import ingest

    # As in a large build: extraction and segmentation in worker processes, whose results
    # come back to the flow as copies that Prefect's task states hold.
    monkeypatch.setattr(kb.ingest.sequence, "POOL_MIN_SOURCES", 1)
    manifest, home = _write_corpus(tmp_path), tmp_path / "home"
    # A first build fills Prefect's extraction cache; the counted one, into another home, is
    # then answered from it (copies read back from the result storage).
    ingest(home=str(tmp_path / "first"), sources=str(manifest), workers=2)
    counted_commits.restart()  # counted: what this run holds, beside what an earlier one left
    stages = _BytesAtStages()
    progress.set_reporter(stages)
    try:
        summary = ingest(home=str(home), sources=str(manifest), workers=2)
    finally:
        progress.set_reporter(None)
    assert summary["sources"]["new"] == PAGES + 1 and not summary["failures"]
    assert stages.at_extract == 0  # the check tasks let go of every file's bytes
    _check_bounded(counted_commits, home, flow=True)
    _check_boilerplate_removed(home)


@pytest.mark.flow
def test_the_flow_drops_prefects_links_to_the_results_it_took(
    prefect_api: str, tmp_path: Path, restore_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prefect links each task's result, and every object one level in it, to a copy of the
    task's state until the flow run ends (`FlowRunContext.run_results`): a link per source
    and a state per task, kept to the end of a 10,000-document run. The run drops them as
    it takes each result: at the index stage it holds none per source."""
    from prefect.context import FlowRunContext

    from flows.ingest import ingest

    monkeypatch.setattr(kb.ingest.sequence, "COMMIT_BATCH_SOURCES", BATCH)
    monkeypatch.setattr(kb.ingest.sequence, "POOL_MIN_SOURCES", 1)
    linked: list[int] = []
    real_sync = kb.ingest.sequence.sync_index

    def counting_sync(*args: Any, **kwargs: Any) -> int:
        context = FlowRunContext.get()
        assert context is not None  # the index stage runs in the flow's own process
        linked.append(len(context.run_results))
        return real_sync(*args, **kwargs)

    monkeypatch.setattr(kb.ingest.sequence, "sync_index", counting_sync)
    manifest, home = _write_corpus(tmp_path), tmp_path / "home"
    summary = ingest(home=str(home), sources=str(manifest), workers=2)
    assert summary["sources"]["new"] == PAGES + 1 and not summary["failures"]
    assert linked == [0]  # 133 before: the sources' extractions, documents, checks, listing
    _check_boilerplate_removed(home)


@pytest.mark.flow
def test_the_flow_runs_a_bounded_number_of_tasks_at_once(
    prefect_api: str, tmp_path: Path, restore_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prefect's thread pool has no bound by default: a check of 10,000 files ran its 250 tasks
    together, each reading its files (114 MB more in the flow's process)."""
    import threading
    import time

    from flows.ingest import TASK_THREADS, ingest

    # One file a check task, so that the run has more check tasks than threads.
    real_batches = kb.ingest.sequence.batches
    monkeypatch.setattr(kb.ingest.sequence, "batches",
                        lambda items, workers, **kw: real_batches(items, workers, max_size=1))  # fmt: skip
    running, most = [0], [0]
    lock = threading.Lock()
    real_check = kb.ingest.sequence.check_source

    def slow_check(*args: Any, **kw: Any) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.3)  # long enough for every started task to overlap
            return real_check(*args, **kw)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(kb.ingest.sequence, "check_source", slow_check)
    manifest, home = _write_corpus(tmp_path), tmp_path / "home"
    summary = ingest(home=str(home), sources=str(manifest), workers=2)
    assert summary["sources"]["new"] == PAGES + 1 and not summary["failures"]
    assert PAGES + 1 > TASK_THREADS  # more check tasks than threads: some had to wait
    assert 1 < most[0] <= TASK_THREADS


def test_an_extraction_put_after_another_was_taken_back_keeps_its_own_file(tmp_path: Path) -> None:
    from kb.ingest.pipeline import Outcome
    from kb.ingest.spill import spilled_extractions
    from kb.model import SourceRef

    def outcome(name: str) -> Outcome:
        ref = SourceRef(key=f"/corpus/{name}.md", location=f"{name}.md")
        return Outcome(
            ref, "new", extracted=Extracted(source=ref, format="text", title=name, blocks=[])
        )

    first, second, third = outcome("first"), outcome("second"), outcome("third")
    with spilled_extractions(tmp_path) as spill:
        spill.put(first)
        spill.put(second)
        spill.take(first)
        spill.put(third)  # while the second still waits on disk
        spill.take(second)
        spill.take(third)
    assert [o.extracted.title for o in (first, second, third) if o.extracted] == [
        "first",
        "second",
        "third",
    ]


class _BytesAtStages(SilentProgress):
    """Notes the file bytes held when extraction starts (the check is over by then)."""

    def __init__(self) -> None:
        self.at_extract: int | None = None

    def stage(self, name: str, total: int) -> None:
        if name == "extract":
            self.at_extract = _bytes_held()


def _bytes_held() -> int:
    """Fetched sources holding their bytes in this process."""
    gc.collect()
    return sum(isinstance(o, Fetched) and o.data is not None for o in gc.get_objects())


def test_a_build_holds_the_bytes_of_a_batch_of_files_not_all_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One worker, one batch ahead: 15 sources in batches of 5 (kb.ingest.sequence.batches).
    monkeypatch.setattr(kb.ingest.sequence, "EXTRACT_BATCHES_AHEAD", 1)
    held: list[int] = []
    real = kb.ingest.pipeline.extract_bytes

    def counting(ref: Any, data: bytes, content_type: str = "", **kw: Any) -> Extracted:
        held.append(_bytes_held())
        return real(ref, data, content_type, **kw)

    monkeypatch.setattr(kb.ingest.pipeline, "extract_bytes", counting)
    manifest, home = _write_corpus(tmp_path), tmp_path / "home"
    stages = _BytesAtStages()
    run = run_pipeline(home, LocalExecutor(), sources=manifest, workers=1, record_run=False,
                       progress=stages)  # fmt: skip
    assert run.summary["sources"]["new"] == PAGES + 1 and not run.summary["failures"]
    assert stages.at_extract == 0  # the check hashed every file and let go of its bytes
    assert len(held) == PAGES + 1 and max(held) <= 5  # read again one batch at a time
    _check_boilerplate_removed(home)


def test_a_file_changed_between_its_check_and_its_extraction_waits_for_the_next_run(
    tmp_path: Path,
) -> None:
    manifest, home = _write_corpus(tmp_path), tmp_path / "home"
    note = tmp_path / "docs" / "note.md"

    class EditsTheNote(SilentProgress):
        def stage(self, name: str, total: int) -> None:
            if name == "extract":  # every file checked, none extracted yet
                note.write_text("# Note\n\nThe numbat programme.\n", "utf-8")

    run = run_pipeline(home, LocalExecutor(), sources=manifest, workers=1, record_run=False,
                       progress=EditsTheNote())  # fmt: skip
    [failure] = run.summary["failures"]
    assert failure["source"].endswith("note.md") and "changed" in failure["reason"]
    with Store(home_paths(home).store) as store:  # neither the old text nor the new
        assert "note" not in store.document_ids()
    again = run_ingest(home, sources=manifest)
    assert again.sources["new"] == 1 and not again.failures
    assert {h.doc_id for h in search("numbat", home=home).hits} == {"note"}


def test_the_index_writers_pause_the_cyclic_collector_and_restore_it() -> None:
    from kb.runtime.memory import cyclic_gc_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("a writer failed")
    assert gc.isenabled(), "a failed block gives the collector back"
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled(), "a collector paused by the caller stays paused"
    finally:
        gc.enable()


def test_index_records_of_every_document_leave_no_reference_cycles(corpus_home: Path) -> None:
    """The writers pause the cyclic collector, so whatever building a document's index records
    leaves in a cycle stays until the writer ends: a law's structure tree, held by a
    recursive closure, made a writer 165 MB larger over the bench's 800 laws."""
    from search.indexer import document_records

    with Store(home_paths(corpus_home).store) as store:
        docs = list(store.iter_documents())
        assert any(d.doctype in LEGAL_DOCTYPES for d in docs)  # whose records cite provisions
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            records = sum(1 for doc in docs for _ in document_records(doc, store))
            gc.collect()
            left = [type(o).__name__ for o in gc.garbage]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
    assert records == sum(len(d.sections) for d in docs)
    assert not left, f"{len(left)} objects in cycles: {sorted(set(left))}"


def test_the_check_tasks_results_are_emptied_once_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prefect keeps each finished task's result until the flow run ends: a check task's
    list of outcomes, kept so, held every source's outcome and fetch fingerprints to the
    end of the run. The run takes the outcomes and empties the list."""
    kept: list[list[Outcome]] = []
    real_check = kb.ingest.sequence.check_files

    def keeping_check(*args: Any, **kwargs: Any) -> list[Outcome]:
        result = real_check(*args, **kwargs)
        kept.append(result)  # as Prefect's task state keeps it
        return result

    monkeypatch.setattr(kb.ingest.sequence, "check_files", keeping_check)
    manifest, home = _write_corpus(tmp_path), tmp_path / "home"
    run = run_pipeline(home, LocalExecutor(), sources=manifest, workers=1)
    assert run.summary["sources"]["new"] == PAGES + 1
    assert kept and all(result == [] for result in kept)
