"""Shaping library results for the templates: links that keep the query state,
hits grouped by document, facet lists, comparison rows and the elements table.

Presentation only: every fact shown comes from the library's objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from kb.web.service import SearchParams

PAGE_SIZE = 10
# URL parameter -> the facet's name in the search results.
FACET_NAMES: tuple[tuple[str, str], ...] = (
    ("type", "doctype"),
    ("lang", "lang"),
    ("year", "year"),
    ("tag", "tags"),
)
EXAMPLE_QUERIES: tuple[str, ...] = (
    "indicators of labour exploitation",
    "идентификация жертв",
    "129-1",
    "adam söwdasy",
)


def search_url(params: SearchParams, **changes: Any) -> str:
    """/search with the whole query state in the URL; a change of filter goes back to page 1."""
    state: dict[str, Any] = {
        "q": params.q,
        "type": params.doctype,
        "lang": params.lang,
        "year": params.year,
        "tag": params.tag,
        "doc": params.doc,
        "sort": params.sort,
        "limit": params.limit if params.limit != PAGE_SIZE else None,
        "page": params.page,
        "in_force": "true" if params.in_force else None,
    }
    if any(name != "page" for name in changes):
        state["page"] = None
    state.update(changes)
    if state.get("page") == 1:
        state["page"] = None
    query = urlencode([(k, v) for k, v in state.items() if v not in (None, "")])
    return f"/search?{query}" if query else "/search"


def query_url(q: str, **filters: Any) -> str:
    """/search for a new query, with optional filters (type=, lang=, year=, tag=)."""
    return search_url(SearchParams(q=q), **filters)


def with_ui(url: str, ui: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}ui={ui}"


def document_url(doc_id: str, *, q: str = "", section: str = "") -> str:
    """A document page; with a section, the URL jumps to it and asks for similar sections."""
    params = [(k, v) for k, v in (("q", q), ("s", section)) if v]
    url = f"/doc/{quote(doc_id, safe='')}" + (f"?{urlencode(params)}" if params else "")
    return url + (f"#sec-{section}" if section else "")


@dataclass
class HitGroup:
    """One document's sections on this page, in rank order, and how many more it has."""

    doc_id: str
    title: str
    doctype: str
    date: str
    hits: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0

    @property
    def first(self) -> dict[str, Any]:
        return self.hits[0] if self.hits else {}


def group_hits(results: dict[str, Any]) -> list[HitGroup]:
    """The search's groups with their hits; ungrouped results as one group a document run."""
    by_key = {(h["doc_id"], h["section_id"]): h for h in results.get("hits", [])}
    if results.get("groups"):
        return [
            HitGroup(
                g["doc_id"],
                g["title"],
                g["doctype"],
                g.get("date", ""),
                [
                    by_key[(g["doc_id"], sid)]
                    for sid in g["sections"]
                    if (g["doc_id"], sid) in by_key
                ],
                g.get("more", 0),
            )
            for g in results["groups"]
        ]
    groups: list[HitGroup] = []
    for hit in results.get("hits", []):
        if not groups or groups[-1].doc_id != hit["doc_id"]:
            groups.append(HitGroup(hit["doc_id"], hit["title"], hit["doctype"], hit["date"]))
        groups[-1].hits.append(hit)
    return groups


@dataclass
class FacetValue:
    value: str
    label: str
    count: int | None
    url: str
    active: bool


def facet_lists(results: dict[str, Any], params: SearchParams) -> dict[str, list[FacetValue]]:
    """Each facet's values with counts, and a link that adds it (or, when active, removes it)."""
    facets = results.get("facets") or {}
    out: dict[str, list[FacetValue]] = {}
    for url_name, key in FACET_NAMES:
        active_value = params.filters.get(url_name)
        values = []
        for item in facets.get(key, []):
            value = str(item.get("value", ""))
            if not value:
                continue
            active = value == active_value
            url = search_url(params, **{url_name: None if active else value})
            label = str(item.get("label") or value)
            values.append(FacetValue(value, label, item.get("count"), url, active))
        if active_value and not any(v.active for v in values):
            remove = search_url(params, **{url_name: None})
            values.insert(0, FacetValue(active_value, active_value, None, remove, True))
        if values:
            out[url_name] = values
    return out


def page_count(results: dict[str, Any]) -> int:
    return max(int(results.get("pages") or 0), 1)


def page_links(current: int, pages: int, width: int = 2) -> list[int | None]:
    """Page numbers to show around the current one, with None for a gap: 1 … 4 5 [6] 7 8 … 20."""
    shown = {1, pages, *range(max(1, current - width), min(pages, current + width) + 1)}
    out: list[int | None] = []
    previous = 0
    for number in sorted(shown):
        if number - previous > 1:
            out.append(None)
        out.append(number)
        previous = number
    return out


@dataclass
class ExpansionView:
    """Words of the query that name an entity, and what was searched for them in other languages."""

    text: str
    label: str
    terms: list[tuple[str, str]]  # (language, term)


def expansions(results: dict[str, Any]) -> list[ExpansionView]:
    out = []
    for item in results.get("expansions") or []:
        terms = [
            (lang, term) for lang, words in (item.get("terms") or {}).items() for term in words
        ]
        out.append(ExpansionView(str(item.get("text", "")), str(item.get("label", "")), terms))
    return out


def pages_text(pages: list[int]) -> str:
    if not pages:
        return ""
    return f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"


# --- comparison -------------------------------------------------------------------------


@dataclass
class UnitView:
    citation: str
    heading: str
    lines: list[str]


@dataclass
class PairView:
    status: str
    similarity: float
    a: list[UnitView]
    b: list[UnitView]
    ops: list[Any]
    notes: list[str]
    forced: bool


def _units(root: Any, units: list[Any]) -> list[UnitView]:
    from kb.legal.structure import citation

    return [
        UnitView(
            citation(root, u),
            u.heading,
            [line for line in u.full_text().split("\n") if line.strip()],
        )
        for u in units
    ]


def comparison_rows(comparison: Any, *, show_matched: bool) -> tuple[list[PairView], int]:
    """The aligned pairs to show, and how many unchanged ones were left out."""
    rows: list[PairView] = []
    hidden = 0
    for pair in comparison.pairs:
        if pair.status == "matched" and not show_matched and not pair.notes:
            hidden += 1
            continue
        rows.append(
            PairView(
                status=pair.status,
                similarity=pair.similarity,
                a=_units(comparison.a_root, pair.a),
                b=_units(comparison.b_root, pair.b),
                ops=pair.ops,
                notes=pair.notes,
                forced=pair.forced,
            )
        )
    return rows, hidden


@dataclass
class EvidenceView:
    citation: str
    text: str


@dataclass
class ElementRow:
    id: str
    label: str
    kind: str
    by_side: dict[str, tuple[str, list[EvidenceView]]]  # side -> (status, evidence)


def elements_rows(reports: dict[str, Any], roots: dict[str, Any]) -> list[ElementRow]:
    """One row per element of the international definition, a column per national law.

    Evidence is cited the way a lawyer reads it ("Article 1(1)(a)"), found from the unit
    id in the side's structure tree."""
    from kb.legal.elements import element_labels
    from kb.legal.structure import citation, find_unit

    labels = element_labels()
    rows: dict[str, ElementRow] = {}
    for side, report in reports.items():
        root = roots[side]
        for result in [*report.elements, *report.extra]:
            row = rows.get(result.id)
            if row is None:
                label = labels.get(result.id, result.id)
                row = rows[result.id] = ElementRow(result.id, label, result.kind, {})
            status = "extra" if result in report.extra else result.status
            evidence = []
            for item in result.evidence:
                unit = find_unit(root, item.unit)
                where = citation(root, unit) if unit is not None else unit_name(item.unit)
                evidence.append(EvidenceView(where, item.text))
            row.by_side[side] = (status, evidence)
    return list(rows.values())


def unit_name(unit_id: str) -> str:
    """The tail of a unit id ("law__chapter_1__art_3" -> "art_3"): what a reader recognises."""
    return unit_id.split("__")[-1] if "__" in unit_id else unit_id


def listing(value: Any) -> str:
    """A list as "a, b, c"; nothing as a dash."""
    if not value:
        return "–"
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return str(value)
