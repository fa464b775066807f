"""Test-only pause points: a crash test stops a run at a named place and kills it there.

    KB_TEST_PAUSE_AT=extract,store      the points that pause (comma-separated names)
    KB_TEST_PAUSE_SECONDS=60            for how long (default 60)
    KB_TEST_PAUSE_FILE=/tmp/paused      optional: each pause appends "<name> <pid>" here

On pausing, a point also writes "KB_TEST_PAUSED <name> <pid>" to stderr, so a
test that reads the process's output or polls the file knows the moment to
`kill -9`. Unset, a pause point costs one environment lookup.

Points in the code: "extract" (kb.ingest.pipeline, before a source is extracted),
"store" (kb.ingest.commit, inside the commit transaction, after every write),
"swap" (search.indexer, new index complete, before the symlink is replaced).
"""

from __future__ import annotations

import os
import sys
import time

DEFAULT_PAUSE_SECONDS = 60.0


def pause_point(name: str) -> None:
    wanted = os.environ.get("KB_TEST_PAUSE_AT")
    if not wanted or name not in {part.strip() for part in wanted.split(",")}:
        return
    seconds = float(os.environ.get("KB_TEST_PAUSE_SECONDS") or DEFAULT_PAUSE_SECONDS)
    marker = os.environ.get("KB_TEST_PAUSE_FILE")
    if marker:
        with open(marker, "a", encoding="utf-8") as fh:
            fh.write(f"{name} {os.getpid()}\n")
    sys.stderr.write(f"KB_TEST_PAUSED {name} {os.getpid()}\n")
    sys.stderr.flush()
    time.sleep(seconds)
