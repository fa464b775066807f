"""Marking words in text for HTML, always escaping the text first.

Two sources of marks: search snippets, which arrive with `**word**` marks from the
query API, and a section's full text on the document page, marked at the character
spans where the search library says the query matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape


def marks_to_html(snippet: str) -> Markup:
    """`**word**` marks as <mark>; everything else escaped, so markup in a document shows as text."""
    parts = str(escape(snippet or "")).split("**")
    if len(parts) % 2 == 0:
        # An odd number of "**": the last one is the document's own asterisks, not a mark.
        unpaired = parts.pop()
        parts[-1] += "**" + unpaired
    return Markup("".join(f"<mark>{p}</mark>" if i % 2 else p for i, p in enumerate(parts)))


def spans_to_html(text: str, spans: Iterable[tuple[int, int]]) -> Markup:
    """The text escaped, with the given character spans in <mark> (overlaps merged)."""
    out: list[str] = []
    position = 0
    for start, end in sorted(spans):
        start = max(start, position)
        if end <= start:
            continue
        out.append(str(escape(text[position:start])))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        position = end
    out.append(str(escape(text[position:])))
    return Markup("".join(out))


def paragraphs(markup: Markup) -> Markup:
    """Blank-line separated paragraphs as <p>, single line breaks as <br> (input already escaped)."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", str(markup)) if b.strip()]
    return Markup("".join(f"<p>{b.replace(chr(10), '<br>')}</p>" for b in blocks))


def code_spans(text: str) -> Markup:
    """`command` in a message (as the CLI writes them) as <code>, the rest escaped."""
    parts = str(escape(text or "")).split("`")
    if len(parts) % 2 == 0:
        unpaired = parts.pop()
        parts[-1] += "`" + unpaired
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))
