"""The nightly run through the real Prefect flow (one Prefect server per session, see conftest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from nightly_helpers import Page, Site, html_page, write_manifest
from pdf_fixtures import REPO, make_pdf
from typer.testing import CliRunner

from kb.cli import app
from kb.extract import EXTRACTOR_VERSIONS
from kb.runtime.lock import ingest_lock
from kb.store import Store
from search.query import search, searchers

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("closing_searchers")]
runner = CliRunner()
STAGES = ["discover", "check", "extract", "build", "store", "index"]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    make_pdf(
        docs / "manual.pdf",
        [["Module 1 Identification", "Indicators of trafficking: the quokka case."]],
    )
    make_pdf(
        docs / "newsletter.pdf",
        [["Newsletter December", "A training in Mary on the platypus method."]],
    )
    (docs / "page.html").write_text(
        "<!doctype html><html><head><title>Hotline campaign</title></head><body><h1>Hotline campaign</h1>"
        "<p>The hotline answered calls about the wombat scheme in Ashgabat.</p></body></html>",
        encoding="utf-8",
    )
    return write_manifest(tmp_path / "sources.toml", [{"folder": "docs", "collection": "docs"}])


def _ingest(home: Path, manifest: Path, **options: Any) -> dict[str, Any]:
    from flows.ingest import ingest

    return ingest(home=str(home), sources=str(manifest), **options)


def _hits(home: Path, query: str) -> set[str]:
    return {h.doc_id for h in search(query, home=home).hits}


def _status(home: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["status", "--json", "--home", str(home)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_nightly_runs_redo_only_what_changed_and_record_what_they_did(
    prefect_api: str, tmp_path: Path, corpus: Path, extracted: list[str]
) -> None:
    home = tmp_path / "home"
    docs = corpus.parent / "docs"

    first = _ingest(home, corpus)
    assert first["sources"]["new"] == 3 and first["extracted"] == 3 and not first["failures"]

    extracted.clear()
    second = _ingest(home, corpus)
    assert extracted == [] and second["extracted"] == 0
    assert second["sources"]["unchanged"] == 3 and second["indexed_sections"] == 0

    later = time.time() + 60
    os.utime(docs / "manual.pdf", (later, later))
    touched = _ingest(home, corpus)
    assert extracted == [] and touched["sources"]["unchanged"] == 3

    make_pdf(
        docs / "newsletter.pdf",
        [["Newsletter December", "A training in Mary on the echidna method."]],
    )
    changed = _ingest(home, corpus)
    assert extracted == ["docs/newsletter.pdf"] and changed["extracted"] == 1
    assert changed["sources"]["changed"] == 1 and changed["sections"]["updated"] >= 1
    assert _hits(home, "echidna") == {"newsletter"} and _hits(home, "platypus") == set()

    (docs / "page.html").unlink()
    removed = _ingest(home, corpus)
    assert removed["sources"]["removed"] == 1 and removed["documents"]["removed"] == 1
    assert removed["digest"]["removed"] == [{"id": "page", "title": "Hotline campaign"}]
    assert _hits(home, "wombat") == set()

    # Every run is in the store, with its numbers and time per stage...
    status = _status(home)
    assert len(status["runs"]) == 5 and status["next_run"] is None
    newest = status["runs"][0]
    assert set(newest) == {
        "started",
        "finished",
        "state",
        "sources",
        "sections",
        "failures",
        "seconds",
    }
    assert newest["state"] == "completed"
    assert newest["sources"] == {
        "seen": 2,
        "new": 0,
        "changed": 0,
        "unchanged": 2,
        "removed": 1,
        "failed": 0,
    }
    assert newest["sections"]["removed"] >= 1 and newest["failures"] == []
    assert list(newest["seconds"]) == STAGES
    assert [r["sources"]["new"] for r in status["runs"]] == [0, 0, 0, 0, 3]

    # ...and a Markdown artifact on the Prefect server.
    import httpx

    body = {"artifacts": {"key": {"any_": ["ingest-report"]}}, "sort": "CREATED_DESC", "limit": 1}
    [latest] = httpx.post(f"{prefect_api}/artifacts/filter", json=body, timeout=10).json()
    assert latest["type"] == "markdown"
    assert "- removed: Hotline campaign (`page`)" in latest["data"]
    assert "| discover | check | extract | build | store | index |" in latest["data"]


def test_bumping_the_html_extractor_re_extracts_html_sources_only(
    prefect_api: str,
    tmp_path: Path,
    corpus: Path,
    site: Site,
    extracted: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site.pages["/news/workshop"] = Page(
        html_page("Workshop", "Trainers met the kestrel team in Dashoguz."), etag='"1"'
    )
    manifest = write_manifest(
        corpus, [{"folder": "docs", "collection": "docs"}, {"url": site.url("/news/workshop")}]
    )
    home = tmp_path / "home"
    _ingest(home, manifest)
    extracted.clear()
    monkeypatch.setitem(EXTRACTOR_VERSIONS, "html", EXTRACTOR_VERSIONS["html"] + "-next")

    bumped = _ingest(home, manifest)

    assert sorted(extracted) == sorted(["docs/page.html", site.url("/news/workshop")])
    assert bumped["sources"]["changed"] == 2 and bumped["sources"]["unchanged"] == 2


def test_web_page_is_retried_after_two_server_errors(
    prefect_api: str, tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.ingest

    # The real back-off is 1, 4, 16 s; the retry logic is the same with no wait.
    monkeypatch.setattr(
        flows.ingest,
        "fetch_web_page",
        flows.ingest.fetch_web_page.with_options(retry_delay_seconds=0),
    )
    site.pages["/flaky"] = Page(
        html_page("Flaky page", "The ferret network was dismantled."), fail_first=2
    )
    manifest = write_manifest(tmp_path / "sources.toml", [{"url": site.url("/flaky")}])

    summary = _ingest(tmp_path / "home", manifest)

    assert site.statuses("/flaky") == [503, 503, 200]
    assert summary["sources"]["new"] == 1 and not summary["failures"]
    assert _hits(tmp_path / "home", "ferret") == {"flaky"}


def test_a_run_killed_while_indexing_leaves_search_working_and_the_next_run_completes(
    prefect_api: str, tmp_path: Path, corpus: Path
) -> None:
    home = tmp_path / "home"
    _ingest(home, corpus)
    make_pdf(
        corpus.parent / "docs" / "manual.pdf",
        [["Module 1 Identification", "Indicators: the bilby case."]],
    )

    # kb.runtime.testhooks: pause inside the index writer (sections written, not committed).
    env = {
        **os.environ,
        "KB_TEST_PAUSE_AT": "index",
        "KB_TEST_PAUSE_SECONDS": "120",
        "PREFECT_API_URL": prefect_api,
    }
    build = subprocess.Popen(
        [str(Path(sys.executable).parent / "kb"), "build", "--home", str(home), "--sources", str(corpus)],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    paused = threading.Event()
    threading.Thread(target=_watch_for_pause, args=(build, paused), daemon=True).start()
    try:
        assert paused.wait(180), "the build never reached the index writer"
        # Mid-write: the store has the new text, search still answers from the old index.
        assert _hits(home, "quokka") == {"manual"} and _hits(home, "bilby") == set()
        build.kill()
        build.wait(30)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait(30)

    assert _hits(home, "quokka") == {"manual"} and _hits(home, "bilby") == set()
    assert _status(home)["runs"][0]["state"] == "interrupted"

    killed_id = _status_runs_ids(home)[0]
    after = _ingest(home, corpus)  # nothing changed on disk since the killed run's commit

    # The killed run's change is reported by this run, on its behalf (it never reported it).
    assert after["sources"]["changed"] == 1 and after["sources"]["unchanged"] == 2
    assert after["recovered_from"] == [killed_id] and after["indexed_sections"] >= 1
    assert [d["id"] for d in after["digest"]["updated"]] == ["manual"]
    # ...and Prefect no longer shows the killed run as Running: it crashed, and says why.
    import httpx

    body = {"flows": {"name": {"any_": ["ingest"]}}, "limit": 200}
    flow_runs = httpx.post(f"{prefect_api}/flow_runs/filter", json=body, timeout=10).json()
    mine = [r for r in flow_runs if r["parameters"].get("home") == str(home.resolve())]
    assert [r["state"]["type"] for r in mine if r["state"]["type"] == "RUNNING"] == []
    [crashed] = [r for r in mine if r["state"]["type"] == "CRASHED"]
    assert "its process ended without finishing" in crashed["state"]["message"]
    assert _hits(home, "bilby") == {"manual"} and _hits(home, "quokka") == set()
    assert [r["state"] for r in _status(home)["runs"]] == ["completed", "interrupted", "completed"]


def _status_runs_ids(home: Path) -> list[int]:
    with Store(home / "kb.sqlite") as store:
        return [r["id"] for r in store.runs()]


def _watch_for_pause(build: subprocess.Popen[str], paused: threading.Event) -> None:
    assert build.stderr is not None
    for line in build.stderr:
        if line.startswith("KB_TEST_PAUSED index"):
            paused.set()


def test_a_second_build_while_one_runs_exits_with_a_clear_message(
    prefect_api: str, tmp_path: Path, corpus: Path, restore_environment: None
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with ingest_lock(home / "ingest.lock"):
        result = runner.invoke(
            app, ["build", "--home", str(home), "--sources", str(corpus), "--json"]
        )
    assert result.exit_code == 1
    assert "another ingest is running" in result.output and "--wait" in result.output
    with Store(home / "kb.sqlite") as store:
        assert store.runs() == []  # the refused run touched nothing


def test_an_index_that_lost_documents_behind_the_stores_back_is_rebuilt(
    prefect_api: str, tmp_path: Path, corpus: Path
) -> None:
    from whoosh import index as windex

    from search.indexer import INDEX_NAME

    home = tmp_path / "home"
    _ingest(home, corpus)
    ix = windex.open_dir(str((home / "index").resolve()), indexname=INDEX_NAME)
    with ix.writer() as writer:
        writer.delete_by_term("doc_id", "manual")
    ix.close()
    searchers.close()
    assert _hits(home, "quokka") == set()

    again = _ingest(home, corpus)

    assert again["sources"]["unchanged"] == 3 and again["indexed_sections"] >= 3
    assert _hits(home, "quokka") == {"manual"}
