"""A law read straight from its file, the one way both `kb elements FILE` and `kb build`
read it, so a provision has the same id and words on the command line and in the index.

Markdown and plain text keep the lines where provisions begin; a PDF is read page by
page without its margin notes (`kb.legal.pdfpages`). Other formats (HTML, Word) go
through the pipeline's extraction and `parse_structure`.
"""

from __future__ import annotations

from pathlib import Path

from kb.errors import KBError
from kb.legal.parse import parse_pages, parse_text
from kb.legal.units import LegalUnit

TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
DIRECT_SUFFIXES = TEXT_SUFFIXES | {".pdf"}


def parse_law_file(path: Path) -> LegalUnit:
    """The structure of a .md/.txt/.pdf law; a one-line error for anything else."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        try:
            return parse_text(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise KBError(f"{path}: not UTF-8 text") from None
    if suffix == ".pdf":
        from kb.legal.pdfpages import pdf_page_texts

        return parse_pages(pdf_page_texts(path))
    raise KBError(f"{path}: not read directly (use .md, .txt or .pdf)")
