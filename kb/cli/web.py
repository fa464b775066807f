"""`kb serve`: the web interface (search, documents, law comparison, status) and its JSON API."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from kb.cli.app import HomeOption, app, console, err_console, home_path, user_errors
from kb.home import paths as home_paths

# The one import of the web package from the command line, declared in pyproject.toml's
# import contracts: the server's entry, standard library only until it runs.
from kb.web.server import LOGIN_USER, PASSWORD_ENV, run_server


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
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            help=f"Ask for a login (user {LOGIN_USER!r}, this file's first line as the password) "
            f"on every page, file and API call. {PASSWORD_ENV} in the environment does the same.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
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
    answers with the same object as `kb search --json`. SIGTERM or Ctrl+C stop it
    within a few seconds, requests in progress or not.
    """
    root = home_path(home)
    password = _password(password_file)
    if not home_paths(root).store.exists():
        err_console.print(f"[yellow]warning:[/] no knowledge base in {root} yet: run `kb build`; "
                          "the pages will say so until then.")  # fmt: skip
    if not _is_loopback(host):
        err_console.print(_exposure_note(host, port, password is not None))
    console.print(
        f"Serving {root} at http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/search  (Ctrl+C to stop)"
    )
    run_server(root, host=host, port=port, password=password, workers=workers)


def _password(password_file: Path | None) -> str | None:
    """The login's password: the file's first line, else KB_WEB_PASSWORD, else none."""
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"{password_file}: cannot read the password ({exc})") from None
        password = lines[0].strip() if lines else ""
        if not password:
            raise typer.BadParameter(f"{password_file}: the first line (the password) is empty")
        return password
    return os.environ.get(PASSWORD_ENV) or None


def _exposure_note(host: str, port: int, with_login: bool) -> str:
    """What serving beyond this machine exposes, said plainly at start-up."""
    what = (
        "every document's text, its original file (/file/…), the search API and the ingest status"
    )
    if with_login:
        return (f"[yellow]note:[/] serving on {host}:{port} with a login (user {LOGIN_USER!r}): {what} "
                "to anyone with the password. The password crosses the network in clear over "
                "plain HTTP: put a TLS reverse proxy in front (README, `kb serve`).")  # fmt: skip
    return (f"[yellow]warning:[/] serving on {host}:{port} WITHOUT a login: anyone who can reach "
            f"this machine on port {port} can read {what}. Set {PASSWORD_ENV} or --password-file, "
            "or put a reverse proxy with a login in front (README, `kb serve`).")  # fmt: skip
