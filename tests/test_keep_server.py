"""`kb build` keeps one Prefect server per home folder; `kb server status|stop`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pdf_fixtures import make_pdf

from flows.keep_server import (
    KeptServer,
    _write_record,
    choose_server,
    pid_alive,
    read_record,
    record_path,
    running_server,
    stop_kept_server,
)

KB = Path(sys.executable).with_name("kb")


def _kb(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KB), *args], capture_output=True, text=True, env=env, timeout=600, check=False
    )


def _record(home: Path, pid: int, port: int = 9) -> KeptServer:
    server = KeptServer(
        pid=pid,
        port=port,
        api_url=f"http://127.0.0.1:{port}/api",
        prefect_home=str(home / "prefect"),
        log=str(home / "prefect" / "server.log"),
        started="2026-12-06T00:00:00+00:00",
    )
    home.mkdir(parents=True, exist_ok=True)
    _write_record(home, server)
    return server


def test_prefect_api_url_wins_and_nothing_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")
    choice = choose_server(tmp_path, tmp_path / "prefect")
    assert (choice.source, choice.api_url) == ("PREFECT_API_URL", "http://127.0.0.1:1/api")
    assert read_record(tmp_path) is None


def test_a_dead_or_silent_recorded_server_is_not_used_and_not_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _record(tmp_path, dead.pid)
    assert running_server(tmp_path) is None

    # A live process that is not a Prefect server (a recycled pid) is neither used nor stopped.
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _record(tmp_path, other.pid)
        assert running_server(tmp_path) is None
        choice = choose_server(tmp_path, tmp_path / "prefect", keep=False)
        assert (choice.source, choice.api_url) == ("temporary", None)
        assert stop_kept_server(tmp_path) is not None
        assert other.poll() is None and pid_alive(other.pid)
        assert not record_path(tmp_path).exists()
    finally:
        other.kill()
        other.wait()


def test_server_commands_without_a_kept_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    status = _kb("server", "status", "--home", str(tmp_path), "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == {"running": False, "recorded": False}
    stop = _kb("server", "stop", "--home", str(tmp_path), env=env)
    assert stop.returncode == 0 and "No Prefect server kept" in stop.stdout


@pytest.mark.flow
def test_second_build_reuses_the_server_the_first_started_and_stop_ends_it(
    tmp_path: Path,
) -> None:
    docs, home = tmp_path / "docs", tmp_path / "home"
    docs.mkdir()
    make_pdf(docs / "manual.pdf", [["Referral of victims", "The quokka hotline answers."]])
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    try:
        first = _kb("build", "--corpus", str(docs), "--home", str(home), "--json", env=env)
        assert first.returncode == 0, first.stderr[-3000:]
        started = json.loads(first.stdout)["prefect_server"]
        assert started["source"] == "started"
        pid = started["pid"]
        # Detached: its own session, so a killed build (or its terminal's Ctrl-C) leaves it be.
        assert os.getsid(pid) == pid
        assert read_record(home) is not None and read_record(home).pid == pid

        (docs / "notes.md").write_text("# Hotline\n\nThe wombat line is open at night.\n")
        second = _kb("build", "--corpus", str(docs), "--home", str(home), "--json", env=env)
        assert second.returncode == 0, second.stderr[-3000:]
        summary = json.loads(second.stdout)
        assert summary["prefect_server"] == {**started, "source": "kept"}
        assert summary["sources"]["new"] == 1

        # The runs are on that server, where its UI shows them.
        import httpx

        from kb.schedule.record import auth_headers, read_api_auth

        # Its API wants this home's credentials, as kb schedule's server does (issue 19).
        record = read_record(home)
        assert record is not None
        url = f"{started['api_url']}/flow_runs/filter"
        assert httpx.post(url, json={}, timeout=10).status_code == 401
        headers = auth_headers(read_api_auth(Path(record.prefect_home)))
        runs = httpx.post(url, json={}, headers=headers, timeout=10).json()
        assert len([r for r in runs if r["state_type"] == "COMPLETED"]) == 2

        status = _kb("server", "status", "--home", str(home), "--json", env=env)
        assert json.loads(status.stdout)["running"] is True
        assert json.loads(status.stdout)["pid"] == pid
    finally:
        stop = _kb("server", "stop", "--home", str(home), env=env)
    assert stop.returncode == 0, stop.stderr
    assert not pid_alive(pid)
    assert not record_path(home).exists()
    status = _kb("server", "status", "--home", str(home), "--json", env=env)
    assert json.loads(status.stdout)["running"] is False
