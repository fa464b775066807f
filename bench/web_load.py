"""A bounded local load test of `kb serve`: N requests at concurrency 1, 4 and 16.

    .venv/bin/python -m bench.web_load --home HOME [--workers 1 2] [--requests 400]

For each worker count, starts `kb serve --workers W` on a free 127.0.0.1 port, waits
until it answers, sends the bench's queries to /api/search (filters as query
parameters) round-robin from a pool of client threads, and reports throughput,
p50/p95 latency and errors per concurrency. The client runs on the same machine and
takes CPU from the server: compare worker counts measured in one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.measure import percentile
from bench.queries import QUERIES

CONCURRENCY = (1, 4, 16)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _params(n: int) -> dict[str, str]:
    query = QUERIES[n % len(QUERIES)]
    params = {"q": query.text, "limit": "10"}
    params.update({k: v for k, v in query.filters.items() if k in ("lang", "year", "tag")})
    if "doctype" in query.filters:
        params["type"] = query.filters["doctype"]
    return params


def _wait_until_serving(base: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kb serve exited with {proc.returncode}")
        try:
            if (
                httpx.get(f"{base}/api/search", params={"q": "hotline"}, timeout=30).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"kb serve did not answer on {base} within {timeout:.0f} s")


def load(base: str, requests: int, concurrency: int) -> dict[str, Any]:
    """`requests` searches, at most `concurrency` at a time; latency of each, errors counted."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=base, timeout=60, limits=limits) as client:

        def one(n: int) -> tuple[float, bool]:
            started = time.perf_counter()
            try:
                ok = client.get("/api/search", params=_params(n)).status_code == 200
            except httpx.HTTPError:
                ok = False
            return (time.perf_counter() - started) * 1000, ok

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results = list(pool.map(one, range(requests)))
        seconds = time.perf_counter() - started
    times = [t for t, _ in results]
    return {
        "concurrency": concurrency,
        "requests": requests,
        "per_s": round(requests / seconds, 1),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "errors": sum(1 for _, ok in results if not ok),
    }


def _with_build_beside(home: Path, sources: Path, rounds: Any) -> dict[str, Any]:
    """`rounds()` while `kb build --full` rebuilds `home` from `sources` in another process.

    The build starts first and the load begins once its flow runs (its Prefect server
    answers), so the searches share the cores with extraction, tagging and indexing. A
    build still running when the rounds end is interrupted (a stopped build keeps the
    last good index) so that a 10,000-document bench does not wait for it.
    """
    kb = str(Path(sys.executable).with_name("kb"))
    cmd = [kb, "build", "--full", "--sources", str(sources), "--home", str(home), "--json"]
    with tempfile.TemporaryFile() as errors:
        build = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors)
        started = time.monotonic()
        try:
            _wait_for_flow(home, build, errors)
            waited = time.monotonic() - started
            result = rounds()
            finished = build.poll() is not None
        finally:
            if build.poll() is None:
                _interrupt(build, timeout=120)
            from flows.keep_server import stop_kept_server

            stop_kept_server(home)
    return {"rounds": result, "build_started_s": round(waited, 1),
            "build_finished_during_rounds": finished}  # fmt: skip


def _interrupt(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop `proc` as Ctrl-C would, killing it if it has not ended within `timeout` s."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_for_flow(
    home: Path, build: subprocess.Popen[bytes], errors: Any, timeout: float = 180.0
) -> None:
    """Until the build's flow runs: the ingest lock names its process (or the build ended).

    Read, never taken: taking the lock even for an instant could make the build fail as busy.
    """
    from kb.home import paths as home_paths

    lock = home_paths(home).lock
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and build.poll() is None:
        with contextlib.suppress(OSError):
            if lock.read_text().strip() == str(build.pid):
                return
        time.sleep(0.2)
    if build.poll() is not None and build.returncode != 0:
        errors.seek(0)
        error = errors.read().decode(errors="replace")[-500:]
        raise RuntimeError(f"kb build failed beside the server: {error}")


def measure_serving(home: Path, workers: int, requests: int = 400,
                    concurrency: tuple[int, ...] = CONCURRENCY,
                    build_sources: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Start `kb serve --workers W` for `home`, warm it, load it at each concurrency, stop it.

    `build_sources`: the rounds again with `kb build --full` of those sources running
    beside the server (`rounds_with_build`)."""
    kb = str(Path(sys.executable).with_name("kb"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [kb, "serve", "--home", str(home), "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_until_serving(base, proc)
        # Every worker's caches filled once, as after a few minutes of use.
        load(base, 4 * len(QUERIES), max(concurrency))

        def every_round() -> list[dict[str, Any]]:
            return [load(base, requests, c) for c in concurrency]

        rounds = every_round()
        beside = None
        if build_sources is not None:
            beside = _with_build_beside(home, build_sources, every_round)
    finally:
        _interrupt(proc, timeout=30)
    out = {"workers": workers, "rounds": rounds, "load_average": os.getloadavg()[0]}
    if beside is not None:
        out["rounds_with_build"] = beside.pop("rounds")
        out["build_beside"] = beside
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--build-sources", type=Path,
                        help="the rounds again beside `kb build --full` of these sources")  # fmt: skip
    args = parser.parse_args()
    out = [measure_serving(args.home, w, args.requests, build_sources=args.build_sources)
           for w in args.workers]  # fmt: skip
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
