"""The bench report: its carry to 100,000 documents gives both guides, not one, and its
index target names each stage it measured.

A figure with a fixed part and a part per document (a build's memory: imports and bounded
pools, plus what the run keeps per source) grows by a smaller factor each tenfold, so the
same-factor guide alone understated it; the linear guide is the other bound.
"""

from __future__ import annotations

from bench.report import _extrapolation, _index_ratio


def _row(lines: list[str], label: str) -> list[str]:
    (line,) = [line for line in lines if line.startswith(f"| {label} |")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_memory_is_carried_by_factor_and_by_line() -> None:
    sizes = {"1000": {"peak_mb": 400.0, "build_flow_s": 30.0},
             "10000": {"peak_mb": 500.0, "build_flow_s": 280.0}}  # fmt: skip
    lines = _extrapolation(sizes)
    # 500 × 1.25 = 625 by the same factor; 500 + 9 × 100 = 1,400 by the same increase a document.
    assert _row(lines, "peak memory, flow build (MB)") == [
        "peak memory, flow build (MB)", "400", "500", "1.2x", "625", "1,400"
    ]  # fmt: skip
    assert _row(lines, "full build, flow (s)")[4:] == ["2,613", "2,530"]


def test_nothing_is_carried_once_100000_documents_are_measured() -> None:
    sizes = {"1000": {"peak_mb": 400.0}, "10000": {"peak_mb": 500.0}, "100000": {"peak_mb": 600.0}}
    assert _extrapolation(sizes) == []


def test_the_index_target_reads_side_by_side_and_names_each_stage() -> None:
    """The index stage's ratio to FTS5: the side-by-side median decides; the library's and
    the flow's own stages are named beside it, whichever way they fall."""
    figures = {"ratio_index_rebuild_vs_fts5_build": 4.6, "ratio_index_vs_fts5_build": 4.9,
               "fts5_build_s": 0.5, "build_flow_stage_s": {"index": 2.8}}  # fmt: skip
    assert _index_ratio("1000", figures) == (
        "1,000 docs: 4.6x, medians side by side (met); the library build's own stage 4.9x,"
        " the flow's 5.6x"
    )
    figures["ratio_index_rebuild_vs_fts5_build"] = 5.2
    assert "5.2x, medians side by side (**not met**)" in _index_ratio("1000", figures)
