"""An incremental index update costs what changed: segments are linked, never copied or changed."""

from __future__ import annotations

from pathlib import Path

from whoosh import index as windex

from kb.home import paths as home_paths
from kb.model import Document, Section, SourceRef
from kb.store import Store
from search.indexer import INDEX_NAME, build_index, live_index_dir, update_index


def _doc(doc_id: str, text: str) -> Document:
    return Document(
        id=doc_id, source=SourceRef(key=f"/c/{doc_id}.md", location=f"{doc_id}.md"), format="text",
        title=f"Note {doc_id}", lang="en", doctype="other",
        sections=[Section(id="intro", order=0, heading_path=["Shelters"], lang="en", text=text)],
    )  # fmt: skip


def _texts(folder: Path) -> set[str]:
    ix = windex.open_dir(str(folder), indexname=INDEX_NAME)
    try:
        with ix.searcher() as searcher:
            return {fields["data"]["text"] for fields in searcher.all_stored_fields()}
    finally:
        ix.close()


def test_update_links_the_live_segments_and_leaves_the_live_index_as_it_was(tmp_path: Path) -> None:
    paths = home_paths(tmp_path).ensure()
    with Store(paths.store) as store:
        with store.transaction() as db:
            store.save_document(_doc("a", "The shelter in Mary hosts victims."), db)
            store.save_document(_doc("b", "The hotline answers calls from migrants."), db)
        build_index(paths, store)
        first = live_index_dir(paths)
        assert first is not None
        with store.transaction() as db:
            store.save_document(_doc("b", "The hotline now answers at night too."), db)
        assert update_index(paths, store, ["b"], []) == 1
    second = live_index_dir(paths)
    assert second is not None and second != first
    assert _texts(first) == {
        "The shelter in Mary hosts victims.",
        "The hotline answers calls from migrants.",
    }
    assert _texts(second) == {
        "The shelter in Mary hosts victims.",
        "The hotline now answers at night too.",
    }
    shared = [p for p in second.glob("*.seg") if (first / p.name).exists()]
    assert shared, "the unchanged segment is reused"
    assert all((first / p.name).stat().st_ino == p.stat().st_ino for p in shared)
