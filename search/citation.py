"""Citation lines a trainer can paste: "Training Manual on …, section 3.2 “…”, pp. 15–16",
and for legislation the provision: "Law of Turkmenistan on … (2016), Article 5(2)(b)".

What can be worked out once (the document's citation title, the section's label, the
provisions of a law's article with their citations) is computed when indexing and stored
with the section; the provision that holds the matched words is chosen at query time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kb.legal.numbering import number_key
from kb.model import LEGAL_DOCTYPES, Document, Section

_ARTICLE_WORDS = re.compile(r"^(article|art\.|статья|ст\.|madda|section|§)\s*\S", re.IGNORECASE)


def format_pages(pages: Sequence[int | str]) -> str:
    if not pages:
        return ""
    return f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"


def shown_pages(data: dict[str, Any]) -> list[int | str]:
    """The page numbers a reader finds printed on a hit's pages (the PDF's page labels, or
    the number in its running header), else the page index; numeric labels as numbers."""
    printed = [str(p) for p in data.get("printed_pages") or []]
    if not printed:
        return list(data.get("pages") or [])
    return [int(p) if p.isdigit() else p for p in printed]


def citation_title(doc: Document) -> str:
    """The title with its year when the title does not already carry it (two editions of
    a law share a title; the year tells them apart)."""
    year = doc.date[:4] if doc.date else ""
    if year and year not in doc.title:
        return f"{doc.title} ({year})"
    return doc.title


def section_label(doc: Document, section: Section, legal: LegalIndex | None = None) -> str:
    """How the section is named in a citation: "Article 5", "section 3.2 “Indicators …”"."""
    leaf = " ".join(section.heading.split())
    if doc.doctype in LEGAL_DOCTYPES and (section.kind == "article" or _ARTICLE_WORDS.match(leaf)):
        if legal is not None:
            article = legal.article_citation(section)
            if article:
                return article
        # "Статья 2. Законодательство …" -> "Статья 2"; "Article 5" from the number.
        head = leaf.split(". ", 1)[0].rstrip(".") if leaf else ""
        if _ARTICLE_WORDS.match(head):
            return head
        return f"Article {section.number}" if section.number else head
    if not leaf:
        return ""
    number = section.number
    if number and leaf.startswith(number) and not leaf[len(number) : len(number) + 1].isalnum():
        rest = leaf[len(number) :].strip(" .:–-")
        return f"section {number} “{rest}”" if rest else f"section {number}"
    return f"“{leaf}”"


@dataclass
class LegalIndex:
    """A law's provisions by article number, from its structure tree."""

    # article number -> [(citation, depth, lowercased text)], the article first
    articles: dict[str, list[tuple[str, int, str]]]

    def article_citation(self, section: Section) -> str:
        units = self.articles.get(number_key(section.number))
        return units[0][0] if units else ""

    def units_for(self, section: Section) -> list[list[Any]]:
        if section.kind != "article" and not section.number:
            return []
        return [list(u) for u in self.articles.get(number_key(section.number), [])]


def legal_index(doc: Document, artifact: dict[str, Any] | None) -> LegalIndex | None:
    """The provisions of a law from its stored structure, or parsed here when the store
    has none; None for other documents or when the structure cannot be read."""
    if doc.doctype not in LEGAL_DOCTYPES:
        return None
    from kb.legal.parse import parse_structure
    from kb.legal.units import structure_from_dict, trail_citation

    try:
        root = structure_from_dict(artifact) if artifact else parse_structure(doc)
    except Exception:
        # A citation is a convenience: a law the parser cannot read is still indexed,
        # cited by its article number.
        return None
    articles: dict[str, list[tuple[str, int, str]]] = {}
    _add_articles(root, [], articles, trail_citation)
    return LegalIndex(articles)


# Module functions, not closures inside `legal_index`: a recursive closure is a reference
# cycle (the function, its cell) that holds the law's whole tree until the cyclic collector
# runs, and the index writers pause it; the 800 laws of the bench's 10,000 documents left
# one writer 165 MB larger.
def _add_articles(
    node: Any, trail: list[Any], articles: dict[str, list[tuple[str, int, str]]],
    cite: Callable[[list[Any]], str],
) -> None:  # fmt: skip
    """Each article under `node` with its provisions, into `articles`. Each unit's trail from
    the root is carried down the walk: looking it up from the root for every unit
    (`citation`) made a long code's index quadratic in its units (1.7 s of 4 s for the 70
    real documents of ../shared/realdocs)."""
    if node.kind == "article" and node.number:
        units: list[tuple[str, int, str]] = []
        _add_units(node, trail, 0, units, cite)
        articles.setdefault(number_key(node.number), units)
    for child in node.children:
        _add_articles(child, [*trail, child], articles, cite)


def _add_units(
    node: Any, trail: list[Any], depth: int, units: list[tuple[str, int, str]],
    cite: Callable[[list[Any]], str],
) -> None:  # fmt: skip
    """`node` and its descendants: (citation, depth, lowercased text), in document order
    (`cite`: a unit's citation from its trail, `kb.legal.units.trail_citation`)."""
    text = " ".join(f"{node.heading}\n{node.full_text()}".split()).casefold()
    cited = cite(trail) if trail else node.heading  # as `citation`: the root's is its heading
    units.append((cited, depth, text))
    for child in node.children:
        _add_units(child, [*trail, child], depth + 1, units, cite)


def best_unit(units: list[list[Any]], matched_words: list[str]) -> str:
    """The citation of the deepest provision that holds every matched word the article
    holds ("Article 5(2)(b)"), or the article's own citation."""
    if not units:
        return ""
    words = [w.casefold() for w in dict.fromkeys(matched_words) if w.strip()]
    if not words:
        return str(units[0][0])
    counts = [sum(1 for w in words if w in str(text)) for _, _, text in units]
    best = max(counts)
    if best == 0:
        return str(units[0][0])
    chosen = max((i for i, c in enumerate(counts) if c == best), key=lambda i: (units[i][1], -i))
    return str(units[chosen][0])


def citation_line(data: dict[str, Any], unit: str = "") -> str:
    """The whole citation: title, section or provision, pages (PDF) or address (web)."""
    parts = [str(data.get("cite_title") or data.get("title") or "")]
    label = unit or str(data.get("cite_label") or "")
    if label:
        parts.append(label)
    pages = format_pages(shown_pages(data))
    if pages:
        parts.append(pages)
    elif data.get("format") == "html" and data.get("source"):
        parts.append(str(data["source"]))
    return ", ".join(p for p in parts if p)
