"""Running `kb` commands in-process, as a 200-column terminal shows them."""

from __future__ import annotations

from typer.testing import CliRunner

from kb.cli import app
from kb.cli.app import console

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    """Exit code and output of `kb ARGS` (the commands registered on the shared app)."""
    # The console fixes its width when kb.cli is first imported, which may have happened in
    # another test with another COLUMNS.
    saved = console._width
    console.width = 200
    try:
        result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    finally:
        console._width = saved
    return result.exit_code, result.output
