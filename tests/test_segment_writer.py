"""The fast segment writer writes what Whoosh's own writer writes (search.segment_writer).

Both writers index the bundled corpus's sections with a memory limit small enough
to spill many runs, and every term, posting, length, term statistic, stored field
and column of the two indexes must agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from whoosh import index as windex
from whoosh.writing import SegmentWriter

from kb.home import paths as home_paths
from kb.store import Store
from search.indexer import document_records
from search.schema import build_schema
from search.segment_writer import RUN_CHUNK, FastSegmentWriter


def _index_documents(home: Path) -> list[dict[str, Any]]:
    with Store(home_paths(home).store) as store:
        return [r for doc in store.iter_documents() for r in document_records(doc, store)]


def _write(folder: Path, writer_class: type, docs: list[dict[str, Any]], limitmb: float) -> None:
    folder.mkdir(exist_ok=True)
    ix = windex.create_in(str(folder), build_schema(), indexname="t")
    writer = writer_class(ix, limitmb=limitmb)
    for fields in docs:
        writer.add_document(**fields)
    writer.commit()


def _contents(folder: Path) -> dict[str, Any]:
    ix = windex.open_dir(str(folder), indexname="t")
    out: dict[str, Any] = {}
    with ix.reader() as reader:
        out["doc_count"] = reader.doc_count_all()
        out["stored"] = list(reader.all_stored_fields())
        for field in sorted(reader.indexed_field_names()):
            postings = {}
            for term in reader.lexicon(field):
                info = reader.term_info(field, term)
                matcher = reader.postings(field, term)
                items = []
                while matcher.is_active():
                    items.append((matcher.id(), matcher.weight(), matcher.value()))
                    matcher.next()
                stats = (info.weight(), info.doc_frequency(), info.min_length(),
                         info.max_length(), info.max_weight())  # fmt: skip
                postings[term] = (stats, items)
            lengths = [reader.doc_field_length(n, field) for n in range(reader.doc_count_all())]
            totals = (
                (reader.field_length(field), reader.min_field_length(field),
                 reader.max_field_length(field))
                if ix.schema[field].scorable else None
            )  # fmt: skip
            out[field] = (postings, lengths, totals)
        for column in ("doc_id", "date", "order"):
            out[f"column:{column}"] = list(reader.column_reader(column))
    ix.close()
    return out


@pytest.fixture(scope="module")
def corpus_docs(corpus_home: Path) -> list[dict[str, Any]]:
    docs = _index_documents(corpus_home)
    assert len(docs) > 50
    return docs


def test_same_segment_as_whoosh_with_many_spilled_runs(
    corpus_docs: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks too, so a run holds several marshalled chunks.
    monkeypatch.setattr("search.segment_writer.RUN_CHUNK", 100)
    assert RUN_CHUNK > 100
    _write(tmp_path / "whoosh", SegmentWriter, corpus_docs, limitmb=0.25)
    _write(tmp_path / "fast", FastSegmentWriter, corpus_docs, limitmb=0.25)
    runs = list((tmp_path / "fast").glob("*.run"))
    assert not runs, "spilled runs are removed once merged"
    whoosh, fast = _contents(tmp_path / "whoosh"), _contents(tmp_path / "fast")
    assert whoosh["doc_count"] == fast["doc_count"] == len(corpus_docs)
    assert set(whoosh) == set(fast)
    for key in whoosh:
        assert fast[key] == whoosh[key], key


def test_spills_runs_past_its_memory_limit(
    corpus_docs: list[dict[str, Any]], tmp_path: Path
) -> None:
    ix = windex.create_in(str(tmp_path), build_schema(), indexname="t")
    writer = FastSegmentWriter(ix, limitmb=0.25)
    for fields in corpus_docs:
        writer.add_document(**fields)
    assert len(writer.pool.runs) > 3
    assert writer.pool.currentsize <= 0.25 * 1024 * 1024
    writer.cancel()


def test_boosted_documents_and_incremental_merges_match_whoosh(
    corpus_docs: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Boosts take Whoosh's own path; a second writer that deletes and merges segments
    (its pool fed by Whoosh's merge code) still writes what Whoosh writes."""
    half = len(corpus_docs) // 2
    for name, writer_class in (("whoosh", SegmentWriter), ("fast", FastSegmentWriter)):
        folder = tmp_path / name
        _write(folder, writer_class, corpus_docs[:half], limitmb=0.25)
        ix = windex.open_dir(str(folder), indexname="t")
        writer = writer_class(ix, limitmb=0.25)
        writer.delete_by_term("doc_id", corpus_docs[0]["doc_id"])
        writer.add_document(**corpus_docs[half], _boost=2.0)
        for fields in corpus_docs[half + 1 :]:
            writer.add_document(**fields)
        writer.commit(optimize=True)
    whoosh, fast = _contents(tmp_path / "whoosh"), _contents(tmp_path / "fast")
    for key in whoosh:
        assert fast[key] == whoosh[key], key
