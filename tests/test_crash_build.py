"""`kill -9` an ingest at its worst moments: search answers as before, and the next run completes.

Each killed run is a real `kb build` in a subprocess, paused by a test hook
(kb.runtime.testhooks: KB_TEST_PAUSE_AT) at the point named, then killed with SIGKILL:
- extract: sources half extracted (in worker processes);
- store: every write of the commit done, the transaction not committed;
- swap: the new index complete on disk, the live symlink not yet moved.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile.make_hostile import text_pdf
from typer.testing import CliRunner

from kb.cli import app
from kb.home import paths as home_paths
from kb.ingest.sequence import run_ingest
from search.query import search, searchers

pytestmark = [pytest.mark.flow, pytest.mark.slow, pytest.mark.usefixtures("closing_searchers")]

QUERIES = ["quokka", "wombat", "echidna", "hotline", '"referral of victims"']
KB = Path(sys.executable).with_name("kb")
PAUSE_WAIT_S = 240  # a loaded machine takes a while to import Prefect and reach the point


def _manual(word: str) -> bytes:
    """Two bookmarked modules; `word` names the case study, the word the tests look for."""
    return text_pdf([
        ["Manual for front-line officers"],
        ["Module 1. Identification", f"The {word} case shows the referral of victims."],
        ["Module 2. Protection", "Shelters give housing and legal advice."],
    ])  # fmt: skip


def _write_first_corpus(docs: Path) -> None:
    docs.mkdir(parents=True)
    (docs / "manual.pdf").write_bytes(_manual("quokka"))
    (docs / "page.html").write_text(
        "<html><body><h1>Hotline campaign</h1><p>The hotline answered calls in Ashgabat.</p></body></html>"
    )
    (docs / "notes.md").write_text("# Notes\n\nA meeting on the referral of victims in Mary.\n")


def _change_corpus(docs: Path) -> None:
    (docs / "manual.pdf").write_bytes(_manual("wombat"))
    (docs / "page.html").unlink()
    (docs / "new.html").write_text(
        "<html><body><h1>Training</h1><p>The echidna method was taught to border guards.</p></body></html>"
    )


def _answers(home: Path) -> dict[str, tuple[int, list[str]]]:
    """What search says, read fresh from disk (no searcher kept from before)."""
    searchers.close()
    out = {}
    for query in QUERIES:
        results = search(query, home=home, limit=20, flat=True)
        out[query] = (results.total, sorted(f"{h.doc_id}#{h.section_id}" for h in results.hits))
    return out


def _kill_at(point: str, docs: Path, home: Path, tmp_path: Path) -> str:
    """Run `kb build` until it pauses at `point`, then SIGKILL it. Returns its output so far."""
    marker = tmp_path / f"paused-{point}"
    env = {
        **os.environ,
        "KB_TEST_PAUSE_AT": point,
        "KB_TEST_PAUSE_SECONDS": "600",
        "KB_TEST_PAUSE_FILE": str(marker),
    }
    log = (tmp_path / f"build-{point}.log").open("w+")
    build = subprocess.Popen(
        [str(KB), "build", "--corpus", str(docs), "--home", str(home)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + PAUSE_WAIT_S
        while not (marker.exists() and point in marker.read_text()):
            if build.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(
                    f"kb build never paused at {point!r} (exit {build.returncode}):\n{log.read()[-3000:]}"
                )
            time.sleep(0.2)
        build.send_signal(signal.SIGKILL)
        build.wait(timeout=30)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    assert build.returncode == -signal.SIGKILL
    log.seek(0)
    return log.read()


def _store_is_sound(home: Path) -> None:
    with sqlite3.connect(home_paths(home).store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_killed_builds_leave_search_as_it_was_and_the_next_run_completes(
    prefect_api: str, tmp_path: Path
) -> None:
    docs, home = tmp_path / "docs", tmp_path / "home"
    _write_first_corpus(docs)
    run_ingest(home, corpus=docs)  # the knowledge base as it stands before the hostile nights
    before = _answers(home)
    assert before["quokka"][0] == 1 and before["hotline"][0] >= 1 and before["wombat"][0] == 0

    _change_corpus(docs)
    for point in ("extract", "store", "swap"):
        _kill_at(point, docs, home, tmp_path)
        assert _answers(home) == before, f"search changed after a kill at {point!r}"
        _store_is_sound(home)

    finished = subprocess.run(
        [str(KB), "build", "--corpus", str(docs), "--home", str(home), "--json"],
        capture_output=True, text=True, env=os.environ, timeout=600,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    after = _answers(home)
    assert after["quokka"][0] == 0 and after["wombat"][0] == 1 and after["echidna"][0] == 1
    assert after["hotline"][0] == 0  # page.html was removed
    assert after['"referral of victims"'][0] == 2  # the changed manual and the notes

    status = CliRunner().invoke(app, ["status", "--json", "--home", str(home)])
    states = [run["state"] for run in json.loads(status.output)["runs"]]
    assert states == ["completed", "interrupted", "interrupted", "interrupted"]
