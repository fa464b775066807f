"""A Prefect server kept running beside the flow runs, as a scheduled deployment has.

Scheduled nightly runs need `prefect server start` anyway (a temporary server
cannot schedule); with one running, a flow run no longer pays for starting a
temporary server, so the nightly figures are measured both ways.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

START_TIMEOUT_S = 240.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(prefect_home: Path, api_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "PREFECT_HOME": str(prefect_home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_TO_API_ENABLED": "false", "PREFECT_UI_ENABLED": "false",
    })  # fmt: skip
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


@contextmanager
def running_prefect_server(prefect_home: Path) -> Iterator[tuple[str, float]]:
    """(API URL, seconds it took to answer) of a `prefect server start` on 127.0.0.1; stopped after."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    prefect = str(Path(sys.executable).with_name("prefect"))
    log = open(prefect_home / "server.log", "wb")  # noqa: SIM115 (closed below, after the server)
    started = time.perf_counter()
    proc = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=server_env(prefect_home), stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}/api"
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"prefect server exited ({proc.returncode}); see {prefect_home / 'server.log'}"
                )
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > START_TIMEOUT_S:
                raise RuntimeError(f"prefect server did not answer in {START_TIMEOUT_S:.0f} s")
            time.sleep(0.5)
        yield url, time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
