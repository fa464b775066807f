"""Extraction: bytes of one source -> `Extracted` (blocks with pages, outline, title).

One module per format; `extract_bytes` dispatches on what the bytes are, not on
the file name, so a '.pdf' that is really HTML is read as HTML.
"""

from __future__ import annotations

from kb.errors import SourceError
from kb.extract.html import extract_html
from kb.extract.pdf import extract_pdf
from kb.extract.text import extract_text
from kb.model import Extracted, SourceRef
from kb.sources import source_format

# Bumped whenever an extractor's output changes: part of the Prefect cache key,
# so a change of extractor code re-extracts what it affects and nothing else.
EXTRACTOR_VERSIONS = {"pdf": "pdf-3", "html": "html-3", "text": "text-2"}


def extract_bytes(ref: SourceRef, data: bytes, content_type: str = "") -> Extracted:
    if not data:
        raise SourceError("empty file: 0 bytes", stage="extract", source=ref.location)
    fmt = source_format(ref, content_type, data[:1024])
    if fmt == "pdf":
        return extract_pdf(ref, data)
    if fmt == "html":
        return extract_html(ref, data, content_type=content_type)
    return extract_text(ref, data)


__all__ = ["EXTRACTOR_VERSIONS", "extract_bytes"]
