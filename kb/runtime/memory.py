"""Keeping a long build's resident memory to what it holds (glibc's allocator; elsewhere nothing),
and its time out of the cyclic garbage collector.

glibc keeps memory that was freed in the middle of its heap rather than give it back, so a
process that held a few hundred megabytes for a moment (the file bytes a check read, a batch
of documents) stays that large. `release_free_memory` hands those free pages back at the
points where a run has just let go of a stage's data.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

# glibc's M_ARENA_MAX (mallopt): at most this many malloc arenas for the task threads to come.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8


@cache
def _libc() -> Any | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim, libc.mallopt  # noqa: B018 (glibc only: raises AttributeError elsewhere)
    except (OSError, AttributeError):
        return None
    return libc


def limit_malloc_arenas() -> None:
    """Few malloc arenas for this process's threads.

    Each of Prefect's task threads otherwise allocates from an arena of its own, and memory a
    thread frees (the bytes a check read, an extraction once on disk) is not reused by the
    others. A 1,000-document `kb build` (2026-12-06, load average 5-6): its flow process peaked
    at 387 MB, 344 MB with this call (328 MB with MALLOC_ARENA_MAX=2 set before it started), its
    process tree at 738 and 695 MB.
    """
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def release_free_memory() -> None:
    """Give the pages free in the middle of malloc's heaps back to the system (malloc_trim).

    A 10,000-document build's process (2026-12-06): 260 MB resident after its extraction
    stage, 70 MB after this call; it takes a few milliseconds.
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (reference counting still frees).

    Writing an index allocates millions of small lists, tuples and arrays that live until a
    spill: the collector walks them all again and again and finds almost nothing (at 1,000
    documents, 1,555 objects in 5 full collections), for some 6 % of a writer's time. What
    the block leaves in cycles is collected once it ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
