"""The nightly deployment of the ingest flow, and the Prefect server it needs.

A temporary Prefect server cannot schedule, so `kb schedule` connects to the
server named by PREFECT_API_URL, or to one of ours answering on 127.0.0.1, or
starts `prefect server start` there itself (SQLite under the home folder, API
credentials required), and then serves the `ingest/nightly` deployment until
stopped, checking the server's health meanwhile (ServerWatchdog).

The schedule is also recorded in the store (kb/schedule/record.py), so that `kb status`
can say when the next run is without importing Prefect or starting anything.

Nothing here imports Prefect at module level: `kb status` imports this module.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from kb.errors import KBError
from kb.schedule.cron import next_fire_time, parse_cron
from kb.schedule.record import (
    AUTH_FILE,
    DEPLOYMENT_NAME,
    NightlySchedule,
    auth_headers,
    read_api_auth,
    record_schedule,
    write_scheduler_health,
)
from kb.store import Store

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Asia/Ashgabat"
DEFAULT_PORT = 4200
# A nightly run that finds a manual `kb build` in progress waits for it this long.
NIGHTLY_WAIT_SECONDS = 1800.0
# A first start runs the database migrations: 16-25 s measured, more on a busy machine.
SERVER_START_TIMEOUT = 180.0
# Health checks: every HEALTH_INTERVAL s; down after HEALTH_FAILURES missed in a row.
HEALTH_INTERVAL = float(os.environ.get("KB_SCHEDULE_HEALTH_SECONDS", "10"))
HEALTH_FAILURES = 3
# `kb schedule`'s exit code when its server is down for good (EX_TEMPFAIL: try again).
EXIT_SERVER_DOWN = 75
# A server of ours that dies is started again, at most this many times in this window.
MAX_SERVER_RESTARTS = 3
RESTART_WINDOW_SECONDS = 600.0
_REPO = Path(__file__).resolve().parents[1]


class ScheduleError(KBError):
    pass


# -- the Prefect server ------------------------------------------------------------------
def server_healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether the server answers its health check (which needs no credentials)."""
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def server_accepts(api_url: str, auth: str | None, timeout: float = 2.0) -> bool:
    """Whether the server answers an API call made with `auth` (a server of ours does)."""
    try:
        resp = httpx.get(
            f"{api_url.rstrip('/')}/admin/version", headers=auth_headers(auth), timeout=timeout
        )
    except httpx.HTTPError:
        return False
    return resp.status_code == 200


def api_auth_string(prefect_home: Path) -> str:
    """The secret our local servers require (PREFECT_SERVER_API_AUTH_STRING), made once.

    Kept in a file only the service's user can read, so other local users cannot
    start runs through the API with parameters of their choosing.
    """
    path = prefect_home / AUTH_FILE
    existing = read_api_auth(prefect_home)
    if existing:
        return existing
    prefect_home.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret)
    return secret


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(prefect_home: Path, auth: str | None = None) -> dict[str, str]:
    """Environment for a local server: its own PREFECT_HOME (SQLite database inside), no
    telemetry, and the API credentials when given."""
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    env.update({
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": env.get("PREFECT_SERVER_LOGGING_LEVEL", "WARNING"),
    })  # fmt: skip
    env.pop("PREFECT_SERVER_API_AUTH_STRING", None)
    if auth:
        env["PREFECT_SERVER_API_AUTH_STRING"] = auth
        env["PREFECT_API_AUTH_STRING"] = auth
    return env


def start_server(prefect_home: Path, port: int, *, log_path: Path | None = None,
                 timeout: float = SERVER_START_TIMEOUT, env: dict[str, str] | None = None,
                 auth: str | None = None) -> subprocess.Popen[bytes]:  # fmt: skip
    """`prefect server start` on 127.0.0.1:`port`; returns once it answers, or raises ScheduleError.

    The server exits when the process that started it dies, even by SIGKILL
    (flows/server_main.py), so a killed `kb build` or `kb schedule` leaves no server.
    """
    prefect_home.mkdir(parents=True, exist_ok=True)
    log_path = log_path or prefect_home / "server.log"
    api_url = api_url_for(port)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flows.server_main",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-ui",
            ],
            env={**server_environment(prefect_home, auth), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=str(_REPO),
        )
    wait_for_server(proc, api_url, log_path, timeout, stop=lambda: stop_server(proc))
    return proc


def wait_for_server(
    proc: subprocess.Popen[bytes],
    api_url: str,
    log_path: Path,
    timeout: float,
    *,
    stop: Callable[[], object],
) -> None:
    """Return once the server just started answers; a one-line ScheduleError naming its log
    if it exits first, or (after `stop`) if it does not answer within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ScheduleError(
                f"the Prefect server exited with code {proc.returncode}; see {log_path}"
            )
        if server_healthy(api_url, timeout=1.0):
            return
        time.sleep(0.3)
    stop()
    raise ScheduleError(
        f"the Prefect server did not answer on {api_url} within {timeout:.0f} s; see {log_path}"
    )


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def api_url_for(port: int) -> str:
    return f"http://127.0.0.1:{port}/api"


def connect_or_start_server(
    prefect_home: Path, port: int = DEFAULT_PORT
) -> tuple[str, subprocess.Popen[bytes] | None]:
    """The API URL to use, and the server process if this call started it.

    PREFECT_API_URL wins (it must answer; its credentials, if any, come from
    PREFECT_API_AUTH_STRING). Else a server on 127.0.0.1:`port` is used only if it
    accepts our credentials (one we started earlier); else one is started there,
    requiring those credentials. Another Prefect server on the port is refused, never
    adopted.
    """
    configured = os.environ.get("PREFECT_API_URL", "")
    if configured:
        if not server_healthy(configured):
            raise ScheduleError(
                f"PREFECT_API_URL={configured} does not answer: start that server or unset the variable"
            )
        return configured, None
    auth = api_auth_string(prefect_home)
    os.environ["PREFECT_API_AUTH_STRING"] = auth  # this process and the runs it starts
    api_url = api_url_for(port)
    if server_healthy(api_url):
        if server_accepts(api_url, auth):
            return api_url, None
        raise ScheduleError(
            f"another Prefect server (not started by kb with this home's credentials) answers on "
            f"127.0.0.1:{port}; stop it or use --port"
        )
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise ScheduleError(
                f"port {port} on 127.0.0.1 is taken by something that is not a Prefect server; use --port"
            )
    return api_url, start_server(prefect_home, port, auth=auth)


class ServerWatchdog:
    """Checks the Prefect server under `kb schedule` every `interval` seconds.

    After `failures` failed checks in a row (or at once, if the server process we
    started has exited) the server is down: `on_down` is called with the reason. The
    caller stops the runner then (Prefect's runner stops polling for good after a few
    failed polls, so it must be served anew) and either starts its server again or
    exits with EXIT_SERVER_DOWN for the service manager. The reason is logged and
    written where `kb status` reads it.
    """

    def __init__(self, home: Path, api_url: str, server: subprocess.Popen[bytes] | None, *,
                 on_down: Callable[[str], None], log: Callable[[str], None],
                 interval: float = HEALTH_INTERVAL, failures: int = HEALTH_FAILURES,
                 note: str = "") -> None:  # fmt: skip
        self.home, self.api_url, self.server, self.note = home, api_url, server, note
        self.on_down, self.log = on_down, log
        self.interval, self.failures = interval, failures
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prefect-watchdog", daemon=True)

    def start(self) -> None:
        message = f"serving on {self.api_url}" + (f"; {self.note}" if self.note else "")
        write_scheduler_health(self.home, "serving", message, self.api_url)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        missed = 0
        while not self._stop.wait(self.interval):
            died = self.server is not None and self.server.poll() is not None
            if not died and server_healthy(self.api_url, timeout=min(5.0, self.interval)):
                missed = 0
                continue
            missed += 1
            if died or missed >= self.failures:
                break
        else:
            return
        if died and self.server is not None:
            reason = f"the Prefect server (pid {self.server.pid}) exited with code {self.server.returncode}"
        else:
            reason = f"the Prefect server at {self.api_url} stopped answering ({missed} health checks failed)"
        self.log(reason)
        write_scheduler_health(self.home, "server down", reason, self.api_url)
        self.on_down(reason)


# -- the deployment ------------------------------------------------------------------------
def nightly_parameters(home: Path, sources: Path | None, corpus: Path | None) -> dict[str, Any]:
    """Absolute paths: the served runs do not share the caller's working directory."""
    return {
        "home": str(home.resolve()),
        "sources": str(sources.resolve()) if sources else None,
        "corpus": str(corpus.resolve()) if corpus else None,
        "wait_seconds": NIGHTLY_WAIT_SECONDS,
    }


def nightly_deployment(parameters: dict[str, Any], cron: str, timezone: str) -> RunnerDeployment:
    """The `ingest/nightly` deployment (Prefect must already point at a real server)."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from flows.ingest import ingest

    parse_cron(cron)  # a readable error here rather than a validation error from Prefect
    next_fire_time(cron, timezone, datetime.now(UTC))  # checks the time zone
    return ingest.to_deployment(
        name=DEPLOYMENT_NAME,
        schedule=Cron(cron, timezone=timezone),
        parameters=parameters,
        description="Nightly re-index: fetch what changed, extract, tag, store and index it.",
        tags=["nightly"],
        # A module path, not a file path: runs start in another working directory.
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def apply_nightly(
    store: Store, api_url: str, parameters: dict[str, Any], cron: str, timezone: str
) -> NightlySchedule:
    """Create or update the deployment on the server and record its schedule in the store."""
    deployment = nightly_deployment(parameters, cron, timezone)
    deployment_id = deployment.apply()
    schedule = NightlySchedule(
        cron=cron,
        timezone=timezone,
        api_url=api_url,
        deployment_id=str(deployment_id),
        parameters=parameters,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    record_schedule(store, schedule)
    return schedule


def serve_nightly(parameters: dict[str, Any], cron: str, timezone: str) -> None:
    """Serve the deployment until interrupted: the runs execute in this process's children.

    Prefect's `serve()`, with SIGTERM taking the same way out as Ctrl-C: Prefect's own
    SIGTERM handler exits from inside its event loop, which logs a traceback per open
    connection and leaves the runs in progress to chance.
    """
    import asyncio

    from prefect.runner import Runner

    class _Runner(Runner):
        def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
            raise KeyboardInterrupt

    runner = _Runner(pause_on_shutdown=False)
    runner.add_deployment(nightly_deployment(parameters, cron, timezone))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C or SIGTERM: a clean stop
        asyncio.run(runner.start())
