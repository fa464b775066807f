"""One ingest at a time per home folder: an advisory file lock (fcntl.flock)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kb.errors import KBError


class BusyError(KBError):
    pass


def busy_message(path: Path, holder: str) -> str:
    return (
        f"another ingest is running on {path.parent} (pid {holder}); "
        "wait for it to finish or use --wait SECONDS"
    )


@contextmanager
def ingest_lock(path: Path, *, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the lock for a run; wait up to `wait_seconds`, then exit with a clear message.

    The kernel releases a flock when its process dies, so a killed run never
    leaves a stale lock behind. While waiting, a marker file next to the lock says
    so (for `kb status`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    marker: Path | None = None
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                    raise BusyError(busy_message(path, holder)) from None
                if marker is None:
                    marker = _write_waiting_marker(path, wait_seconds)
                time.sleep(0.5)
        _remove(marker)
        marker = None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        _remove(marker)
        os.close(fd)


def check_free(path: Path) -> None:
    """Raise BusyError now if another process holds the lock (takes and releases it at once).

    For commands that would otherwise spend seconds starting up before finding out.
    """
    if not path.exists():
        return
    fd = os.open(path, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise BusyError(busy_message(path, holder)) from None
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def waiting_runs(path: Path) -> list[dict[str, Any]]:
    """Processes waiting for the lock now: pid, since and until (ISO times, UTC)."""
    out = []
    for marker in sorted(path.parent.glob(f"{path.name}.wait-*")):
        try:
            data = json.loads(marker.read_text())
            pid = int(data["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pid_alive(pid):
            out.append(data)
        else:  # its process died while waiting
            _remove(marker)
    return out


def _write_waiting_marker(path: Path, wait_seconds: float) -> Path:
    now = datetime.now(UTC)
    marker = path.parent / f"{path.name}.wait-{os.getpid()}"
    data = {
        "pid": os.getpid(),
        "since": now.isoformat(timespec="seconds"),
        "until": (now + timedelta(seconds=wait_seconds)).isoformat(timespec="seconds"),
    }
    marker.write_text(json.dumps(data))
    return marker


def _remove(marker: Path | None) -> None:
    if marker is not None:
        marker.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists (0 or less: none). A zombie (exited, not yet reaped by
    its parent) still answers kill(0) and does not count."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True
