"""`kb serve`: the web interface (search, documents, law comparison, status) and its JSON API."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from kb.cli.app import HomeOption, app, console, err_console, home_path, user_errors
from kb.home import paths as home_paths


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
@user_errors
def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. The default serves this machine only; "
            "use 0.0.0.0 to serve the office network.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Worker processes answering requests (default: one per core).",
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Serve the knowledge base in a browser: search, documents, law comparison and ingest status.

    Pages work without JavaScript, in English or Russian (?ui=ru), and print cleanly.
    The JSON API is under /api/ (description at /api/openapi.json); /api/search
    answers with the same object as `kb search --json`.
    """
    from kb.web.workers import default_workers, run

    root = home_path(home)
    if not home_paths(root).store.exists():
        err_console.print(f"[yellow]warning:[/] no knowledge base in {root} yet: run `kb build`; "
                          "the pages will say so until then.")  # fmt: skip
    if not _is_loopback(host):
        err_console.print(f"[yellow]note:[/] serving on {host}: anyone who can reach this machine "
                          f"on port {port} can read the knowledge base.")  # fmt: skip
    console.print(
        f"Serving {root} at http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/search  (Ctrl+C to stop)"
    )
    # uvicorn reports a port already in use itself (one line) and exits with status 1.
    run(root, host, port, workers or default_workers())
