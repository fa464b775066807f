"""Extraction in worker processes that can be stopped: a time limit, a memory limit, crash isolation.

Prefect runs tasks in threads, where no signal can interrupt a stuck parser, and
a C library looping inside lxml or zlib would not notice a Python-level timeout
anyway; a process can always be killed. So with a time or memory limit on
(`kb.runtime.limits`), each source is extracted by a worker process:

- over its time limit, the worker is killed and replaced, and the source fails
  with "timed out: …";
- its address space is capped (RLIMIT_AS), so a decompression bomb or a huge page
  ends in MemoryError inside the worker, not in the machine swapping;
- a worker that dies (segfault, the kernel's OOM killer) fails its one source.

Workers are plain `python -m kb.extract.worker` subprocesses, not multiprocessing
children: those re-import the caller's main script (a script without an
`if __name__ == "__main__"` guard would run again in each) and, with forkserver,
keep the environment of the moment the server started. Starting a worker costs
about 1 s of CPU (interpreter + extractor imports; 2–3 s on a loaded machine), handing
a running one a source ~1 ms, so workers are reused and replaced only when one
overruns, crashes, runs out of memory or has done MAX_JOBS_PER_WORKER sources.
A worker exits when the process that started it goes away.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from kb.errors import SourceError
from kb.model import Extracted, SourceRef
from kb.runtime.limits import Limits
from kb.runtime.orphans import exit_with_parent

# The environment a worker needs from the process that hands it a job, refreshed for
# each job: a worker started earlier would otherwise act on an older one.
JOB_ENVIRONMENT = (
    "PATH",
    "TESSDATA_PREFIX",
    "OMP_THREAD_LIMIT",
    "KB_TEST_PAUSE_AT",
    "KB_TEST_PAUSE_SECONDS",
    "KB_TEST_PAUSE_FILE",
)
# A worker is replaced after this many sources, so memory fragmentation cannot pile up.
MAX_JOBS_PER_WORKER = 200
# Below this an interpreter with the extractors loaded cannot even start.
MIN_MEMORY_MB = 400
# How long a new worker may take to start (imports on a loaded machine) before it counts as broken.
START_TIMEOUT_S = 120.0
DEFAULT_JOB_FUNCTION = "kb.extract.worker:extract_job"
EXTRACTOR_MODULES = ("kb.extract.pdf", "kb.extract.html", "kb.extract.text", "kb.extract.docx",
                     "docx", "charset_normalizer")  # fmt: skip

Job = tuple[SourceRef, bytes, str, Limits, dict[str, str]]
Reply = tuple[Any, ...]  # ("ok", Extracted) | ("error", stage, reason)


def extract_job(job: Job) -> Reply:
    """Run one extraction (in a worker). Every outcome but MemoryError becomes a reply."""
    from kb.extract import extract_bytes
    from kb.runtime.testhooks import pause_point

    ref, data, content_type, limits, environment = job
    for name in JOB_ENVIRONMENT:
        if name in environment:
            os.environ[name] = environment[name]
        else:
            os.environ.pop(name, None)
    pause_point("extract-worker")
    try:
        return ("ok", extract_bytes(ref, data, content_type, limits=limits))
    except SourceError as exc:
        return ("error", exc.stage, exc.reason)
    except RecursionError:
        return ("error", "extract", "unreadable: the markup is nested too deeply")
    except MemoryError:
        raise
    except Exception as exc:  # an extractor bug: this source fails, the run goes on
        return ("error", "extract", f"extractor error: {type(exc).__name__}: {exc}"[:300])


def memory_reason(memory_mb: int) -> str:
    return (
        f"too large to extract: it needs more than {memory_mb} MB of memory (the limit per source)"
    )


def timeout_reason(seconds: float) -> str:
    return f"timed out: extraction took longer than {seconds:g} s (the limit per source)"


def crash_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if -exitcode == signal.SIGKILL:
            return f"extractor crashed: its process was killed ({name}; out of memory?)"
        return f"extractor crashed: its process died ({name})"
    return f"extractor crashed: its process exited with code {exitcode}"


def serve(memory_mb: int, job_function: str) -> None:
    """The worker's loop (`python -m kb.extract.worker MEMORY_MB MODULE:FUNCTION`).

    Jobs arrive on stdin and replies leave on the original stdout, as pickled frames;
    anything a library prints goes to stderr instead. After running out of memory,
    or after many jobs, the worker retires and a fresh one takes its place.
    """
    replies = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    jobs_in = Connection(0, writable=False)
    exit_with_parent()
    run = _load(job_function)
    if job_function == DEFAULT_JOB_FUNCTION:
        # Before "ready": import time must not count against the first source's time limit.
        for module in EXTRACTOR_MODULES:
            importlib.import_module(module)
    if memory_mb:
        _limit_address_space(memory_mb)
    replies.send(("ready", os.getpid()))
    jobs = 0
    while True:
        try:
            job = jobs_in.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        retire = False
        try:
            reply = run(job)
        except MemoryError:
            reply, retire = ("error", "extract", memory_reason(memory_mb)), True
        del job
        jobs += 1
        retire = retire or jobs >= MAX_JOBS_PER_WORKER
        try:
            replies.send((reply, retire))
        except MemoryError:
            replies.send((("error", "extract", memory_reason(memory_mb)), True))
            return
        except Exception as exc:  # a result that cannot be pickled: a bug, reported as one
            reason = f"extractor error: result not transferable ({exc})"[:300]
            replies.send((("error", "extract", reason), True))
            return
        if retire:
            return


def _load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _limit_address_space(memory_mb: int) -> None:
    import resource

    limit = max(memory_mb, MIN_MEMORY_MB) * 1024 * 1024
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        # Only the soft limit: a tool the worker starts (ocrmypdf) may raise it back.
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen[bytes]
    jobs: Connection  # our end of its stdin
    replies: Connection  # our end of its stdout
    alive: bool = True

    def is_alive(self) -> bool:
        return self.process.poll() is None


def _worker_environment() -> dict[str, str]:
    """This process's environment, with our import path (the worker must import what we import)."""
    environment = dict(os.environ)
    path = [p for p in sys.path if p]
    if environment.get("PYTHONPATH"):
        path.append(environment["PYTHONPATH"])
    environment["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(path))
    return environment


class ExtractionWorkers:
    """Up to `size` worker processes; `run` hands one a job and waits at most `timeout` seconds.

    Thread-safe: each calling thread gets a worker of its own, or waits for one.
    """

    def __init__(
        self, size: int, memory_mb: int, *, job_function: str = DEFAULT_JOB_FUNCTION
    ) -> None:
        self.size = max(1, size)
        self.memory_mb = memory_mb
        self.job_function = job_function
        self._idle: list[_Worker] = []
        self._running = 0
        self._cond = threading.Condition()
        self._closed = False
        self._live: set[_Worker] = set()
        self.started = 0  # workers started so far (for tests and measurements)

    def run(self, job: Any, timeout: float | None) -> Any:
        """The worker's reply; raises SourceError on a timeout or a crash (the worker is replaced)."""
        worker = self._acquire()
        try:
            try:
                worker.jobs.send(job)
            except (BrokenPipeError, EOFError, OSError):
                # The worker died while idle (e.g. the OOM killer): one retry on a fresh one.
                self._stop(worker)
                worker = self._start()
                worker.jobs.send(job)
            if not worker.replies.poll(timeout if timeout and timeout > 0 else None):
                self._stop(worker)
                raise SourceError(timeout_reason(timeout or 0))
            try:
                reply, retiring = worker.replies.recv()
            except (EOFError, OSError):
                code = self._stop(worker)
                raise SourceError(crash_reason(code)) from None
            if retiring:
                self._stop(worker)
            return reply
        finally:
            self._release(worker)

    def pids(self) -> list[int]:
        """Process ids of the running workers, idle or busy."""
        return sorted(w.process.pid for w in list(self._live) if w.is_alive())

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("extraction workers are shut down")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.is_alive():
                        return worker
                    self._forget(worker)
                if self._running < self.size:
                    self._running += 1
                    break
                self._cond.wait()
        try:
            return self._start()
        except BaseException:
            with self._cond:
                self._running -= 1
                self._cond.notify()
            raise

    def _start(self) -> _Worker:
        command = [
            sys.executable,
            "-m",
            "kb.extract.worker",
            str(self.memory_mb),
            self.job_function,
        ]
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_worker_environment(),
            close_fds=True,
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        worker = _Worker(
            process,
            Connection(os.dup(process.stdin.fileno()), readable=False),
            Connection(os.dup(process.stdout.fileno()), writable=False),
        )
        process.stdin.close()
        process.stdout.close()
        self.started += 1
        self._live.add(worker)
        try:
            ready = worker.replies.poll(START_TIMEOUT_S) and worker.replies.recv()
        except (EOFError, OSError):
            ready = None
        if not ready or ready[0] != "ready":
            code = self._stop(worker)
            raise SourceError(f"extractor could not start: its process exited with code {code}")
        return worker

    def _stop(self, worker: _Worker) -> int | None:
        """Kill the worker (if still running) and wait for it; returns its exit code."""
        worker.alive = False
        self._live.discard(worker)
        if worker.is_alive():
            worker.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.process.wait(timeout=10)
        worker.jobs.close()
        worker.replies.close()
        return worker.process.returncode

    def _forget(self, worker: _Worker) -> None:
        self._stop(worker)
        self._running -= 1

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if worker.alive and worker.is_alive() and not self._closed:
                self._idle.append(worker)
            else:
                if worker.alive:
                    self._stop(worker)
                self._running -= 1
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for worker in idle:
            with contextlib.suppress(OSError):
                worker.jobs.send(None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=2)
            self._stop(worker)


_workers: ExtractionWorkers | None = None
_workers_lock = threading.Lock()


def extraction_workers(limits: Limits) -> ExtractionWorkers:
    """The process's workers, (re)started for `limits`' memory cap."""
    global _workers
    with _workers_lock:
        if _workers is None or _workers.memory_mb != limits.extract_memory_mb or _workers._closed:
            if _workers is not None:
                _workers.close()
            _workers = ExtractionWorkers(os.cpu_count() or 1, limits.extract_memory_mb)
        return _workers


def extract_isolated(ref: SourceRef, data: bytes, content_type: str, limits: Limits) -> Extracted:
    """`kb.extract.extract_bytes` in a worker process, within `limits`' time and memory."""
    environment = {name: os.environ[name] for name in JOB_ENVIRONMENT if name in os.environ}
    job: Job = (ref, data, content_type, limits, environment)
    try:
        reply = extraction_workers(limits).run(job, limits.extract_timeout_s)
    except SourceError as exc:
        raise SourceError(exc.reason, stage="extract", source=ref.location) from None
    if reply[0] == "ok":
        extracted: Extracted = reply[1]
        return extracted
    _, stage, reason = reply
    raise SourceError(reason, stage=stage, source=ref.location)


def shutdown_workers() -> None:
    """Stop the process's extraction workers (they start again when needed)."""
    global _workers
    with _workers_lock:
        if _workers is not None:
            _workers.close()
            _workers = None


atexit.register(shutdown_workers)


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else DEFAULT_JOB_FUNCTION)
