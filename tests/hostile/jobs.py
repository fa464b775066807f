"""Job functions for extraction workers that misbehave on purpose (see test_hostile_limits).

A worker imports its job function by name ("hostile.jobs:sleep_job"), so these live
in an importable module rather than in the test file.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any


def echo_job(job: Any) -> tuple[str, Any]:
    return ("ok", job)


def sleep_job(job: float) -> tuple[str, float]:
    time.sleep(job)
    return ("ok", job)


def hog_job(megabytes: int) -> tuple[str, int]:
    """Asks for more memory than the worker may have: MemoryError under RLIMIT_AS."""
    hoard = bytearray(megabytes * 1024 * 1024)
    return ("ok", len(hoard))


def crash_job(job: Any) -> tuple[str, Any]:
    """Dies the way a C extension does on a bad pointer."""
    os.kill(os.getpid(), signal.SIGSEGV)
    return ("ok", job)
