"""`make bench`: measure the knowledge base at one corpus size, beside its baselines, in one run.

    .venv/bin/python -m bench.run --size 1000

Writes bench/results.md (tables) and bench/results.json (the same figures; other
sizes already there are kept). Everything is measured in the same run, one after
the other, because these machines are shared and noisy: compare ratios, not a
figure against another run's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import WORK_DIR, change_documents, ensure_corpus, link_copy, load_info
from bench.measure import Measured, machine_info, median, percentile, run_measured
from bench.queries import QUERIES, BenchQuery

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_JSON = BENCH_DIR / "results.json"
RESULTS_MD = BENCH_DIR / "results.md"
CHANGED_FRACTION = 0.01


def log(message: str) -> None:
    sys.stderr.write(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def _python() -> str:
    return sys.executable


def _json_from(output: str) -> dict[str, Any]:
    """The last JSON object printed (anything logged before it is skipped)."""
    start = output.find("{")
    while start != -1:
        try:
            return dict(json.loads(output[start:]))
        except json.JSONDecodeError:
            start = output.find("\n{", start + 1)
            start = start + 1 if start != -1 else -1
    raise RuntimeError(f"no JSON in the output: {output[-500:]!r}")


def _check(measured: Measured, what: str) -> dict[str, Any]:
    if measured.returncode != 0:
        raise RuntimeError(f"{what} failed ({measured.returncode}): {measured.stderr[-2000:]}")
    data = _json_from(measured.stdout)
    data["wall_s"] = round(measured.seconds, 2)
    data["max_rss_mb"] = round(measured.max_rss_mb, 1)
    data["tree_peak_mb"] = round(measured.tree_peak_mb, 1)
    return data


def direct_build(
    sources: Path, home: Path, *, full: bool, workers: int = 2, extra: list[str] = ()
) -> dict[str, Any]:  # type: ignore[assignment]
    cmd = [
        _python(),
        "-m",
        "bench.direct",
        "--sources",
        str(sources),
        "--home",
        str(home),
        "--workers",
        str(workers),
    ]
    cmd += ["--full"] if full else []
    cmd += list(extra)
    return _check(run_measured(cmd), "library build")


def flow_build(sources: Path, home: Path, api_url: str | None = None,
               extra: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """`kb build --json` in its own process: with the server kept for `home` (started by the
    first), a temporary one (extra=["--no-keep-server"]), or against `api_url`."""
    kb = Path(_python()).with_name("kb")
    env = dict(os.environ)
    env.pop("PREFECT_HOME", None)  # each home gets its own Prefect database, as for a user
    env.pop("PREFECT_API_URL", None)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    cmd = [
        str(kb),
        "build",
        "--sources",
        str(sources),
        "--home",
        str(home),
        "--json",
        *(extra or []),
    ]
    return _check(run_measured(cmd, env=env), "kb build")


def _index_rebuild_s(home: Path) -> float:
    """Seconds of a full rebuild of `home`'s index from its store (`search.indexer.build_index`
    with as many writers as a build uses), in a process of its own, as a build runs it."""
    cmd = [_python(), "-m", "bench.direct", "--sources", "-", "--home", str(home),
           "--index-only", "--index-procs", "0"]  # fmt: skip
    return float(_check(run_measured(cmd), "index rebuild")["seconds"])


def stop_kept_server(home: Path) -> None:
    from flows.keep_server import stop_kept_server as stop

    stop(home)


# --- queries --------------------------------------------------------------------------------------


def _search_kwargs(q: BenchQuery) -> dict[str, Any]:
    return {k: v for k, v in q.filters.items() if k in ("doctype", "lang", "year", "tag")}


def time_our_queries(home: Path, rounds: int) -> dict[str, Any]:
    """p50/p95 per round over the query set (warm searcher), then the median over rounds."""
    from search.query import search

    samples: list[dict[str, Any]] = []
    cold: list[float] = []
    # The warm-up round opens the index and reads every posting list for the first time
    # (search.engine caches them): its times are what the first searches after a build cost.
    for q in QUERIES:
        started = time.perf_counter()
        res = search(q.text, home=home, limit=10, **_search_kwargs(q))
        cold.append((time.perf_counter() - started) * 1000)
        samples.append({"query": q.text, "filters": q.filters, "kind": q.kind, "hits": res.total,
                        "snippet": res.hits[0].snippet[:160] if res.hits else ""})  # fmt: skip
    per_round: list[list[float]] = []
    for _ in range(rounds):
        times = []
        for q in QUERIES:
            started = time.perf_counter()
            search(q.text, home=home, limit=10, **_search_kwargs(q))
            times.append((time.perf_counter() - started) * 1000)
        per_round.append(times)
    cold_figures = {"cold_p50_ms": round(percentile(cold, 50), 2),
                    "cold_p95_ms": round(percentile(cold, 95), 2), "cold_ms": [round(t, 2) for t in cold]}  # fmt: skip
    return _latency(per_round) | cold_figures | {"samples": samples}


def time_fts5_queries(db: Path, rounds: int) -> dict[str, Any]:
    from bench.fts5 import FtsSearcher

    searcher = FtsSearcher(db)
    samples = []
    for q in QUERIES:
        hits = searcher.search(q)
        samples.append(
            {
                "query": q.text,
                "hits_top": len(hits),
                "snippet": hits[0].snippet[:160] if hits else "",
            }
        )
    per_round: list[list[float]] = []
    for _ in range(rounds):
        times = []
        for q in QUERIES:
            started = time.perf_counter()
            searcher.search(q)
            times.append((time.perf_counter() - started) * 1000)
        per_round.append(times)
    searcher.close()
    return _latency(per_round) | {"samples": samples}


def _latency(per_round: list[list[float]]) -> dict[str, Any]:
    return {
        "p50_ms": round(median([percentile(t, 50) for t in per_round]), 2),
        "p95_ms": round(median([percentile(t, 95) for t in per_round]), 2),
        "max_ms": round(median([max(t) for t in per_round]), 2),
        "rounds": len(per_round),
        "queries": len(per_round[0]) if per_round else 0,
        "by_query_ms": [
            round(median([r[i] for r in per_round]), 2) for i in range(len(per_round[0]))
        ]
        if per_round
        else [],
    }


# --- experiments ----------------------------------------------------------------------------------


def subset_corpus(root: Path, dst: Path, count: int) -> Path:
    """The first `count` documents of a corpus, linked into `dst` with the same manifest."""
    info = load_info(root)
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    for spec in info.docs[:count]:
        target = dst / spec.path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(root / spec.path, target)
    shutil.copy(root / "sources.toml", dst / "sources.toml")
    shutil.copy(root / "corpus.json", dst / "corpus.json")
    return dst


def stemming_cache_experiment(store_path: Path, max_chars: int = 2_000_000) -> dict[str, Any]:
    """Analyzer throughput on stored section text, with the stem cache and without it."""
    import sqlite3

    import search.analysis as analysis
    from search.schema import ANALYZERS

    db = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    texts: dict[str, list[str]] = {"en": [], "ru": [], "tk": []}
    total = 0
    for text, lang in db.execute("SELECT text, lang FROM sections ORDER BY doc_id, ord"):
        if lang in texts and total < max_chars:
            texts[lang].append(text)
            total += len(text)
    db.close()

    def run() -> tuple[float, int]:
        tokens = 0
        started = time.perf_counter()
        for lang, items in texts.items():
            analyzer = ANALYZERS[lang]()
            for text in items:
                tokens += sum(1 for _ in analyzer(text))
        return time.perf_counter() - started, tokens

    cached = analysis.stem
    results = {}
    try:
        cached.cache_clear()
        run()  # fill the cache, as an index build does after its first sections
        results["cached_s"], tokens = median_run(run)
        analysis.stem = cached.__wrapped__  # type: ignore[assignment]
        results["uncached_s"], _ = median_run(run)
    finally:
        analysis.stem = cached
    results["tokens"] = tokens
    results["mb"] = round(total / 1e6, 2)
    results["speedup"] = round(results["uncached_s"] / results["cached_s"], 2)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}


def median_run(func: Any, repeats: int = 3) -> tuple[float, int]:
    runs = [func() for _ in range(repeats)]
    return median([r[0] for r in runs]), runs[0][1]


# --- the run --------------------------------------------------------------------------------------


def run_bench(size: int, *, seed: int = 0, flow: bool = True, experiments: bool = True, query_rounds: int = 5,
              nightly_runs: int = 3, workers: int = 2, prefect_runners: bool = False) -> dict[str, Any]:  # fmt: skip
    began = time.perf_counter()
    out: dict[str, Any] = {
        "size": size,
        "seed": seed,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    load_before = os.getloadavg()
    log(f"corpus of {size} documents (generated once, cached under {WORK_DIR})")
    info = ensure_corpus(size, seed)
    out["corpus"] = {"documents": size, "formats": info.counts(), "mb": round(info.bytes / 1e6, 1),
                     "generate_s": round(info.seconds, 1)}  # fmt: skip

    run_dir = WORK_DIR / f"run-{size}-s{seed}"
    shutil.rmtree(run_dir, ignore_errors=True)
    corpus = run_dir / "corpus"
    link_copy(info.root, corpus)
    sources = corpus / "sources.toml"

    log("extraction: pypdf, our extractor and pdftotext on the same PDFs; HTML")
    from bench.extraction import measure_extraction

    pdfs = [info.root / d.path for d in info.docs if d.fmt == "pdf"][:12]
    htmls = [info.root / d.path for d in info.docs if d.fmt == "html"][:60]
    out["extraction"] = measure_extraction(pdfs, htmls)

    home_direct = run_dir / "home-direct"
    log(f"full build through the library (no Prefect), {workers} workers")
    out["build_direct"] = direct_build(sources, home_direct, full=True, workers=workers)

    if flow:
        home_flow = run_dir / "home-flow"
        # The server kb build keeps for a home outlives every build: started first, it is not
        # part of the build's measured process tree; its own memory is reported beside it.
        log("starting the Prefect server `kb build` keeps for the home (not part of a build)")
        from bench.memory import kept_server_for, server_rss_mb

        server_pid = kept_server_for(home_flow)
        log("full build through the flow: kb build --json, against the kept server")
        try:
            out["build_flow"] = flow_build(sources, home_flow)
            out["build_flow"]["prefect_server_mb"] = server_rss_mb(server_pid)
            log("a second manual build, nothing changed: kb build against the kept server")
            out["kb_build_nochange"] = flow_build(sources, home_flow)
        finally:
            stop_kept_server(home_flow)

    log(f"nightly with nothing changed, library x{nightly_runs}")
    out["nightly_nochange_direct"] = [direct_build(sources, home_direct, full=False, workers=workers)
                                      for _ in range(nightly_runs)]  # fmt: skip
    with contextlib.ExitStack() as stack:
        api_url = None
        if flow:
            log(
                "nightly with nothing changed, flow with a temporary Prefect server (as `kb build`)"
            )
            out["nightly_nochange_flow_ephemeral"] = flow_build(
                sources, home_flow, extra=["--no-keep-server"]
            )
            from bench.prefect_server import running_prefect_server

            log("starting `prefect server start`, as a scheduled deployment runs against")
            api_url, server_s = stack.enter_context(
                running_prefect_server(run_dir / "prefect-server")
            )
            out["prefect_server_start_s"] = round(server_s, 1)
            log("nightly with nothing changed, flow against the running server")
            out["nightly_nochange_flow"] = flow_build(sources, home_flow, api_url=api_url)

        changed = change_documents(corpus, CHANGED_FRACTION, seed)
        out["changed_documents"] = len(changed)
        log(f"nightly with {len(changed)} documents changed ({CHANGED_FRACTION:.0%}), library")
        out["nightly_1pct_direct"] = direct_build(sources, home_direct, full=False, workers=workers)
        if flow:
            log("nightly with the same documents changed, flow against the running server")
            out["nightly_1pct_flow"] = flow_build(sources, home_flow, api_url=api_url)

    log(f"queries: {len(QUERIES)} queries x {query_rounds} rounds, warm searcher")
    out["queries"] = time_our_queries(home_direct, query_rounds)

    log("baseline: SQLite FTS5 over the same sections")
    from bench.fts5 import build_fts5

    fts_db = run_dir / "fts5.sqlite"
    store_path = home_direct / "kb.sqlite"
    # Each FTS5 build is followed by a rebuild of our index from the same store (the index
    # stage alone, as `kb build --full` runs it), so that both are measured alike: the
    # median of the same number of runs, side by side (the build's own index stage is one
    # run, taken earlier and under the build's other work).
    fts_builds, index_rebuilds = [], []
    for _ in range(3 if size <= 1000 else 1):
        fts_builds.append(build_fts5(store_path, fts_db))
        index_rebuilds.append(_index_rebuild_s(home_direct))
    out["index_rebuild"] = {"seconds": round(median(index_rebuilds), 2), "runs": index_rebuilds}
    out["fts5_build"] = {"seconds": round(median([b["seconds"] for b in fts_builds]), 2), "rows": fts_builds[0]["rows"],
                         "mb": round(fts_builds[0]["mb"], 1)}  # fmt: skip
    out["fts5_queries"] = time_fts5_queries(fts_db, query_rounds)
    out["index_mb"] = round(_folder_mb((home_direct / "index").resolve()), 1)

    log("cold start: `kb search` as a whole process against `python -c pass`, medians")
    from bench.cold_start import measure_cold_start

    out["cold_start"] = measure_cold_start(home_direct)

    from bench.web_load import measure_serving

    out["web"] = []
    for web_workers in sorted({1, workers}):
        log(f"web: kb serve --workers {web_workers}, 400 searches at concurrency 1, 4 and 16")
        # With the most workers, the rounds again beside a `kb build --full` of the same home.
        beside = sources if web_workers == workers and flow else None
        out["web"].append(measure_serving(home_direct, web_workers, build_sources=beside))

    if experiments:
        try:
            out["experiments"] = run_experiments(info.root, run_dir, store_path, size, workers,
                                                 prefect_runners=prefect_runners)  # fmt: skip
        except Exception as exc:  # the core figures are still worth writing
            log(f"experiments failed: {type(exc).__name__}: {exc}")
            out["experiments"] = {"error": f"{type(exc).__name__}: {exc}"}

    out["load_average_before"] = [round(x, 2) for x in load_before]
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out["bench_s"] = round(time.perf_counter() - began, 1)
    return out


def run_experiments(root: Path, run_dir: Path, store_path: Path, size: int, workers: int, *,
                    prefect_runners: bool) -> dict[str, Any]:  # fmt: skip
    """Worker count, Whoosh writer, stemming cache (and Prefect's task runners) on a subset."""
    results: dict[str, Any] = {}
    subset_size = min(size, 200)
    subset = subset_corpus(root, run_dir / f"subset-{subset_size}", subset_size)
    log(
        f"experiment: extraction and tagging with 1 and {workers} worker processes ({subset_size} documents)"
    )
    for n in (1, workers):
        home = run_dir / f"home-workers-{n}"
        shutil.rmtree(home, ignore_errors=True)
        results[f"workers_{n}"] = direct_build(
            subset / "sources.toml", home, full=True, workers=n, extra=["--skip-index"]
        )

    log("experiment: Whoosh writers, procs=1 against two shard writers (procs=2), same sections")
    for procs in (1, 2):
        cmd = [_python(), "-m", "bench.direct", "--sources", str(subset / "sources.toml"),
               "--home", str(run_dir / "home-workers-1"), "--index-only", "--index-procs", str(procs)]  # fmt: skip
        results[f"index_procs_{procs}"] = _check(run_measured(cmd), f"index build procs={procs}")

    log("experiment: stemming cache")
    results["stemming_cache"] = stemming_cache_experiment(store_path)

    if prefect_runners:
        log(
            "experiment: Prefect ProcessPoolTaskRunner against a thread runner and our process pool"
        )
        env = dict(os.environ)
        env["KB_BENCH_PREFECT_HOME"] = str(run_dir / "prefect-runners")
        env.pop("PREFECT_HOME", None)
        cmd = [_python(), "-m", "bench.prefect_runners", "--corpus", str(subset), "--files", "24"]
        results["prefect_runners"] = _check(run_measured(cmd, env=env), "Prefect runner experiment")
    return results


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


# --- results --------------------------------------------------------------------------------------


def summary_figures(run: dict[str, Any]) -> dict[str, Any]:
    """The figures results.json keeps for one size (see the README of bench/)."""
    direct = run["build_direct"]
    flow = run.get("build_flow")

    def flow_wall(key: str) -> float | None:
        return run.get(key, {}).get("wall_s")

    nochange_direct = median([r["wall_s"] for r in run["nightly_nochange_direct"]])
    nochange_flow, pct_flow = flow_wall("nightly_nochange_flow"), flow_wall("nightly_1pct_flow")
    figures: dict[str, Any] = {
        "documents": run["size"],
        "sections": direct["totals"]["sections"],
        "pdf_pages": direct["pdf_pages"],
        "text_mb": direct["text_mb"],
        # The brief's headline figures: through the flow when it was run, else the library's.
        "measured_with": "flow" if flow else "library",
        "build_s": flow["wall_s"] if flow else direct["wall_s"],
        "build_flow_s": flow["wall_s"] if flow else None,
        "build_direct_s": direct["wall_s"],
        "build_prefect_overhead_s": flow.get("seconds_prefect") if flow else None,
        "build_stage_s": direct["seconds"],
        "build_flow_stage_s": flow.get("seconds") if flow else None,
        "build_docs_per_s": round(run["size"] / direct["wall_s"], 2),
        "build_text_mb_per_s": round(direct["text_mb"] / direct["wall_s"], 3),
        "nightly_nochange_s": nochange_flow if nochange_flow is not None else nochange_direct,
        "nightly_nochange_flow_s": nochange_flow,
        "nightly_nochange_ephemeral_s": flow_wall("nightly_nochange_flow_ephemeral"),
        "prefect_server_start_s": run.get("prefect_server_start_s"),
        "nightly_nochange_direct_s": nochange_direct,
        "nightly_1pct_s": pct_flow
        if pct_flow is not None
        else run["nightly_1pct_direct"]["wall_s"],
        "nightly_1pct_flow_s": pct_flow,
        "nightly_1pct_direct_s": run["nightly_1pct_direct"]["wall_s"],
        "nightly_1pct_stage_s": run["nightly_1pct_direct"]["seconds"],
        "query_p50_ms": run["queries"]["p50_ms"],
        "query_p95_ms": run["queries"]["p95_ms"],
        "query_cold_p50_ms": run["queries"].get("cold_p50_ms"),
        "query_cold_p95_ms": run["queries"].get("cold_p95_ms"),
        "index_s": direct["seconds"]["index"],
        "index_rebuild_s": run.get("index_rebuild", {}).get("seconds"),
        "fts5_build_s": run["fts5_build"]["seconds"],
        "fts5_query_p50_ms": run["fts5_queries"]["p50_ms"],
        "fts5_query_p95_ms": run["fts5_queries"]["p95_ms"],
        "pypdf_pages_per_s": run["extraction"]["pypdf_pages_per_s"],
        "ours_pdf_pages_per_s": run["extraction"]["ours_pdf_pages_per_s"],
        "pdftotext_pages_per_s": run["extraction"]["pdftotext_pages_per_s"],
        "html_pages_per_s": run["extraction"]["html_pages_per_s"],
        # A build's memory: the process tree of `kb build` (bench/memory.py), the flow's when run.
        "peak_mb": flow["tree_peak_mb"] if flow else direct["tree_peak_mb"],
        "peak_direct_mb": direct["tree_peak_mb"],
        "peak_flow_mb": flow["tree_peak_mb"] if flow else None,
        "prefect_server_mb": flow.get("prefect_server_mb") if flow else None,
        "peak_single_process_mb": max(direct["max_rss_mb"], flow["max_rss_mb"] if flow else 0),
        "index_mb": run["index_mb"],
        # A second manual `kb build` with nothing changed, whole process (the kept server).
        "kb_build_nochange_s": run["kb_build_nochange"]["wall_s"]
        if run.get("kb_build_nochange")
        else None,
        "search_process_s": run.get("cold_start", {}).get("search_process_s"),
        "python_start_s": run.get("cold_start", {}).get("python_start_s"),
        "search_process_cpu_s": run.get("cold_start", {}).get("search_process_cpu_s"),
        **_web_figures(run.get("web") or []),
        "load_average": run["load_average_before"],
    }
    figures["ratio_query_p95_vs_fts5"] = round(
        figures["query_p95_ms"] / figures["fts5_query_p95_ms"], 1
    )
    figures["ratio_index_vs_fts5_build"] = round(
        direct["seconds"]["index"] / figures["fts5_build_s"], 1
    )
    # The target's figure: our index stage and FTS5's build, each the median of runs taken
    # side by side on the same store.
    figures["ratio_index_rebuild_vs_fts5_build"] = (
        round(figures["index_rebuild_s"] / figures["fts5_build_s"], 1)
        if figures["index_rebuild_s"]
        else None
    )
    figures["ratio_nochange_vs_build"] = (
        round(nochange_flow / flow["wall_s"], 3) if flow and nochange_flow is not None else None
    )
    figures["ratio_nochange_vs_build_direct"] = round(nochange_direct / direct["wall_s"], 3)
    return figures


def _web_figures(web: list[dict[str, Any]]) -> dict[str, Any]:
    """p95 at concurrency 16 and errors with the most workers measured; one worker beside it."""
    if not web:
        return {}

    def c16(entry: dict[str, Any]) -> dict[str, Any]:
        return next(r for r in entry["rounds"] if r["concurrency"] == 16)

    most, one = web[-1], web[0]
    figures = {
        "web_workers": most["workers"],
        "web_p95_ms_c16": c16(most)["p95_ms"],
        "web_per_s_c16": c16(most)["per_s"],
        "web_errors": sum(r["errors"] for entry in web for r in entry["rounds"]),
        "web_p95_ms_c16_one_worker": c16(one)["p95_ms"],
        "web_per_s_c16_one_worker": c16(one)["per_s"],
    }
    beside = most.get("rounds_with_build")
    if beside:
        c16_beside = next(r for r in beside if r["concurrency"] == 16)
        figures["web_p95_ms_c16_with_build"] = c16_beside["p95_ms"]
        figures["web_per_s_c16_with_build"] = c16_beside["per_s"]
        figures["web_errors"] += sum(r["errors"] for r in beside)
    return figures


def write_results(run: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"machine": {}, "sizes": {}}
    if RESULTS_JSON.exists():
        with contextlib.suppress(json.JSONDecodeError):
            data = json.loads(RESULTS_JSON.read_text())
    data["machine"] = machine_info()
    previous = (
        data.get("runs", {}).get(str(run["size"]), {}).get("experiments", {}).get("prefect_runners")
    )
    experiments = run.get("experiments")
    if previous and experiments is not None and "prefect_runners" not in experiments:
        # That experiment is opt-in (slow): keep the last measured one, marked as such.
        experiments["prefect_runners"] = {**previous, "from_earlier_run": True}
    data.setdefault("sizes", {})[str(run["size"])] = summary_figures(run)
    data.setdefault("runs", {})[str(run["size"])] = _trim(run)
    RESULTS_JSON.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    from bench.report import results_markdown

    RESULTS_MD.write_text(results_markdown(data))
    return data


def add_flow_build(size: int, seed: int = 0) -> None:
    """A full `kb build` of the size's corpus, recorded into its run (when the bench ran --no-flow)."""
    info = ensure_corpus(size, seed)
    run_dir = WORK_DIR / f"run-{size}-s{seed}"
    corpus = run_dir / "corpus-flow"
    link_copy(info.root, corpus)
    home = run_dir / "home-flow"
    shutil.rmtree(home, ignore_errors=True)
    log(f"full build of {size} documents through the flow: kb build --json")
    load = [round(x, 2) for x in os.getloadavg()]
    result = flow_build(corpus / "sources.toml", home)
    result["load_average_before"] = load
    data = json.loads(RESULTS_JSON.read_text())
    data["runs"][str(size)]["build_flow"] = result
    RESULTS_JSON.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    rewrite_results()


def rewrite_results() -> None:
    """results.json's figures and results.md again, from the recorded runs (after a code change)."""
    data = json.loads(RESULTS_JSON.read_text())
    data["sizes"] = {size: summary_figures(run) for size, run in data.get("runs", {}).items()}
    RESULTS_JSON.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    from bench.report import results_markdown

    RESULTS_MD.write_text(results_markdown(data))


def _trim(run: dict[str, Any]) -> dict[str, Any]:
    """The run's details without the per-query samples (they go to the Markdown)."""
    return json.loads(json.dumps(run, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-flow", action="store_true", help="skip the runs through Prefect")
    parser.add_argument(
        "--no-experiments", action="store_true", help="skip workers/procs/cache/runner experiments"
    )
    parser.add_argument("--rounds", type=int, default=5, help="query rounds (at least 3)")
    parser.add_argument(
        "--prefect-runners",
        action="store_true",
        help="also compare Prefect's ProcessPoolTaskRunner (slow: starts several servers)",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--add-flow-build",
        action="store_true",
        help="only a full build through the flow, added to the size's recorded run",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="recompute results.json figures and results.md from the runs already recorded",
    )
    args = parser.parse_args(argv)
    if args.report_only:
        rewrite_results()
        return 0
    if args.add_flow_build:
        add_flow_build(args.size, args.seed)
        return 0
    run = run_bench(args.size, seed=args.seed, flow=not args.no_flow, experiments=not args.no_experiments,
                    query_rounds=max(3, args.rounds), workers=args.workers,
                    prefect_runners=args.prefect_runners)  # fmt: skip
    write_results(run)
    log(
        f"done in {run['bench_s']:.0f} s: {RESULTS_MD.relative_to(Path.cwd()) if RESULTS_MD.is_relative_to(Path.cwd()) else RESULTS_MD}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
