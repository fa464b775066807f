"""The fast segment writer writes what Whoosh's own writer writes (search.segment_writer).

Both writers index the bundled corpus's sections with a memory limit small enough
to spill many runs, and every term, posting, length, term statistic, stored field
and column of the two indexes must agree.
"""

from __future__ import annotations

import marshal
import struct
import sys
from array import array
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as windex
from whoosh.writing import SegmentWriter

from kb.home import paths as home_paths
from kb.store import Store
from search.indexer import document_records
from search.schema import build_schema
from search.segment_writer import (
    RUN_CHUNK,
    RUN_CHUNK_POSTINGS,
    FastSegmentWriter,
    TermPostingPool,
)


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
                    # A format without values: a block's matcher gives None, the matcher of
                    # postings inlined in the term info (short lists, ours only) gives "".
                    items.append((matcher.id(), matcher.weight(), matcher.value() or None))
                    matcher.next()
                stats = (info.weight(), info.doc_frequency(), info.min_length(),
                         info.max_length(), info.max_weight(), info.min_id(), info.max_id())  # fmt: skip
                postings[term] = (stats, items)
            lengths = [reader.doc_field_length(n, field) for n in range(reader.doc_count_all())]
            totals = (
                (reader.field_length(field), reader.min_field_length(field),
                 reader.max_field_length(field))
                if ix.schema[field].scorable else None
            )  # fmt: skip
            out[field] = (postings, lengths, totals)
        for column in ("doc_id", "date"):
            out[f"column:{column}"] = list(reader.column_reader(column))
    ix.close()
    return out


@pytest.fixture(scope="module")
def corpus_docs(corpus_home: Path) -> list[dict[str, Any]]:
    # The bundled corpus's sections twice over (the copies under keys of their own), so
    # that common terms hold lists of several blocks.
    docs = _index_documents(corpus_home)
    assert len(docs) > 50
    return docs + [{**fields, "key": f"{fields['key']}~copy"} for fields in docs]


def test_same_segment_as_whoosh_with_many_spilled_runs(
    corpus_docs: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks too, so a run holds several marshalled chunks, ended by their count of
    # terms and by their count of postings.
    monkeypatch.setattr("search.segment_writer.RUN_CHUNK", 100)
    monkeypatch.setattr("search.segment_writer.RUN_CHUNK_POSTINGS", 300)
    assert RUN_CHUNK > 100 and RUN_CHUNK_POSTINGS > 300
    _write(tmp_path / "whoosh", SegmentWriter, corpus_docs, limitmb=0.25)
    _write(tmp_path / "fast", FastSegmentWriter, corpus_docs, limitmb=0.25)
    runs = list((tmp_path / "fast").glob("*.run"))
    assert not runs, "spilled runs are removed once merged"
    whoosh, fast = _contents(tmp_path / "whoosh"), _contents(tmp_path / "fast")
    assert whoosh["doc_count"] == fast["doc_count"] == len(corpus_docs)
    assert set(whoosh) == set(fast)
    for key in whoosh:
        assert fast[key] == whoosh[key], key
    # Lists that span several blocks (the codec's default, 128 postings) are compared too.
    assert any(
        len(items) > 128 for postings, _, _ in _fields(fast) for _, items in postings.values()
    )


def _fields(contents: dict[str, Any]) -> list[Any]:
    """The (postings, lengths, totals) of each indexed field in `_contents`."""
    return [value for key, value in contents.items()
            if key not in ("doc_count", "stored") and not key.startswith("column:")]  # fmt: skip


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


def test_the_merge_spills_the_postings_left_in_memory_first(
    corpus_docs: list[dict[str, Any]], tmp_path: Path
) -> None:
    """The postings still gathered when the runs are merged go to a run of their own: the
    merge holds a chunk of every run, never those postings as well (a writer's peak)."""
    ix = windex.create_in(str(tmp_path), build_schema(), indexname="t")
    writer = FastSegmentWriter(ix, limitmb=0.25)
    for fields in corpus_docs:
        writer.add_document(**fields)
    pool = writer.pool
    runs = len(pool.runs)
    assert runs > 3 and pool.terms and pool.currentsize > 0
    merged = pool.iter_terms()
    name, _term, ids, *_ = next(merged)
    assert (name, len(pool.runs), pool.terms, pool.currentsize) == (sorted(pool.fieldnames)[0],
                                                                      runs + 1, {}, 0)  # fmt: skip
    assert list(ids) == sorted(ids)
    merged.close()
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


def test_a_spilled_run_is_read_back_a_bounded_chunk_at_a_time(tmp_path: Path) -> None:
    """The merge holds a chunk of every run at once: a chunk ends at RUN_CHUNK terms or at
    RUN_CHUNK_POSTINGS postings, so frequent terms (sorted first) do not make it huge."""
    pool = TermPostingPool.__new__(TermPostingPool)  # write_run and read_run use no state
    frequent = [
        ("exact", f"{n:03d}".encode(), array("I", range(5_000)), array("f", [1.0] * 5_000), [],
         array("I", range(5_000)))
        for n in range(40)
    ]  # fmt: skip
    rare = [("exact", f"w{n:05d}".encode(), array("I", [n]), array("f", [2.0]), [b"\x01"], None)
            for n in range(3_000)]  # fmt: skip
    path = tmp_path / "run"
    with open(path, "wb") as f:
        pool.write_run(f, iter(frequent + rare))
    chunks = []
    with open(path, "rb") as f:
        while header := f.read(4):
            (size,) = struct.unpack("<I", header)
            chunks.append(marshal.loads(f.read(size)))
    assert all(len(chunk) <= RUN_CHUNK for chunk in chunks)
    postings = [sum(len(array("I", ids)) for _, _, ids, _, _, _ in chunk) for chunk in chunks]
    # A chunk ends at the term that takes it to the limit: past it by less than a term.
    assert max(postings) < RUN_CHUNK_POSTINGS + 5_000
    assert len(chunks) >= 40 * 5_000 // (RUN_CHUNK_POSTINGS + 5_000) + 3_000 // RUN_CHUNK
    with open(path, "rb") as f:
        back = list(pool.read_run(f))
    assert [(n, t, list(i), list(w), v, p) for n, t, i, w, v, p in back] == [
        (n, t, list(i), list(w), v, p) for n, t, i, w, v, p in frequent + rare
    ]


def test_short_posting_lists_are_kept_in_the_term_info_and_read_back(
    corpus_docs: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A section's key (one posting) is inlined in its term's info, a frequent word is
    not; both read back the same through our bulk reader and Whoosh's matchers."""
    from search.whoosh_internals import INLINE_POSTINGS_BELOW, read_term_postings

    _write(tmp_path, FastSegmentWriter, corpus_docs, limitmb=0.25)
    ix = windex.open_dir(str(tmp_path), indexname="t")
    with ix.reader() as reader:
        assert reader.is_atomic()  # one segment
        segment = reader
        keys = [fields["key"] for fields in corpus_docs]
        for number in (0, len(keys) // 2, len(keys) - 1):
            info = segment.term_info("key", keys[number])
            assert info.is_inlined() and info.doc_frequency() == 1
            postings = read_term_postings(segment, "key", keys[number])
            assert postings is not None and postings.ids.tolist() == [number]
            assert list(segment.postings("key", keys[number]).all_ids()) == [number]
        frequent = max(segment.lexicon("exact"), key=lambda t: segment.doc_frequency("exact", t))
        info = segment.term_info("exact", frequent)
        assert not info.is_inlined() and info.doc_frequency() >= INLINE_POSTINGS_BELOW
        rare = [t for t in segment.lexicon("exact") if segment.doc_frequency("exact", t) == 2]
        assert rare, "the corpus has words in exactly two sections"
        postings = read_term_postings(segment, "exact", rare[0].decode())
        assert postings is not None and postings.values is not None
        assert postings.ids.tolist() == list(segment.postings("exact", rare[0]).all_ids())
        matcher = segment.postings("exact", rare[0])
        values = []
        while matcher.is_active():
            values.append(matcher.value())
            matcher.next()
        assert postings.values.all() == values
    ix.close()


def test_the_pools_memory_estimate_is_what_its_objects_take(
    corpus_docs: list[dict[str, Any]], tmp_path: Path
) -> None:
    """The writer spills a run when its estimate passes the limit: an estimate far above
    what the postings take spills runs a build did not need (values shared by the postings
    at one place were each counted as a bytes object of their own: 75 % too much)."""
    ix = windex.create_in(str(tmp_path), build_schema(), indexname="t")
    writer = FastSegmentWriter(ix, limitmb=1_000)
    for fields in corpus_docs:
        writer.add_document(**fields)
    pool = writer.pool
    seen: set[int] = set()
    taken = 0
    for terms in pool.terms.values():
        taken += sys.getsizeof(terms)
        for tbytes, entry in terms.items():
            taken += sys.getsizeof(tbytes) + sys.getsizeof(entry)
            for part in entry:
                if part is None:
                    continue
                taken += sys.getsizeof(part)
                for value in part if isinstance(part, list) else ():
                    if id(value) not in seen:
                        seen.add(id(value))
                        taken += sys.getsizeof(value)
    writer.cancel()
    assert 0.8 * taken <= pool.currentsize <= 1.25 * taken, (pool.currentsize, taken)


def test_term_infos_in_batches_write_the_file_whoosh_writes(tmp_path: Path) -> None:
    """The terms file's entries added a batch at a time are the bytes Whoosh's
    `OrderedHashWriter` writes one by one, and read back by its reader; keys out of order
    are refused as Whoosh refuses them."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter

    from search.whoosh_internals import TermInfos

    storage = FileStorage(str(tmp_path))
    entries = [(b"\x00\x01" + f"w{n:05d}".encode(), bytes([n % 251]) * (n % 7 + 1))
               for n in range(2 * TermInfos.BATCH + 17)]  # fmt: skip
    theirs = OrderedHashWriter(storage.create_file("theirs"))
    for key, value in entries:
        theirs.add(key, value)
    theirs.close()
    ours = OrderedHashWriter(storage.create_file("ours"))
    infos = TermInfos(ours)
    for key, value in entries:
        infos.add(key, value)
    infos.flush()
    ours.close()
    assert (tmp_path / "ours").read_bytes() == (tmp_path / "theirs").read_bytes()
    reader = OrderedHashReader.open(storage, "ours")
    assert reader[entries[1500][0]] == entries[1500][1]
    assert list(reader.keys_from(entries[-2][0])) == [entries[-2][0], entries[-1][0]]
    reader.close()
    backwards = TermInfos(OrderedHashWriter(storage.create_file("backwards")))
    backwards.add(b"b", b"1")
    backwards.add(b"a", b"2")
    with pytest.raises(ValueError, match="Keys must increase"):
        backwards.flush()
    backwards.tindex.dbfile.close()
