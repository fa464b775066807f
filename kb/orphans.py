"""Helper processes that exit when the process that started them is gone."""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(poll_seconds: float = 1.0) -> None:
    """Exit when the process that started us is gone, even in the middle of a job.

    A helper blocked on a queue or a pipe would otherwise wait for ever after its parent
    is killed (SIGKILL, OOM), holding its memory. (PR_SET_PDEATHSIG would fire when the
    *thread* that started us ends, and the caller's threads come and go; watching our
    parent's pid does not.)
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
