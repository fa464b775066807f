"""Segmentation: `Extracted` blocks -> `Document` sections, the unit of retrieval.

Headings come from the PDF outline when there is one (its levels give the
heading path), else from the headings the extractor marked (HTML h1-h6,
Markdown #, numbered lines: "Module 3", "3.2 …", "Article 5", "Статья 5",
"5-nji madda"). Each section keeps its heading path and the pages it spans.
A section too long to cite (over MAX_SECTION_CHARS or MAX_SECTION_PAGES), and any
Word, OpenDocument or text file, is cut further at the headings its own text
carries (`kb.segment.headings.find_headings`); a PDF section still too long is cut by page.
Footnotes and comments (note blocks) become one last "Notes" section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kb.model import Block, Document, Extracted, Section
from kb.normalize import slugify
from kb.segment.headings import HeadingMatch, find_headings, keyword_heading, match_heading

# A web page or text with no headings still gets sections this long at most,
# so a hit points at the passage rather than at a whole long page.
MAX_SECTION_CHARS = 6000
# A section spanning more pages than this is searched for headings in its text.
MAX_SECTION_PAGES = 3
# No section, whatever its origin (a PDF page, a law's article, a hard-wrapped text or a
# Markdown table with no blank line, one long <p>), is longer than this: each search hit
# is highlighted and shown in time proportional to its section.
HARD_MAX_SECTION_CHARS = 20_000


def segment(extracted: Extracted, doc_id: str) -> Document:
    blocks = [b for b in extracted.blocks if b.text.strip() and b.kind != "note"]
    notes = [b for b in extracted.blocks if b.text.strip() and b.kind == "note"]
    title_key = _key(extracted.title)
    if extracted.format in ("docx", "odt") and blocks and _key(blocks[0].text) == title_key:
        blocks = blocks[1:]  # the title line of a file without a title style is the title
    groups: list[_Group] = []
    stack: list[tuple[int, str]] = []  # (level, heading text)
    body: list[Block] = []
    heading_block: Block | None = None

    def close() -> None:
        if not body:
            return
        groups.append(_Group([text for _, text in stack], heading_block, list(body)))

    for block in blocks:
        if block.kind == "heading":
            # The document's own title heading is the title, not a section heading.
            if block.level == 1 and _key(block.text) == title_key and not groups and not body:
                continue
            close()
            body = []
            level = block.level or 2
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, block.text))
            heading_block = block
            continue
        body.append(block)
    close()
    if not groups and blocks:
        groups.append(_Group([], None, blocks))
    # Word, OpenDocument and plain text carry a law's own numbering as text ("Статья 5."):
    # it is read everywhere there; elsewhere only where a section is too long to cite.
    keywords_everywhere = extracted.format in ("text", "docx", "odt")
    sections: list[Section] = []
    for group in groups:
        long = _too_long(group.body)
        parts = (
            _split_by_found_headings(group, weak=long, html=extracted.format == "html")
            if long or keywords_everywhere
            else [group]
        )
        for part in parts:
            for piece in _by_page_if_long(part):
                _append(sections, piece.path, piece.heading, piece.body, piece.match)
    if extracted.format == "pdf" and len(sections) == 1 and extracted.page_count > 2:
        sections = _by_page(sections[0], blocks, extracted.page_labels)
    sections = bound_section_size(_split_long(sections))
    if notes:
        # Footnotes and comments: searchable, citable, and never inside a provision's text.
        _append(sections, ["Notes"], None, notes)
        sections[-1].kind = "notes"
    _assign_ids(sections)
    return Document(
        id=doc_id,
        source=extracted.source,
        format=extracted.format,
        title=extracted.title,
        sections=sections,
        page_count=extracted.page_count,
        metadata=dict(extracted.metadata),
        warnings=list(extracted.warnings),
        date_text=extracted.published,
        page_labels=list(extracted.page_labels),
    )


@dataclass
class _Group:
    """The blocks under one heading path, before they become a section."""

    path: list[str]
    heading: Block | None
    body: list[Block]
    match: HeadingMatch | None = None  # what the heading was found as, when found in the text


def _too_long(body: list[Block]) -> bool:
    pages = [b.page for b in body if b.page]
    if pages and max(pages) - min(pages) + 1 > MAX_SECTION_PAGES:
        return True
    return sum(len(b.text) for b in body) > MAX_SECTION_CHARS


def _by_page_if_long(group: _Group) -> list[_Group]:
    """A PDF section still longer than MAX_SECTION_PAGES: one piece a page, so a hit cites its page.

    The first page keeps the heading; the others are "heading (page N)", or "Page N"
    when the text before any heading is that long.
    """
    pages = sorted({b.page for b in group.body if b.page})
    if not pages or pages[-1] - pages[0] + 1 <= MAX_SECTION_PAGES or len(pages) < 2:
        return [group]
    pieces: list[_Group] = []
    for page in pages:
        body = [b for b in group.body if b.page == page]
        if not pieces and group.path:
            pieces.append(_Group(group.path, group.heading, body, group.match))
            continue
        path = (
            [*group.path[:-1], f"{group.path[-1]} (page {page})"]
            if group.path
            else [f"Page {page}"]
        )
        pieces.append(_Group(path, None, body, group.match))
    # Blocks without a page (none in a PDF today) stay with the first piece.
    pieces[0].body.extend(b for b in group.body if not b.page)
    return pieces


def _split_by_found_headings(group: _Group, *, weak: bool, html: bool = False) -> list[_Group]:
    """Cut one group at the headings its text carries (kb.segment.headings.find_headings).

    Found headings nest by their own levels (part > chapter > article) below the
    group's heading path; text before the first one stays with the group's heading.
    """
    # In a web page, headings are marked up; its capitalised lines are banners, not headings.
    found = find_headings([b.text for b in group.body], weak=weak, caps=not html)
    if not found:
        return [group]
    by_index = {f.index: f for f in found}
    parts = [_Group(list(group.path), group.heading, [])]
    stack: list[tuple[int, str]] = []
    for index, block in enumerate(group.body):
        heading = by_index.get(index)
        if heading is None:
            parts[-1].body.append(block)
            continue
        if heading.tail_at > 0:
            # The heading ended a paragraph block (a lost line break): keep the paragraph.
            parts[-1].body.append(replace(block, text=block.text[: heading.tail_at].rstrip()))
        level = heading.match.level
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading.text))
        heading_block = replace(block, text=heading.text, kind="heading", level=level)
        parts.append(
            _Group([*group.path, *(t for _, t in stack)], heading_block, [], heading.match)
        )
    return [p for p in parts if p.body]


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def _append(
    sections: list[Section],
    path: list[str],
    heading: Block | None,
    body: list[Block],
    match: HeadingMatch | None = None,
) -> None:
    pages = [
        p
        for b in ([heading] if heading else []) + body
        if b is not None
        for p in (b.page, b.page_end)
        if p
    ]
    number, kind = "", "section"
    if heading is not None:
        found = match or match_heading(heading.text) or keyword_heading(heading.text)
        if found:
            number, kind = found.number, found.kind
    text = "\n\n".join(b.text if b.kind != "list" else f"• {b.text}" for b in body)
    sections.append(
        Section(
            id="",
            order=len(sections),
            heading_path=list(path),
            text=text,
            page_start=min(pages) if pages else None,
            page_end=max(pages) if pages else None,
            number=number,
            kind=kind,
        )
    )


def _by_page(section: Section, blocks: list[Block], labels: Sequence[str]) -> list[Section]:
    """A PDF with no headings at all: one section per page, so hits cite a page
    (named by the number printed on it, `labels`, when the PDF has its own)."""
    sections: list[Section] = []
    pages = sorted({b.page for b in blocks if b.page})
    for page in pages:
        body = [b for b in blocks if b.page == page]
        name = labels[page - 1] if 0 < page <= len(labels) and labels[page - 1] else str(page)
        _append(sections, [*section.heading_path, f"Page {name}"], None, body)
    return sections or [section]


def _split_long(sections: list[Section]) -> list[Section]:
    out: list[Section] = []
    for section in sections:
        if len(section.text) <= MAX_SECTION_CHARS or section.page_start is not None:
            out.append(section)
            continue
        paragraphs = section.text.split("\n\n")
        chunk: list[str] = []
        part = 1
        for para in paragraphs:
            if chunk and sum(len(p) for p in chunk) + len(para) > MAX_SECTION_CHARS:
                out.append(_part(section, chunk, part))
                chunk, part = [], part + 1
            chunk.append(para)
        out.append(_part(section, chunk, part) if part > 1 else section)
    for order, section in enumerate(out):
        section.order = order
    return out


def bound_section_size(
    sections: list[Section], limit: int = HARD_MAX_SECTION_CHARS
) -> list[Section]:
    """Split every section longer than `limit` into parts of at most `limit` characters.

    Cuts at the last line break before the limit, else the last sentence end, else the
    last space (a hard cut only inside one enormous word); each part keeps the section's
    pages and heading, marked "(part n)". Linear in the text."""
    if all(len(s.text) <= limit for s in sections):
        return sections
    out: list[Section] = []
    for section in sections:
        if len(section.text) <= limit:
            out.append(section)
            continue
        pieces = _cut(section.text, limit)
        for part, piece in enumerate(pieces, start=1):
            chunk = _part(section, [piece], part)
            chunk.page_start, chunk.page_end = section.page_start, section.page_end
            out.append(chunk)
    for order, section in enumerate(out):
        section.order = order
    return out


def _cut(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    start = 0
    while len(text) - start > limit:
        end = start + limit
        floor = start + limit // 2  # never a part shorter than half the limit for a boundary
        cut = text.rfind("\n", floor, end)
        if cut < 0:
            sentence = max(text.rfind(". ", floor, end), text.rfind("。", floor, end))
            cut = sentence + 1 if sentence >= 0 else text.rfind(" ", floor, end)
        if cut <= start:
            cut = end
        piece = text[start:cut].strip()
        if piece:
            pieces.append(piece)
        start = cut
    rest = text[start:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def _part(section: Section, paragraphs: list[str], part: int) -> Section:
    path = list(section.heading_path) or ["Text"]
    path[-1] = f"{path[-1]} (part {part})"
    return Section(
        id="",
        order=0,
        heading_path=path,
        text="\n\n".join(paragraphs),
        number=section.number,
        kind=section.kind,
    )


# The suffix of a section cut out of a longer one: "Article 3 (part 2)", "Chapter I (page 12)".
# kb.legal.parse removes it to find the provision the pieces belong to.
CONTINUATION = re.compile(r" \((part|page) (\d+)\)$")


def _assign_ids(sections: list[Section]) -> None:
    """Ids a user can type and that survive re-extraction: 'art-5', 's-3-2', a heading slug."""
    seen: set[str] = set()
    for section in sections:
        if section.number:
            prefix = {
                "article": "art",
                "chapter": "chp",
                "part": "part",
                "module": "mod",
                "annex": "annex",
            }.get(section.kind, "s")
            base = f"{prefix}-{slugify(section.number)}"
            piece = CONTINUATION.search(section.heading_path[-1]) if section.heading_path else None
            if piece:
                # "art-3-p2", not "art-3-2", which is Article 3-2's id.
                base = f"{base}-{'p' if piece.group(1) == 'part' else 'page'}{piece.group(2)}"
        elif section.heading_path:
            base = slugify(section.heading_path[-1], max_len=40)
        else:
            base = "intro" if section.order == 0 else f"s{section.order}"
        candidate, n = base, 2
        while candidate in seen:
            candidate, n = f"{base}-{n}", n + 1
        seen.add(candidate)
        section.id = candidate
