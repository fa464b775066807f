"""The one ingest sequence (kb.ingest.sequence) run without Prefect: its stages through the executor
passed in, the flow's batched commits and document ids, a process pool giving what a
serial run gives."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

import kb.ingest.sequence
from kb.home import paths as home_paths
from kb.ingest.sequence import LocalExecutor, Pending, run_ingest, run_pipeline
from kb.store import Store
from search import indexer
from search.query import search

pytestmark = pytest.mark.usefixtures("closing_searchers")


def _page(title: str, text: str) -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>{text}</p></body></html>"
    )


def _write_corpus(docs: Path) -> Path:
    docs.mkdir(parents=True)
    for name, animal in (("page", "wombat"), ("other", "echidna"), ("third", "numbat")):
        (docs / f"{name}.html").write_text(
            _page(name, f"The hotline answered calls about the {animal} scheme in Ashgabat."),
            encoding="utf-8",
        )
    (docs / "plan.md").write_text("# National Action Plan\n\nThe tapir programme.\n", "utf-8")
    (docs / "leaflet.md").write_text("# Leaflet\n\nSafe migration advice.\n", "utf-8")
    return docs


def _sections(home: Path) -> list[tuple[str, ...]]:
    with Store(home_paths(home).store) as store:
        rows = store.db.execute("SELECT doc_id, id, lang, text FROM sections ORDER BY 1, 2")
        return [tuple(r) for r in rows]


class RecordingExecutor:
    """The local executor, noting which stage functions the sequence hands it."""

    def __init__(self) -> None:
        self.inner = LocalExecutor()
        self.stages: list[str] = []
        self.pool_sizes: list[int] = []

    def submit(self, stage: Callable[..., Any], *args: Any) -> Pending[Any]:
        self.stages.append(stage.__name__)
        return self.inner.submit(stage, *args)

    def map(self, stage: Callable[..., Any], batches: Sequence[Any], *args: Any) -> list[Any]:
        self.stages.extend(stage.__name__ for _ in batches)
        return self.inner.map(stage, batches, *args)

    def workers(self, count: int) -> AbstractContextManager[None]:
        self.pool_sizes.append(count)
        return self.inner.workers(count)


def test_every_stage_runs_through_the_executor_and_commits_come_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kb.ingest.sequence, "COMMIT_BATCH_SOURCES", 2)
    docs, home = _write_corpus(tmp_path / "docs"), tmp_path / "home"
    executor = RecordingExecutor()

    run = run_pipeline(home, executor, corpus=docs, workers=1, record_run=False)

    assert executor.stages[0] == "discover_sources"
    assert executor.stages.count("check_files") >= 1
    assert executor.stages.count("extract_many") >= 1
    # Five new sources, two a batch: three batches committed, then the rest of the run.
    assert executor.stages.count("commit_batch") == 4
    assert executor.stages[-1] == "update_index"
    assert executor.pool_sizes == [0]  # five sources are not worth worker processes
    assert run.summary["sources"] | {"duplicate": 0} == {"seen": 5, "new": 5, "changed": 0,
        "unchanged": 0, "removed": 0, "failed": 0, "duplicate": 0}  # fmt: skip
    assert run.summary["documents"]["added"] == 5 and run.summary["id"] is None
    assert run.measures.documents_built == 5 and run.measures.sections_built >= 5
    assert {h.doc_id for h in search("hotline", home=home).hits} == {"page", "other", "third"}


def test_two_new_sources_wanting_the_same_id_in_one_run_get_their_own(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    for folder, word in (("2025", "kestrel"), ("2026", "merlin")):
        (docs / folder).mkdir(parents=True)
        (docs / folder / "report.md").write_text(f"# Annual report\n\nThe {word} project.\n")

    changes = run_ingest(tmp_path / "home", corpus=docs)

    assert changes.sources["new"] == 2 and not changes.failures
    found = {
        h.doc_id for w in ("kestrel", "merlin") for h in search(w, home=tmp_path / "home").hits
    }
    assert found == {"report", "report-2"}


def test_worker_processes_build_what_a_serial_run_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kb.ingest.sequence, "POOL_MIN_SOURCES", 2)
    docs = _write_corpus(tmp_path / "docs")
    serial_home, pool_home = tmp_path / "serial", tmp_path / "pool"
    serial = run_pipeline(serial_home, LocalExecutor(), corpus=docs, workers=1)
    executor = RecordingExecutor()
    pooled = run_pipeline(pool_home, executor, corpus=docs, workers=2)

    assert executor.pool_sizes == [2]
    assert pooled.summary["sources"] == serial.summary["sources"]
    assert pooled.summary["totals"] == serial.summary["totals"]
    assert _sections(pool_home) == _sections(serial_home)
    # Both runs are recorded, as the flow's are.
    for home, run in ((serial_home, serial), (pool_home, pooled)):
        with Store(home_paths(home).store) as store:
            [row] = store.runs()
        assert row["id"] == run.summary["id"] and row["state"] == "completed"


def test_a_large_index_update_runs_in_a_fresh_process_and_a_small_one_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs, home = _write_corpus(tmp_path / "docs"), tmp_path / "home"
    run_ingest(home, corpus=docs)
    elsewhere: list[int] = []
    real = kb.ingest.sequence.in_fresh_process

    def noting(stage: Callable[..., Any], *args: Any) -> Any:
        pid = real(os.getpid)
        elsewhere.append(pid)
        return real(stage, *args)

    monkeypatch.setattr(kb.ingest.sequence, "in_fresh_process", noting)
    (docs / "leaflet.md").write_text("# Leaflet\n\nSafe migration advice for the quoll.\n", "utf-8")
    run_ingest(home, corpus=docs)  # one changed document: indexed in this process
    assert elsewhere == [] and {h.doc_id for h in search("quoll", home=home).hits} == {"leaflet"}
    run_ingest(home, corpus=docs, full=True)  # a small store's rebuild: here too
    assert elsewhere == []
    monkeypatch.setattr(kb.ingest.sequence, "INDEX_PROCESS_MIN_DOCUMENTS", 1)
    (docs / "leaflet.md").write_text(
        "# Leaflet\n\nSafe migration advice for the bandicoot.\n", "utf-8"
    )
    run_ingest(home, corpus=docs)  # an update past the limit: in a fresh process
    assert len(elsewhere) == 1 and elsewhere[0] != os.getpid()
    assert {h.doc_id for h in search("bandicoot", home=home).hits} == {"leaflet"}
    # A store large enough for writer processes is rebuilt by them, not in a fresh process.
    monkeypatch.setattr(indexer, "MULTIPROCESS_MIN_WORK", 1)
    monkeypatch.setattr(indexer.os, "cpu_count", lambda: 2)
    run_ingest(home, corpus=docs, full=True)
    assert len(elsewhere) == 1
    live = indexer.live_index_dir(home_paths(home))
    assert live is not None and len(list(live.glob("*.seg"))) == 2
    assert {h.doc_id for h in search("bandicoot", home=home).hits} == {"leaflet"}


def test_a_stage_failing_in_a_fresh_process_fails_here() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        kb.ingest.sequence.in_fresh_process(int, "not a number")
