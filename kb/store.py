"""The knowledge base's store: SQLite under the home folder.

Sources with their fingerprints, documents, sections, tags, per-document
artifacts (e.g. the legal structure tree), ingest runs and their failures.
Each document is replaced in one transaction, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from kb.model import Document, Section, SourceRef, Tag

SCHEMA_VERSION = 1
# A reader waits this long at most: only a writer switching the journal mode blocks readers.
READ_TIMEOUT_SECONDS = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    key TEXT PRIMARY KEY,
    location TEXT NOT NULL,
    kind TEXT NOT NULL,
    site TEXT NOT NULL DEFAULT '',
    size INTEGER, mtime_ns INTEGER, sha256 TEXT,
    etag TEXT, last_modified TEXT,
    doc_id TEXT,
    status TEXT NOT NULL DEFAULT 'ok',       -- ok | failed | duplicate
    duplicate_of TEXT,                        -- source key holding the same content
    error TEXT, error_stage TEXT,
    missing_runs INTEGER NOT NULL DEFAULT 0,
    block_hashes TEXT NOT NULL DEFAULT '[]',  -- HTML block fingerprints for boilerplate detection
    extractor TEXT,
    updated TEXT
);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    source_key TEXT NOT NULL,
    title TEXT NOT NULL,
    doctype TEXT NOT NULL,
    lang TEXT NOT NULL,
    date TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL,                       -- the Document without its sections, as JSON
    updated TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS sections (
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    ord INTEGER NOT NULL,
    heading_path TEXT NOT NULL,
    text TEXT NOT NULL,
    page_start INTEGER, page_end INTEGER,
    lang TEXT NOT NULL,
    number TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'section',
    PRIMARY KEY (doc_id, id)
);
CREATE TABLE IF NOT EXISTS tags (
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    section_id TEXT,                          -- NULL: a document-level tag
    kind TEXT NOT NULL, value TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '', data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS tags_by_value ON tags(kind, value);
CREATE INDEX IF NOT EXISTS tags_by_doc ON tags(doc_id, section_id);
-- Duplicate detection and new-id checks look sources up by these, once a source per run:
-- without the indexes that is a table scan each (10,000 sources: ~18 s a run, measured).
CREATE INDEX IF NOT EXISTS sources_by_sha ON sources(sha256);
CREATE INDEX IF NOT EXISTS sources_by_doc ON sources(doc_id);
CREATE TABLE IF NOT EXISTS artifacts (
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    name TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (doc_id, name)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL, finished TEXT,
    state TEXT NOT NULL,                       -- running | completed | failed
    stats TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS failures (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    source TEXT NOT NULL, stage TEXT NOT NULL, reason TEXT NOT NULL
);
"""


@dataclass
class SourceRecord:
    key: str
    location: str
    kind: str
    site: str = ""
    size: int | None = None
    mtime_ns: int | None = None
    sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    doc_id: str | None = None
    status: str = "ok"
    duplicate_of: str | None = None
    error: str | None = None
    error_stage: str | None = None
    missing_runs: int = 0
    block_hashes: list[str] = field(default_factory=list)
    extractor: str | None = None


class Store:
    """The store at `path`.

    `readonly=True` is for commands that only read (status, show, docs, the web pages): it
    neither creates nor alters anything, so it never waits for an ingest's write lock (in
    WAL mode, readers do not wait for the writer). A writer's connection creates the
    schema, which takes the write lock: it waits up to 60 s for a running ingest.
    """

    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly:
            if not self.path.is_file():
                raise FileNotFoundError(f"{self.path}: no store there")
            self.db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=READ_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
            self.db.row_factory = sqlite3.Row
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(
            self.path, timeout=60, isolation_level=None, check_same_thread=False
        )
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.db.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # -- sources -----------------------------------------------------------------
    def source(self, key: str) -> SourceRecord | None:
        row = self.db.execute("SELECT * FROM sources WHERE key = ?", (key,)).fetchone()
        return _source_from_row(row) if row else None

    def sources(self, *, block_hashes: bool = True) -> list[SourceRecord]:
        """Every source's record. Without `block_hashes` their fingerprints are left out
        (empty), for a run that reads the other fields of every record (a record read so is
        not written back): parsed, they are most of a record's memory."""
        columns = "*" if block_hashes else ", ".join(_SOURCE_COLUMNS)
        rows = self.db.execute(f"SELECT {columns} FROM sources ORDER BY key")
        return [_source_from_row(r) for r in rows]

    def put_source(self, rec: SourceRecord, db: sqlite3.Connection | None = None) -> None:
        (db or self.db).execute(
            """INSERT INTO sources(key, location, kind, site, size, mtime_ns, sha256, etag,
                   last_modified, doc_id, status, duplicate_of, error, error_stage, missing_runs,
                   block_hashes, extractor, updated)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, datetime('now'))
               ON CONFLICT(key) DO UPDATE SET location=excluded.location, kind=excluded.kind,
                   site=excluded.site, size=excluded.size, mtime_ns=excluded.mtime_ns,
                   sha256=excluded.sha256, etag=excluded.etag, last_modified=excluded.last_modified,
                   doc_id=excluded.doc_id, status=excluded.status, duplicate_of=excluded.duplicate_of,
                   error=excluded.error, error_stage=excluded.error_stage,
                   missing_runs=excluded.missing_runs, block_hashes=excluded.block_hashes,
                   extractor=excluded.extractor, updated=excluded.updated""",
            (
                rec.key, rec.location, rec.kind, rec.site, rec.size, rec.mtime_ns, rec.sha256,
                rec.etag, rec.last_modified, rec.doc_id, rec.status, rec.duplicate_of, rec.error,
                rec.error_stage, rec.missing_runs, json.dumps(rec.block_hashes), rec.extractor,
            ),
        )  # fmt: skip

    def delete_source(self, key: str, db: sqlite3.Connection | None = None) -> None:
        (db or self.db).execute("DELETE FROM sources WHERE key = ?", (key,))

    def site_block_hashes(self, site: str, exclude: set[str]) -> list[list[str]]:
        rows = self.db.execute(
            "SELECT key, block_hashes FROM sources WHERE site = ? AND status = 'ok'", (site,)
        )
        return [
            json.loads(r["block_hashes"])
            for r in rows
            if r["key"] not in exclude and r["block_hashes"] != "[]"
        ]

    # -- documents -----------------------------------------------------------------
    def doc_id_for(self, source_key: str, wanted: str) -> str:
        """The source's existing id, else `wanted` made unique among documents."""
        row = self.db.execute(
            "SELECT doc_id FROM sources WHERE key = ? AND doc_id IS NOT NULL", (source_key,)
        ).fetchone()
        if row:
            return row["doc_id"]
        candidate, n = wanted, 2
        while self.db.execute(
            "SELECT 1 FROM documents WHERE id = ? UNION SELECT 1 FROM sources WHERE doc_id = ?",
            (candidate, candidate),
        ).fetchone():
            candidate, n = f"{wanted}-{n}", n + 1
        return candidate

    def save_document(self, doc: Document, db: sqlite3.Connection | None = None) -> None:
        """Replace the document, its sections and tags (call inside a transaction)."""
        con = db or self.db
        con.execute("DELETE FROM documents WHERE id = ?", (doc.id,))
        # Without its sections: `asdict` deep-copies every section and tag only for them to
        # be dropped here (three quarters of a commit's time, profiled at 1,000 documents).
        # Nor its own tags: they are rows of `tags` below, which `load_document` reads (they
        # were two thirds of this JSON, parsed by every load only to be replaced).
        head = replace(doc, sections=[], tags=[]).to_dict()
        head.pop("sections")
        head.pop("tags")
        con.execute(
            "INSERT INTO documents(id, source_key, title, doctype, lang, date, content_hash, data)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (doc.id, doc.source.key, doc.title, doc.doctype, doc.lang, doc.date, doc.content_hash,
             json.dumps(head, ensure_ascii=False)),
        )  # fmt: skip
        con.executemany(
            "INSERT INTO sections(doc_id, id, ord, heading_path, text, page_start, page_end, lang, number, kind)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (doc.id, s.id, s.order, json.dumps(s.heading_path, ensure_ascii=False), s.text,
                 s.page_start, s.page_end, s.lang, s.number, s.kind)
                for s in doc.sections
            ],
        )  # fmt: skip
        rows = [(doc.id, None, t) for t in doc.tags] + [
            (doc.id, s.id, t) for s in doc.sections for t in s.tags
        ]
        con.executemany(
            "INSERT INTO tags(doc_id, section_id, kind, value, label, text, data) VALUES (?,?,?,?,?,?,?)",
            [
                (d, sid, t.kind, t.value, t.label, t.text, json.dumps(t.data, ensure_ascii=False))
                for d, sid, t in rows
            ],
        )

    def delete_document(self, doc_id: str, db: sqlite3.Connection | None = None) -> None:
        (db or self.db).execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def document_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM documents ORDER BY id")]

    def documents(self) -> list[dict[str, Any]]:
        """Document headings for listings: id, title, doctype, lang, date, source location."""
        rows = self.db.execute(
            "SELECT d.id, d.title, d.doctype, d.lang, d.date, s.location, "
            "(SELECT count(*) FROM sections x WHERE x.doc_id = d.id) AS sections "
            "FROM documents d LEFT JOIN sources s ON s.key = d.source_key ORDER BY d.id"
        )
        return [dict(r) for r in rows]

    def load_document(self, doc_id: str) -> Document | None:
        row = self.db.execute("SELECT data FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        head = json.loads(row["data"])  # a store written before holds the tags here too
        tags_by_section: dict[str | None, list[Tag]] = {}
        # Plain tuples: a document has a hundred tags or more, and a full build loads every
        # document (rows by name cost a tenth of loading one).
        tuples = self.db.cursor()
        tuples.row_factory = None
        rows = tuples.execute(
            "SELECT section_id, kind, value, label, text, data FROM tags WHERE doc_id = ? ORDER BY rowid",
            (doc_id,),
        ).fetchall()
        # Each tag's data is JSON: one parse for all of them costs a third of one parse each.
        datas = json.loads("[" + ",".join([t[5] for t in rows]) + "]") if rows else []
        for (section_id, kind, value, label, text, _), data in zip(rows, datas, strict=True):
            tags_by_section.setdefault(section_id, []).append(Tag(kind, value, label, text, data))
        rows = self.db.execute(
            "SELECT * FROM sections WHERE doc_id = ? ORDER BY ord", (doc_id,)
        ).fetchall()
        paths = json.loads("[" + ",".join(r["heading_path"] for r in rows) + "]") if rows else []
        sections = [
            Section(
                id=r["id"], order=r["ord"], heading_path=path, text=r["text"],
                page_start=r["page_start"], page_end=r["page_end"], lang=r["lang"], number=r["number"],
                kind=r["kind"], tags=tags_by_section.get(r["id"], []),
            )
            for r, path in zip(rows, paths, strict=True)
        ]  # fmt: skip
        head["source"] = SourceRef(**head["source"])
        head["tags"] = tags_by_section.get(None, [])
        head["sections"] = sections
        return Document(**head)

    def iter_documents(self, doc_ids: Iterable[str] | None = None) -> Iterator[Document]:
        """The documents of `doc_ids` (None: all, in id order), those not stored left out."""
        for doc_id in self.document_ids() if doc_ids is None else doc_ids:
            doc = self.load_document(doc_id)
            if doc is not None:
                yield doc

    def counts(self) -> dict[str, int]:
        one = self.db.execute
        return {
            "documents": one("SELECT count(*) FROM documents").fetchone()[0],
            "sections": one("SELECT count(*) FROM sections").fetchone()[0],
            "sources": one("SELECT count(*) FROM sources").fetchone()[0],
            "pages": sum(
                json.loads(r[0]).get("page_count", 0) for r in one("SELECT data FROM documents")
            ),
        }

    # -- artifacts (e.g. the legal structure tree) ------------------------------------
    def save_artifact(
        self, doc_id: str, name: str, data: dict[str, Any], db: sqlite3.Connection | None = None
    ) -> None:
        (db or self.db).execute(
            "INSERT OR REPLACE INTO artifacts(doc_id, name, data) VALUES (?,?,?)",
            (doc_id, name, json.dumps(data, ensure_ascii=False)),
        )

    def load_artifact(self, doc_id: str, name: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT data FROM artifacts WHERE doc_id = ? AND name = ?", (doc_id, name)
        ).fetchone()
        return json.loads(row["data"]) if row else None

    # -- runs ----------------------------------------------------------------------
    def start_run(self, started: str) -> int:
        cur = self.db.execute("INSERT INTO runs(started, state) VALUES (?, 'running')", (started,))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, finished: str, state: str, stats: dict[str, Any],
                   failures: list[dict[str, str]]) -> None:  # fmt: skip
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished = ?, state = ?, stats = ? WHERE id = ?",
                (finished, state, json.dumps(stats, ensure_ascii=False), run_id),
            )
            db.executemany(
                "INSERT INTO failures(run_id, source, stage, reason) VALUES (?,?,?,?)",
                [(run_id, f["source"], f["stage"], f["reason"]) for f in failures],
            )

    def add_run_progress(self, run_id: int, part: dict[str, Any], db: sqlite3.Connection) -> None:
        """Append one commit's changes to a running run's record (inside that commit)."""
        stats = self.runs_stats(run_id, db)
        stats.setdefault("committed", []).append(part)
        self.set_run_stats(run_id, stats, db)

    def mark_interrupted(self, reason: str) -> list[dict[str, Any]]:
        """Runs left 'running' become 'interrupted' with `reason`; returns them (id, started,
        and what their commits had changed, under "committed")."""
        out = []
        with self.transaction() as db:
            rows = db.execute("SELECT * FROM runs WHERE state = 'running' ORDER BY id").fetchall()
            for r in rows:
                stats = json.loads(r["stats"])
                stats.setdefault("error", reason)
                db.execute(
                    "UPDATE runs SET state = 'interrupted', stats = ? WHERE id = ?",
                    (json.dumps(stats, ensure_ascii=False), r["id"]),
                )
                out.append({"id": r["id"], "started": r["started"], **stats})
        return out

    def runs_stats(self, run_id: int, db: sqlite3.Connection | None = None) -> dict[str, Any]:
        row = (db or self.db).execute("SELECT stats FROM runs WHERE id = ?", (run_id,)).fetchone()
        return json.loads(row["stats"]) if row else {}

    def set_run_stats(
        self, run_id: int, stats: dict[str, Any], db: sqlite3.Connection | None = None
    ) -> None:
        (db or self.db).execute(
            "UPDATE runs SET stats = ? WHERE id = ?",
            (json.dumps(stats, ensure_ascii=False), run_id),
        )

    def runs(self, limit: int = 10) -> list[dict[str, Any]]:
        out = []
        for r in self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)):
            failures = [
                dict(f)
                for f in self.db.execute(
                    "SELECT source, stage, reason FROM failures WHERE run_id = ?", (r["id"],)
                )
            ]
            out.append({"id": r["id"], "started": r["started"], "finished": r["finished"],
                        "state": r["state"], **json.loads(r["stats"]), "failures": failures})  # fmt: skip
        return out


# Every field of a source's record but its block fingerprints.
_SOURCE_COLUMNS = tuple(f.name for f in fields(SourceRecord) if f.name != "block_hashes")


def _source_from_row(row: sqlite3.Row) -> SourceRecord:
    data = dict(row)
    data.pop("updated", None)
    data["block_hashes"] = json.loads(data.get("block_hashes") or "[]")
    return SourceRecord(**data)
