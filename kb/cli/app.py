"""The `kb` Typer application and what every command shares: --home, --json, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from kb.errors import KBError
from kb.home import resolve_home

app = typer.Typer(
    name="kb",
    help=(
        "Counter-trafficking knowledge base: build it from a corpus of PDFs, web pages and "
        "law texts, then search it by section in English, Russian or Turkmen."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


@app.callback()
def _commands() -> None:
    # A callback keeps `kb` a group of commands even when the `kb` script has registered
    # only the one asked for (kb.cli.main): else Typer would run that one as `kb [OPTIONS]`.
    pass


console = Console()
err_console = Console(stderr=True)

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar="KB_HOME",
        help="Folder holding the store, the index and fetched copies (default ./data).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]

F = TypeVar("F", bound=Callable[..., Any])


def home_path(home: Path | None) -> Path:
    return resolve_home(home)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def user_errors(func: F) -> F:
    """Turn a KBError into one red line on stderr and exit code 1 (no traceback)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KBError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]
