"""`kb status` (the last ingest runs, the next scheduled one) and `kb schedule` (serve the nightly run).

`kb status` reads the store only: it never imports Prefect nor starts a server.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from kb.cli.app import (
    HomeOption,
    JsonOption,
    app,
    console,
    err_console,
    home_path,
    print_json,
    user_errors,
)
from kb.errors import KBError, NotFoundError
from kb.home import HomePaths
from kb.home import paths as home_paths
from kb.library import SOURCE_COUNTS, KnowledgeBase
from kb.runtime.orphans import reap_descendants_on_exit
from kb.store import Store


@app.command()
@user_errors
def status(
    limit: Annotated[
        int, typer.Option("--limit", help="How many runs to show, newest first.")
    ] = 10,
    json_out: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """The last ingest runs (sources seen, new, changed, removed, failed; sections; time per stage) and the next scheduled run."""
    data = KnowledgeBase(home_path(home)).status(limit)
    if json_out:
        print_json(data)
        return
    if not data["runs"]:
        console.print("No ingest runs yet: run `kb build`.")
    else:
        table = Table(
            title="Ingest runs, newest first: sources, then sections added/updated/removed",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            collapse_padding=True,
            padding=(0, 1),
        )
        for col in (
            "started (UTC)",
            "state",
            "seen",
            "new",
            "chg",
            "same",
            "gone",
            "fail",
            "+/~/-",
            "s",
        ):
            table.add_column(col, no_wrap=True)
        for run in data["runs"]:
            src, sec = run["sources"], run["sections"]
            table.add_row(
                run["started"][:16].replace("T", " "),
                run["state"],
                *(str(src[k]) for k in SOURCE_COUNTS),
                f"{sec['added']}/{sec['updated']}/{sec['removed']}",
                f"{sum(run['seconds'].values()):.1f}",
            )
        console.print(table)
        for f in data["runs"][0]["failures"]:
            console.print(
                f"[red]failed[/] {escape(f['source'])} ({f['stage']}): {escape(f['reason'])}"
            )
    for waiting in data["waiting_for_lock"]:
        console.print(
            f"[yellow]waiting[/] a run (pid {waiting['pid']}) has been waiting for the ingest lock "
            f"since {waiting['since']}; it gives up at {waiting['until']}"
        )
    scheduler = data["scheduler"]
    if scheduler is not None and scheduler["state"] != "serving":
        console.print(f"[red]scheduler {scheduler['state']}[/]: {escape(scheduler['message'])}")
    if data["next_run"]:
        console.print(f"Next scheduled run: {data['next_run']}")
    elif scheduler is not None and scheduler["state"] != "serving":
        console.print("Next scheduled run: none until `kb schedule` serves again")
    else:
        console.print("Next scheduled run: none (set one up with `kb schedule`)")


@app.command()
@user_errors
def schedule(
    cron: Annotated[
        str, typer.Option("--cron", help="When to run, as a cron expression.")
    ] = "0 2 * * *",
    timezone: Annotated[
        str, typer.Option("--timezone", help="Time zone of the cron expression.")
    ] = "Asia/Ashgabat",
    sources: Annotated[
        Path | None,
        typer.Option("--sources", help="The sources manifest (default corpus/sources.toml)."),
    ] = None,
    corpus: Annotated[
        Path | None,
        typer.Option("--corpus", help="Ingest every file under DIR instead of a manifest."),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", help="Port of the local Prefect server to use or start.")
    ] = 4200,
    home: HomeOption = None,
) -> None:
    """Serve the nightly ingest run with Prefect; keeps running until stopped (Ctrl-C or SIGTERM).

    Uses the Prefect server at PREFECT_API_URL if set, else the one `kb build` keeps for
    this home, else one of ours answering on 127.0.0.1:PORT, else starts one there (its
    database under the home folder; its API needs the credentials kept in
    HOME/prefect/api-auth). The schedule is recorded in the store, for `kb status`. If a
    server it started dies, it starts it again (up to 3 times in 10 minutes); if that fails,
    or the server is not its own, it exits with code 75 so that a service manager restarts
    it. SIGTERM or Ctrl-C stop it with code 0.
    """
    from flows.schedule import (
        EXIT_SERVER_DOWN,
        MAX_SERVER_RESTARTS,
        RESTART_WINDOW_SECONDS,
        ServerWatchdog,
        apply_nightly,
        connect_or_start_server,
        nightly_parameters,
        serve_nightly,
        start_server,
        stop_server,
    )
    from kb.ingest.nightly import NIGHTLY_PARAMETERS_ENV
    from kb.schedule.cron import next_fire_time
    from kb.schedule.record import read_api_auth, write_scheduler_health

    next_fire_time(
        cron, timezone, datetime.now(UTC)
    )  # a bad cron or time zone fails before any server starts
    root = home_path(home)
    paths = home_paths(root).ensure()
    if corpus is None:
        sources = sources or Path("corpus/sources.toml")
        if not sources.is_file():
            raise NotFoundError(
                f"{sources.resolve()}: manifest not found (give --sources or --corpus)"
            )
    elif not corpus.is_dir():
        raise NotFoundError(f"{corpus.resolve()}: not a folder")
    from flows.settings import configure_prefect

    # SIGTERM (systemd's stop) before Prefect's runner installs its own handler: the same
    # clean stop, exit code 0.
    previous_handler = None
    if threading.current_thread() is threading.main_thread():
        previous_handler = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    configure_prefect(root)
    # The server and the runs this starts end with it, even after `kill -9`.
    reap_descendants_on_exit()
    console.print("Connecting to the Prefect server (starting one if needed) …")
    from flows.keep_server import running_server

    kept = None if os.environ.get("PREFECT_API_URL") else running_server(root)  # `kb build`'s
    kept_auth = read_api_auth(Path(kept.prefect_home)) if kept else None
    if kept_auth:  # started by `kb build` with this home's API credentials
        os.environ["PREFECT_API_AUTH_STRING"] = kept_auth
    api_url, server = (
        (kept.api_url, None)
        if kept
        else connect_or_start_server(Path(os.environ["PREFECT_HOME"]), port)
    )
    os.environ["PREFECT_API_URL"] = (
        api_url  # before Prefect is imported: it reads its settings once
    )
    prefect_home = Path(os.environ["PREFECT_HOME"])
    down: list[str] = []  # why the server went down, set by the watchdog's thread
    handled = threading.Event()

    def server_down(message: str) -> None:
        down.append(message)
        handled.clear()
        # Stops the runner (see serve_nightly); should it hang on the dead API, leave anyway.
        os.kill(os.getpid(), signal.SIGTERM)
        if not handled.wait(60):
            os._exit(EXIT_SERVER_DOWN)

    restarts: list[float] = []
    restart_note = ""
    watchdog: ServerWatchdog | None = None
    try:
        parameters = nightly_parameters(root, sources if corpus is None else None, corpus)
        # The served runs inherit this: each checks its parameters against it.
        os.environ[NIGHTLY_PARAMETERS_ENV] = json.dumps(parameters)
        with Store(paths.store) as store:
            recorded = apply_nightly(store, api_url, parameters, cron, timezone)
        _mark_crashed_if_idle(paths)
        upcoming = next_fire_time(cron, timezone, datetime.now(UTC))
        console.print(
            f"Serving [bold]{recorded.deployment}[/] on {api_url}: cron {escape(cron)} ({timezone}); "
            f"next run {upcoming.isoformat()}. Stop with Ctrl-C or SIGTERM."
        )
        while True:
            watchdog = ServerWatchdog(
                root, api_url, server, on_down=server_down, log=_log, note=restart_note
            )
            watchdog.start()
            try:
                serve_nightly(parameters, cron, timezone)
            except SystemExit:
                # The watchdog's SIGTERM can land before the runner has put in its own
                # handler (a loaded machine): then it is ours, and the restart below runs.
                if not down:
                    raise
            watchdog.stop()
            handled.set()
            if not down:  # Ctrl-C or SIGTERM
                break
            # Our own server died: start it again (same port and database) and serve anew,
            # a few times; a server that keeps dying, or one that is not ours, is for the
            # service manager (exit code 75).
            now = time.monotonic()
            restarts = [t for t in restarts if now - t < RESTART_WINDOW_SECONDS]
            if server is None or len(restarts) >= MAX_SERVER_RESTARTS:
                break
            restarts.append(now)
            stop_server(server)
            _log("restarting the Prefect server …")
            write_scheduler_health(root, "restarting server", down[0], api_url)
            try:
                server = start_server(prefect_home, port, auth=read_api_auth(prefect_home))
                with Store(paths.store) as store:
                    apply_nightly(store, api_url, parameters, cron, timezone)
            except KBError as exc:
                down[0] = f"{down[0]}; restarting it failed: {exc}"
                break
            restart_note = (
                f"restarted the Prefect server at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
                f"(restart {len(restarts)}) after: {down[0]}"
            )
            _log(restart_note)
            down.clear()
    except SystemExit as exc:  # SIGTERM before the runner started, or during a restart
        if not down and exc.code not in (0, None):
            raise
    finally:
        handled.set()
        if watchdog is not None:
            watchdog.stop()
        if server is not None:
            stop_server(server)
        if down:
            message = f"{down[0]}; kb schedule stops with exit code {EXIT_SERVER_DOWN}"
            _log(message)
            write_scheduler_health(root, "server down", message, api_url)
        else:
            write_scheduler_health(root, "stopped", "kb schedule was stopped", api_url)
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    if down:
        err_console.print(f"[bold red]error:[/] {escape(down[0])}", highlight=False)
        raise typer.Exit(EXIT_SERVER_DOWN)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _log(message: str) -> None:
    """A timestamped line on stderr (the journal, under systemd)."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    err_console.print(f"{stamp} kb schedule: {escape(message)}", highlight=False, soft_wrap=True)


def _mark_crashed_if_idle(paths: HomePaths) -> None:
    """With no ingest running, ingest runs Prefect still shows `Running` died: mark them."""
    from flows.crashed_runs import mark_crashed_runs
    from kb.runtime.lock import BusyError, check_free

    try:
        check_free(paths.lock)
    except BusyError:
        return
    try:
        marked = mark_crashed_runs(paths.root)
    except Exception as exc:  # bookkeeping: never stops the scheduler
        _log(f"could not mark crashed runs: {exc}")
        return
    if marked:
        _log(f"marked {marked} ingest run(s) left Running by a killed process as Crashed")
