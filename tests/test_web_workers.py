"""`kb serve --workers N`: N processes answer searches from one home folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from flows.schedule import free_port
from kb.web.workers import default_workers

KB = Path(sys.executable).with_name("kb")


def _workers(pid: int) -> set[int]:
    """The worker processes uvicorn started (not multiprocessing's resource tracker)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return {c for c in found if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()}


def _answers(base: str, query: str) -> int:
    resp = httpx.get(f"{base}/api/search", params={"q": query, "flat": "true"}, timeout=60)
    assert resp.status_code == 200, resp.text[:500]
    return int(resp.json()["total"])


def test_default_is_one_worker_per_core() -> None:
    assert default_workers() == len(os.sched_getaffinity(0))


@pytest.mark.slow
def test_two_workers_answer_searches_and_stop_together(corpus_home: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = subprocess.Popen(
        [str(KB), "serve", "--home", str(corpus_home), "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while True:
            assert serve.poll() is None, serve.stdout.read().decode()[-2000:]  # type: ignore[union-attr]
            try:
                expected = _answers(base, "hotline")
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "kb serve --workers 2 never answered"
                time.sleep(0.3)
        assert expected > 0
        workers = _workers(serve.pid)
        assert len(workers) == 2

        # Searches at once, from both workers: each answers what one process answers.
        queries = ["hotline", "trafficking victims", "жертвы", "129-1"] * 6
        with ThreadPoolExecutor(max_workers=8) as pool:
            totals = list(pool.map(lambda q: (q, _answers(base, q)), queries))
        by_query: dict[str, set[int]] = {}
        for query, total in totals:
            by_query.setdefault(query, set()).add(total)
        assert all(len(seen) == 1 for seen in by_query.values()), by_query
        assert by_query["hotline"] == {expected}
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=60)
    for pid in workers:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )
