"""The legal-unit model: a law as a tree of `LegalUnit`s, how to walk it, look a unit up,
cite it, and store it as a dict.

Ids follow Akoma Ntoso's eId style (`chp_2__art_5__para_1__point_b`), so that a
provision can be cited, looked up, compared with another edition and checked against
the international definition of trafficking. The parser that builds the tree is
`kb.legal.parse`; the terminal view is `kb.legal.render.render_structure`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kb.legal.numbering import PROVISION_NUMBER, number_key
from kb.normalize import normalize_text

KINDS: tuple[str, ...] = (
    "act", "part", "chapter", "section", "article", "paragraph", "point", "note",
)  # fmt: skip
ID_PREFIX = {
    "note": "note",
    "part": "part",
    "chapter": "chp",
    "section": "sec",
    "article": "art",
    "paragraph": "para",
    "point": "point",
}


@dataclass
class LegalUnit:
    """One unit of a legal text.

    `text` holds the unit's own words (for an article: the words before its first
    numbered part or point); `full_text()` adds its descendants'. `label` is the word
    the source uses for the unit ("Article", "Статья", "Section", "madda"), kept so
    that citations read like the source.
    """

    id: str
    kind: str  # act | part | chapter | section | article | paragraph | point
    number: str
    heading: str
    text: str
    page_start: int | None = None
    page_end: int | None = None
    children: list[LegalUnit] = field(default_factory=list)
    label: str = ""
    # Editorial notes of the publisher, kept out of the law's words: «Сноска. …»,
    # "(В редакции Федерального закона от …)", «КонсультантПлюс: примечание.».
    annotations: list[str] = field(default_factory=list)
    # Where in `text` the words written after the unit's points begin (a French
    # alinéa after 1°–4°, a Russian "наказываются …" after а)–и)); None when there are
    # none. `text` keeps all its own words; redlines use this to keep the law's order.
    wrap_up_at: int | None = None

    def own_parts(self) -> tuple[str, str]:
        """(words before the unit's points, words after them)."""
        if self.wrap_up_at is None:
            return self.text, ""
        return self.text[: self.wrap_up_at].strip(), self.text[self.wrap_up_at :].strip()

    def full_text(self) -> str:
        """The unit's words in printed order: its opening words, its parts and points,
        then any closing words after them."""
        intro, closing = self.own_parts()
        parts = [intro] if intro else []
        for child in self.children:
            marker = child_marker(child)
            body = child.full_text()
            if child.kind in ("paragraph", "point"):
                parts.append(f"{marker} {body}".strip())
            else:
                title = " ".join(x for x in (marker, child.heading) if x)
                parts.append("\n".join(x for x in (title, body) if x))
        if closing:
            parts.append(closing)
        return "\n".join(parts)

    def walk(self) -> Iterator[LegalUnit]:
        yield self
        for child in self.children:
            yield from child.walk()


def child_marker(unit: LegalUnit) -> str:
    """How the source writes the unit's number: "1.", "(2)", "а)", "1°", "Article 5."."""
    if unit.kind == "paragraph":
        if unit.label == "(":
            return f"({unit.number})"
        if unit.label == "I.":
            return f"{unit.number}. -"
        return f"{unit.number}."
    if unit.kind == "point":
        if unit.label == "(":
            return f"({unit.number})"
        if unit.number.endswith("°"):
            return unit.number
        return f"{unit.number})"
    return heading_label(unit)


_DEFAULT_LABELS = {"part": "Part", "chapter": "Chapter", "section": "Section", "article": "Article"}


def heading_label(unit: LegalUnit) -> str:
    if not unit.number:
        return unit.label
    if not unit.label and unit.kind in _DEFAULT_LABELS:
        return f"{_DEFAULT_LABELS[unit.kind]} {unit.number}"
    if unit.label.casefold() == "madda":
        return f"{unit.number}-nji madda"
    if unit.label.casefold() == "bap":
        return f"{unit.number} bap"
    if unit.label:
        return f"{unit.label} {unit.number}"
    return unit.number


# --- lookups and citations -------------------------------------------------------

_CITATION_RE = re.compile(
    rf"^\s*(?:(?P<label>Article|Art\.?|Artikel|Статья|Ст\.?|Section|Sec\.?|s\.|§|Madda)\s*)?"
    rf"(?P<num>{PROVISION_NUMBER})(?:-?\w*nj\w*\s+madda)?\s*(?P<subs>(?:\(\s*[^)]+\s*\)\s*)*)$",
    re.IGNORECASE,
)


def provisions(root: LegalUnit) -> list[LegalUnit]:
    """The units that carry the law's rules: articles, or sections where there are none."""
    articles = [u for u in root.walk() if u.kind == "article"]
    if articles:
        return articles
    sections = [
        u
        for u in root.walk()
        if u.kind == "section" and not any(c.kind == "section" for c in u.children)
    ]
    if sections:
        return sections
    return [u for u in root.children if u.kind in ("chapter", "part")] or [root]


def find_unit(root: LegalUnit, ref: str) -> LegalUnit | None:
    """Find a unit by id ("chp_2__art_5__para_1"), id tail ("art_5"), number ("5", "129¹")
    or citation ("Article 5(2)(b)", "Статья 5(2)(б)", "Section 360C", "5-nji madda")."""
    ref = ref.strip()
    if not ref:
        return None
    units = list(root.walk())
    for unit in units:
        if unit.id == ref:
            return unit
    for unit in units:
        if unit.id.endswith(f"__{ref}"):
            return unit
    match = _CITATION_RE.match(ref)
    if not match:
        return None
    key = number_key(match.group("num"))
    label = (match.group("label") or "").casefold()
    kinds = ("section",) if label.startswith(("sec", "s.", "§")) else ("article", "section")
    target = next(
        (
            u
            for kind in kinds
            for u in units
            if u.kind == kind and number_key(u.number, u.kind) == key
        ),
        None,
    )
    if target is None:
        return None
    for sub in re.findall(r"\(\s*([^)]+?)\s*\)", match.group("subs") or ""):
        child = _child_by_number(target, sub)
        if child is None:
            return None
        target = child
    return target


def _child_by_number(unit: LegalUnit, number: str) -> LegalUnit | None:
    for kind in ("paragraph", "point"):
        wanted = number_key(number, kind)
        for child in unit.children:
            if child.kind == kind and number_key(child.number, kind) == wanted:
                return child
    return None


def path_to(root: LegalUnit, unit: LegalUnit) -> list[LegalUnit]:
    """The units from the root's child down to `unit` (empty if it is not in the tree)."""

    def search(node: LegalUnit, trail: list[LegalUnit]) -> list[LegalUnit] | None:
        if node is unit:
            return trail
        for child in node.children:
            found = search(child, [*trail, child])
            if found is not None:
                return found
        return None

    return search(root, []) or []


def citation(root: LegalUnit, unit: LegalUnit) -> str:
    """How a lawyer cites the unit: "Article 5(2)(b)", "Статья 5(2)(б)", "Chapter II"."""
    if unit is root:
        return root.heading
    return trail_citation(path_to(root, unit))


def trail_citation(trail: list[LegalUnit]) -> str:
    """`citation` of the last unit of `trail`, the units from the root's child down to it
    (`path_to`): for a caller that walks the tree and knows each unit's trail already."""
    anchor_index = next(
        (i for i in range(len(trail) - 1, -1, -1) if trail[i].kind not in ("paragraph", "point")),
        None,
    )
    if anchor_index is None:
        return "".join(f"({u.number})" for u in trail)
    anchor = trail[anchor_index]
    words = heading_label(anchor) if anchor.number else (anchor.heading or anchor.label)
    return words + "".join(f"({u.number})" for u in trail[anchor_index + 1 :])


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", normalize_text(text)).casefold().strip()


def locate(root: LegalUnit, fragment: str) -> LegalUnit | None:
    """The deepest unit whose text contains `fragment` (whitespace and case ignored)."""
    wanted = _squash(fragment)
    if not wanted:
        return None
    best: LegalUnit | None = None
    best_depth = -1

    def visit(unit: LegalUnit, depth: int) -> None:
        nonlocal best, best_depth
        if wanted not in _squash(f"{unit.heading}\n{unit.full_text()}"):
            return
        if depth > best_depth:
            best, best_depth = unit, depth
        for child in unit.children:
            visit(child, depth + 1)

    visit(root, 0)
    return best


# --- serialisation and display ---------------------------------------------------


def structure_to_dict(root: LegalUnit) -> dict[str, Any]:
    return {
        "id": root.id,
        "kind": root.kind,
        "number": root.number,
        "heading": root.heading,
        "text": root.text,
        "page_start": root.page_start,
        "page_end": root.page_end,
        "label": root.label,
        **({"annotations": list(root.annotations)} if root.annotations else {}),
        **({"wrap_up_at": root.wrap_up_at} if root.wrap_up_at is not None else {}),
        "children": [structure_to_dict(child) for child in root.children],
    }


def structure_from_dict(data: dict[str, Any]) -> LegalUnit:
    return LegalUnit(
        id=data.get("id", ""),
        kind=data.get("kind", "act"),
        number=data.get("number", ""),
        heading=data.get("heading", ""),
        text=data.get("text", ""),
        page_start=data.get("page_start"),
        page_end=data.get("page_end"),
        children=[structure_from_dict(child) for child in data.get("children", [])],
        label=data.get("label", ""),
        annotations=list(data.get("annotations", [])),
        wrap_up_at=data.get("wrap_up_at"),
    )
