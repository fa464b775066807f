"""Prefect settings that must be in the environment before `import prefect`.

Measured on these machines: offline telemetry logs errors and can lock SQLite;
a first temporary server needs up to 25 s (its default start-up timeout is 20 s).
"""

from __future__ import annotations

import os
from pathlib import Path


def configure_prefect(home: Path) -> None:
    prefect_home = Path(os.environ.setdefault("PREFECT_HOME", str(home / "prefect")))
    prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "false")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
