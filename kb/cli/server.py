"""`kb server status|stop`: the Prefect server `kb build` keeps running for a home folder."""

from __future__ import annotations

from typing import Any

import typer

from kb.cli.app import HomeOption, JsonOption, app, console, home_path, print_json, user_errors

server_app = typer.Typer(
    help="The Prefect server `kb build` started for this home and left running.",
    no_args_is_help=True,
)
app.add_typer(server_app, name="server")


@server_app.command("status")
@user_errors
def server_status(json_out: JsonOption = False, home: HomeOption = None) -> None:
    """Whether the kept Prefect server runs and answers, its URL (API and UI) and pid."""
    from flows.keep_server import read_record, record_path, running_server

    root = home_path(home)
    server = read_record(root)
    data: dict[str, Any] = {"running": False, "recorded": server is not None}
    if server is not None:
        data.update(
            running=running_server(root) is not None,
            pid=server.pid,
            api_url=server.api_url,
            ui_url=server.ui_url,
            started=server.started,
            log=server.log,
        )
    if json_out:
        print_json(data)
        return
    if server is None:
        console.print(f"No Prefect server kept for {root} (`kb build` starts one).")
    elif data["running"]:
        console.print(
            f"Prefect server running: pid {server.pid}, API {server.api_url}, UI {server.ui_url} "
            f"(since {server.started}; log {server.log})"
        )
    else:
        console.print(
            f"The Prefect server recorded in {record_path(root)} (pid {server.pid}) is not "
            "answering; the next `kb build` starts a new one."
        )


@server_app.command("stop")
@user_errors
def server_stop(home: HomeOption = None) -> None:
    """Stop the kept Prefect server (the next `kb build` starts a new one; runs are kept)."""
    from flows.keep_server import stop_kept_server

    stopped = stop_kept_server(home_path(home))
    if stopped is None:
        console.print("No Prefect server kept for this home.")
    else:
        console.print(f"Stopped the Prefect server (pid {stopped.pid}, {stopped.api_url}).")
