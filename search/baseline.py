"""A plain Whoosh index of the same sections, for measuring what the language work adds.

One analyzer for all text (words, lowercase: no stemming, no folding, no numbers kept
whole), Whoosh's stock query parser over title, heading and body with every word
required, no expansion, no spelling correction: what a user would get from Whoosh
without this project's search module. Used by `make eval` only.
"""

from __future__ import annotations

from pathlib import Path

from whoosh import index as windex
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import MultifieldParser
from whoosh.query import And, Query, Term

from kb.store import Store
from search.analysis import plain_analyzer

PLAIN_INDEX = "plain"


def plain_schema() -> Schema:
    return Schema(
        key=ID(stored=True, unique=True),
        doctype=ID(),
        lang=ID(),
        title=TEXT(analyzer=plain_analyzer()),
        heading=TEXT(analyzer=plain_analyzer()),
        body=TEXT(analyzer=plain_analyzer()),
    )


def build_plain_index(store: Store, folder: Path) -> int:
    """Index every section of the store into `folder` (created); returns the count."""
    folder.mkdir(parents=True, exist_ok=True)
    ix = windex.create_in(str(folder), plain_schema(), indexname=PLAIN_INDEX)
    count = 0
    with ix.writer() as writer:
        for doc in store.iter_documents():
            for section in doc.sections:
                writer.add_document(key=f"{doc.id}#{section.id}", doctype=doc.doctype, lang=section.lang,
                                    title=doc.title, heading=" / ".join(section.heading_path),
                                    body=section.text)  # fmt: skip
                count += 1
    ix.close()
    return count


def plain_search(folder: Path, query: str, *, limit: int = 10, doctype: str | None = None,
                 lang: str | None = None) -> list[str]:  # fmt: skip
    """Keys ("doc#section") of the best sections for `query`, Whoosh's defaults throughout."""
    ix = windex.open_dir(str(folder), indexname=PLAIN_INDEX)
    with ix.searcher() as searcher:
        parsed = MultifieldParser(["title", "heading", "body"], ix.schema).parse(query)
        terms: list[Query] = [Term(n, v) for n, v in (("doctype", doctype), ("lang", lang)) if v]
        filter_q = And(terms) if len(terms) > 1 else (terms[0] if terms else None)
        return [hit["key"] for hit in searcher.search(parsed, limit=limit, filter=filter_q)]
