"""`kb serve` on every core: several uvicorn worker processes sharing one home folder.

A search is CPU-bound Python: threads of one process take turns on one core, so a
second core only helps with a second process. uvicorn's supervisor opens the socket
once and starts `workers` processes that accept from it; each builds its own app with
`app_for_worker` (an import string, as uvicorn needs to start it in a new process),
opens the index read-only and keeps its own caches. They share nothing but the
folder: an index swapped by `kb build` is noticed by each on its next search.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

# How the supervisor tells its workers which home to serve (they are new interpreters).
HOME_VARIABLE = "KB_SERVE_HOME"
FACTORY = "kb.web.workers:app_for_worker"
HTTP_PROTOCOL = "kb.web.workers:NoDelayHTTPProtocol"


def _http_protocol_base() -> type:
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    return AutoHTTPProtocol


class NoDelayHTTPProtocol(_http_protocol_base()):  # type: ignore[misc]
    """uvicorn's HTTP protocol with Nagle's algorithm off on every connection.

    asyncio turns it off only for sockets it knows to be TCP; a worker's listening socket
    comes from the supervisor and is not recognised, so each answer on a kept-alive
    connection waited for the client's delayed ACK: 50 ms a search instead of 7 (measured).
    """

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def warm_in_background(home: Path | str) -> None:
    """Load the index's columns while the server starts: on 100,000 sections that takes a
    second or two, which the first visitor would otherwise wait for."""

    def warm() -> None:
        from kb.errors import KBError
        from search.query import warm as warm_index

        with contextlib.suppress(KBError):  # no index yet: the pages say so
            warm_index(home)

    threading.Thread(target=warm, name="warm-index", daemon=True).start()


def app_for_worker() -> FastAPI:
    """The application of one worker process (uvicorn calls this in each)."""
    from kb.web import create_app
    from kb.web.login import PASSWORD_ENV

    home = os.environ[HOME_VARIABLE]
    warm_in_background(home)
    return create_app(home, password=os.environ.get(PASSWORD_ENV) or None)


def run(
    home: Path,
    host: str,
    port: int,
    workers: int,
    *,
    password: str | None = None,
    grace_seconds: float = 3.0,
) -> None:
    """Serve until stopped: in this process when `workers` is 1, else with worker processes.
    Requests in progress get `grace_seconds` to finish once asked to stop."""
    import uvicorn

    from kb.web.login import PASSWORD_ENV

    options = {"host": host, "port": port, "log_level": "warning", "access_log": False,
               "timeout_graceful_shutdown": grace_seconds}  # fmt: skip
    if workers <= 1:
        from kb.web import create_app

        warm_in_background(home)
        uvicorn.run(create_app(home, password=password), **options)  # type: ignore[arg-type]
        return
    os.environ[HOME_VARIABLE] = str(home)
    if password:
        # Worker processes are new interpreters: they read the login from their environment.
        os.environ[PASSWORD_ENV] = password
    uvicorn.run(FACTORY, factory=True, workers=workers, http=HTTP_PROTOCOL, **options)  # type: ignore[arg-type]
