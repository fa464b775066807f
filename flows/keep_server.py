"""One Prefect server per home folder, kept running between manual builds.

Without `PREFECT_API_URL`, every process that runs a flow starts a temporary
Prefect server (5-25 s, measured). `kb build` instead uses, in this order:

1. the server named by `PREFECT_API_URL`;
2. the server `kb` started earlier for this home folder, recorded in
   `<home>/prefect-server.json` (pid, port, URL), if that process is alive and answers;
3. the server `kb schedule` serves this home's nightly run on, if it answers;
4. else a new `prefect server start` on 127.0.0.1 (a free port), its SQLite database
   under `<home>/prefect` (the same one the temporary servers used), recorded there.

The server started in step 4 is detached (its own session, no exit-with-parent
watcher): it is meant to outlive the build that started it, so a build killed with
`kill -9` does not take it along. `kb server stop` ends it. With `keep=False`
(`kb build --no-keep-server`) step 4 is skipped and Prefect's own temporary server
runs for that build only.

Nothing here imports Prefect: `kb server status` answers in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from flows.schedule import (
    SERVER_START_TIMEOUT,
    ScheduleError,
    api_auth_string,
    api_url_for,
    free_port,
    server_environment,
    server_healthy,
    wait_for_server,
)
from kb.runtime.lock import pid_alive
from kb.schedule.record import read_api_auth

RECORD_NAME = "prefect-server.json"
_LOCK_NAME = "prefect-server.lock"
STOP_TIMEOUT = 20.0


@dataclass
class KeptServer:
    """What `<home>/prefect-server.json` records about the server kb started for the home."""

    pid: int
    port: int
    api_url: str
    prefect_home: str
    log: str
    started: str

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")


def record_path(home: Path) -> Path:
    return home / RECORD_NAME


def read_record(home: Path) -> KeptServer | None:
    try:
        return KeptServer(**json.loads(record_path(home).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _write_record(home: Path, server: KeptServer) -> None:
    tmp = record_path(home).with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(server), indent=2) + "\n")
    os.replace(tmp, record_path(home))


def running_server(home: Path) -> KeptServer | None:
    """The recorded server if its process is alive and it answers; None otherwise."""
    server = read_record(home)
    if server is None or not pid_alive(server.pid):
        return None
    return server if server_healthy(server.api_url, timeout=2.0) else None


def _scheduled_server_url(home: Path) -> str | None:
    """The API URL `kb schedule` recorded for this home, if that server answers."""
    store_path = home / "kb.sqlite"
    if not store_path.exists():
        return None
    from kb.schedule.record import recorded_schedule
    from kb.store import Store

    try:
        with Store(store_path) as store:
            schedule = recorded_schedule(store)
    except Exception:  # an unreadable store is the build's to report, not ours
        return None
    if schedule and schedule.api_url and server_healthy(schedule.api_url, timeout=1.0):
        return schedule.api_url
    return None


@contextlib.contextmanager
def _home_lock(home: Path):  # type: ignore[no-untyped-def]
    """Two builds starting at once must not start two servers for one home."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / _LOCK_NAME).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_kept_server(
    home: Path, prefect_home: Path, *, timeout: float = SERVER_START_TIMEOUT
) -> KeptServer:
    """`prefect server start` (with its UI) in its own session; recorded once it answers."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    api_url = api_url_for(port)
    log_path = prefect_home / "server.log"
    # Its API wants the same credentials as `kb schedule`'s server (HOME/prefect/api-auth).
    env = server_environment(prefect_home, api_auth_string(prefect_home))
    env["PREFECT_UI_ENABLED"] = "true"  # the runs are meant to be looked at
    env["PREFECT_UI_API_URL"] = api_url
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start",
             "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=prefect_home,
            start_new_session=True,  # outlives the build; Ctrl-C in the terminal does not reach it
        )  # fmt: skip
    wait_for_server(proc, api_url, log_path, timeout, stop=lambda: _end_session(proc.pid))
    server = KeptServer(
        pid=proc.pid, port=port, api_url=api_url, prefect_home=str(prefect_home),
        log=str(log_path), started=datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip
    _write_record(home, server)
    return server


@dataclass
class ServerChoice:
    """Which Prefect API a build uses, and why (for the build's summary)."""

    api_url: str | None  # None: Prefect's temporary server for this process
    source: str  # "PREFECT_API_URL" | "kept" | "started" | "schedule" | "temporary"
    pid: int | None = None


def choose_server(home: Path, prefect_home: Path, *, keep: bool = True) -> ServerChoice:
    """The Prefect API a manual build should use (see the module's docstring for the order)."""
    configured = os.environ.get("PREFECT_API_URL", "")
    if configured:
        return ServerChoice(configured, "PREFECT_API_URL")
    with _home_lock(home):
        server = running_server(home)
        if server is not None:
            return ServerChoice(server.api_url, "kept", server.pid)
        scheduled = _scheduled_server_url(home)
        if scheduled:
            return ServerChoice(scheduled, "schedule")
        if not keep:
            return ServerChoice(None, "temporary")
        server = start_kept_server(home, prefect_home)
        return ServerChoice(server.api_url, "started", server.pid)


def use_server(home: Path, *, keep: bool = True) -> ServerChoice:
    """Choose the server and point this process's Prefect at it (before Prefect is imported)."""
    prefect_home = Path(os.environ.get("PREFECT_HOME") or home / "prefect")
    choice = choose_server(home, prefect_home, keep=keep)
    if choice.api_url:
        os.environ["PREFECT_API_URL"] = choice.api_url
        auth = read_api_auth(prefect_home) if choice.source != "PREFECT_API_URL" else None
        if auth:  # our own servers' API wants it; a configured one brings its own
            os.environ["PREFECT_API_AUTH_STRING"] = auth
    return choice


def _end_session(pid: int, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM the server's session (the server and anything it started), SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it if it is our child (tests)
            if not pid_alive(pid):
                return True
            time.sleep(0.2)
    return not pid_alive(pid)


def stop_kept_server(home: Path) -> KeptServer | None:
    """Stop the recorded server (if it is still the one we started) and forget it."""
    with _home_lock(home):
        server = read_record(home)
        if server is None:
            return None
        # A recycled pid is not ours to kill: only stop a process that still answers on our port
        # or whose command line is a Prefect server.
        ours = pid_alive(server.pid) and (
            server_healthy(server.api_url, timeout=2.0) or _is_prefect_server(server.pid)
        )
        if ours and not _end_session(server.pid):
            raise ScheduleError(f"the Prefect server (pid {server.pid}) did not stop")
        record_path(home).unlink(missing_ok=True)
        return server


def _is_prefect_server(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"prefect" in cmdline and b"server" in cmdline
