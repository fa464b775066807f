"""Shaping library results for the templates: links that keep the query state,
hits grouped by document, facet lists, comparison rows and the elements table.

Presentation only: every fact shown comes from the library's objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup, escape

from kb.legal.numbering import number_key
from kb.model import LEGAL_DOCTYPES
from kb.web.i18n import Translator
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
    from kb.legal.units import citation

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
    from kb.legal.units import citation, find_unit

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


# --- the reader's language: citations, headings, facets ------------------------------------

_GENERATED_PAGE_HEADING = re.compile(r"^Page (\d+)$")
_SECTION_LABEL = re.compile(r"^section (\S+)(?: (“.*”))?$")


def heading_text(text: str, t: Translator) -> str:
    """A heading as shown: the "Page 3" the segmenter gives unheaded PDF pages, in the
    interface's language; any other heading as written."""
    m = _GENERATED_PAGE_HEADING.match(text or "")
    return t("cite.page_heading", page=m.group(1)) if m else text


def heading_path_text(path: list[str], t: Translator, separator: str = " › ") -> str:
    return separator.join(heading_text(part, t) for part in path)


def citation_text(
    t: Translator,
    *,
    title: str,
    label: str = "",
    pages: list[int] | None = None,
    url: str = "",
    source: str = "",
) -> str:
    """A citation to paste: title, section or provision, pages (PDF) and the page's address
    (web), with the connecting words in the interface's language. A provision keeps the
    law's own words ("Article 5(2)(b)", "Статья 2"): that is how a lawyer cites it."""
    from kb.web import formats

    m = _SECTION_LABEL.match(label)
    if m:
        label = t("cite.section", number=m.group(1)) + (f" {m.group(2)}" if m.group(2) else "")
    elif label.startswith("“") and label.endswith("”"):
        label = f"“{heading_text(label[1:-1], t)}”"
    parts = [title, label, formats.pages(list(pages or []), t)]
    # A web page is cited by its address; without one (a saved copy), by where it lies.
    parts.append(url or ("" if pages else source))
    return ", ".join(p for p in parts if p)


def hit_citation(hit: dict[str, Any], t: Translator) -> str:
    if not hit.get("cite_title"):
        return str(hit.get("citation") or "")
    return citation_text(
        t,
        title=str(hit["cite_title"]),
        label=str(hit.get("cite_label") or ""),
        pages=list(hit.get("pages") or []),
        url=str(hit.get("url") or ""),
        source=str(hit.get("source") or ""),
    )


def section_citation(doc: Any, section: Any, t: Translator) -> str:
    from search.citation import citation_title, section_label

    return citation_text(
        t,
        title=citation_title(doc),
        label=section_label(doc, section),
        pages=list(doc.printed_pages(section.pages) or section.pages or []),
        url=document_address(doc),
        source=doc.source.location,
    )


def document_citation(doc: Any, t: Translator) -> str:
    from search.citation import citation_title

    return citation_text(
        t, title=citation_title(doc), url=document_address(doc), source=doc.source.location
    )


def document_address(doc: Any) -> str:
    """The web address a document was fetched from or declares (canonical link, og:url),
    when it has one: `Document.cited_source`, as search hits cite it."""
    from search.query import web_address

    return web_address(doc.cited_source())


def entity_label(entity_id: str, ui: str, fallback: str = "") -> str:
    """A vocabulary entry's name in the interface's language."""
    from kb.tagging.vocab import load_vocabulary

    try:
        entry = load_vocabulary().entry(entity_id)
    except Exception:
        return fallback or entity_id
    return entry.labels.get(ui) or entry.label


def localise_facets(facets: dict[str, list[FacetValue]], ui: str) -> None:
    """The "mentions" values under their names in the interface's language."""
    for item in facets.get("tag", []):
        item.label = entity_label(item.value, ui, item.label)


def localise_expansions(expanded: list[ExpansionView], results: dict[str, Any], ui: str) -> None:
    for view, item in zip(expanded, results.get("expansions") or [], strict=False):
        view.label = entity_label(str(item.get("entity", "")), ui, view.label)


# --- long documents: article references -----------------------------------------------------

_ARTICLE_REFERENCE = re.compile(
    r"(?P<before>\b(?:Articles?|Art\.|[Сс]тать(?:я|и|е|ю|ей|ёй|ями|ях)|[Сс]т\.)\s+)"
    r"(?P<numbers>\d+(?:[-.‑]\d+)?(?:\s*(?:,|и|and|или|or)\s*\d+(?:[-.‑]\d+)?)*)"
    r"|(?P<tk>\b\d+(?:-\d+)?)(?P<tk_tail>-(?:nji|njy|nju|njü|inji|ynjy|unjy|ünji)\s+madda\w*)"
)
_NUMBER = re.compile(r"\d+(?:[-.‑]\d+)?")
# "Article 129-1 of the Criminal Code", "статьёй 129-1 Уголовного кодекса": another act's
# article, not this law's ("of this Law", "настоящего Закона" are this law's).
_OTHER_ACT = re.compile(
    r"\s*(?:of\s+(?:the\s+)?(?!this\b)(?:[A-Z][\w-]*\s+){0,4}(?:Code|Law|Act|Convention|Protocol)\b"
    r"|(?!настоящ)[А-Яа-яё]+\s+(?:[а-яё]+\s+)?(?:[Кк]одекса|[Зз]акона|[Кк]онвенции|[Пп]ротокола)\b)"
)


def article_targets(doc: Any) -> dict[str, str]:
    """A law's article numbers and the ids of their sections ("5" -> "art-5")."""
    if doc.doctype not in LEGAL_DOCTYPES:
        return {}
    targets: dict[str, str] = {}
    for section in doc.sections:
        if section.kind == "article" and section.number:
            targets.setdefault(number_key(section.number), section.id)
    return targets


def link_articles(html: Markup, targets: dict[str, str], current: str = "") -> Markup:
    """Each "Article 5" / "статьи 5 и 6" / "5-nji maddasy" in a law's text linked to that
    article's section. Only text between tags is touched, so marks and markup survive."""
    if not targets:
        return html

    def link(number: str) -> str:
        target = targets.get(number_key(number))
        if not target or target == current:
            return number
        return f'<a class="article-ref" href="#sec-{escape(target)}">{number}</a>'

    def replace(m: re.Match[str]) -> str:
        if _OTHER_ACT.match(m.string, m.end()):
            return m.group()
        if m.group("tk"):
            return link(m.group("tk")) + m.group("tk_tail")
        numbers = _NUMBER.sub(lambda n: link(n.group()), m.group("numbers"))
        return m.group("before") + numbers

    pieces = re.split(r"(<[^>]*>)", str(html))
    out = [p if p.startswith("<") else _ARTICLE_REFERENCE.sub(replace, p) for p in pieces]
    return Markup("".join(out))


# --- the status page ------------------------------------------------------------------------


@dataclass
class FailingSource:
    source: str
    runs: int  # consecutive runs, up to the newest, in which it failed
    since: str  # when the first of them started
    reason: str


def failing_sources(runs: list[dict[str, Any]], minimum: int = 2) -> list[FailingSource]:
    """Sources that failed in each of the last `minimum` or more runs (newest first)."""
    if not runs:
        return []
    newest = {
        f.get("source"): f for f in runs[0].get("failures") or [] if f.get("source") != "(run)"
    }
    out: list[FailingSource] = []
    for source, failure in newest.items():
        streak = 0
        since = ""
        for run in runs:
            if any(f.get("source") == source for f in run.get("failures") or []):
                streak += 1
                since = str(run.get("started") or "")
            else:
                break
        if streak >= minimum:
            out.append(FailingSource(str(source), streak, since, str(failure.get("reason", ""))))
    return sorted(out, key=lambda f: (-f.runs, f.source))


def run_state(run: dict[str, Any]) -> tuple[str, int]:
    """The state to show and its failure count: a run that completed with failed sources
    is "completed_with_failures", never a plain green "completed"."""
    state = str(run.get("state") or "")
    failed = len([f for f in run.get("failures") or [] if f.get("source") != "(run)"])
    if state == "completed" and failed:
        return "completed_with_failures", failed
    return state, failed


def option_label(choice: dict[str, Any]) -> str:
    """A law in a drop-down: what tells two editions apart (year, language) first, so a
    phone that cuts the long title still shows it."""
    lead = [str(choice.get("date") or "")[:4], str(choice.get("lang") or "").upper()]
    return " · ".join([*(p for p in lead if p), str(choice.get("title") or choice.get("id"))])


def _template_helpers() -> dict[str, Any]:
    from kb.web import formats
    from kb.web.i18n import MESSAGES

    return {
        "fmt_number": formats.number,
        "fmt_date": formats.date,
        "fmt_moment": formats.moment,
        "fmt_pages": formats.pages,
        "fmt_duration": formats.duration,
        "seconds_between": formats.seconds_between,
        "zone_label": formats.zone_label,
        "heading_text": heading_text,
        "heading_path_text": heading_path_text,
        "entity_label": entity_label,
        "option_label": option_label,
        "element_keys": frozenset(k for k in MESSAGES if k.startswith("element.")),
        "hit_citation": hit_citation,
        "section_citation": section_citation,
        "document_citation": document_citation,
        "article_targets": article_targets,
        "link_articles": link_articles,
        "failing_sources": failing_sources,
        "run_state": run_state,
    }


# Functions the templates call with the page's `ui` and `t` (kb.web.app adds them).
TEMPLATE_HELPERS = _template_helpers()
