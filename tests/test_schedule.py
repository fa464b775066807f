"""The nightly schedule: cron arithmetic, the deployment on a real Prefect server, a served run, `kb status`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from nightly_helpers import write_manifest
from pdf_fixtures import REPO, make_pdf
from typer.testing import CliRunner

from flows.schedule import apply_nightly, nightly_parameters
from kb.cli import app
from kb.schedule.cron import CronError, next_fire_time
from kb.schedule.record import NightlySchedule, next_run, record_schedule
from kb.store import Store

runner = CliRunner()
ASHGABAT = ZoneInfo("Asia/Ashgabat")


@pytest.mark.parametrize(
    "cron",
    [
        "0 2 * * *",
        "*/15 9-17 * * mon-fri",
        "30 4 1,15 * *",
        "0 0 29 2 *",
        "5 3 * * 0",
        "0 6 1 * mon",
        "@weekly",
    ],
)
@pytest.mark.parametrize("timezone", ["Asia/Ashgabat", "Europe/Berlin", "UTC"])
def test_next_fire_time_agrees_with_the_prefect_server(cron: str, timezone: str) -> None:
    """The dates Prefect's server would schedule (away from daylight-saving gaps, where it
    answers a time before the start; we skip the missing wall-clock time instead)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from prefect.server.schemas.schedules import CronSchedule

    schedule = CronSchedule(cron=cron, timezone=timezone)
    for start in (
        datetime(2026, 7, 1, 10, 0, 7, tzinfo=UTC),
        datetime(2026, 11, 23, 21, 0, 7, tzinfo=UTC),
    ):
        # In a thread of its own: a session fixture (Playwright's sync API) may hold a running
        # event loop in this thread, where asyncio.run() refuses to start.
        with ThreadPoolExecutor(1) as pool:
            [expected] = pool.submit(asyncio.run, schedule.get_dates(n=1, start=start)).result()
        assert next_fire_time(cron, timezone, start) == expected, (cron, timezone, start)


def test_a_wall_clock_time_skipped_by_daylight_saving_is_not_a_run() -> None:
    before_the_gap = datetime(
        2026, 3, 29, 0, 30, tzinfo=UTC
    )  # 01:30 in Berlin; 02:00-03:00 does not exist
    berlin = ZoneInfo("Europe/Berlin")
    assert next_fire_time("30 2 * * *", "Europe/Berlin", before_the_gap) == datetime(
        2026, 3, 30, 2, 30, tzinfo=berlin
    )


def test_next_fire_time_explains_bad_input() -> None:
    with pytest.raises(CronError, match="expected 5 fields"):
        next_fire_time("0 2 * *", "UTC", datetime.now(UTC))
    with pytest.raises(CronError, match="'61' is outside 0-59"):
        next_fire_time("61 2 * * *", "UTC", datetime.now(UTC))
    with pytest.raises(CronError, match="unknown time zone 'Asia/Nowhere'"):
        next_fire_time("0 2 * * *", "Asia/Nowhere", datetime.now(UTC))


def test_status_computes_the_next_run_from_the_recorded_schedule_without_prefect(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    nobody = "http://127.0.0.1:9/api"  # nothing answers there: the cron is the fallback
    schedule = NightlySchedule(
        cron="0 2 * * *", timezone="Asia/Ashgabat", api_url=nobody, deployment_id="x"
    )
    with Store(home / "kb.sqlite") as store:
        record_schedule(store, schedule)

    at_evening = datetime(2026, 11, 23, 22, 0, tzinfo=ASHGABAT)
    assert next_run(schedule, now=at_evening) == datetime(2026, 11, 24, 2, 0, tzinfo=ASHGABAT)
    result = runner.invoke(app, ["status", "--json", "--home", str(home)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["runs"] == []
    upcoming = datetime.fromisoformat(data["next_run"])
    assert (upcoming.hour, upcoming.minute, upcoming.utcoffset()) == (
        2,
        0,
        ASHGABAT.utcoffset(upcoming),
    )


def test_status_does_not_import_prefect(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    Store(home / "kb.sqlite").close()
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from kb.cli import app\n"
        f"r = CliRunner().invoke(app, ['status', '--json', '--home', {str(home)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_status_says_when_there_is_no_knowledge_base(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--home", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no knowledge base in" in result.output and "kb build" in result.output


@pytest.mark.flow
def test_nightly_deployment_is_created_with_its_schedule(prefect_api: str, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    home = tmp_path / "home"
    manifest = write_manifest(tmp_path / "sources.toml", [{"folder": "docs"}])
    parameters = nightly_parameters(home, manifest, None)
    with Store(home / "kb.sqlite") as store:
        recorded = apply_nightly(store, prefect_api, parameters, "0 2 * * *", "Asia/Ashgabat")

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("ingest/nightly")
    [schedule] = deployment.schedules
    assert schedule.active
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Ashgabat")
    assert deployment.parameters == parameters
    assert deployment.parameters["home"] == str(home.resolve())
    assert deployment.entrypoint == "flows.ingest.ingest"
    assert str(deployment.id) == recorded.deployment_id

    result = runner.invoke(app, ["status", "--json", "--home", str(home)])
    upcoming = datetime.fromisoformat(json.loads(result.output)["next_run"])
    assert upcoming == next_fire_time("0 2 * * *", "Asia/Ashgabat", datetime.now(UTC))


@pytest.mark.flow
@pytest.mark.slow
def test_a_scheduled_run_of_the_served_deployment_completes(
    prefect_api: str, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    docs = tmp_path / "docs"
    docs.mkdir()
    make_pdf(
        docs / "plan.pdf",
        [["National Action Plan", "Measures against trafficking: the tapir programme."]],
    )
    manifest = write_manifest(tmp_path / "sources.toml", [{"folder": "docs"}])
    home = tmp_path / "home"
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    kb = str(Path(sys.executable).parent / "kb")
    log = tmp_path / "schedule.log"
    with log.open("w") as out:
        serving = subprocess.Popen(
            [kb, "schedule", "--cron", "0 2 * * *", "--sources", str(manifest), "--home", str(home)],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        deployment_id = _wait_for_recorded_schedule(home, serving, log, timeout=120)
        with get_client(sync_client=True) as client:
            run = client.create_flow_run_from_deployment(
                UUID(deployment_id), state=Scheduled(scheduled_time=datetime.now(UTC))
            )
            deadline = time.monotonic() + 150
            while time.monotonic() < deadline:
                state = client.read_flow_run(run.id).state
                if state is not None and state.is_final():
                    break
                time.sleep(1)
        assert state is not None and state.is_completed(), (state, log.read_text()[-3000:])
    finally:
        serving.send_signal(signal.SIGINT)  # as Ctrl-C (systemd sends SIGTERM: test_ops_faults)
        try:
            serving.wait(30)
        except subprocess.TimeoutExpired:
            serving.kill()
            serving.wait(10)

    with Store(home / "kb.sqlite") as store:
        [last] = store.runs(1)
        assert last["state"] == "completed" and last["sources"]["new"] == 1
        assert [d["id"] for d in store.documents()] == ["plan"]
    from search.query import search

    assert [h.doc_id for h in search("tapir", home=home).hits] == ["plan"]


def _wait_for_recorded_schedule(
    home: Path, serving: subprocess.Popen[str], log: Path, *, timeout: float
) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if serving.poll() is not None:
            pytest.fail(f"kb schedule exited with {serving.returncode}: {log.read_text()}")
        if (home / "kb.sqlite").exists():
            with Store(home / "kb.sqlite") as store:
                from kb.schedule.record import recorded_schedule

                recorded = recorded_schedule(store)
            if recorded is not None:
                return recorded.deployment_id
        time.sleep(0.5)
    pytest.fail("kb schedule did not create the deployment in time")


def test_status_shows_a_killed_run_as_interrupted_and_why_a_run_failed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with Store(home / "kb.sqlite") as store:
        failed = store.start_run("2026-11-22T02:00:00+00:00")
        store.finish_run(
            failed, "2026-11-22T02:00:01+00:00", "failed", {"error": "ManifestError: bad toml"}, []
        )
        store.start_run("2026-11-23T02:00:00+00:00")  # never finished: its process was killed
    (home / "ingest.lock").write_text("999999999")  # a pid that does not exist

    result = runner.invoke(app, ["status", "--json", "--home", str(home)])

    killed, broken = json.loads(result.output)["runs"]
    assert (killed["state"], killed["finished"]) == ("interrupted", None)
    assert broken["state"] == "failed"
    assert broken["failures"] == [
        {"source": "(run)", "stage": "run", "reason": "ManifestError: bad toml"}
    ]
    assert broken["sources"] == {
        "seen": 0,
        "new": 0,
        "changed": 0,
        "unchanged": 0,
        "removed": 0,
        "failed": 0,
    }
