"""A law read straight from its file, the one way both `kb elements FILE` and `kb build`
read it, so a provision has the same id and words on the command line and in the index.

Markdown and plain text keep the lines where provisions begin; a PDF's pages are read
by the PDF extractor, without their furniture (running heads, page numbers, margin
notes, printer's lines), a printed line a line (`kb.extract.pdf.page_lines`). Other
formats (HTML, Word) go through the pipeline's extraction and `parse_structure`.
"""

from __future__ import annotations

from pathlib import Path

from kb.errors import KBError, SourceError
from kb.legal.parse import parse_pages, parse_structure, parse_text
from kb.legal.units import LegalUnit
from kb.model import Document

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
        from kb.extract.pdf import page_lines
        from kb.model import SourceRef
        from kb.runtime.limits import current_limits

        limits = current_limits()
        try:
            read = page_lines(
                SourceRef(key=str(path), location=str(path)),
                path.read_bytes(),
                max_pages=limits.max_pdf_pages,
                ocr=limits.ocr,
            )
        except SourceError as exc:
            raise KBError(f"{path}: {exc.reason}") from None
        except OSError as exc:
            raise KBError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        return parse_pages(read.pages, running_heads=read.running)
    raise KBError(f"{path}: not read directly (use .md, .txt or .pdf)")


def law_structure(doc: Document) -> LegalUnit:
    """A built law's structure, read as `kb elements FILE` reads its file: a local
    .md/.txt/.pdf law as one tree, any other from the document's sections."""
    path = Path(doc.source.key) if doc.source.kind == "file" else None
    if path is not None and path.suffix.lower() in DIRECT_SUFFIXES and path.is_file():
        return parse_law_file(path)
    return parse_structure(doc)
