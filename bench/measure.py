"""Measuring helpers: the machine, percentiles, and peak memory of a process tree."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def machine_info() -> dict[str, object]:
    """Cores, memory, CPU model, load and the versions that matter for the numbers."""
    info: dict[str, object] = {
        "cores": os.cpu_count(),
        "memory_gb": round(_meminfo_kb("MemTotal") / 1024 / 1024, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    versions = {}
    for package in ("whoosh-reloaded", "pypdf", "prefect", "prefect-dask", "distributed"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    versions["pdftotext"] = pdftotext_version()
    info["versions"] = versions
    return info


def _meminfo_kb(key: str) -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def pdftotext_version() -> str | None:
    try:
        done = subprocess.run(["pdftotext", "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = (done.stderr or done.stdout).strip().splitlines()
    return first[0] if first else None


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def max_rss_mb() -> float:
    """The largest resident size of this process and of any child it has waited for."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # Linux reports KiB


def process_table() -> tuple[dict[int, list[int]], dict[int, int]]:
    """Every process's children and resident bytes, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            with open(f"/proc/{entry.name}/statm", "rb") as f:
                resident = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        # The command name may hold spaces or parentheses: fields start after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = resident * _PAGE_SIZE
    return children, rss


def descendants(
    root: int, children: dict[int, list[int]], skip: frozenset[int] | set[int] = frozenset()
) -> list[int]:
    """Every process started by `root`, directly or not, but those in `skip` and theirs."""
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid in skip:
            continue
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of `root` and all its descendants, from /proc."""
    children, rss = process_table()
    return sum(rss.get(pid, 0) for pid in [root, *descendants(root, children)])


class PeriodicSampler:
    """A thread that calls `sample` every `interval` seconds while in its `with` block."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> PeriodicSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class TreeMemorySampler(PeriodicSampler):
    """Samples the summed resident memory of a process tree; `peak_mb` is the largest sum seen.

    ru_maxrss only gives the largest single process; a build with worker processes
    (and Prefect's temporary server) needs the sum as well.
    """

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(interval)
        self.pid = pid
        self.peak_bytes = 0

    def sample(self) -> None:
        self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.pid))

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 1024 / 1024


@dataclass
class Measured:
    """One command run to completion, with its time and memory."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float  # the largest single process of the tree (wait4's ru_maxrss)
    tree_peak_mb: float  # the largest sum of the tree's resident memory, sampled


def run_measured(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
                 timeout: float = 7200.0) -> Measured:  # fmt: skip
    """Run `cmd`, sampling its tree's memory; wait4 gives the peak of any one process in it."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}-{time.monotonic_ns()}"
    started = time.perf_counter()
    with open(f"{out_path}.out", "wb") as out, open(f"{out_path}.err", "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        with TreeMemorySampler(proc.pid) as sampler:
            deadline = time.monotonic() + timeout
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    proc.kill()
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    stdout = Path(f"{out_path}.out").read_text(errors="replace")
    stderr = Path(f"{out_path}.err").read_text(errors="replace")
    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    return Measured(
        proc.returncode, stdout, stderr, seconds, usage.ru_maxrss / 1024, sampler.peak_mb
    )


def python() -> str:
    return sys.executable
