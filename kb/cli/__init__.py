"""`kb` command line: a thin shell over the `kb` and `search` libraries.

Each module below registers its commands on the shared Typer app. The `kb` entry
point (`main`) imports only the module of the command asked for, so `kb search`
does not pay for the build's, the web's or the law commands' imports; `--help` and
unknown names load them all, as does `from kb.cli import app`. Only the commands
that run a flow (`build`, `schedule`) import Prefect, and lazily.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

# In the order `kb --help` lists them.
COMMAND_MODULES: dict[str, str] = {
    "build": "core",
    "show": "core",
    "docs": "core",
    "facts": "facts",
    "compare": "legal",
    "elements": "legal",
    "status": "ops",
    "schedule": "ops",
    "search": "searching",
    "similar": "searching",
    "serve": "web",
    "server": "server",
}
ALL_MODULES = tuple(dict.fromkeys(COMMAND_MODULES.values()))


def load_commands(modules: tuple[str, ...] = ALL_MODULES) -> typer.Typer:
    """The app with the commands of `modules` registered (importing a module registers them)."""
    for module in modules:
        importlib.import_module(f"kb.cli.{module}")
    from kb.cli.app import app

    return app


def main() -> None:
    """The `kb` script: register the command asked for (the first word), then run it."""
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "")
    module = COMMAND_MODULES.get(command)
    load_commands((module,) if module else ALL_MODULES)()


class _Package(types.ModuleType):
    """`kb.cli.app` is the whole app, as when this package imported every command module.

    The import system sets the package's `app` attribute to the submodule kb.cli.app when
    that is first imported; the setter ignores that (the module stays in sys.modules).
    """

    @property
    def app(self) -> typer.Typer:
        return load_commands()

    @app.setter
    def app(self, _submodule: object) -> None:
        pass


sys.modules[__name__].__class__ = _Package


__all__ = ["COMMAND_MODULES", "app", "load_commands", "main"]
