"""The nightly deployment of the ingest flow, and the Prefect server it needs.

A temporary Prefect server cannot schedule, so `kb schedule` connects to the
server named by PREFECT_API_URL, or to one already answering on 127.0.0.1, or
starts `prefect server start` there itself (SQLite under the home folder), and
then serves the `ingest/nightly` deployment until stopped.

The schedule is also recorded in the store, so that `kb status` can say when the
next run is without importing Prefect or starting anything.

Nothing here imports Prefect at module level: `kb status` imports this module.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx

from flows.cron import next_fire_time, parse_cron
from kb.errors import KBError
from kb.store import Store

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

DEPLOYMENT_NAME = "nightly"
FLOW_NAME = "ingest"
DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Asia/Ashgabat"
DEFAULT_PORT = 4200
# A nightly run that finds a manual `kb build` in progress waits for it this long.
NIGHTLY_WAIT_SECONDS = 1800.0
# A first start runs the database migrations: 16-25 s measured, more on a busy machine.
SERVER_START_TIMEOUT = 180.0
_SCHEDULE_KEY = "schedule"


class ScheduleError(KBError):
    pass


@dataclass
class NightlySchedule:
    """What `kb schedule` set up, as recorded in the store."""

    cron: str
    timezone: str
    api_url: str
    deployment: str = f"{FLOW_NAME}/{DEPLOYMENT_NAME}"
    deployment_id: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    created: str = ""


def record_schedule(store: Store, schedule: NightlySchedule) -> None:
    store.db.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
        (_SCHEDULE_KEY, json.dumps(asdict(schedule))),
    )


def recorded_schedule(store: Store) -> NightlySchedule | None:
    row = store.db.execute("SELECT value FROM meta WHERE key = ?", (_SCHEDULE_KEY,)).fetchone()
    return NightlySchedule(**json.loads(row["value"])) if row else None


def next_run(
    schedule: NightlySchedule | None, *, now: datetime | None = None, ask_server: bool = True
) -> datetime | None:
    """When the nightly run starts next: the server's earliest scheduled run, else the cron's next time."""
    if schedule is None:
        return None
    now = now or datetime.now(UTC)
    if ask_server and schedule.deployment_id:
        scheduled = _server_next_run(schedule)
        if scheduled is not None and scheduled > now:
            return scheduled.astimezone(ZoneInfo(schedule.timezone))
    return next_fire_time(schedule.cron, schedule.timezone, now)


def _server_next_run(schedule: NightlySchedule) -> datetime | None:
    """The earliest Scheduled flow run of the deployment, if the server answers within a second."""
    body = {
        "deployments": {"id": {"any_": [schedule.deployment_id]}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
        "sort": "EXPECTED_START_TIME_ASC",
        "limit": 1,
    }
    try:
        resp = httpx.post(
            f"{schedule.api_url.rstrip('/')}/flow_runs/filter", json=body, timeout=1.0
        )
        resp.raise_for_status()
        runs = resp.json()
    except (httpx.HTTPError, ValueError):
        return None
    if not runs or not runs[0].get("expected_start_time"):
        return None
    return datetime.fromisoformat(runs[0]["expected_start_time"].replace("Z", "+00:00"))


# -- the Prefect server ------------------------------------------------------------------
def server_healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(prefect_home: Path) -> dict[str, str]:
    """Environment for a local server: its own PREFECT_HOME (SQLite database inside), no telemetry."""
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    env.update({
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": env.get("PREFECT_SERVER_LOGGING_LEVEL", "WARNING"),
    })  # fmt: skip
    return env


def start_server(prefect_home: Path, port: int, *, log_path: Path | None = None,
                 timeout: float = SERVER_START_TIMEOUT, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:  # fmt: skip
    """`prefect server start` on 127.0.0.1:`port`; returns once it answers, or raises ScheduleError."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    log_path = log_path or prefect_home / "server.log"
    api_url = api_url_for(port)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-ui",
            ],
            env={**server_environment(prefect_home), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ScheduleError(
                f"the Prefect server exited with code {proc.returncode}; see {log_path}"
            )
        if server_healthy(api_url, timeout=1.0):
            return proc
        time.sleep(0.5)
    stop_server(proc)
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

    PREFECT_API_URL wins (it must answer); else a server already answering on
    127.0.0.1:`port` is used; else one is started there.
    """
    configured = os.environ.get("PREFECT_API_URL", "")
    if configured:
        if not server_healthy(configured):
            raise ScheduleError(
                f"PREFECT_API_URL={configured} does not answer: start that server or unset the variable"
            )
        return configured, None
    api_url = api_url_for(port)
    if server_healthy(api_url):
        return api_url, None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise ScheduleError(
                f"port {port} on 127.0.0.1 is taken by something that is not a Prefect server; use --port"
            )
    return api_url, start_server(prefect_home, port)


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
    """Serve the deployment until interrupted: the runs execute in this process's children."""
    from prefect import serve

    serve(
        nightly_deployment(parameters, cron, timezone),
        pause_on_shutdown=False,
        print_starting_message=False,
    )
