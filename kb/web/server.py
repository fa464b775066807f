"""Running the web interface: the one module of kb.web that the command line imports
(`kb serve`: the login's names for its options, and `run_server`).

Standard library only at module level, so that every `kb` command's start-up stays
light: uvicorn and the web application are imported when the server starts.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

from kb.errors import KBError
from kb.web.login import LOGIN_USER, PASSWORD_ENV

# Seconds `kb serve` lets requests in progress finish once asked to stop.
STOP_GRACE_SECONDS = 3


def _warm(root: Path) -> None:
    from search.query import warm

    with contextlib.suppress(KBError):  # no index yet: the pages say so
        warm(root)


def run_server(root: Path, *, host: str, port: int, password: str | None) -> None:
    """Serve the knowledge base in `root` on host:port until SIGTERM or Ctrl+C."""
    import uvicorn

    from kb.web.app import create_app

    # Load the index's columns while the server starts: on 100,000 sections that takes a
    # second or two, which the first visitor would otherwise wait for.
    threading.Thread(target=_warm, args=(root,), name="warm-index", daemon=True).start()
    # uvicorn reports a port already in use itself (one line) and exits with status 1.
    # On SIGTERM or Ctrl+C it stops taking requests and waits for those in progress, here
    # for STOP_GRACE_SECONDS at most.
    uvicorn.run(create_app(root, password=password), host=host, port=port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=STOP_GRACE_SECONDS)  # fmt: skip
    # A request still computing runs in a worker thread that Python cannot interrupt, and
    # the interpreter would wait for it at exit: the server is stopped, so leave now.
    if any(t.is_alive() and not t.daemon for t in threading.enumerate()[1:]):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


__all__ = ["LOGIN_USER", "PASSWORD_ENV", "STOP_GRACE_SECONDS", "run_server"]
