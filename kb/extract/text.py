"""Plain text and Markdown sources."""

from __future__ import annotations

import re

from kb.errors import SourceError
from kb.model import Block, Extracted, SourceRef
from kb.normalize import normalize_text
from kb.segment.headings import keyword_heading

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")


def decode_text(data: bytes, source: str) -> str:
    for encoding in (
        ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",)
    ):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is None:
        raise SourceError("not text: the file is binary or in an unknown encoding", source=source)
    return data.decode(best.encoding, errors="replace")


def extract_text(ref: SourceRef, data: bytes) -> Extracted:
    text = decode_text(data, ref.location)
    if "\x00" in text[:4096]:
        raise SourceError("not text: the file contains binary data", source=ref.location)
    blocks: list[Block] = []
    title = ""
    for chunk in re.split(r"\n\s*\n", normalize_text(text)):
        chunk = chunk.strip()
        if not chunk:
            continue
        heading = _MD_HEADING.match(chunk.split("\n", 1)[0])
        if heading:
            level = len(heading.group(1))
            blocks.append(Block(heading.group(2).strip(), "heading", level))
            if level == 1 and not title:
                title = heading.group(2).strip()
            rest = chunk.split("\n", 1)[1].strip() if "\n" in chunk else ""
            if rest:
                blocks.append(Block(" ".join(rest.split("\n"))))
        else:
            blocks.extend(Block(text) for text in _paragraphs(chunk))
    if not blocks:
        raise SourceError("no text: the file is empty after normalisation", source=ref.location)
    if not title:
        title = ref.title_hint or blocks[0].text[:120]
    return Extracted(source=ref, format="text", title=ref.title_hint or title, blocks=blocks)


# Lines that end a sentence; a chunk made mostly of such lines has one paragraph a line.
_LINE_END = re.compile(r"[.:;!?»”\")]\s*$")


def _paragraphs(chunk: str) -> list[str]:
    """The paragraphs of a chunk of text between blank lines.

    Hard-wrapped text (most lines stop mid-sentence) is joined into one paragraph;
    a chunk written one paragraph a line (laws exported from legal databases, with
    no blank lines at all) keeps its lines. Either way a line that is a heading by
    its keyword ("Статья 5. …", "Article 3 – …", "Глава 2") stands on its own.
    """
    lines = [line.strip() for line in chunk.split("\n") if line.strip()]
    if len(lines) >= 3 and sum(1 for line in lines if _LINE_END.search(line)) >= 0.6 * len(lines):
        return lines
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if keyword_heading(line) is not None:
            if current:
                paragraphs.append(" ".join(current))
            paragraphs.append(line)
            current = []
        else:
            current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs
