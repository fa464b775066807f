"""Limits that keep one source from taking a run down: pages, bytes, time, memory, crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile.make_hostile import text_pdf

from kb.acquire.fetch import fetch_file
from kb.errors import SourceError
from kb.extract.worker import ExtractionWorkers, extraction_workers
from kb.ingest.pipeline import Outcome, check_source, extract_many, extract_outcome
from kb.model import SourceRef
from kb.runtime.limits import (
    Limits,
    LimitsError,
    current_limits,
    limits_from_env,
    limits_with,
    set_limits,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    set_limits(None)
    yield
    set_limits(None)


def _outcome(path: Path) -> Outcome:
    ref = SourceRef(key=str(path), location=path.name)
    fetched = fetch_file(ref, size=None, mtime_ns=None, known_sha=None)
    return Outcome(ref, fetched.state, fetched=fetched)


def test_limits_come_from_defaults_then_the_environment() -> None:
    assert limits_from_env({}) == Limits()
    limits = limits_from_env(
        {
            "KB_MAX_PDF_PAGES": "20",
            "KB_MAX_FILE_MB": "1.5",
            "KB_EXTRACT_TIMEOUT_S": "0",
            "KB_OCR": "off",
        }
    )
    assert (limits.max_pdf_pages, limits.max_file_bytes, limits.ocr) == (20, 1_500_000, False)
    assert limits.extract_timeout_s == 0 and limits.isolated  # the memory cap still needs a worker
    assert not limits_from_env({"KB_EXTRACT_TIMEOUT_S": "0", "KB_EXTRACT_MEMORY_MB": "0"}).isolated


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"KB_MAX_PDF_PAGES": "many"}, "KB_MAX_PDF_PAGES='many' is not a number"),
        ({"KB_MAX_PDF_PAGES": "2.5"}, "give a whole number"),
        ({"KB_EXTRACT_TIMEOUT_S": "-1"}, "cannot be negative"),
        ({"KB_OCR": "maybe"}, "use auto or off"),
    ],
)
def test_a_bad_limit_is_a_clear_error(environ: dict[str, str], message: str) -> None:
    with pytest.raises(LimitsError, match=message):
        limits_from_env(environ)


def test_cli_style_overrides_and_the_cache_token() -> None:
    set_limits(limits_with(max_pdf_pages=10, extract_timeout_s=None))
    assert current_limits().max_pdf_pages == 10
    assert current_limits().extract_timeout_s == Limits().extract_timeout_s
    # Raising a limit must miss the extraction cache, so what failed on it is retried.
    assert Limits(max_pdf_pages=10).cache_token(False) != Limits(max_pdf_pages=20).cache_token(
        False
    )
    with pytest.raises(LimitsError, match="--max-file-mb -1"):
        limits_with(max_file_mb=-1)


def test_page_limit_is_settable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = tmp_path / "three.pdf"
    pdf.write_bytes(text_pdf([["Victims have rights to assistance."]] * 3))
    monkeypatch.setenv("KB_MAX_PDF_PAGES", "2")
    [done] = extract_many([_outcome(pdf)])
    assert done.failure is not None
    assert done.failure.reason == "too many pages: 3 (the limit is 2 pages per PDF)"


def test_byte_limits_fail_before_extraction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "notes.txt"
    big.write_text("Counsellors record hotline calls.\n\n" * 40_000)  # 1.4 MB
    monkeypatch.setenv("KB_MAX_FILE_MB", "1")
    ref = SourceRef(key=str(big), location="notes.txt")
    failed = check_source(ref, None)
    assert failed.failure is not None and failed.failure.stage == "fetch"
    assert failed.failure.reason == "file too large: 1.4 MB (the limit is 1 MB)"

    monkeypatch.setenv("KB_MAX_FILE_MB", "100")
    monkeypatch.setenv("KB_MAX_TEXT_MB", "1")
    [done] = extract_many([_outcome(big)])
    assert done.failure is not None and done.failure.stage == "extract"
    assert done.failure.reason == "file too large: 1.4 MB (the limit is 1 MB for text files)"


def test_a_slow_extraction_is_stopped_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><h1>Shelter</h1><p>A shelter opened in Dashoguz.</p></body></html>"
    )
    set_limits(Limits(extract_timeout_s=1))
    monkeypatch.setenv("KB_TEST_PAUSE_AT", "extract-worker")  # the worker sleeps before extracting
    monkeypatch.setenv("KB_TEST_PAUSE_SECONDS", "60")
    started = time.monotonic()
    [stuck] = extract_many([_outcome(page)])
    assert time.monotonic() - started < 30
    assert stuck.state == "failed" and stuck.failure is not None
    assert (
        stuck.failure.reason == "timed out: extraction took longer than 1 s (the limit per source)"
    )

    monkeypatch.delenv("KB_TEST_PAUSE_AT")
    set_limits(Limits(extract_timeout_s=60))
    [fine] = extract_many([_outcome(page)])
    assert fine.extracted is not None and fine.extracted.title == "Shelter"


def test_worker_replaced_after_timeout_memory_exhaustion_and_crash() -> None:
    sleeper = ExtractionWorkers(1, 0, job_function="hostile.jobs:sleep_job")
    try:
        with pytest.raises(SourceError, match=r"timed out: extraction took longer than 0\.5 s"):
            sleeper.run(30.0, timeout=0.5)
        assert sleeper.run(0.0, timeout=30) == ("ok", 0.0)
        assert sleeper.started == 2
    finally:
        sleeper.close()

    hog = ExtractionWorkers(1, 500, job_function="hostile.jobs:hog_job")
    try:
        reply = hog.run(4000, timeout=60)
        assert reply[0] == "error"
        assert (
            reply[2]
            == "too large to extract: it needs more than 500 MB of memory (the limit per source)"
        )
        assert hog.run(10, timeout=60) == ("ok", 10 * 1024 * 1024)
    finally:
        hog.close()

    crasher = ExtractionWorkers(1, 0, job_function="hostile.jobs:crash_job")
    try:
        with pytest.raises(SourceError, match=r"extractor crashed: its process died \(SIGSEGV\)"):
            crasher.run("anything", timeout=60)
        assert crasher.pids() == []
    finally:
        crasher.close()


def test_in_process_extraction_when_limits_are_off(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><h1>Referral</h1><p>The referral mechanism works.</p></body></html>"
    )
    off = Limits(extract_timeout_s=0, extract_memory_mb=0)
    done = extract_outcome(_outcome(page), limits=off)
    assert done.extracted is not None and done.extracted.title == "Referral"


WORKER_PARENT = """
import sys, threading, time
from kb.extract.worker import ExtractionWorkers
workers = ExtractionWorkers(1, 0, job_function="hostile.jobs:sleep_job")
threading.Thread(target=workers.run, args=(600.0, None), daemon=True).start()
while not workers.pids():
    time.sleep(0.1)
print(workers.pids()[0], flush=True)
time.sleep(600)
"""


def test_workers_do_not_outlive_a_killed_run() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    parent = subprocess.Popen(
        [sys.executable, "-c", WORKER_PARENT], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    try:
        assert parent.stdout is not None
        worker_pid = int(parent.stdout.readline())
        assert _running(worker_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _running(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(worker_pid), "the extraction worker outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state


def test_process_workers_are_shared_and_reused(tmp_path: Path) -> None:
    pages = []
    for n in range(4):
        page = tmp_path / f"p{n}.html"
        page.write_text(f"<html><body><h1>Page {n}</h1><p>Text of page {n}.</p></body></html>")
        pages.append(_outcome(page))
    workers = extraction_workers(current_limits())
    before = workers.started
    done = extract_many(pages)
    assert [o.extracted.title for o in done if o.extracted] == [f"Page {n}" for n in range(4)]
    assert workers.started - before <= (os.cpu_count() or 1)
