"""Extraction: bytes of one source -> `Extracted` (blocks with pages, outline, title).

One module per format; `extract_bytes` dispatches on what the bytes are, not on
the file name; a '.pdf' that is really an HTML page (an error page saved in the
document's place) and a Word file named '.pdf' are refused as what they are. Limits (`kb.runtime.limits`) are applied here:
pages per PDF, bytes per HTML or text source.
"""

from __future__ import annotations

from kb.acquire.sources import source_format
from kb.errors import SourceError
from kb.model import Extracted, SourceRef
from kb.runtime.limits import Limits, current_limits

# Bumped whenever an extractor's output changes: part of the Prefect cache key,
# so a change of extractor code re-extracts what it affects and nothing else. "+seg2":
# segmentation finds headings in long sections' text (issue 20), so every format's stored
# documents were read again once; plain text keeps one-paragraph-a-line layouts apart.
EXTRACTOR_VERSIONS = {
    "pdf": "pdf-4+seg2",
    "html": "html-4+seg2",
    "text": "text-3+seg2",
    "docx": "docx-1",
    "odt": "odt-1",
}

# Leading bytes of formats we do not read, and how to name them to a person.
_FOREIGN_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (a Word, Excel or OpenDocument file?)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file (.doc or .xls?)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)


def describe_foreign(head: bytes) -> str | None:
    """What a file is when it is a known format we do not read ("a JPEG image"), else None."""
    for magic, name in _FOREIGN_FORMATS:
        if head.startswith(magic):
            return name
    return None


def extract_bytes(
    ref: SourceRef, data: bytes, content_type: str = "", *, limits: Limits | None = None
) -> Extracted:
    """Extract one source; every problem with the bytes raises SourceError with a readable reason."""
    limits = limits or current_limits()
    if not data:
        raise SourceError("empty file: 0 bytes", stage="extract", source=ref.location)
    fmt = source_format(ref, content_type, data[:1024])
    if data.startswith(b"PK\x03\x04") and fmt not in ("docx", "odt"):
        # The first bytes did not say: the package's own parts do (a Word file whose first
        # entry is docProps/, served as application/octet-stream from a URL without a name).
        from kb.extract.docx import office_format

        fmt = office_format(data) or fmt
    foreign = describe_foreign(data[:16]) if fmt not in ("docx", "odt") else None
    if foreign is not None and data.startswith(b"PK\x03\x04"):
        from kb.extract.docx import describe_package

        foreign = describe_package(data) or foreign
    if foreign is not None:
        raise SourceError(
            f"unsupported format: the file is {foreign}, not a PDF, Word or OpenDocument text, web page or text file",
            stage="extract", source=ref.location,
        )  # fmt: skip
    # Imported here, not at the top: a worker process (kb.extract.worker) imports this
    # package first, and only the real extraction job needs the parsers.
    from kb.extract.html import extract_html
    from kb.extract.pdf import extract_pdf, html_instead_of_pdf
    from kb.extract.text import extract_text

    if fmt != "pdf" and _named_pdf(ref, content_type) and b"%PDF-" not in data[:1024]:
        # A '.pdf' that is a web page is nearly always an error or login page served in the
        # document's place: refused, so that "Page not found" never becomes a document.
        html = html_instead_of_pdf(data)
        if html:
            raise SourceError(html, stage="extract", source=ref.location)
    if fmt == "pdf":
        return extract_pdf(ref, data, max_pages=limits.max_pdf_pages, ocr=limits.ocr,
                           ocr_timeout_s=0.9 * limits.extract_timeout_s or None)  # fmt: skip
    if fmt in ("docx", "odt"):
        from kb.extract.docx import extract_docx, extract_odt

        read = extract_docx if fmt == "docx" else extract_odt
        return read(
            ref, data, max_file_bytes=limits.max_file_bytes, max_text_bytes=limits.max_text_bytes
        )
    if len(data) > limits.max_text_bytes:
        kind = "web pages" if fmt == "html" else "text files"
        raise SourceError(
            f"file too large: {len(data) / 1e6:.1f} MB (the limit is {limits.max_text_mb:g} MB for {kind})",
            stage="extract", source=ref.location,
        )  # fmt: skip
    if fmt == "html":
        return extract_html(ref, data, content_type=content_type)
    return extract_text(ref, data)


def _named_pdf(ref: SourceRef, content_type: str) -> bool:
    """The source is meant to be a PDF: its name or address ends in '.pdf', or the server says so."""
    from pathlib import PurePosixPath
    from urllib.parse import urlparse

    name = urlparse(ref.key).path if ref.kind == "url" else ref.key
    return PurePosixPath(name).suffix.lower() == ".pdf" or "pdf" in content_type.lower()


__all__ = ["EXTRACTOR_VERSIONS", "describe_foreign", "extract_bytes"]
