"""One ingest at a time per home folder: an advisory file lock (fcntl.flock)."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.errors import KBError


class BusyError(KBError):
    pass


@contextmanager
def ingest_lock(path: Path, *, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the lock for a run; wait up to `wait_seconds`, then exit with a clear message.

    The kernel releases a flock when its process dies, so a killed run never
    leaves a stale lock behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                    raise BusyError(
                        f"another ingest is running on {path.parent} (pid {holder}); "
                        "wait for it to finish or use --wait SECONDS"
                    ) from None
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
