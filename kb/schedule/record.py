"""The nightly schedule as recorded, and what `kb schedule` last found: read by `kb status`.

`kb schedule` (flows/schedule.py) records the schedule in the store and writes its health
next to it; this module reads both, and asks the Prefect server over plain HTTP when the
next run is, so that `kb status` (kb.library) answers without importing Prefect.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from kb.runtime.lock import pid_alive
from kb.schedule.cron import next_fire_time
from kb.store import Store

DEPLOYMENT_NAME = "nightly"
FLOW_NAME = "ingest"
_SCHEDULE_KEY = "schedule"
# The Prefect server's API credentials, under its PREFECT_HOME (mode 0600).
AUTH_FILE = "api-auth"
# What `kb schedule` last found about its server, under the home folder.
HEALTH_FILE = "schedule-health.json"


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
    schedule: NightlySchedule | None,
    *,
    now: datetime | None = None,
    ask_server: bool = True,
    home: Path | None = None,
) -> datetime | None:
    """When the nightly run starts next: the server's earliest scheduled run, else the cron's next time."""
    if schedule is None:
        return None
    now = now or datetime.now(UTC)
    if ask_server and schedule.deployment_id:
        auth = read_api_auth(home / "prefect") if home is not None else None
        scheduled = _server_next_run(schedule, auth)
        if scheduled is not None and scheduled > now:
            return scheduled.astimezone(ZoneInfo(schedule.timezone))
    return next_fire_time(schedule.cron, schedule.timezone, now)


def _server_next_run(schedule: NightlySchedule, auth: str | None = None) -> datetime | None:
    """The earliest Scheduled flow run of the deployment, if the server answers within a second."""
    body = {
        "deployments": {"id": {"any_": [schedule.deployment_id]}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
        "sort": "EXPECTED_START_TIME_ASC",
        "limit": 1,
    }
    try:
        resp = httpx.post(
            f"{schedule.api_url.rstrip('/')}/flow_runs/filter",
            json=body,
            timeout=1.0,
            headers=auth_headers(auth),
        )
        resp.raise_for_status()
        runs = resp.json()
    except (httpx.HTTPError, ValueError):
        return None
    if not runs or not runs[0].get("expected_start_time"):
        return None
    return datetime.fromisoformat(runs[0]["expected_start_time"].replace("Z", "+00:00"))


def auth_headers(auth: str | None) -> dict[str, str]:
    """Prefect's scheme for PREFECT_API_AUTH_STRING: HTTP basic with the whole string."""
    if not auth:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}


def read_api_auth(prefect_home: Path) -> str | None:
    try:
        return (prefect_home / AUTH_FILE).read_text().strip() or None
    except OSError:
        return None


# -- health of the server under `kb schedule` -------------------------------------------
def write_scheduler_health(home: Path, state: str, message: str, api_url: str = "") -> None:
    """What `kb schedule` last found (serving, server down, restarting, stopped), for `kb status`.

    A small file next to the store rather than a row in it: it must be written while
    an ingest holds the store's write lock.
    """
    data = {
        "pid": os.getpid(),
        "state": state,
        "message": message,
        "api_url": api_url,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tmp = home / f".{HEALTH_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data))
    os.replace(tmp, home / HEALTH_FILE)


def read_scheduler_health(paths: Any) -> dict[str, Any] | None:
    """The last state `kb schedule` wrote; "exited" if that process is gone while it said serving."""
    try:
        data = json.loads((paths.root / HEALTH_FILE).read_text())
        pid = int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if data.get("state") in ("serving", "server down", "restarting server") and not pid_alive(pid):
        data["state"] = "exited"
        data["message"] = f"kb schedule (pid {pid}) is no longer running; last: {data['message']}"
    return data
