"""What a build's memory is: the `kb build` process tree, the kept Prefect server apart.

Issue 18 keeps one Prefect server per home folder (flows/keep_server.py): it is a
long-lived process of its own, started by the first build and reused by the next ones
and by `kb schedule`, not part of any one build. So the flow build's peak (`peak_mb` in
bench/results.json) is the summed resident memory of `kb build` and its worker
processes, measured against a server already running; the server's own resident memory
is reported beside it (`prefect_server_mb`).

    .venv/bin/python -m bench.memory --sources CORPUS/sources.toml --home HOME [--library]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from bench.measure import machine_info, run_measured, tree_rss_bytes


def kept_server_for(home: Path) -> int:
    """Start the server `kb build` keeps for `home` (outside any measured tree); its pid."""
    from flows.keep_server import running_server, start_kept_server

    server = running_server(home) or start_kept_server(home, home / "prefect")
    return server.pid


def server_rss_mb(pid: int) -> float:
    """The resident memory of the server and the processes it started, now."""
    return round(tree_rss_bytes(pid) / 1024 / 1024, 1)


def measured_flow_build(sources: Path, home: Path, extra: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """`kb build --json` against the server kept for `home`; the build's tree peak, the
    largest single process, and the server's resident memory after the build."""
    server_pid = kept_server_for(home)
    env = dict(os.environ)
    env.pop("PREFECT_HOME", None)
    env.pop("PREFECT_API_URL", None)
    kb = Path(sys.executable).with_name("kb")
    cmd = [str(kb), "build", "--sources", str(sources), "--home", str(home), "--json", *extra]
    measured = run_measured(cmd, env=env)
    if measured.returncode != 0:
        raise RuntimeError(f"kb build failed ({measured.returncode}): {measured.stderr[-2000:]}")
    return _figures(measured) | {"prefect_server_mb": server_rss_mb(server_pid)}


def measured_library_build(sources: Path, home: Path, workers: int = 2) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.direct", "--sources", str(sources), "--home", str(home),
           "--workers", str(workers), "--full"]  # fmt: skip
    measured = run_measured(cmd)
    if measured.returncode != 0:
        raise RuntimeError(f"library build failed: {measured.stderr[-2000:]}")
    return _figures(measured)


def _figures(measured: Any) -> dict[str, float]:
    """Wall seconds, the process tree's peak and the largest process's peak (MB)."""
    return {
        "wall_s": round(measured.seconds, 2),
        "tree_peak_mb": round(measured.tree_peak_mb, 1),
        "max_rss_mb": round(measured.max_rss_mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--library", action="store_true", help="the library build, no Prefect")
    parser.add_argument("--keep-server", action="store_true", help="leave the kept server running")
    args = parser.parse_args()
    load_before = machine_info()["load_average"]
    if args.library:
        out = measured_library_build(args.sources, args.home)
    else:
        try:
            out = measured_flow_build(args.sources, args.home)
        finally:
            if not args.keep_server:
                from flows.keep_server import stop_kept_server

                stop_kept_server(args.home)
    out["load_average"] = [load_before, machine_info()["load_average"]]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
