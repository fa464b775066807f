"""The baseline a user could reach for instead: SQLite FTS5 (stdlib `sqlite3`), BM25 and snippet().

It indexes the same sections, read from our store, with the `unicode61` tokenizer
(case and diacritics folded, no stemming: FTS5 ships a Porter stemmer for English
only), and answers the same queries, filters included, with a highlighted snippet.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bench.queries import BenchQuery, fts5_match

# Weights in column order (title, heading, body), as our index boosts title and heading.
BM25_WEIGHTS = (3.0, 2.5, 1.0)


@dataclass
class FtsHit:
    doc_id: str
    section_id: str
    snippet: str
    score: float


def build_fts5(store_path: Path, db_path: Path) -> dict[str, float]:
    """Index every section of the store into a new FTS5 database; returns seconds and rows."""
    db_path.unlink(missing_ok=True)
    started = time.perf_counter()
    src = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    db = sqlite3.connect(db_path)
    db.executescript(
        """
        PRAGMA journal_mode=OFF;
        PRAGMA synchronous=OFF;
        CREATE VIRTUAL TABLE sections_fts USING fts5(
            title, heading, body, tokenize = 'unicode61 remove_diacritics 2');
        CREATE TABLE meta (id INTEGER PRIMARY KEY, doc_id TEXT, section_id TEXT, lang TEXT,
                           doctype TEXT, year TEXT, tags TEXT);
        """
    )
    tags: dict[tuple[str, str], list[str]] = {}
    for doc_id, section_id, value in src.execute(
        "SELECT doc_id, section_id, value FROM tags WHERE kind = 'entity' AND section_id IS NOT NULL"
    ):
        tags.setdefault((doc_id, section_id), []).append(value)
    rows = src.execute(
        "SELECT s.doc_id, s.id, s.heading_path, s.text, s.lang, d.title, d.doctype, d.date"
        " FROM sections s JOIN documents d ON d.id = s.doc_id ORDER BY s.doc_id, s.ord"
    )
    count = 0
    with db:
        for rowid, (
            doc_id,
            section_id,
            heading_path,
            text,
            lang,
            title,
            doctype,
            date,
        ) in enumerate(rows, 1):
            heading = " / ".join(json.loads(heading_path))
            db.execute("INSERT INTO sections_fts(rowid, title, heading, body) VALUES (?,?,?,?)",
                       (rowid, title, heading, text))  # fmt: skip
            db.execute(
                "INSERT INTO meta VALUES (?,?,?,?,?,?,?)",
                (rowid, doc_id, section_id, lang, doctype, (date or "")[:4],
                 "," + ",".join(sorted(set(tags.get((doc_id, section_id), [])))) + ","),
            )  # fmt: skip
            count += 1
        db.execute("INSERT INTO sections_fts(sections_fts) VALUES ('optimize')")
    db.close()
    src.close()
    return {"seconds": time.perf_counter() - started, "rows": count,
            "mb": db_path.stat().st_size / 1e6}  # fmt: skip


class FtsSearcher:
    """One open connection, reused between queries (as our searcher is)."""

    def __init__(self, db_path: Path) -> None:
        self.db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)

    def close(self) -> None:
        self.db.close()

    def search(self, query: BenchQuery, limit: int = 10) -> list[FtsHit]:
        where = ["sections_fts MATCH ?"]
        params: list[object] = [fts5_match(query.text)]
        for name, value in query.filters.items():
            if name == "tag":
                where.append("m.tags LIKE ?")
                params.append(f"%,{value},%")
            else:
                where.append(f"m.{name} = ?")
                params.append(value)
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        sql = (
            f"SELECT m.doc_id, m.section_id, snippet(sections_fts, 2, '**', '**', ' … ', 32),"
            f" bm25(sections_fts, {weights}) AS score"
            " FROM sections_fts JOIN meta m ON m.id = sections_fts.rowid"
            f" WHERE {' AND '.join(where)} ORDER BY score LIMIT ?"
        )
        params.append(limit)
        return [FtsHit(*row) for row in self.db.execute(sql, params)]
