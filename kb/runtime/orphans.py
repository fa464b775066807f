"""Helper processes that exit when the process that started them is gone."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


def exit_with_parent(poll_seconds: float = 1.0) -> None:
    """Exit when the process that started us is gone, even in the middle of a job.

    A helper blocked on a queue or a pipe would otherwise wait for ever after its parent
    is killed (SIGKILL, OOM), holding its memory. (PR_SET_PDEATHSIG would fire when the
    *thread* that started us ends, and the caller's threads come and go; watching our
    parent's pid does not.)
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# -- a reaper for everything a command starts ------------------------------------------
_reaper_started = False
# How long descendants get to end after SIGTERM before SIGKILL.
REAP_GRACE_SECONDS = 5.0


def reap_descendants_on_exit(poll_seconds: float = 0.5) -> None:
    """Start a small watcher process that ends our descendants once we are gone.

    `kill -9` of `kb build` gives the process no chance to stop what it started:
    Prefect's temporary server (it kept listening for half an hour) or the
    extraction pool. The watcher notes our descendants (pid and start time, so a
    reused pid is never hit) every `poll_seconds`; when we are gone it sends them
    SIGTERM, then SIGKILL to those still there after REAP_GRACE_SECONDS. Once per
    process; a no-op where /proc is missing.
    """
    global _reaper_started
    if _reaper_started or not Path("/proc/self/task").is_dir():
        return
    _reaper_started = True
    subprocess.Popen(
        [sys.executable, "-m", "kb.runtime.orphans", str(os.getpid()), str(poll_seconds)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C meant for the command does not stop the watcher
        close_fds=True,
    )


def _leads_own_session(pid: int) -> bool:
    try:
        return os.getsid(pid) == pid
    except OSError:
        return False


def process_start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: start time in clock ticks


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            out.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return out


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid`, with its start time, except those started in a session of
    their own (and what is below them): those were detached to outlive us on purpose, as
    the Prefect server `kb build` keeps for the next build (flows/keep_server.py)."""
    found: dict[int, str] = {}
    todo = _children(pid)
    while todo:
        child = todo.pop()
        if child in found or child == os.getpid() or _leads_own_session(child):
            continue
        started = process_start_time(child)
        if started is not None:
            found[child] = started
            todo.extend(_children(child))
    return found


def _watch(parent: int, poll_seconds: float) -> None:
    parent_started = process_start_time(parent)
    known: dict[int, str] = {}
    while process_start_time(parent) == parent_started and parent_started is not None:
        # Children of descendants that died are re-parented away from the tree: keep them.
        known = {p: t for p, t in known.items() if process_start_time(p) == t}
        known.update(descendants(parent))
        time.sleep(poll_seconds)
    _end(known)


def _end(known: dict[int, str]) -> None:
    known = {p: t for p, t in known.items() if process_start_time(p) == t}
    for more in list(known):  # what they started since the last look
        known.update(descendants(more))
    for pid in known:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + REAP_GRACE_SECONDS
    while time.monotonic() < deadline and any(process_start_time(p) == t for p, t in known.items()):
        time.sleep(0.2)
    for pid, started in known.items():
        if process_start_time(pid) == started:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    _watch(int(sys.argv[1]), float(sys.argv[2]))
