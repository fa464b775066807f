"""`kb status` (the last ingest runs, the next scheduled one) and `kb schedule` (serve the nightly run).

`kb status` reads the store only: it never imports Prefect nor starts a server.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from kb.cli.app import HomeOption, JsonOption, app, console, home_path, print_json, user_errors
from kb.errors import NotFoundError
from kb.home import HomePaths
from kb.home import paths as home_paths
from kb.store import Store

SOURCE_COUNTS = ("seen", "new", "changed", "unchanged", "removed", "failed")
SECTION_COUNTS = ("added", "updated", "removed")


def status_data(paths: HomePaths, *, limit: int = 10, ask_server: bool = True) -> dict[str, Any]:
    """What `kb status --json` prints: the last runs, newest first, and the next scheduled run."""
    from flows.schedule import next_run, recorded_schedule

    if not paths.store.exists():
        raise NotFoundError(f"no knowledge base in {paths.root}: run `kb build` first")
    with Store(paths.store) as store:
        rows = store.runs(limit)
        schedule = recorded_schedule(store)
    holder_alive = _lock_holder_alive(paths.lock)
    runs = [_run_entry(row, newest=n == 0, holder_alive=holder_alive) for n, row in enumerate(rows)]
    upcoming = next_run(schedule, ask_server=ask_server)
    return {"runs": runs, "next_run": upcoming.isoformat() if upcoming else None}


def _run_entry(row: dict[str, Any], *, newest: bool, holder_alive: bool) -> dict[str, Any]:
    sources, sections = row.get("sources", {}), row.get("sections", {})
    failures = [
        {"source": f["source"], "stage": f["stage"], "reason": f["reason"]} for f in row["failures"]
    ]
    if row.get("error"):  # the whole run failed (a bad manifest, a full disk): say why
        failures.append({"source": "(run)", "stage": "run", "reason": row["error"]})
    state = row["state"]
    # A run left 'running' whose process is gone was killed; the next run records it so too.
    if state == "running" and not (newest and holder_alive):
        state = "interrupted"
    return {
        "started": row["started"],
        "finished": row["finished"],
        "state": state,
        "sources": {k: int(sources.get(k, 0)) for k in SOURCE_COUNTS},
        "sections": {k: int(sections.get(k, 0)) for k in SECTION_COUNTS},
        "failures": failures,
        "seconds": dict(row.get("seconds", {})),
    }


def _lock_holder_alive(lock: Path) -> bool:
    """Whether the process that last took the ingest lock still exists (the lock file holds its pid)."""
    try:
        pid = int(lock.read_text().strip() or 0)
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    paths = home_paths(home_path(home))
    data = status_data(paths, limit=limit)
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
    console.print(
        f"Next scheduled run: {data['next_run'] or 'none (set one up with `kb schedule`)'}"
    )


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
    """Serve the nightly ingest run with Prefect; keeps running until stopped (Ctrl-C).

    Uses the Prefect server at PREFECT_API_URL if set, else the one `kb build` keeps
    for this home, else one answering on 127.0.0.1:PORT, else starts one there (its
    database under the home folder).
    The schedule is recorded in the store, for `kb status`.
    """
    from flows.cron import next_fire_time
    from flows.schedule import (
        apply_nightly,
        connect_or_start_server,
        nightly_parameters,
        serve_nightly,
        stop_server,
    )

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

    configure_prefect(root)
    console.print("Connecting to the Prefect server (starting one if needed) …")
    from flows.keep_server import running_server

    kept = None if os.environ.get("PREFECT_API_URL") else running_server(root)  # `kb build`'s
    api_url, server = (
        (kept.api_url, None)
        if kept
        else connect_or_start_server(Path(os.environ["PREFECT_HOME"]), port)
    )
    os.environ["PREFECT_API_URL"] = (
        api_url  # before Prefect is imported: it reads its settings once
    )
    try:
        parameters = nightly_parameters(root, sources if corpus is None else None, corpus)
        with Store(paths.store) as store:
            recorded = apply_nightly(store, api_url, parameters, cron, timezone)
        upcoming = next_fire_time(cron, timezone, datetime.now(UTC))
        console.print(
            f"Serving [bold]{recorded.deployment}[/] on {api_url}: cron {escape(cron)} ({timezone}); "
            f"next run {upcoming.isoformat()}. Stop with Ctrl-C."
        )
        serve_nightly(parameters, cron, timezone)
    finally:
        if server is not None:
            stop_server(server)
