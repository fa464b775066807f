"""The ingest flow: the one ingest sequence (kb.ingest.sequence), each stage a Prefect task, and
its report.

Only orchestration lives here: the order of the stages is `kb.ingest.sequence.run_pipeline`'s,
and every task is one of its stage functions. Sources are batched into tasks (a task
costs ~12-84 ms in Prefect), CPU-bound extraction and tagging run in a process pool on
every core, web fetches retry with back-off, and extraction is cached on (content
hash, extractor version).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import httpx
from prefect import flow, task, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.context import FlowRunContext, TaskRunContext
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from prefect.utilities.collections import visit_collection

from flows import progress
from kb.acquire.fetch import RetryableHTTPError
from kb.acquire.sources import source_format
from kb.extract.ocr import ocr_available
from kb.ingest import sequence
from kb.ingest.pipeline import Outcome, build_many, extract_many, extractor_version
from kb.ingest.report import run_report_markdown
from kb.ingest.sequence import Later, WorkerPool, run_pipeline
from kb.model import Document
from kb.runtime.limits import current_limits
from kb.runtime.memory import limit_malloc_arenas

# The worker processes the extraction and build tasks hand their batch to; the tasks run
# on threads of this process, so they share it (tasks on Dask start none: `_tasks_leave_process`).
_workers = WorkerPool()
# Threads running the flow's tasks at once. Prefect's default has no bound: the check of
# 10,000 files started its 250 tasks together, each reading its files, and the flow's
# process went from 105 to 219 MB in that stage (a memory it then kept). The CPU-bound work
# is in `_workers`; the threads read, hash, fetch and wait.
TASK_THREADS = max(8, 4 * (os.cpu_count() or 1))


def _retryable(state: Any) -> bool:
    try:
        state.result()
    except (RetryableHTTPError, httpx.TransportError):
        return True
    except Exception:
        return False
    return False


discover_sources = task(name="discover sources", cache_policy=NONE)(sequence.discover_sources)
read_listing_page = task(name="read listing page", cache_policy=NONE, retries=3, retry_delay_seconds=[1, 4, 16],
                         retry_condition_fn=lambda task, run, state: _retryable(state))(sequence.read_listing_page)  # fmt: skip
check_files = task(name="check files", cache_policy=NONE)(sequence.check_files)
fetch_web_page = task(name="fetch web page", cache_policy=NONE, retries=3, retry_delay_seconds=[1, 4, 16],
                      retry_condition_fn=lambda task, run, state: _retryable(state))(sequence.fetch_web_page)  # fmt: skip
commit = task(name="commit to store", cache_policy=NONE)(sequence.commit_batch)
index = task(name="update index", cache_policy=NONE)(sequence.update_index)


def _extract_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Same bytes through the same extractor code give the same result.

    Only the version of the extractor each source needs is part of the key, so a
    change to the HTML extractor misses the cache for HTML sources only.
    """
    digest = hashlib.sha256()
    # Raising a limit or installing OCR must retry what failed on it (kb.runtime.limits).
    digest.update(current_limits().cache_token(ocr_available()).encode())
    # The cached result is pickled `Outcome`s: an entry written when the class lived in
    # another module (kb.pipeline before kb.ingest.pipeline) could not be read back.
    digest.update(Outcome.__module__.encode())
    for o in parameters["batch"]:
        sha, data = (o.fetched.sha256, o.fetched.data) if o.fetched else ("", None)
        version = (
            extractor_version(source_format(o.ref, o.fetched.content_type, data[:1024]))
            if data
            else ""
        )
        digest.update(f"{o.ref.key}|{sha}|{o.state}|{version}|{parameters['full']}\n".encode())
    return f"extract-{digest.hexdigest()}"


@task(name="extract", cache_key_fn=_extract_cache_key, persist_result=True)
def extract_batch(batch: list[Outcome], full: bool) -> list[Outcome]:
    return _workers.submit(extract_many, batch, full).result()


class Batch:
    """Sources for one task, opaque to Prefect.

    Not a collection, so Prefect does not walk every object in it looking for futures
    (measured: 11 s for 1,000 documents), and it survives prefect-dask, whose
    serialisation turns `quote(...)` into a plain tuple.
    """

    __slots__ = ("items",)

    def __init__(self, items: list[tuple[Outcome, str]]) -> None:
        self.items = items


@task(name="segment and tag", cache_policy=NONE)
def build_batch(batch: Batch) -> list[Document]:
    return _workers.submit(build_many, batch.items).result()


# The task running each stage function of kb.ingest.sequence, by its name here: looked up when
# submitted, so a test can put a task with other options in its place.
_TASKS: dict[Callable[..., Any], str] = {
    sequence.discover_sources: "discover_sources",
    sequence.read_listing_page: "read_listing_page",
    sequence.check_files: "check_files",
    sequence.fetch_web_page: "fetch_web_page",
    extract_many: "extract_batch",
    build_many: "build_batch",
    sequence.commit_batch: "commit",
    sequence.update_index: "index",
}

# Steps on this machine's store and index: called as tasks in the flow's own process, never
# sent to the task runner (a Dask cluster).
_IN_FLOW = {sequence.discover_sources, sequence.commit_batch, sequence.update_index}


class PrefectExecutor:
    """Each stage of kb.ingest.sequence a Prefect task (retries, caching), batches sent with `.map()`."""

    def _task(self, stage: Callable[..., Any]) -> Any:
        return globals()[_TASKS[stage]]

    def submit(self, stage: Callable[..., Any], *args: Any) -> Any:
        if stage in _IN_FLOW:
            # quote: nothing passed holds a future, so Prefect need not walk the objects
            # (prefect-dask would turn a quote into a tuple, but these never go there).
            return Unlinked(Later(self._task(stage), tuple(quote(a) for a in args)))
        return Unlinked(self._task(stage).submit(*args))

    def map(self, stage: Callable[..., Any], batches: Sequence[Any], *args: Any) -> list[Any]:
        if stage is build_many:
            batches = [Batch(b) for b in batches]
        futures = self._task(stage).map(list(batches), *(unmapped(a) for a in args))
        return [Unlinked(future) for future in futures]

    def workers(self, count: int) -> AbstractContextManager[None]:
        if _tasks_leave_process():
            return nullcontext()
        return _workers.started(count)


class Unlinked:
    """A task's future whose result Prefect stops tracking once it is taken.

    Prefect links each task result, and every object one level inside it, to a copy of the
    task's final state in the flow run's context (`FlowRunContext.run_results`), so that a
    task given that object as an input is drawn downstream of it, and keeps the links to
    the end of the run. Our tasks' inputs are quoted or batched (`Batch`), never looked up
    there, so the links only held a state per task and entries per source (most with a
    weak reference long dead, once the source was committed): 3,202 links at the index
    stage of a 1,000-document run, none now.
    """

    __slots__ = ("_pending",)

    def __init__(self, pending: Any) -> None:
        self._pending = pending

    def result(self) -> Any:
        value = self._pending.result()
        forget_result_links(value)
        return value


def forget_result_links(value: Any) -> None:
    """Drop the links Prefect keeps from `value`, and from what it holds one level in (found
    as Prefect found them), to the task run that returned it (see `Unlinked`)."""
    context = FlowRunContext.get()
    if context is None or not context.run_results:
        return
    links = context.run_results
    visit_collection(value, visit_fn=lambda item: links.pop(id(item), None), max_depth=1)


@flow(
    name="ingest",
    log_prints=False,
    validate_parameters=False,
    task_runner=ThreadPoolTaskRunner(max_workers=TASK_THREADS),
)
def ingest(home: str, sources: str | None = None, corpus: str | None = None, full: bool = False,
           workers: int | None = None, wait_seconds: float = 0.0,
           allow_mass_removal: bool = False) -> dict[str, Any]:  # fmt: skip
    """Bring the knowledge base in `home` up to date with the sources; returns the run summary.

    The sequence is kb.ingest.sequence's, each stage a task here. allow_mass_removal: remove the
    documents of a folder even when most of it is gone (else such a run keeps them and
    fails the folder: kb.ingest.pipeline.hold_mass_removals)."""
    limit_malloc_arenas()
    run = run_pipeline(home, PrefectExecutor(), sources=sources, corpus=corpus, full=full,
                       workers=workers, wait_seconds=wait_seconds,
                       allow_mass_removal=allow_mass_removal, progress=progress.reporter,
                       on_locked=lambda: _mark_crashed_prefect_runs(home))  # fmt: skip
    summary = run.summary
    create_markdown_artifact(key="ingest-report", markdown=run_report_markdown(summary),
                             description="What the ingest run saw, changed and failed on")  # fmt: skip
    return summary


def _tasks_leave_process() -> bool:
    """Tasks already run in other processes (a Dask cluster): no local pool under them."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    runner = context.task_runner if context is not None else None
    return runner is not None and not isinstance(runner, ThreadPoolTaskRunner)


def _mark_crashed_prefect_runs(home: str) -> None:
    """Prefect flow runs of this home still `Running` died with their process: say so there.

    We hold the ingest lock, so no other ingest of this home is running. Best effort:
    a run must not fail because the bookkeeping of older runs could not be corrected.
    """
    from prefect.context import FlowRunContext

    from flows.crashed_runs import mark_crashed_runs

    context = FlowRunContext.get()
    current = context.flow_run.id if context is not None and context.flow_run else None
    try:
        mark_crashed_runs(home, exclude=current)
    except Exception as exc:  # reported, never fatal
        get_run_logger_safe().warning("could not mark crashed Prefect runs: %s", exc)


def get_run_logger_safe() -> Any:
    import logging

    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except Exception:  # outside a run context
        return logging.getLogger("kb.flows")
