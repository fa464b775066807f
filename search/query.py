"""The query API: `search(home, "query", filters…) -> Results`.

Reading never starts Prefect and reuses one open searcher per index folder,
reopening only when the `index` symlink points somewhere new.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from whoosh import highlight
from whoosh import index as windex
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup
from whoosh.query import And, Query, Term
from whoosh.searching import Searcher

from kb.errors import IndexMissingError, QueryError
from kb.home import HomePaths
from kb.home import paths as home_paths
from search.indexer import INDEX_NAME
from search.schema import TEXT_LANGS, body_field

MAX_QUERY_CHARS = 1000
MAX_LIMIT = 200


@dataclass
class Hit:
    doc_id: str
    section_id: str
    title: str
    heading: str
    heading_path: list[str]
    pages: list[int]
    lang: str
    doctype: str
    date: str
    score: float
    snippet: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 4)
        return data


@dataclass
class Results:
    query: str
    total: int
    hits: list[Hit] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "hits": [h.as_dict() for h in self.hits]}


class _SearcherCache:
    """One open searcher per home; reopened when the live index folder changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[Path, tuple[Path, windex.Index, Searcher]] = {}

    def get(self, paths: HomePaths) -> Searcher:
        link = paths.index_link
        if not link.exists():
            raise IndexMissingError(f"no index in {paths.root}: run `kb build` first")
        target = Path(os.path.realpath(link))
        with self._lock:
            cached = self._open.get(paths.root)
            if cached and cached[0] == target:
                return cached[2]
            if cached:
                cached[2].close()
            try:
                ix = windex.open_dir(str(target), indexname=INDEX_NAME)
            except Exception as exc:
                raise IndexMissingError(f"the index in {target} cannot be opened ({exc}); run `kb build --full`") from None
            searcher = ix.searcher()
            self._open[paths.root] = (target, ix, searcher)
            return searcher

    def close(self) -> None:
        with self._lock:
            for _, _, searcher in self._open.values():
                searcher.close()
            self._open.clear()


searchers = _SearcherCache()

FIELD_BOOSTS: dict[str, float] = {"exact": 1.0, "title_exact": 3.0, "heading_exact": 2.5, "refs": 2.0}
for _lang in TEXT_LANGS:
    FIELD_BOOSTS[f"body_{_lang}"] = 1.0
    FIELD_BOOSTS[f"title_{_lang}"] = 3.0
    FIELD_BOOSTS[f"heading_{_lang}"] = 2.5


def parse_query(searcher: Searcher, text: str, *, any_word: bool = False) -> Query:
    fields = list(FIELD_BOOSTS)
    parser = MultifieldParser(fields, searcher.schema, fieldboosts=FIELD_BOOSTS,
                              group=OrGroup if any_word else AndGroup)  # fmt: skip
    return parser.parse(text)


def _filters(doctype: str | None, lang: str | None, year: str | None, tag: str | None) -> Query | None:
    terms = [Term(name, value) for name, value in
             (("doctype", doctype), ("lang", lang), ("year", year), ("tags", tag)) if value]  # fmt: skip
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else And(terms)


def validate_query(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise QueryError("empty query: type some words, e.g. kb search \"victim identification\"")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long: {len(text)} characters (the limit is {MAX_QUERY_CHARS})")
    if not re.search(r"\w", text):
        raise QueryError(f"query {text!r} has no words to search for")
    return text


def search(
    query: str,
    *,
    home: Path | str | None = None,
    doctype: str | None = None,
    lang: str | None = None,
    year: str | None = None,
    tag: str | None = None,
    limit: int = 10,
) -> Results:
    text = validate_query(query)
    limit = max(1, min(limit, MAX_LIMIT))
    paths = home_paths(home)
    searcher = searchers.get(paths)
    parsed = parse_query(searcher, text)
    hits = searcher.search(parsed, limit=limit, filter=_filters(doctype, lang, year, tag), terms=True)
    hits.fragmenter = highlight.ContextFragmenter(maxchars=240, surround=60)
    hits.formatter = _MarkFormatter()
    out = [_hit(h) for h in hits]
    return Results(query=text, total=len(hits), hits=out)


class _MarkFormatter(highlight.Formatter):
    """Highlights as **word** (readable in a terminal, in JSON, and as Markdown)."""

    between = " … "

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"**{highlight.get_text(text, token, replace)}**"


def _hit(hit: Any) -> Hit:
    data = hit["data"]
    lang = hit.get("lang", "")
    snippet = ""
    for fieldname in (body_field(lang), "exact"):
        snippet = hit.highlights(fieldname, text=data["text"], top=2)
        if snippet:
            break
    if not snippet:
        snippet = _first_words(data["text"], 240)
    return Hit(
        doc_id=hit["doc_id"],
        section_id=hit["section_id"],
        title=data["title"],
        heading=" / ".join(data["heading_path"]),
        heading_path=list(data["heading_path"]),
        pages=list(data["pages"]),
        lang=lang,
        doctype=hit.get("doctype", ""),
        date=hit.get("date", ""),
        score=float(hit.score or 0.0),
        snippet=" ".join(snippet.split()),
        source=data["source"],
    )


def _first_words(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def format_pages(pages: list[int]) -> str:
    if not pages:
        return ""
    return f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"
