"""Operating under faults: readers during a locked ingest, refused and waiting builds, index
leftovers of killed builds, reports of interrupted runs, processes left by `kill -9`,
a dead Prefect server under `kb schedule`, and the README's systemd unit.

The Prefect tests start real servers on free 127.0.0.1 ports (13-25 s each on this
machine), so they are marked `flow` and `slow`; every wait is bounded.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cli_runner import invoke
from web_support import web_client

from flows.schedule import EXIT_SERVER_DOWN, free_port
from kb.home import paths as home_paths
from kb.ingest.commit import ChangeSet
from kb.ingest.nightly import (
    NIGHTLY_PARAMETERS_ENV,
    ParameterError,
    check_run_parameters,
    recovered_changes,
    report_recovered,
)
from kb.ingest.sequence import run_ingest
from kb.runtime.lock import pid_alive
from kb.runtime.orphans import descendants, process_start_time
from kb.store import Store
from search.query import searchers

REPO = Path(__file__).resolve().parents[1]
KB = Path(sys.executable).with_name("kb")
PYTHON = sys.executable


def _small_corpus(docs: Path) -> None:
    docs.mkdir(parents=True)
    (docs / "plan.md").write_text(
        "# National Action Plan\n\nMeasures against trafficking: the tapir programme.\n"
    )
    (docs / "hotline.md").write_text("# Hotline\n\nThe shelter hotline answers in Ashgabat.\n")


@pytest.fixture
def small_home(tmp_path: Path) -> Iterator[Path]:
    docs, home = tmp_path / "docs", tmp_path / "home"
    _small_corpus(docs)
    run_ingest(home, corpus=docs)
    yield home
    searchers.close()


_HOLDER = """
import sys, time
from pathlib import Path
from kb.runtime.lock import ingest_lock
from kb.store import Store
home = Path(sys.argv[1])
with ingest_lock(home / "ingest.lock"), Store(home / "kb.sqlite") as store:
    store.start_run("2026-12-06T02:00:00+00:00")
    store.db.execute("BEGIN IMMEDIATE")  # the store's write lock, held as a commit holds it
    store.db.execute("UPDATE sources SET updated = datetime('now')")
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@contextmanager
def ingest_holding_locks(home: Path, seconds: float = 60) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the ingest lock and the store's write lock, as a run does."""
    holder = subprocess.Popen(
        [PYTHON, "-c", _HOLDER, str(home), str(seconds)],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait(10)


def _timed(func, *args):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    result = func(*args)
    return result, time.monotonic() - started


def test_readers_answer_at_once_while_an_ingest_holds_the_write_lock(small_home: Path) -> None:
    home = str(small_home)
    with ingest_holding_locks(small_home):
        (code, out), seconds = _timed(invoke, "status", "--json", "--home", home)
        assert code == 0, out
        assert seconds < 1.0, f"kb status took {seconds:.1f} s"
        runs = json.loads(out)["runs"]
        assert [r["state"] for r in runs] == ["running"]  # the holder's run, not finished

        (code, out), seconds = _timed(invoke, "search", "tapir", "--home", home)
        assert code == 0 and "National Action Plan" in out, out
        assert seconds < 1.0, f"kb search took {seconds:.1f} s"

        (code, out), seconds = _timed(invoke, "show", "plan", "--home", home)
        assert code == 0 and "National Action Plan" in out, out
        assert seconds < 1.0, f"kb show took {seconds:.1f} s"

        client = web_client(small_home)
        page, seconds = _timed(client.get, "/status")
        assert page.status_code == 200 and "running" in page.text
        assert seconds < 1.0, f"the status page took {seconds:.1f} s"
        api, seconds = _timed(client.get, "/api/status")
        assert api.status_code == 200 and api.json()["runs"][0]["state"] == "running"
        assert seconds < 1.0, f"/api/status took {seconds:.1f} s"


def test_a_refused_build_says_so_in_one_line_before_starting_prefect(small_home: Path) -> None:
    docs = small_home.parent / "docs"
    with ingest_holding_locks(small_home) as holder:
        started = time.monotonic()
        refused = subprocess.run(
            [str(KB), "build", "--corpus", str(docs), "--home", str(small_home)],
            capture_output=True, text=True, timeout=60,
            env={k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"},
        )  # fmt: skip
        seconds = time.monotonic() - started
    assert refused.returncode == 1
    lines = [line for line in (refused.stdout + refused.stderr).splitlines() if line.strip()]
    assert len(lines) <= 2, lines  # one message, which the terminal may wrap
    message = " ".join(lines)
    assert f"another ingest is running on {small_home}" in message
    assert f"(pid {holder.pid})" in message and "Traceback" not in message
    assert not (small_home / "prefect").exists(), "a Prefect server was started for nothing"
    assert seconds < 15, f"refusing took {seconds:.1f} s"


def test_status_says_when_a_run_is_waiting_for_the_lock(small_home: Path) -> None:
    waiter_code = (
        "import sys\nfrom pathlib import Path\nfrom kb.runtime.lock import ingest_lock\n"
        "with ingest_lock(Path(sys.argv[1]) / 'ingest.lock', wait_seconds=60):\n    pass\n"
    )
    with ingest_holding_locks(small_home):
        waiter = subprocess.Popen([PYTHON, "-c", waiter_code, str(small_home)], cwd=REPO)
        try:
            deadline = time.monotonic() + 30
            waiting: list[dict[str, str]] = []
            while not waiting and time.monotonic() < deadline:
                time.sleep(0.2)
                _code, out = invoke("status", "--json", "--home", str(small_home))
                waiting = json.loads(out)["waiting_for_lock"]
            assert [w["pid"] for w in waiting] == [waiter.pid]
            _code, out = invoke("status", "--home", str(small_home))
            assert f"a run (pid {waiter.pid}) has been waiting for the ingest lock" in out
        finally:
            waiter.kill()
            waiter.wait(10)
    _code, out = invoke("status", "--json", "--home", str(small_home))
    assert json.loads(out)["waiting_for_lock"] == []  # a waiter that died is not listed


def test_leftovers_of_a_killed_index_build_are_never_the_previous_index(
    small_home: Path, tmp_path: Path
) -> None:
    paths = home_paths(small_home)
    dead = subprocess.Popen([PYTHON, "-c", "pass"])
    dead.wait()
    live_before = paths.index_link.resolve()
    # A build killed while writing its folder (no SCHEMA_VERSION yet), and one killed
    # between making its temporary link and swapping it in.
    partial = paths.indexes / f"29991231T000000-{dead.pid}-0"
    partial.mkdir()
    (partial / "MAIN_1.toc").write_bytes(b"half")
    os.utime(partial, (time.time() + 100, time.time() + 100))  # the newest folder of all
    dangling = paths.root / f".index-{dead.pid}.tmp"
    os.symlink(partial.relative_to(paths.root), dangling)

    (tmp_path / "docs" / "plan.md").write_text("# National Action Plan\n\nThe okapi programme.\n")
    run_ingest(small_home, corpus=tmp_path / "docs")

    assert not partial.exists() and not dangling.is_symlink()
    folders = sorted(p.name for p in paths.indexes.iterdir())
    assert folders == sorted([paths.index_link.resolve().name, live_before.name])


def test_a_recovering_run_reports_what_an_interrupted_run_committed(tmp_path: Path) -> None:
    """The flow's steps for a run killed after its commit: the next run's report has them."""
    from kb.acquire.sources import discover, folder_manifest
    from kb.ingest.commit import commit_outcomes
    from kb.ingest.pipeline import process_source
    from kb.ingest.sequence import build_documents

    docs, home = tmp_path / "docs", tmp_path / "home"
    _small_corpus(docs)
    run_ingest(home, corpus=docs)
    (docs / "plan.md").write_text("# National Action Plan\n\nThe okapi programme.\n")
    (docs / "hotline.md").unlink()
    (docs / "leaflet.md").write_text("# Leaflet\n\nSafe migration advice.\n")

    paths = home_paths(home)
    with Store(paths.store) as store:  # the killed run: committed, then gone
        killed = store.start_run("2026-12-06T02:00:00+00:00")
        refs = discover(folder_manifest(docs.resolve()), root=docs.resolve())
        outcomes = [process_source(r, store.source(r.key)) for r in refs]
        commit_outcomes(store, refs, outcomes, build_documents(outcomes, store), run_id=killed)

    with Store(paths.store) as store:  # the next run finds it
        [interrupted] = store.mark_interrupted("interrupted: its process ended")
        assert interrupted["id"] == killed
        current = store.start_run("2026-12-06T02:02:00+00:00")
        recovered = recovered_changes(store, current)
        assert recovered is not None and recovered.run_ids == [killed]
        own = ChangeSet(sources={"seen": 2, "new": 0, "changed": 0, "unchanged": 2, "removed": 0})
        report_recovered(own, recovered.changes)
        assert recovered_changes(store, store.start_run("x")) is None  # reported once only
    assert {k: own.sources[k] for k in ("seen", "new", "changed", "unchanged", "removed")} == {
        "seen": 2, "new": 1, "changed": 1, "unchanged": 0, "removed": 1,
    }  # fmt: skip
    assert [d["id"] for d in own.digest["new"]] == ["leaflet"]
    assert [d["id"] for d in own.digest["updated"]] == ["plan"]
    assert [d["id"] for d in own.digest["removed"]] == ["hotline"]


def test_a_served_run_refuses_parameters_kb_schedule_did_not_configure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, manifest = tmp_path / "home", tmp_path / "sources.toml"
    configured = {"home": str(home.resolve()), "sources": str(manifest.resolve()), "corpus": None}
    monkeypatch.setenv(NIGHTLY_PARAMETERS_ENV, json.dumps(configured))
    check_run_parameters(str(home), str(manifest), None)  # the configured ones pass
    with pytest.raises(ParameterError, match="parameter home='/etc'"):
        check_run_parameters("/etc", str(manifest), None)
    with pytest.raises(ParameterError, match="parameter sources="):
        check_run_parameters(str(home), str(tmp_path / "other.toml"), None)
    with pytest.raises(ParameterError, match="parameter corpus="):
        check_run_parameters(str(home), str(manifest), "/home")
    monkeypatch.delenv(NIGHTLY_PARAMETERS_ENV)
    check_run_parameters("/anywhere", None, None)  # `kb build`: not a served run


# -- the README's systemd unit ----------------------------------------------------------
def readme_unit() -> dict[str, str]:
    """The [Service] settings of the unit in README.md (the last value of each key)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```ini\n# /etc/systemd/system/ctkb-nightly.service\n(.*?)```", text, re.S)
    assert block, "the README has no ctkb-nightly.service unit"
    settings: dict[str, str] = {}
    section = ""
    for line in block.group(1).splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line
        elif line and not line.startswith("#") and section == "[Service]":
            key, _, value = line.partition("=")
            settings[key] = value
    return settings


def test_the_readme_unit_is_hardened_and_names_its_port_and_data_folder() -> None:
    unit = readme_unit()
    argv = shlex.split(unit["ExecStart"])
    assert argv[1] == "schedule"
    assert unit["KillMode"] == "mixed" and unit["KillSignal"] == "SIGTERM"
    assert unit["Restart"] == "on-failure"  # restarts on exit code 75 (dead server)
    assert unit["NoNewPrivileges"] == "yes" and unit["ProtectSystem"] == "strict"
    assert "--port" in argv and argv[argv.index("--port") + 1].isdigit()
    assert unit["ReadWritePaths"] == argv[argv.index("--home") + 1]


def _unit_command(tmp_path: Path, port: int) -> tuple[list[str], Path]:
    """The README unit's ExecStart with this test's kb, home, manifest and port."""
    unit = readme_unit()
    argv = shlex.split(unit["ExecStart"])
    home = tmp_path / "data"
    docs = tmp_path / "docs"
    _small_corpus(docs)
    manifest = tmp_path / "sources.toml"
    manifest.write_text('[[source]]\nfolder = "docs"\n')
    replace = {
        argv[argv.index("--home") + 1]: str(home),
        argv[argv.index("--sources") + 1]: str(manifest),
        argv[argv.index("--port") + 1]: str(port),
    }
    command = [str(KB), *(replace.get(a, a) for a in argv[1:])]
    return [*command, "--cron", "0 2 * * *"], home


def _serving(home: Path, proc: subprocess.Popen[bytes], log: Path, timeout: float = 240) -> dict:
    return _wait_for_health(home, proc, log, "", timeout)


def _server_pid(schedule_pid: int) -> int:
    for pid in descendants(schedule_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"flows.server_main" in cmdline:
            return pid
    pytest.fail("no Prefect server under kb schedule")


def _gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.5)
        alive = [p for p in alive if pid_alive(p)]
    return alive


def _wait_for_health(home: Path, proc: subprocess.Popen[bytes], log: Path, want: str,
                     timeout: float = 120) -> dict:  # fmt: skip
    """The scheduler's health once it serves and its message contains `want` ("": any)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"kb schedule exited with {proc.returncode}: {log.read_text()[-3000:]}")
        try:
            health = json.loads((home / "schedule-health.json").read_text())
        except (OSError, ValueError):
            health = {}
        if health.get("state") == "serving" and want in health.get("message", ""):
            return health
        time.sleep(0.5)
    waited_for = f"no {want!r}" if want else "kb schedule did not serve"
    pytest.fail(f"{waited_for} in time: {log.read_text()[-3000:]}")


def _start_run(api: str, auth: dict[str, str]) -> str:
    # A server that has just started can answer 503 while its services come up (seen on a
    # loaded machine): asked again for up to 30 s, as a client would.
    deadline = time.monotonic() + 30
    while True:
        found = httpx.post(f"{api}/deployments/filter", json={}, headers=auth, timeout=10)
        if found.status_code == 200:
            [deployment] = found.json()
            started = httpx.post(
                f"{api}/deployments/{deployment['id']}/create_flow_run",
                json={"state": {"type": "SCHEDULED"}}, headers=auth, timeout=10,
            )  # fmt: skip
            if started.status_code != 503 or time.monotonic() > deadline:
                break
        elif found.status_code != 503 or time.monotonic() > deadline:
            raise AssertionError(found.text)
        time.sleep(1)
    assert started.status_code == 201, started.text
    return str(started.json()["id"])


@pytest.mark.flow
@pytest.mark.slow
def test_the_readme_unit_survives_its_server_dying_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    """Its own server (no PREFECT_API_URL), whose API wants credentials. kill -9 of the server:
    kb schedule starts it again and a later run completes; when the restart fails, it exits 75
    within a minute. Started again (as systemd would), SIGTERM stops it and its run with 0."""
    port = free_port()
    command, home = _unit_command(tmp_path, port)
    # As systemd starts it: none of the Prefect settings earlier in-process builds of this
    # test session left in os.environ (PREFECT_HOME among them).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"KB_SCHEDULE_HEALTH_SECONDS": "2", "PREFECT_RUNNER_POLL_FREQUENCY": "1"})
    log = tmp_path / "schedule.log"
    with log.open("wb") as out:
        serving = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out, stderr=out)
    try:
        health = _serving(home, serving, log)
        api = health["api_url"]
        assert api == f"http://127.0.0.1:{port}/api"
        # The API wants the credentials kept under the home folder, readable by its user only.
        auth_file = home / "prefect" / "api-auth"
        assert auth_file.stat().st_mode & 0o077 == 0
        secret = base64.b64encode(auth_file.read_text().encode()).decode()
        auth = {"Authorization": f"Basic {secret}"}
        assert httpx.get(f"{api}/admin/version", timeout=10).status_code == 401
        assert httpx.post(f"{api}/deployments/filter", json={}, timeout=10).status_code == 401
        assert httpx.get(f"{api}/admin/version", headers=auth, timeout=10).status_code == 200

        # The server dies: kb schedule notices, says so, starts it again, and runs happen.
        first = _server_pid(serving.pid)
        os.kill(first, signal.SIGKILL)
        health = _wait_for_health(home, serving, log, "restarted the Prefect server", 150)
        assert f"(pid {first}) exited with code -9" in health["message"]
        assert _server_pid(serving.pid) != first
        run_id = _start_run(api, auth)
        deadline = time.monotonic() + 180
        state: dict = {}
        while time.monotonic() < deadline:
            state = httpx.get(f"{api}/flow_runs/{run_id}", headers=auth, timeout=10).json()["state"]
            if state and state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                break
            time.sleep(1)
        assert state["type"] == "COMPLETED", (state, log.read_text()[-3000:])
        status = json.loads(invoke("status", "--json", "--home", str(home))[1])
        assert (
            status["runs"][0]["state"] == "completed" and status["runs"][0]["sources"]["new"] == 2
        )
        assert status["scheduler"]["state"] == "serving" and status["next_run"] is not None

        # It dies again and cannot come back (something else took its port): exit 75.
        second = _server_pid(serving.pid)
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            os.kill(second, signal.SIGKILL)
            for _ in range(100):
                try:
                    squatter.bind(("127.0.0.1", port))
                    break
                except OSError:
                    time.sleep(0.05)
            squatter.listen()
            code = serving.wait(timeout=60)
        assert code == EXIT_SERVER_DOWN, log.read_text()[-3000:]
        assert "restarting it failed" in log.read_text()
        # kb schedule has gone (for systemd to restart it); status says so, and why.
        status = json.loads(invoke("status", "--json", "--home", str(home))[1])
        scheduler = status["scheduler"]
        assert scheduler["state"] == "exited" and status["next_run"] is None
        assert "restarting it failed" in scheduler["message"]
        _, text = invoke("status", "--home", str(home))
        assert "scheduler exited" in text and "none until `kb schedule` serves again" in text
    finally:
        if serving.poll() is None:
            serving.kill()
            serving.wait(10)

    # As systemd would (Restart=on-failure): started again, it serves; a run starts and is
    # held mid-extraction (kb.runtime.testhooks); SIGTERM stops everything cleanly.
    marker = tmp_path / "paused"
    env.update({"KB_TEST_PAUSE_AT": "extract", "KB_TEST_PAUSE_SECONDS": "600",
                "KB_TEST_PAUSE_FILE": str(marker), "PREFECT_RUNNER_POLL_FREQUENCY": "1"})  # fmt: skip
    with log.open("ab") as out:
        again = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out, stderr=out)
    try:
        _serving(home, again, log)
        (tmp_path / "docs" / "leaflet.md").write_text("# Leaflet\n\nSafe migration advice.\n")
        _start_run(api, auth)
        deadline = time.monotonic() + 180
        while not (marker.exists() and marker.read_text().strip()):
            assert time.monotonic() < deadline, f"the run never started: {log.read_text()[-3000:]}"
            time.sleep(0.5)
        below = list(descendants(again.pid))
        assert len(below) >= 2, "no server or no run under kb schedule"
        again.send_signal(getattr(signal, readme_unit()["KillSignal"]))
        assert again.wait(timeout=int(readme_unit()["TimeoutStopSec"])) == 0, log.read_text()[
            -3000:
        ]
        assert _gone(below, 15) == [], "processes left after kb schedule stopped"
        status = json.loads(invoke("status", "--json", "--home", str(home))[1])
        assert status["scheduler"]["state"] == "stopped"
        assert status["runs"][0]["state"] == "interrupted"  # the run held mid-way
    finally:
        if again.poll() is None:
            again.kill()
            again.wait(10)


@pytest.mark.flow
@pytest.mark.slow
def test_kill_9_of_kb_build_leaves_no_process_behind(tmp_path: Path) -> None:
    """Prefect's temporary server and the extraction workers end with a killed build. (The
    server `kb build` keeps for the next build, by default, is detached on purpose and
    outlives it: `--no-keep-server` asks for a temporary one.)"""
    docs, home = tmp_path / "docs", tmp_path / "home"
    docs.mkdir()
    # Enough sources for the extraction pool (kb.ingest.sequence.POOL_MIN_SOURCES).
    for n in range(45):
        (docs / f"note-{n}.md").write_text(f"# Note {n}\n\nThe shelter in Mary, note {n}.\n")
    marker = tmp_path / "paused"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({
        "KB_TEST_PAUSE_AT": "extract", "KB_TEST_PAUSE_SECONDS": "600",
        "KB_TEST_PAUSE_FILE": str(marker),
    })  # fmt: skip
    log = tmp_path / "build.log"
    with log.open("wb") as out:
        build = subprocess.Popen(
            [str(KB), "build", "--corpus", str(docs), "--home", str(home), "--workers", "2",
             "--no-keep-server"],
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
    below: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 240
        while not (marker.exists() and marker.read_text().strip()):
            if build.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"kb build never paused (exit {build.returncode}): {log.read_text()}")
            time.sleep(0.2)
        time.sleep(1.0)  # the watcher notes what is running every 0.5 s
        below = descendants(build.pid)
        commands = [
            Path(f"/proc/{p}/cmdline").read_bytes() for p in below if Path(f"/proc/{p}").exists()
        ]
        assert any(b"uvicorn" in c or b"prefect" in c for c in commands), commands
        assert any(b"multiprocessing" in c for c in commands), commands  # extraction workers
        build.send_signal(signal.SIGKILL)
        build.wait(timeout=30)
        left = _gone([p for p in below if b"kb.runtime.orphans" not in _cmdline(p)], 20)
        assert left == [], [(_cmdline(p)) for p in left]
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
        for pid, started in below.items():  # whatever is left if the test failed
            if process_start_time(pid) == started:
                os.kill(pid, signal.SIGKILL)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
