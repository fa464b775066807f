"""The ingest flow with its tasks on a Dask cluster: `kb build --dask tcp://scheduler:8786`.

The flow itself (discovery, commit to the store, the index) stays in this
process; the submitted tasks (checking files, extraction, segmentation and
tagging) run on the cluster's workers through prefect-dask's `DaskTaskRunner`.
Workers must see the same paths as this process (a shared file system for the
corpus), and must reach a Prefect API: without `PREFECT_API_URL` every worker
would start its own temporary Prefect server (measured: 45 s for a six-task
flow), so when none is configured one temporary server is started here and its
address is handed to the workers with each task's settings.

Needs the `dask` extra (`prefect-dask`, `distributed`).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from kb.errors import KBError

# Seconds to wait for the scheduler's port before saying it cannot be reached.
CONNECT_TIMEOUT_S = 5.0
SERVER_START_TIMEOUT_S = 90


class DaskUnavailableError(KBError):
    """The Dask scheduler cannot be reached, or the dask extra is not installed."""


def scheduler_endpoint(address: str) -> tuple[str, int]:
    """('host', port) of a scheduler address such as tcp://scheduler:8786."""
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    if parsed.scheme not in ("tcp", "tls") or not parsed.hostname:
        raise DaskUnavailableError(
            f"--dask {address!r}: expected a scheduler address such as tcp://scheduler:8786"
        )
    return parsed.hostname, parsed.port or 8786


def check_scheduler(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail in seconds with a clear message, rather than after the Dask client's long time-out."""
    host, port = scheduler_endpoint(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise DaskUnavailableError(
            f"cannot reach the Dask scheduler at {address} ({exc.strerror or exc}); "
            "start one with `dask scheduler` and workers with `dask worker ADDRESS`"
        ) from None


@contextmanager
def prefect_api_for_workers() -> Iterator[str]:
    """A Prefect API address every Dask worker is told to use (see the module's docstring)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = PREFECT_API_URL.value()
    if configured:
        yield str(configured)
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=SERVER_START_TIMEOUT_S)
    try:
        # The task runner serialises the settings context into every task it submits.
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        server.stop()


def ingest_on_dask(address: str, **parameters: Any) -> dict[str, Any]:
    """Run the ingest flow (same parameters as `flows.ingest.ingest`) with its tasks on Dask."""
    check_scheduler(address)
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise DaskUnavailableError(
            "--dask needs the dask extra: uv sync --extra dask (prefect-dask, distributed)"
        ) from None
    from flows.ingest import ingest

    with prefect_api_for_workers():
        runner = DaskTaskRunner(address=address)
        return ingest.with_options(task_runner=runner)(**parameters)
