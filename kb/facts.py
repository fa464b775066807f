"""Knowledge-base facts: the project facts tagged in each document, and a timeline of projects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kb.store import Store
from kb.tagging.facts import FACT_NAMES


@dataclass
class ProjectFacts:
    doc_id: str
    title: str
    doctype: str
    date: str
    facts: list[dict[str, Any]] = field(default_factory=list)

    def first(self, name: str) -> dict[str, Any] | None:
        return next((f for f in self.facts if f["name"] == name), None)

    @property
    def project_title(self) -> str:
        fact = self.first("project_title")
        return fact["value"] if fact else self.title

    @property
    def start(self) -> str:
        """When the project began: its period's start, else the document's date."""
        period = self.first("period")
        return str(period["data"].get("start", "")) if period else self.date

    @property
    def end(self) -> str:
        period = self.first("period")
        return str(period["data"].get("end", "")) if period else ""

    def as_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "title": self.title, "doctype": self.doctype, "date": self.date,
                "project_title": self.project_title, "start": self.start, "end": self.end,
                "facts": self.facts}  # fmt: skip


def collect_facts(store: Store, *, doc_id: str | None = None) -> list[ProjectFacts]:
    """Every document that carries project facts, each fact with the sentence it came from."""
    sql = (
        "SELECT t.doc_id, t.value, t.label, t.text, t.data, d.title, d.doctype, d.date "
        "FROM tags t JOIN documents d ON d.id = t.doc_id WHERE t.kind = 'fact' AND t.section_id IS NULL"
    )
    params: tuple[str, ...] = ()
    if doc_id:
        sql += " AND t.doc_id = ?"
        params = (doc_id,)
    projects: dict[str, ProjectFacts] = {}
    import json

    for row in store.db.execute(sql + " ORDER BY t.doc_id, t.rowid", params):
        project = projects.setdefault(
            row["doc_id"], ProjectFacts(row["doc_id"], row["title"], row["doctype"], row["date"])
        )
        project.facts.append({"name": row["value"], "value": row["label"], "sentence": row["text"],
                              "data": json.loads(row["data"])})  # fmt: skip
    rank = {name: i for i, name in enumerate(FACT_NAMES)}
    for project in projects.values():
        project.facts.sort(key=lambda f: rank.get(f["name"], len(rank)))
    return list(projects.values())


def timeline(projects: list[ProjectFacts]) -> list[ProjectFacts]:
    """Projects in time order; those with no known date last."""
    return sorted(projects, key=lambda p: (not p.start, p.start, p.end, p.doc_id))
