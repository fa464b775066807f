"""Building the Whoosh index from the store, and swapping it in atomically.

Every build writes a new folder under `indexes/` and then points the `index`
symlink at it with `os.replace`, so a search sees the old index or the new one,
never a half-written one, and a killed build leaves the last good index in place.
An incremental update copies the live index, applies the changes, and swaps.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh.writing import IndexWriter

from kb.home import HomePaths
from kb.model import Document, Section
from kb.runtime.lock import pid_alive
from kb.runtime.testhooks import pause_point
from kb.store import Store
from search.citation import LegalIndex, citation_title, legal_index, section_label
from search.schema import INDEX_NAME, SCHEMA_VERSION, TEXT_LANGS, build_schema, normalise_ref
from search.segment_writer import FastSegmentWriter
from search.shards import document_shards, document_work, write_shards
from search.vocabulary import save_vocabulary
from search.whoosh_internals import index_codec, read_term_postings, term_text

# Memory for the in-memory postings before a run is spilled to disk (as
# search.segment_writer.TermPostingPool estimates it), of the build's own writer.
# 128 rather than 256: at 10,000 documents the two writers peaked at 230 and 128 MB
# instead of 258 and 177, in the same time (each posting is spilled once whatever the
# runs' size); at 1,000 documents the same time and memory.
WRITER_LIMIT_MB = 128
# The same for each of a full build's writer processes: a budget that a writer of the
# bench's 1,000 documents does not reach (41 MB), so that a larger store's writers use about
# as much memory, not more (64 MB before: at 10,000 documents a writer reached 134 MB
# before its merge against 115 MB with 48, in the same time).
SHARD_WRITER_LIMIT_MB = 48
# A full build of at least this much work (characters, as search.shards.store_work counts
# them) uses one writer process per core (at most MAX_INDEX_PROCS), each writing a shard of
# the store into its own segment (search.shards). Two writers cost some 0.6 s more than one
# (starting, importing, an uneven cut), won back from about 2 M: the real documents of
# ../shared/realdocs (1,894 sections but long ones, 4.9 M) took 3.5 s with one and 2.4 s
# with two, which a threshold of 2,000 sections had denied them; the bench's 1,000
# documents (19.5 M) take 7 s with one and 3.9 s with two.
MULTIPROCESS_MIN_WORK = 2_500_000
MAX_INDEX_PROCS = 2
# Every reference starts a word with a digit or a capital: the look-ahead rules out every
# other place of the text before the alternatives are tried (a third of the pattern's time).
_REF = re.compile(
    r"\b(?=[\dA-Z])(?:\d+(?:[-–]\d+)+[A-Za-z]?\b|\d+[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\d+[A-Z]\b|[A-Z]{2,}\d[A-Z0-9.]{2,}\b)"
)


def section_refs(doc: Document, section: Section) -> list[str]:
    refs = {normalise_ref(r) for r in _REF.findall(section.text)}
    refs |= {normalise_ref(r) for r in _REF.findall(" ".join(section.heading_path))}
    if section.number:
        refs.add(normalise_ref(section.number))
    for tag in doc.tags:
        if tag.kind == "fact" and tag.value == "project_id":
            refs.add(str(tag.data.get("id", tag.text)).lower())
    return sorted(refs)


def spelling_text(doc: Document) -> str:
    """Every word of a document, for the `spell` field of its first section.

    "Did you mean" only needs the index's words and how common they are, so the
    document's words are indexed once rather than on each section (where the title
    and headings repeat): a quarter of all postings at 1,000 documents, measured.
    Counts become documents rather than sections, which ranks candidates alike.
    """
    headings = dict.fromkeys(" / ".join(s.heading_path) for s in doc.sections)
    return "\n".join((doc.title, *headings, *(s.text for s in doc.sections)))


def section_fields(
    doc: Document, section: Section, legal: LegalIndex | None = None, *, spell: str = ""
) -> dict[str, Any]:
    """The index document for one section (`legal`: the law's structure, for citations;
    `spell`: the document's words, given for its first section only, see `spelling_text`)."""
    lang = (
        section.lang
        if section.lang in TEXT_LANGS
        else (doc.lang if doc.lang in TEXT_LANGS else "en")
    )
    heading = " / ".join(section.heading_path)
    entity_ids = sorted({t.value for t in section.tags if t.kind == "entity"})
    fields: dict[str, Any] = {
        "key": f"{doc.id}#{section.id}",
        "doc_id": doc.id,
        "section_id": section.id,
        f"body_{lang}": section.text,
        "exact": section.text,
        "title_exact": doc.title,
        "heading_exact": heading,
        "refs": ",".join(section_refs(doc, section)),
        "doctype": doc.doctype,
        "lang": section.lang,
        "body_lang": lang,
        "year": doc.date[:4] if doc.date else "",
        "date": doc.date or "",
        "tags": ",".join(entity_ids),
        "order": section.order,
        "data": {
            "title": doc.title,
            "heading_path": section.heading_path,
            "pages": section.pages,
            "source": doc.cited_source(),
            "location": doc.source.location,
            # What the reader sees printed on those pages (page labels), when not the index.
            "printed_pages": doc.printed_pages(section.pages),
            "source_kind": doc.source.kind,
            "format": doc.format,
            "doc_lang": doc.lang,
            "number": section.number,
            "kind": section.kind,
            "text": section.text,
            "cite_title": citation_title(doc),
            "cite_label": section_label(doc, section, legal),
            "units": legal.units_for(section) if legal is not None else [],
        },
    }
    if spell:
        fields["spell"] = spell
    # Title and heading go with the body, in the section's language: each language's
    # fields form one collection with its own statistics (see search.scoring).
    fields[f"title_{lang}"] = doc.title
    fields[f"heading_{lang}"] = heading
    return fields


@contextmanager
def _writer(ix: windex.Index):  # type: ignore[no-untyped-def]
    """A writer that is cancelled (lock released, nothing written) when the block fails."""
    writer = FastSegmentWriter(ix, limitmb=WRITER_LIMIT_MB, codec=index_codec())
    try:
        yield writer
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


def full_build_procs(work: int) -> int:
    """Writer processes for a full build of `work` characters (`store_work`)."""
    if work < MULTIPROCESS_MIN_WORK:
        return 1
    return max(1, min(MAX_INDEX_PROCS, os.cpu_count() or 1))


def live_index_dir(paths: HomePaths) -> Path | None:
    link = paths.index_link
    if not link.exists():
        return None
    return link.resolve()


def _new_dir(paths: HomePaths) -> Path:
    paths.indexes.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for n in range(1000):
        candidate = paths.indexes / f"{stamp}-{os.getpid()}-{n}"
        if not candidate.exists():
            candidate.mkdir()
            return candidate
    raise RuntimeError("cannot create a new index folder")


def _swap(paths: HomePaths, new_dir: Path, *, vocabulary_saved: bool = False) -> None:
    from search.facet_arrays import save_facet_arrays  # searching's modules: not the writers'

    (new_dir / "SCHEMA_VERSION").write_text(SCHEMA_VERSION)
    if not vocabulary_saved:
        save_vocabulary(new_dir)
    save_facet_arrays(new_dir)  # what the first search would otherwise read from the index
    _remove_dead_links(paths)
    tmp_link = paths.root / f".index-{os.getpid()}.tmp"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(new_dir.relative_to(paths.root), tmp_link)
    pause_point("swap")  # crash tests: the new index is complete, the live link not yet moved
    os.replace(tmp_link, paths.index_link)
    _prune(paths, keep={new_dir})


def _remove_dead_links(paths: HomePaths) -> None:
    """`.index-<pid>.tmp` links left by builds killed just before their swap."""
    for link in paths.root.glob(".index-*.tmp"):
        if not pid_alive(_pid_in(link.name.removeprefix(".index-").removesuffix(".tmp"))):
            link.unlink(missing_ok=True)


def _prune(paths: HomePaths, keep: set[Path]) -> None:
    """Remove index folders that are neither live nor the newest complete previous one.

    One previous folder stays for searchers that still have it open; open files
    keep working on Linux even after deletion. A folder without its SCHEMA_VERSION
    marker was never swapped in (a build killed half-way): it is never the
    "previous" index, and goes once the build that wrote it is gone.
    """
    folders = sorted(
        (p for p in paths.indexes.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime
    )
    old = [p for p in folders if p not in keep]
    complete = [p for p in old if (p / "SCHEMA_VERSION").exists()]
    partial = [p for p in old if p not in complete]
    for folder in complete[:-1]:
        shutil.rmtree(folder, ignore_errors=True)
    for folder in partial:
        if not pid_alive(_pid_in(folder.name.split("-")[1] if "-" in folder.name else "")):
            shutil.rmtree(folder, ignore_errors=True)


def _pid_in(text: str) -> int:
    return int(text) if text.isdigit() else 0


def document_records(doc: Document, store: Store) -> Iterator[dict[str, Any]]:
    """The index documents of `doc`'s sections, in order (the spelling words on the first)."""
    legal = legal_index(doc, store.load_artifact(doc.id, "structure"))
    spell = spelling_text(doc)
    for section in doc.sections:
        yield section_fields(doc, section, legal, spell=spell)
        spell = ""


def add_documents(writer: IndexWriter, docs: Iterable[Document], store: Store) -> int:
    """Index every section of `docs`; returns how many."""
    count = 0
    for doc in docs:
        for record in document_records(doc, store):
            writer.add_document(**record)
            count += 1
    pause_point("index")  # crash tests: sections written, the writer not committed yet
    return count


def build_index(paths: HomePaths, store: Store, *, procs: int | None = None) -> int:
    """Full rebuild into a new folder, then swap. Returns the number of sections indexed.

    `procs`: writer processes; by default one per core for a large store (`full_build_procs`).
    """
    work = document_work(store)
    if procs is None:
        procs = full_build_procs(sum(work.values()))
    new_dir = _new_dir(paths)
    try:
        ix = windex.create_in(str(new_dir), build_schema(), indexname=INDEX_NAME)
        limit = WRITER_LIMIT_MB if procs == 1 else SHARD_WRITER_LIMIT_MB
        shards = document_shards(store, procs, work)
        count = write_shards(
            ix, store, shards, add_documents, limitmb=limit,
            meanwhile=lambda: _beside_writers(new_dir, store),
        )  # fmt: skip
        ix.close()
    except BaseException:
        shutil.rmtree(new_dir, ignore_errors=True)
        raise
    _swap(paths, new_dir, vocabulary_saved=True)
    return count


def _beside_writers(new_dir: Path, store: Store) -> None:
    """What a full build saves with its index while the writer processes work."""
    from kb.legal.editions import save_editions  # the build's own work, not its writers'

    save_editions(new_dir, store)  # which laws are in force
    save_vocabulary(new_dir)


def update_index(
    paths: HomePaths, store: Store, changed: Iterable[str], removed: Iterable[str]
) -> int:
    """Apply changed and removed documents to a copy of the live index, then swap.

    Falls back to a full build when there is no live index or its schema is older.
    Returns the number of sections (re)indexed.
    """
    from kb.legal.editions import save_editions

    changed, removed = sorted(set(changed)), sorted(set(removed))
    live = live_index_dir(paths)
    if live is None or not _schema_current(live):
        return build_index(paths, store)
    if not changed and not removed:
        return 0
    new_dir = _new_dir(paths)
    try:
        shutil.copytree(live, new_dir, dirs_exist_ok=True, copy_function=_link_or_copy)
        for lock in new_dir.glob("*.lock"):
            lock.unlink()
        ix = windex.open_dir(str(new_dir), indexname=INDEX_NAME)
        with _writer(ix) as writer:
            for doc_id in [*changed, *removed]:
                writer.delete_by_term("doc_id", doc_id)
            count = add_documents(writer, store.iter_documents(changed), store)
        ix.close()
        save_editions(new_dir, store)  # a new law may repeal one that did not change
    except BaseException:
        shutil.rmtree(new_dir, ignore_errors=True)
        raise
    _swap(paths, new_dir)
    return count


def _link_or_copy(src: str, dst: str) -> str:
    """Whoosh writes a segment file once and never changes it: link it rather than copy it.

    A copy made an incremental update cost as much as the whole index is large;
    linked, it costs what changed. Other files (TOC, markers) are small and copied.
    """
    if src.endswith(".seg"):
        try:
            os.link(src, dst)
            return dst
        except OSError:  # another file system, or links not supported
            pass
    return str(shutil.copy2(src, dst))


def _schema_current(folder: Path) -> bool:
    marker = folder / "SCHEMA_VERSION"
    return marker.exists() and marker.read_text().strip() == SCHEMA_VERSION


def indexed_doc_ids(paths: HomePaths) -> set[str] | None:
    """Documents with at least one live record in the index (None: there is no index)."""
    live = live_index_dir(paths)
    if live is None:
        return None
    ix = windex.open_dir(str(live), indexname=INDEX_NAME)
    try:
        with ix.reader() as reader:
            if not reader.has_deletions():
                return {term_text(term) for term in reader.lexicon("doc_id")}
            # The lexicon keeps terms of deleted records until a merge: check postings, read
            # in bulk. Whoosh's own matchers would copy each segment's whole postings file
            # into memory (156 MB at the bench's 10,000 documents, in the build's process).
            found: set[str] = set()
            for segment, _ in reader.leaf_readers():
                for term in segment.lexicon("doc_id"):
                    doc_id = term_text(term)
                    postings = read_term_postings(segment, "doc_id", doc_id)
                    if postings is not None and len(postings.ids):
                        found.add(doc_id)
            return found
    finally:
        ix.close()
