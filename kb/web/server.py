"""Running the web interface: the one module of kb.web that the command line imports
(`kb serve`: the login's names for its options, and `run_server`).

Standard library only at module level, so that every `kb` command's start-up stays
light: uvicorn and the web application are imported when the server starts.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from kb.web.login import LOGIN_USER, PASSWORD_ENV

# Seconds `kb serve` lets requests in progress finish once asked to stop.
STOP_GRACE_SECONDS = 3


def run_server(
    root: Path, *, host: str, port: int, password: str | None, workers: int | None = None
) -> None:
    """Serve the knowledge base in `root` on host:port until SIGTERM or Ctrl+C, with
    `workers` processes (default: one per core; kb.web.workers)."""
    from kb.web.workers import default_workers, run

    # uvicorn reports a port already in use itself (one line) and exits with status 1.
    # On SIGTERM or Ctrl+C it stops taking requests and waits for those in progress, here
    # for STOP_GRACE_SECONDS at most.
    run(root, host, port, workers or default_workers(), password=password,
        grace_seconds=STOP_GRACE_SECONDS)  # fmt: skip
    # A request still computing runs in a worker thread that Python cannot interrupt, and
    # the interpreter would wait for it at exit: the server is stopped, so leave now.
    if any(t.is_alive() and not t.daemon for t in threading.enumerate()[1:]):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


__all__ = ["LOGIN_USER", "PASSWORD_ENV", "STOP_GRACE_SECONDS", "run_server"]
