"""`kb` command line: a thin shell over the `kb` and `search` libraries.

Each module below registers its commands on the shared Typer app. Only the
commands that run a flow (`build`, `schedule`) import Prefect, and lazily.
"""

from kb.cli import core as _core  # noqa: F401  (registers commands)
from kb.cli import facts as _facts  # noqa: F401
from kb.cli import legal as _legal  # noqa: F401
from kb.cli import ops as _ops  # noqa: F401
from kb.cli import searching as _searching  # noqa: F401
from kb.cli import server as _server  # noqa: F401
from kb.cli import web as _web  # noqa: F401
from kb.cli.app import app

__all__ = ["app"]
