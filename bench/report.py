"""bench/results.json -> bench/results.md: the tables a reader compares."""

from __future__ import annotations

from typing import Any

TARGETS = (
    ("full build of 10,000 documents", "under 10 min on 2 cores"),
    ("nightly run, nothing changed", "under 5 % of a full build"),
    ("query p95 at ~100,000 sections", "under 50 ms and within 3x of FTS5"),
    ("peak memory", "under 2 GB"),
    ("`kb search`, whole process", "well under 0.5 s (median)"),
    ("first searches after opening ~100,000 sections", "p95 under 50 ms"),
    ("index stage", "within 5x FTS5's build"),
    ("peak memory of a flow build of 10,000 documents", "under 1 GB, flat in documents"),
    ("web searches on every core", "throughput grows with worker processes, no errors"),
)
# Figures carried to 100,000 documents from their growth between 1,000 and 10,000.
EXTRAPOLATED = (
    ("sections", "sections", 0),
    ("full build, flow (s)", "build_flow_s", 0),
    ("full build, library (s)", "build_direct_s", 0),
    ("nightly, nothing changed, flow (s)", "nightly_nochange_flow_s", 1),
    ("query p95 (ms)", "query_p95_ms", 1),
    ("first searches after opening the index: p95 (ms)", "query_cold_p95_ms", 1),
    ("index stage, library (s)", "index_s", 1),
    ("FTS5 build (s)", "fts5_build_s", 2),
    ("peak memory, flow build (MB)", "peak_mb", 0),
    ("index on disk (MB)", "index_mb", 0),
)


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(_f(c) if not isinstance(c, str) else c for c in cells) + " |"


def results_markdown(data: dict[str, Any]) -> str:
    machine = data.get("machine", {})
    sizes = sorted(data.get("sizes", {}).items(), key=lambda kv: int(kv[0]))
    runs = data.get("runs", {})
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); the same figures are in `bench/results.json`.",
        "Every figure of one size comes from one run, measured side by side, because these machines are",
        "shared and noisy: compare the ratios within a size, not a figure against another day's.",
        "",
        f"Machine: {machine.get('cores')} cores ({machine.get('cpu', '?')}), {machine.get('memory_gb')} GB,"
        f" Python {machine.get('python')}; "
        + ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items() if v),
        "",
    ]
    if not sizes:
        return "\n".join([*lines, "No results yet: run `make bench`.", ""])
    header = ["", *[f"{int(k):,} docs" for k, _ in sizes]]
    lines += ["## Summary", "", _row(header), _row(["---"] * len(header))]
    rows: list[tuple[str, str, int]] = [
        ("sections", "sections", 0),
        ("PDF pages", "pdf_pages", 0),
        ("text (MB)", "text_mb", 1),
        ("load average at start (1 min)", "load_average", 1),
        ("**full build, flow** (s)", "build_flow_s", 1),
        ("full build, library, no Prefect (s)", "build_direct_s", 1),
        ("Prefect start-up and overhead (s)", "build_prefect_overhead_s", 1),
        ("documents/s (library)", "build_docs_per_s", 2),
        ("MB of text/s (library)", "build_text_mb_per_s", 3),
        (
            "**nightly, nothing changed, flow** (s), running Prefect server",
            "nightly_nochange_flow_s",
            2,
        ),
        (
            "nightly, nothing changed, flow with a temporary server (s)",
            "nightly_nochange_ephemeral_s",
            2,
        ),
        ("nightly, nothing changed, library (s)", "nightly_nochange_direct_s", 2),
        (
            "**second manual `kb build`, nothing changed** (s, kept server)",
            "kb_build_nochange_s",
            2,
        ),
        ("nothing-changed / full build (flow)", "ratio_nochange_vs_build", 3),
        ("nothing-changed / full build (library)", "ratio_nochange_vs_build_direct", 3),
        ("**nightly, 1 % changed, flow** (s), running Prefect server", "nightly_1pct_flow_s", 2),
        ("`prefect server start` until it answers (s)", "prefect_server_start_s", 1),
        ("nightly, 1 % changed, library (s)", "nightly_1pct_direct_s", 2),
        ("**query p50** (ms)", "query_p50_ms", 1),
        ("**query p95** (ms)", "query_p95_ms", 1),
        ("FTS5 query p50 (ms)", "fts5_query_p50_ms", 2),
        ("FTS5 query p95 (ms)", "fts5_query_p95_ms", 2),
        ("query p95 ours / FTS5", "ratio_query_p95_vs_fts5", 1),
        ("first searches after opening the index (cold caches): p50 (ms)", "query_cold_p50_ms", 1),
        ("first searches after opening the index (cold caches): p95 (ms)", "query_cold_p95_ms", 1),
        ("**`kb search`, whole process** (s, median)", "search_process_s", 3),
        ("`python -c pass`, same run (s, median)", "python_start_s", 3),
        ("`kb search` CPU time (s, median)", "search_process_cpu_s", 3),
        ("index stage, library (s)", "index_s", 2),
        ("FTS5 build (s)", "fts5_build_s", 2),
        ("our index stage / FTS5 build", "ratio_index_vs_fts5_build", 1),
        ("index rebuild beside each FTS5 build (s, median)", "index_rebuild_s", 2),
        (
            "**index rebuild / FTS5 build, medians side by side**",
            "ratio_index_rebuild_vs_fts5_build",
            1,
        ),
        ("pypdf pages/s (1 core)", "pypdf_pages_per_s", 1),
        ("our PDF extractor pages/s (1 core)", "ours_pdf_pages_per_s", 1),
        ("pdftotext pages/s (1 core)", "pdftotext_pages_per_s", 1),
        ("HTML pages/s (1 core)", "html_pages_per_s", 1),
        ("peak memory, a build's process tree (MB)", "peak_mb", 0),
        ("peak memory, library build's process tree (MB)", "peak_direct_mb", 0),
        ("kept Prefect server, resident after the build (MB)", "prefect_server_mb", 0),
        ("peak memory, largest process (MB)", "peak_single_process_mb", 0),
        ("index on disk (MB)", "index_mb", 1),
        ("`kb serve` worker processes", "web_workers", 0),
        ("**web p95 at concurrency 16** (ms)", "web_p95_ms_c16", 1),
        ("web searches/s at concurrency 16", "web_per_s_c16", 1),
        ("web p95 at concurrency 16, one worker (ms)", "web_p95_ms_c16_one_worker", 1),
        ("web searches/s at concurrency 16, one worker", "web_per_s_c16_one_worker", 1),
        (
            "web p95 at concurrency 16, `kb build --full` beside (ms)",
            "web_p95_ms_c16_with_build",
            1,
        ),
        (
            "web searches/s at concurrency 16, `kb build --full` beside",
            "web_per_s_c16_with_build",
            1,
        ),
        ("web errors (all rounds)", "web_errors", 0),
    ]
    for label, key, digits in rows:
        values = []
        for _, fig in sizes:
            v = fig.get(key)
            if key == "load_average" and isinstance(v, list):
                v = v[0]
            values.append(_f(round(v, digits) if isinstance(v, float) else v, digits))
        lines.append("| " + " | ".join([label, *values]) + " |")
    lines += ["", "## Build stages (library run, seconds)", ""]
    stages = sorted({s for _, fig in sizes for s in fig.get("build_stage_s", {})},
                    key=lambda s: ["discover", "check", "extract", "boilerplate_ids", "segment_tag", "store", "index"].index(s)
                    if s in ["discover", "check", "extract", "boilerplate_ids", "segment_tag", "store", "index"] else 99)  # fmt: skip
    lines += [_row(["stage", *header[1:], *[f"1 % changed, {int(k):,}" for k, _ in sizes]]),
              _row(["---"] * (1 + 2 * len(sizes)))]  # fmt: skip
    for stage in stages:
        full = [_f(fig.get("build_stage_s", {}).get(stage), 2) for _, fig in sizes]
        nightly = [_f(fig.get("nightly_1pct_stage_s", {}).get(stage), 2) for _, fig in sizes]
        lines.append("| " + " | ".join([stage, *full, *nightly]) + " |")
    for size, run in sorted(runs.items(), key=lambda kv: int(kv[0])):
        lines += _run_details(int(size), run)
    lines += _extrapolation(dict(sizes))
    lines += ["", "## Targets", "", "| target | wanted | measured |", "| --- | --- | --- |"]
    lines += _targets(dict(sizes))
    return "\n".join(lines) + "\n"


def _run_details(size: int, run: dict[str, Any]) -> list[str]:
    lines = ["", f"## {size:,} documents: details", ""]
    corpus = run.get("corpus", {})
    lines.append(f"Corpus: {corpus.get('formats')} ({corpus.get('mb')} MB of files); started {run.get('started')};"
                 f" load average {run.get('load_average_before')} before, {run.get('load_average_after')} after;"
                 f" the whole bench took {run.get('bench_s')} s.")  # fmt: skip
    flow = run.get("build_flow")
    if flow:
        lines += ["", "Flow build (`kb build --json`): stages " +
                  ", ".join(f"{k} {v:.1f} s" for k, v in flow.get("seconds", {}).items()) +
                  f"; total {flow.get('wall_s')} s, of which Prefect start-up and overhead {flow.get('seconds_prefect')} s"
                  f" and imports {flow.get('seconds_import')} s."]  # fmt: skip
    q, f = run.get("queries", {}), run.get("fts5_queries", {})
    lines += ["", f"Queries ({q.get('queries')} queries, {q.get('rounds')} rounds after a warm-up; median of the rounds' percentiles):", "",
              "| query | filters | our hits | our ms | FTS5 top-10 hits | FTS5 ms | our first snippet |",
              "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for i, sample in enumerate(q.get("samples", [])):
        fts = f.get("samples", [{}] * (i + 1))[i]
        ours_ms = q.get("by_query_ms", [None] * (i + 1))[i]
        fts_ms = f.get("by_query_ms", [None] * (i + 1))[i]
        snippet = sample.get("snippet", "").replace("|", "/").replace("\n", " ")[:110]
        filters = ", ".join(f"{k}={v}" for k, v in sample.get("filters", {}).items())
        lines.append(f"| `{sample['query']}` | {filters} | {sample.get('hits')} | {_f(ours_ms, 1)} | {fts.get('hits_top')} |"
                     f" {_f(fts_ms, 2)} | {snippet} |")  # fmt: skip
    web = run.get("web") or []
    if web:
        lines += ["", "`kb serve` under load (`bench/web_load.py`: 400 searches per round, client on the same machine):", "",
                  "| workers | `kb build --full` beside | concurrency | searches/s | p50 ms | p95 ms | errors |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for entry in web:
            for beside, key in (("no", "rounds"), ("yes", "rounds_with_build")):
                for r in entry.get(key) or []:
                    lines.append(_row([str(entry["workers"]), beside, str(r["concurrency"]), r["per_s"],
                                       r["p50_ms"], r["p95_ms"], str(r["errors"])]))  # fmt: skip
        for entry in web:
            build = entry.get("build_beside")
            if build:
                state = "finished" if build["build_finished_during_rounds"] else "was still running"
                lines += ["", f"The build beside ({entry['workers']} workers) ran its flow {build['build_started_s']} s"
                              f" after it started, then the rounds began; it {state} when they ended."]  # fmt: skip
    exp = run.get("experiments")
    if exp:
        lines += ["", "Experiments:", ""]
        w1, w2 = (
            exp.get("workers_1"),
            next(
                (v for k, v in exp.items() if k.startswith("workers_") and k != "workers_1"), None
            ),
        )
        if w1 and w2:
            lines.append(f"- Extraction and tagging of {w1['documents_built']} documents, library: 1 worker"
                         f" extract {w1['seconds']['extract']:.1f} s + tag {w1['seconds']['segment_tag']:.1f} s;"
                         f" {w2['workers']} workers extract {w2['seconds']['extract']:.1f} s + tag {w2['seconds']['segment_tag']:.1f} s"
                         f" (peak {w1['tree_peak_mb']:.0f} MB against {w2['tree_peak_mb']:.0f} MB).")  # fmt: skip
        p1, p2 = exp.get("index_procs_1"), exp.get("index_procs_2")
        if p1 and p2:
            lines.append(f"- Whoosh full index of {p1['indexed_sections']:,} sections: procs=1 {p1['seconds']:.1f} s"
                         f" (peak {p1['tree_peak_mb']:.0f} MB); procs=2 (two shard writers) {p2['seconds']:.1f} s (peak {p2['tree_peak_mb']:.0f} MB).")  # fmt: skip
        sc = exp.get("stemming_cache")
        if sc:
            lines.append(f"- Stemming cache: analysing {sc['mb']} MB of section text ({sc['tokens']:,} tokens) took"
                         f" {sc['cached_s']:.2f} s with the cache and {sc['uncached_s']:.2f} s without ({sc['speedup']}x).")  # fmt: skip
        pr = exp.get("prefect_runners")
        if pr:
            parts = []
            for name in (
                "thread_runner",
                "process_pool_task_runner",
                "thread_runner_with_process_pool",
            ):
                if name in pr:
                    parts.append(f"{name.replace('_', ' ')} {pr[name]['seconds']:.1f} s"
                                 f" ({pr[name]['prefect_servers_seen']} Prefect server processes seen)")  # fmt: skip
            lines.append(f"- Prefect task runners, {pr['tasks']} extraction tasks over {pr['files']} PDFs (after a first"
                         f" flow run that started the temporary server in {pr['first_flow_start_s']} s): " + "; ".join(parts) + ".")  # fmt: skip
    return lines


def _targets(sizes: dict[str, dict[str, Any]]) -> list[str]:
    def at(size: str, key: str) -> Any:
        return sizes.get(size, {}).get(key)

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    largest = max(sizes, key=int)
    out = []
    flow_build, direct_build = at("10000", "build_flow_s"), at("10000", "build_direct_s")
    if direct_build:
        parts = [f"library {direct_build / 60:.1f} min ({met(direct_build < 600)})"]
        parts.append(
            f"flow {flow_build / 60:.1f} min ({met(flow_build < 600)})"
            if flow_build
            else "flow not run at this size"
        )
        measured = "; ".join(parts)
    else:
        measured = "not measured (run `make bench SIZE=10000`)"
    out.append(f"| {TARGETS[0][0]} | {TARGETS[0][1]} | {measured} |")
    cells = []
    for size in sorted(sizes, key=int):
        flow_ratio, lib_ratio = (
            at(size, "ratio_nochange_vs_build"),
            at(size, "ratio_nochange_vs_build_direct"),
        )
        text = f"{int(size):,} docs: library {lib_ratio:.1%} ({met(lib_ratio < 0.05)})"
        if flow_ratio is not None:
            text += f", flow {flow_ratio:.1%} ({met(flow_ratio < 0.05)})"
        cells.append(text)
    out.append(f"| {TARGETS[1][0]} | {TARGETS[1][1]} | {'; '.join(cells)} |")
    p95, ratio_q = at(largest, "query_p95_ms"), at(largest, "ratio_query_p95_vs_fts5")
    out.append(f"| {TARGETS[2][0]} | {TARGETS[2][1]} | at {at(largest, 'sections'):,} sections: {p95:,.1f} ms"
               f" ({met(p95 < 50)}), {ratio_q}x FTS5 ({met(ratio_q <= 3)}) |")  # fmt: skip
    peak = max(fig.get("peak_mb", 0) for fig in sizes.values())
    out.append(
        f"| {TARGETS[3][0]} | {TARGETS[3][1]} | {peak:,.0f} MB, whole process tree ({met(peak < 2048)}) |"
    )
    search_s, python_s = at(largest, "search_process_s"), at(largest, "python_start_s")
    if search_s is None:  # measured at another size only
        size = next((k for k in sorted(sizes, key=int) if at(k, "search_process_s")), largest)
        search_s, python_s, where = at(size, "search_process_s"), at(size, "python_start_s"), size
    else:
        where = largest
    out.append(f"| {TARGETS[4][0]} | {TARGETS[4][1]} | "
               + (f"{search_s:.3f} s at {int(where):,} docs, `python -c pass` {python_s:.3f} s ({met(search_s < 0.5)})"
                  if search_s is not None else "not measured") + " |")  # fmt: skip
    cold = at(largest, "query_cold_p95_ms")
    out.append(f"| {TARGETS[5][0]} | {TARGETS[5][1]} | at {at(largest, 'sections'):,} sections: "
               + (f"{cold:,.1f} ms ({met(cold < 50)})" if cold is not None else "not measured") + " |")  # fmt: skip

    ratios = [_index_ratio(k, sizes[k]) for k in sorted(sizes, key=int)
              if at(k, "ratio_index_vs_fts5_build") is not None]  # fmt: skip
    out.append(f"| {TARGETS[6][0]} | {TARGETS[6][1]} | {'; '.join(ratios) or 'not measured'} |")
    flow_peaks = {k: at(k, "peak_flow_mb") for k in sorted(sizes, key=int) if at(k, "peak_flow_mb")}
    text = "; ".join(f"{int(k):,} docs: {v:,.0f} MB" for k, v in flow_peaks.items())
    if "10000" in flow_peaks:
        text += f" ({met(flow_peaks['10000'] < 1024)})"
    if "1000" in flow_peaks and "10000" in flow_peaks:
        # Flat: ten times the documents cost at most a quarter more memory.
        growth = flow_peaks["10000"] / flow_peaks["1000"]
        text += (
            f"; {flow_peaks['10000'] - flow_peaks['1000']:+,.0f} MB from 1,000 to 10,000 documents"
            f" (×{growth:.2f}, flat: {met(growth <= 1.25)})"
        )
    out.append(f"| {TARGETS[7][0]} | {TARGETS[7][1]} | {text or 'not measured'} |")
    web_cells = []
    for k in sorted(sizes, key=int):
        many, one = at(k, "web_per_s_c16"), at(k, "web_per_s_c16_one_worker")
        if many and one:
            web_cells.append(f"{int(k):,} docs: {one:,.0f}/s with 1 worker, {many:,.0f}/s with"
                             f" {at(k, 'web_workers')} ({met(many > one and not at(k, 'web_errors'))})")  # fmt: skip
    out.append(f"| {TARGETS[8][0]} | {TARGETS[8][1]} | {'; '.join(web_cells) or 'not measured'} |")
    return out


def _index_ratio(size: str, figures: dict[str, Any]) -> str:
    """The index stage against FTS5 at one size: the side-by-side median decides the target;
    the library build's and the flow's own stages are named beside it."""
    side_by_side = figures.get("ratio_index_rebuild_vs_fts5_build")
    stage = figures.get("ratio_index_vs_fts5_build")
    if side_by_side is None:
        return f"{int(size):,} docs: {stage}x ({'met' if stage <= 5 else '**not met**'})"
    flow_stage = (figures.get("build_flow_stage_s") or {}).get("index")
    fts5 = figures.get("fts5_build_s")
    flow = f", the flow's {flow_stage / fts5:.1f}x" if flow_stage and fts5 else ""
    met = "met" if side_by_side <= 5 else "**not met**"
    return (f"{int(size):,} docs: {side_by_side}x, medians side by side ({met});"
            f" the library build's own stage {stage}x{flow}")  # fmt: skip


def _extrapolation(sizes: dict[str, dict[str, Any]]) -> list[str]:
    """100,000 documents, carried on from the growth measured between 1,000 and 10,000.

    Two guides, not measurements, between which a run at that size would likely fall:
    - the same factor from 10,000 to 100,000 as from 1,000 to 10,000 (a power law
      through the two points), which understates a figure made of a fixed part and a part
      per document, such as memory: the imports and the writers' bounded pools, and what
      the run keeps per source;
    - the same increase per document (a straight line through the two points), which
      overstates a figure that levels off.
    """
    small, large = sizes.get("1000"), sizes.get("10000")
    if not small or not large or "100000" in sizes:
        return []
    lines = ["", "## 100,000 documents, extrapolated", "",
             "Not run (about a million sections; a full build alone would take about an hour here). Each",
             "figure below is carried from 10,000 to 100,000 documents two ways: by the factor it grew by",
             "from 1,000 to 10,000 in the runs above, and by the same increase per document (linear): a",
             "guide, not a measurement.", "",
             "| figure | 1,000 | 10,000 | growth ×10 | 100,000, same factor | 100,000, linear |",
             "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for label, key, digits in EXTRAPOLATED:
        a, b = small.get(key), large.get(key)
        if not isinstance(a, int | float) or not isinstance(b, int | float) or a <= 0:
            continue
        growth = b / a
        linear = b + (b - a) * 9  # from 10,000 on, 90,000 more documents at the same rate
        lines.append(_row([label, _f(round(a, digits), digits), _f(round(b, digits), digits),
                           f"{growth:.1f}x", _f(round(b * growth, digits), digits),
                           _f(round(linear, digits), digits)]))  # fmt: skip
    return lines
