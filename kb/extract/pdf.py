"""PDF extraction with pypdf: text page by page, the outline, metadata.

Lines repeated at the top or bottom of most pages (running headers, footers,
page numbers) are removed here, because only here is the page layout known.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from typing import Any

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError, PyPdfError

from kb.errors import SourceError
from kb.headings import match_heading
from kb.model import Block, Extracted, OutlineEntry, SourceRef
from kb.normalize import join_hyphenated, normalize_text

MAX_PDF_PAGES = 1500
# Fewer letters than this per page on average: the PDF has no usable text layer.
MIN_CHARS_PER_PAGE = 20

_PAGE_NUMBER = re.compile(
    r"^(?:(?:page|p\.|стр\.?|страница|sahypa)\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?"
    r"(?:\s*(?:/|of|из)\s*\d{1,4})?$",
    re.I,
)
_BULLET = re.compile(r"^(?:[•●▪◦–—-]\s|\(?[a-zа-я]\)\s|\d{1,2}[.)]\s)")

logging.getLogger("pypdf").setLevel(logging.ERROR)


def extract_pdf(ref: SourceRef, data: bytes, *, max_pages: int = MAX_PDF_PAGES, ocr: bool = True,
                ocr_timeout_s: float | None = None) -> Extracted:  # fmt: skip
    """Pages, outline and metadata of a PDF; a scanned PDF is read by OCR when `ocr` and installed."""
    where = ref.location
    if b"%PDF-" not in data[:1024]:
        raise SourceError(
            "not a PDF: there is no PDF header at the start of the file", source=where
        )
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except (NotImplementedError, PyPdfError) as exc:
                raise SourceError(
                    f"encrypted PDF: cannot decrypt ({_short(exc)})", source=where
                ) from None
            if not ok:
                raise SourceError("encrypted PDF: a password is required", source=where)
        page_count = len(reader.pages)
    except SourceError:
        raise
    except FileNotDecryptedError:
        raise SourceError("encrypted PDF: a password is required", source=where) from None
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError, AttributeError,
            IndexError, RecursionError) as exc:  # fmt: skip
        raise SourceError(_damaged(data, exc), source=where) from None
    if page_count == 0:
        raise SourceError("damaged PDF: no pages could be read", source=where)
    if page_count > max_pages:
        raise SourceError(
            f"too many pages: {page_count} (the limit is {max_pages} pages per PDF)", source=where
        )

    warnings: list[str] = []
    page_lines: list[list[str]] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            raw = page.extract_text() or ""
        except Exception as exc:
            warnings.append(f"page {number}: text could not be extracted ({_short(exc)})")
            raw = ""
        text = normalize_text(raw)
        page_lines.append([line for line in text.split("\n") if line.strip()])

    letters = sum(sum(ch.isalpha() for ch in line) for lines in page_lines for line in lines)
    if letters < MIN_CHARS_PER_PAGE * page_count:
        unreadable = _unreadable_content(reader)
        if unreadable:
            raise SourceError(unreadable, source=where)
        return _read_scanned(ref, data, max_pages=max_pages, ocr=ocr, ocr_timeout_s=ocr_timeout_s)

    outline = _read_outline(reader, page_count, warnings)
    _drop_running_lines(page_lines)
    blocks = _blocks_from_pages(page_lines, outline)
    meta = _metadata(reader)
    title = ref.title_hint or meta.get("title", "") or _first_heading(blocks) or ref.location
    return Extracted(
        source=ref,
        format="pdf",
        title=title,
        blocks=blocks,
        outline=outline,
        page_count=page_count,
        published=meta.get("published", ""),
        metadata=meta,
        warnings=warnings,
    )


def _damaged(data: bytes, exc: BaseException) -> str:
    """A reason for a PDF pypdf cannot open: a cut-short file is the common case, and says so."""
    if b"%%EOF" not in data[-2048:]:
        return f"damaged PDF: the file is cut short (an interrupted download?): {_short(exc)}"
    return f"damaged PDF: {_short(exc)}"


def _unreadable_content(reader: PdfReader, pages: int = 5) -> str:
    """Why the first pages give no text when it is not a scan, else ''.

    pypdf's text extraction logs and swallows errors in page content (a content
    stream that inflates past its safety limit, a corrupt stream), which would
    otherwise look like a page without a text layer; and a page with neither text
    nor a picture is no scan either.
    """
    pictures = False
    for number, page in enumerate(reader.pages[:pages], start=1):
        try:
            page.get_contents()
        except LimitReachedError:
            return f"damaged PDF: the content of page {number} inflates past the safety limit (a decompression bomb?)"
        except Exception as exc:
            return f"damaged PDF: the content of page {number} cannot be read ({_short(exc)})"
        pictures = pictures or _has_picture(page)
    if not pictures:
        return "no text: the pages hold neither text nor scanned images (blank, or damaged?)"
    return ""


def _has_picture(page: Any, depth: int = 0) -> bool:
    """An image on the page, directly or inside a form (where scanners often put it)."""
    try:
        objects = page["/Resources"].get_object().get("/XObject")
        if objects is None:
            return False
        for ref in objects.get_object().values():
            obj = ref.get_object()
            kind = obj.get("/Subtype")
            if kind == "/Image" or (kind == "/Form" and depth < 3 and _has_picture(obj, depth + 1)):
                return True
    except Exception:
        return False
    return False


def _read_scanned(ref: SourceRef, data: bytes, *, max_pages: int, ocr: bool,
                  ocr_timeout_s: float | None) -> Extracted:  # fmt: skip
    """A PDF without a text layer: read it by OCR, or say why it was not."""
    from kb.extract.ocr import INSTALL_HINT, ocr_available, ocr_pdf

    where = ref.location
    if not ocr_available():
        raise SourceError(
            f"no text layer: the PDF looks scanned; OCR is not enabled ({INSTALL_HINT})",
            source=where,
        )
    if not ocr:
        raise SourceError(
            "no text layer: the PDF looks scanned; OCR is turned off (KB_OCR=off)", source=where
        )
    readable = ocr_pdf(data, source=where, timeout_s=ocr_timeout_s)
    try:
        extracted = extract_pdf(ref, readable, max_pages=max_pages, ocr=False)
    except SourceError as exc:
        if exc.reason.startswith("no text layer"):
            raise SourceError(
                "no text layer: OCR found no readable text in the scanned pages", source=where
            ) from None
        raise
    extracted.metadata["ocr"] = "ocrmypdf"
    extracted.warnings.append("text read by OCR from scanned pages: expect misread letters")
    return extracted


def _short(exc: BaseException) -> str:
    text = str(exc).strip().split("\n")[0] or type(exc).__name__
    return text[:160]


def _metadata(reader: PdfReader) -> dict[str, str]:
    meta: dict[str, str] = {}
    try:
        info = reader.metadata or {}
        for key, name in (("/Title", "title"), ("/Author", "author"), ("/Subject", "subject")):
            value = info.get(key)
            if value and str(value).strip():
                meta[name] = normalize_text(str(value))
        created = info.get("/CreationDate")
        if created:
            m = re.match(r"D:(\d{4})(\d{2})?(\d{2})?", str(created))
            if m:
                meta["pdf_created"] = "-".join(g for g in m.groups() if g)
    except Exception:
        pass
    return meta


def _read_outline(reader: PdfReader, page_count: int, warnings: list[str]) -> list[OutlineEntry]:
    entries: list[OutlineEntry] = []

    def walk(items: list, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            title = normalize_text(str(getattr(item, "title", "") or ""))
            try:
                index = reader.get_destination_page_number(item)
            except Exception:
                index = None
            page = index + 1 if index is not None and 0 <= index < page_count else None
            if page is None and title:
                warnings.append(f"outline entry {title!r} points to a missing page")
            if title:
                entries.append(OutlineEntry(title=title, level=level, page=page))

    try:
        walk(reader.outline, 1)
    except Exception as exc:
        warnings.append(f"outline could not be read ({_short(exc)})")
        return []
    return entries


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line.casefold()).strip()


def _drop_running_lines(page_lines: list[list[str]]) -> None:
    """Remove running headers/footers and page numbers (top or bottom 3 lines of a page)."""
    pages = len(page_lines)
    counts: Counter[str] = Counter()
    for lines in page_lines:
        edge = set(lines[:3] + lines[-3:])
        counts.update({_shape(line) for line in edge})
    threshold = max(3, pages // 2 + 1) if pages >= 3 else 10**9
    repeated = {shape for shape, n in counts.items() if n >= threshold}
    for i, lines in enumerate(page_lines):
        keep: list[str] = []
        for j, line in enumerate(lines):
            at_edge = j < 3 or j >= len(lines) - 3
            if at_edge and (_shape(line) in repeated or _PAGE_NUMBER.match(line.strip())):
                continue
            keep.append(line)
        page_lines[i] = keep


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def _blocks_from_pages(page_lines: list[list[str]], outline: list[OutlineEntry]) -> list[Block]:
    titles_by_page: dict[int, list[tuple[str, int]]] = {}
    for entry in outline:
        if entry.page is not None:
            titles_by_page.setdefault(entry.page, []).append((_key(entry.title), entry.level))
    blocks: list[Block] = []
    # The last line of the previous page when its paragraph ran on: a heading-like
    # first line of the next page is then the paragraph's continuation.
    carried: list[str] = []
    for page, lines in enumerate(page_lines, start=1):
        wanted = list(titles_by_page.get(page, []))
        longest = max((len(line) for line in lines), default=0)
        paragraph: list[str] = []

        def flush(paragraph: list[str] = paragraph, page: int = page) -> None:
            if paragraph:
                text = join_hyphenated("\n".join(paragraph)).replace("\n", " ")
                blocks.append(Block(text=text, kind="paragraph", page=page))
                paragraph.clear()

        i = 0
        while i < len(lines):
            line = lines[i]
            key = _key(line)
            hit = next(
                (w for w in wanted if key and (key == w[0] or w[0].startswith(key + " "))), None
            )
            if hit is not None:
                # A long bookmark title may wrap onto the next line.
                text = line
                while (
                    _key(text) != hit[0]
                    and i + 1 < len(lines)
                    and hit[0].startswith(_key(text + " " + lines[i + 1]))
                ):
                    i += 1
                    text = f"{text} {lines[i]}"
                flush()
                wanted.remove(hit)
                blocks.append(Block(text=text, kind="heading", level=hit[1], page=page))
                i += 1
                continue
            heading = match_heading(line)
            if heading is not None and not paragraph_continues(paragraph or carried):
                flush()
                blocks.append(Block(text=line, kind="heading", level=heading.level, page=page))
                i += 1
                continue
            carried = []
            if paragraph and _BULLET.match(line):
                flush()
            paragraph.append(line)
            if (
                line.rstrip().endswith((".", "!", "?", ":", ";", "»", "”"))
                and len(line) < 0.8 * longest
            ):
                flush()
            i += 1
        carried = paragraph[-1:] if paragraph_continues(paragraph) else []
        flush()
    return blocks


def paragraph_continues(paragraph: list[str]) -> bool:
    """A heading-like line right after a line that does not end a sentence is wrapped text."""
    if not paragraph:
        return False
    last = paragraph[-1].rstrip()
    return not last.endswith((".", "!", "?", ":", ";", "»", "”", ")"))


def _first_heading(blocks: list[Block]) -> str:
    for block in blocks[:10]:
        if block.kind == "heading" or (block.page == 1 and len(block.text) < 150):
            return block.text
    return ""
