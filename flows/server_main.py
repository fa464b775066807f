"""`python -m flows.server_main server start …`: Prefect's CLI, ending with its parent.

`kb build` and `kb schedule` start their Prefect server through this module, so the
server (uvicorn and the scheduler services run in this one process) exits when the
process that started it is gone, even after `kill -9`, instead of staying alive and
listening.
"""

from __future__ import annotations

from kb.runtime.orphans import exit_with_parent

if __name__ == "__main__":
    exit_with_parent()
    from prefect.cli import app

    app()
