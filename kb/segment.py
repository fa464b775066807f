"""Segmentation: `Extracted` blocks -> `Document` sections, the unit of retrieval.

Headings come from the PDF outline when there is one (its levels give the
heading path), else from the headings the extractor marked (HTML h1-h6,
Markdown #, numbered lines: "Module 3", "3.2 …", "Article 5", "Статья 5",
"5-nji madda"). Each section keeps its heading path and the pages it spans.
"""

from __future__ import annotations

import re

from kb.headings import match_heading
from kb.model import Block, Document, Extracted, Section
from kb.normalize import slugify

# A web page or text with no headings still gets sections this long at most,
# so a hit points at the passage rather than at a whole long page.
MAX_SECTION_CHARS = 6000
# No section, whatever its origin (a PDF page, a law's article, a hard-wrapped text or a
# Markdown table with no blank line, one long <p>), is longer than this: each search hit
# is highlighted and shown in time proportional to its section.
HARD_MAX_SECTION_CHARS = 20_000


def segment(extracted: Extracted, doc_id: str) -> Document:
    blocks = [b for b in extracted.blocks if b.text.strip()]
    title_key = _key(extracted.title)
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []  # (level, heading text)
    body: list[Block] = []
    heading_block: Block | None = None

    def close() -> None:
        if not body:
            return
        path = [text for _, text in stack]
        _append(sections, path, heading_block, body)

    for block in blocks:
        if block.kind == "heading":
            # The document's own title heading is the title, not a section heading.
            if block.level == 1 and _key(block.text) == title_key and not sections and not body:
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
    if not sections and blocks:
        _append(sections, [], None, blocks)
    if extracted.format == "pdf" and len(sections) == 1 and extracted.page_count > 2:
        sections = _by_page(sections[0], blocks)
    sections = bound_section_size(_split_long(sections))
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
    )


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def _append(
    sections: list[Section], path: list[str], heading: Block | None, body: list[Block]
) -> None:
    pages = [b.page for b in ([heading] if heading else []) + body if b is not None and b.page]
    number, kind = "", "section"
    if heading is not None:
        found = match_heading(heading.text)
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


def _by_page(section: Section, blocks: list[Block]) -> list[Section]:
    """A PDF with no headings at all: one section per page, so hits cite a page."""
    sections: list[Section] = []
    pages = sorted({b.page for b in blocks if b.page})
    for page in pages:
        body = [b for b in blocks if b.page == page]
        _append(sections, [*section.heading_path, f"Page {page}"], None, body)
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
        elif section.heading_path:
            base = slugify(section.heading_path[-1], max_len=40)
        else:
            base = "intro" if section.order == 0 else f"s{section.order}"
        candidate, n = base, 2
        while candidate in seen:
            candidate, n = f"{base}-{n}", n + 1
        seen.add(candidate)
        section.id = candidate
