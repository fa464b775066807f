"""The FTS5 baseline, the measuring helpers and the results report of `make bench`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from bench.fts5 import FtsSearcher, build_fts5
from bench.measure import percentile, run_measured
from bench.queries import QUERIES, BenchQuery, fts5_match
from kb.model import Document, Section, SourceRef, Tag
from kb.store import Store


def _store(path: Path) -> Path:
    with Store(path) as store, store.transaction() as db:
        law = Document(
            id="law-2016", source=SourceRef(key="/c/law.pdf", location="law.pdf"), format="pdf",
            title="Law on combating trafficking in persons", doctype="legislation", lang="en", date="2016-03-01",
            sections=[
                Section(id="art-5", order=0, heading_path=["Article 5. Rights of victims"], lang="en", number="5",
                        text="Victims of trafficking in persons shall be entitled to free legal aid.",
                        tags=[Tag("entity", "place.mary")]),
                Section(id="art-12-1", order=1, heading_path=["Article 12-1. Shelters"], lang="en", number="12-1",
                        text="Shelters provide temporary accommodation in Ashgabat."),
            ],
        )  # fmt: skip
        news = Document(
            id="news-ru", source=SourceRef(key="/c/news.html", location="news.html"), format="html",
            title="Горячая линия", doctype="news", lang="ru", date="2024-05-02",
            sections=[Section(id="intro", order=0, heading_path=[], lang="ru",
                              text="На горячую линию поступило 68 звонков от трудовых мигрантов.")],
        )  # fmt: skip
        store.save_document(law, db)
        store.save_document(news, db)
    return path


def test_match_expressions_quote_every_token() -> None:
    assert fts5_match("victim identification") == '"victim" AND "identification"'
    assert (
        fts5_match('"national referral mechanism" Mary')
        == '"national referral mechanism" AND "Mary"'
    )
    assert fts5_match("12-1") == '"12 1"'
    assert fts5_match("AND OR NOT") == '"AND" AND "OR" AND "NOT"'
    assert all(fts5_match(q.text) for q in QUERIES)


def test_fts5_indexes_the_stores_sections_and_answers_with_filters_and_snippets(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path / "kb.sqlite")
    built = build_fts5(store, tmp_path / "fts.sqlite")
    assert built["rows"] == 3
    searcher = FtsSearcher(tmp_path / "fts.sqlite")
    try:
        hits = searcher.search(BenchQuery("victims legal aid", "words"))
        assert [(h.doc_id, h.section_id) for h in hits] == [("law-2016", "art-5")]
        assert "**Victims**" in hits[0].snippet
        assert [h.section_id for h in searcher.search(BenchQuery("12-1", "ref"))] == ["art-12-1"]
        assert searcher.search(BenchQuery("shelters", "filter", {"doctype": "news"})) == []
        assert (
            len(searcher.search(BenchQuery("victims", "filter", {"year": "2016", "lang": "en"})))
            == 1
        )
        assert len(searcher.search(BenchQuery("victims", "filter", {"tag": "place.mary"}))) == 1
        # No stemming: the baseline finds the form written ("звонков"), not another ("звонки").
        assert searcher.search(BenchQuery("звонки", "word")) == []
        assert len(searcher.search(BenchQuery("звонков", "word"))) == 1
    finally:
        searcher.close()


def test_percentiles_and_measured_runs() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.5
    assert round(percentile(values, 95), 2) == 95.05
    script = "import json; b = bytearray(64 * 1024 * 1024); print(json.dumps({'ok': len(b)}))"
    measured = run_measured([sys.executable, "-c", script], env=dict(os.environ))
    assert measured.returncode == 0
    assert json.loads(measured.stdout)["ok"] == 64 * 1024 * 1024
    assert measured.max_rss_mb > 64


def test_results_markdown_states_every_target(tmp_path: Path) -> None:
    from bench.report import results_markdown

    figures = {
        "documents": 1000, "sections": 10000, "pdf_pages": 2300, "text_mb": 10.0, "build_s": 300.0, "build_flow_s": 300.0, "nightly_nochange_flow_s": 20.0,
        "build_direct_s": 250.0, "build_prefect_overhead_s": 40.0, "build_stage_s": {"extract": 100.0, "index": 90.0},
        "nightly_nochange_s": 20.0, "nightly_nochange_direct_s": 4.0, "nightly_1pct_s": 30.0,
        "nightly_1pct_direct_s": 8.0, "nightly_1pct_stage_s": {"extract": 1.0, "index": 5.0},
        "query_p50_ms": 40.0, "query_p95_ms": 120.0, "fts5_build_s": 2.0, "fts5_query_p50_ms": 1.0,
        "fts5_query_p95_ms": 10.0, "pypdf_pages_per_s": 20.0, "pdftotext_pages_per_s": 200.0, "peak_mb": 900.0,
        "ratio_query_p95_vs_fts5": 12.0, "ratio_nochange_vs_build": 0.067, "ratio_nochange_vs_build_direct": 0.016,
        "load_average": [1.0, 1.0, 1.0],
    }  # fmt: skip
    text = results_markdown({"machine": {"cores": 2, "memory_gb": 24}, "sizes": {"1000": figures}})
    assert "| **query p95** (ms) | 120.0 |" in text
    assert "1,000 docs: library 1.6% (met), flow 6.7% (**not met**)" in text
    assert "at 10,000 sections: 120.0 ms (**not met**), 12.0x FTS5 (**not met**)" in text
    assert "900 MB, whole process tree (met)" in text
    assert "not measured (run `make bench SIZE=10000`)" in text
