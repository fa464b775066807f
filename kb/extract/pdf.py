"""PDF extraction with pypdf: text page by page, the outline, metadata.

Only here is the page layout known, so the furniture of a printed page is removed
here: lines repeated in the top or bottom rows of most pages (running headers,
footers, page numbers, whose numbers give the printed page numbers), a gazette's
margin notes (kept apart), printers' job lines and printed contents. Each line
keeps its position and font size (pypdf's text visitor): larger type marks
headings and the cover's title, and a paragraph cut by a page break is joined.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError, PyPdfError

from kb.errors import SourceError
from kb.model import Block, Extracted, OutlineEntry, SourceRef
from kb.normalize import join_hyphenated, normalize_text
from kb.segment.headings import match_heading

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
    reader = _open(ref, data, max_pages)
    page_count = len(reader.pages)
    pages, warnings = _layout(reader)
    if _without_text_layer(pages, page_count):
        unreadable = _unreadable_content(reader)
        if unreadable:
            raise SourceError(unreadable, source=where)
        return _read_scanned(ref, data, max_pages=max_pages, ocr=ocr, ocr_timeout_s=ocr_timeout_s)

    outline = _read_outline(reader, page_count, warnings)
    body_size = _body_size(pages)
    first_page = list(pages[0])
    running, printed, notes = _drop_furniture(pages, body_size)
    blocks = _blocks_from_pages(pages, outline, body_size)
    meta = _metadata(reader)
    chosen = choose_title(
        meta.get("title", ""), first_page, pages[:2], body_size, running, ref.location
    )
    title = ref.title_hint or chosen or _first_heading(blocks) or ref.location
    if chosen and chosen == first_page_title(first_page, body_size, running):
        # The cover's title, set in its largest type, is the title, not a passage of text.
        blocks = [
            b for b in blocks
            if not (b.page == 1 and b.kind == "paragraph" and _key(b.text) == _key(chosen))
        ]  # fmt: skip
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
        page_labels=tuple(_page_labels(reader, page_count) or printed),
        margin_notes=tuple(notes),
    )


def _open(ref: SourceRef, data: bytes, max_pages: int) -> PdfReader:
    """The PDF opened, decrypted with the empty password if needed, its page count checked;
    SourceError saying why not."""
    where = ref.location
    if b"%PDF-" not in data[:1024]:
        html = html_instead_of_pdf(data)
        if html:
            raise SourceError(html, source=where)
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
    return reader


def _layout(reader: PdfReader) -> tuple[list[list[Line]], list[str]]:
    """Each page's lines with position and size; a page pypdf cannot read is empty, with a warning."""
    warnings: list[str] = []
    pages: list[list[Line]] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            pages.append(layout_lines(page))
        except Exception as exc:
            warnings.append(f"page {number}: text could not be extracted ({_short(exc)})")
            pages.append([])
    return pages, warnings


def _without_text_layer(pages: list[list[Line]], page_count: int) -> bool:
    letters = sum(sum(ch.isalpha() for ch in line.text) for lines in pages for line in lines)
    return letters < MIN_CHARS_PER_PAGE * page_count


def _drop_furniture(
    pages: list[list[Line]], body_size: float
) -> tuple[list[str], list[str], list[Block]]:
    """Remove a printed page's furniture from `pages`: running headers and footers, page
    numbers, a gazette's margin notes and printer's job line, printed contents. Returns the
    running lines, the printed page numbers and the margin notes (as 'meta' blocks)."""
    running, printed = _drop_running_lines(pages)
    notes = _drop_margin_notes(pages, body_size)
    if notes:  # a gazette: its printer's job line goes with the margin notes
        _drop_printer_lines(pages, body_size)
    _drop_contents(pages)
    return running, printed, notes


# How an HTML page saved under a '.pdf' name starts (after a byte-order mark and blanks):
# a doctype, a comment ("<!-- saved from url=… -->"), an XML declaration, or any tag.
_HTML_START = re.compile(rb"^(?:<!doctype\s+html|<!--|<\?xml|<[a-z][a-z0-9]*[\s/>])", re.I)
_HTML_MARK = re.compile(rb"<(?:html|head|body|div|p|title|meta|table|span|a|h[1-6]|script)\b", re.I)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.I | re.S)


def html_instead_of_pdf(data: bytes) -> str:
    """'not a PDF: an HTML page …' when bytes meant to be a PDF are a web page (an error
    page saved under the PDF's name, usually), else ''."""
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="replace").encode("utf-8")
    elif head[:40].count(b"\x00") >= 10:  # UTF-16 without a byte-order mark
        even = head[:40:2].count(b"\x00") > head[1:40:2].count(b"\x00")
        head = head.decode("utf-16-be" if even else "utf-16-le", errors="replace").encode("utf-8")
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not _HTML_START.match(head) or not _HTML_MARK.search(head):
        return ""
    text = head.decode("utf-8", errors="replace")
    found = _HTML_TITLE.search(text)
    title = ""
    if found:
        title = " ".join(re.sub(r"<[^>]+>", " ", found.group(1) or found.group(2) or "").split())
    said = f" titled {title[:80]!r}" if title else ""
    return f"not a PDF: an HTML page{said} (an error page saved under the PDF's name?)"


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


@dataclass
class Line:
    """One line of a page as pypdf reads it, with where it starts and its font."""

    text: str
    x: float = 0.0
    y: float | None = None  # None: the position is unknown (a line inside a text run)
    size: float = 0.0  # font size in points, as drawn (0: unknown)
    bold: bool = False


_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.I)


def layout_lines(page: Any) -> list[Line]:
    """The page's text lines (pypdf's own text, unchanged) with position and font size.

    pypdf hands every text run to the visitor with its matrices and font; the runs
    joined are exactly `extract_text()`, so the lines are cut from them and each line
    takes the position and font of its first run and the size of its longest run.
    """
    runs: list[tuple[str, float, float, float, bool]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
        name = str(font.get("/BaseFont", "")) if isinstance(font, dict) else ""
        runs.append((text, x, y, float(size) * scale, bool(_BOLD_FONT.search(name))))

    page.extract_text(visitor_text=visit)
    lines: list[Line] = []
    parts: list[str] = []
    placed: list[tuple[str, float, float, float, bool]] = []

    def close() -> None:
        text = normalize_text("".join(parts))
        if text:
            if placed:
                first = placed[0]
                longest = max(placed, key=lambda run: len(run[0].strip()))
                bold = all(run[4] for run in placed)
                lines.append(
                    Line(text, round(first[1], 1), round(first[2], 1), round(longest[3], 1), bold)
                )
            else:
                lines.append(Line(text))
        parts.clear()
        placed.clear()

    for text, x, y, size, bold in runs:
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            if k:
                close()
            parts.append(piece)
            if piece.strip():
                # A line that starts inside a run (after its newline) is set one line lower.
                placed.append((piece, x, y - k * 1.2 * size, size, bold))
    close()
    return lines


def _body_size(pages: list[list[Line]]) -> float:
    """The font size most of the text is set in (by characters), 0 when unknown."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            if line.size:
                sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _shape(line: str) -> str:
    """A running line's shape: the page number gone, a number left at either end as '#'."""
    # Other numbers stay: body lines that differ only in their numbers ("Finding 8.3:
    # … group 83") are not one running line.
    return re.sub(r"\s+", "", re.sub(r"^\d+|\d+$", "#", _unnumbered(line).casefold()))


# A page number at the start of a running line ("7Penal Code…") or after a space at its end.
# Not "1st": a number glued to a word is a page number only before a capital ("7Penal").
_EDGE_NUMBER = re.compile(r"^\d{1,4}(?=\s|[A-ZА-ЯЁ])|(?<=\s|[^\W\d_])\d{1,3}$")


def _middle(lines: list[Line]) -> float:
    heights = [line.y for line in lines if line.y is not None]
    return (max(heights) + min(heights)) / 2 if heights else 0.0


def _edge_rows(lines: list[Line], rows: int = 3) -> set[int]:
    """Indexes of lines in the top and bottom `rows` rows of a page, by position;
    by reading order (first and last three lines) when positions are unknown."""
    heights = sorted({round(line.y) for line in lines if line.y is not None})
    if len(heights) < 2 * rows + 1:
        return set(range(min(3, len(lines)))) | set(range(max(0, len(lines) - 3), len(lines)))
    top, bottom = set(heights[-rows:]), set(heights[:rows])
    edge = {
        i for i, line in enumerate(lines) if line.y is not None and round(line.y) in top | bottom
    }
    # pypdf puts a footer drawn first at the start of the text: reading order counts too.
    edge |= {i for i in (0, len(lines) - 1) if lines[i].y is None}
    return edge


def _drop_running_lines(pages: list[list[Line]]) -> tuple[list[str], list[str]]:
    """Remove running headers/footers and page numbers (the top and bottom rows of a page).

    Returns the removed running lines (a title may be found among them) and the
    printed page number of each page when the header or footer carries one that
    follows the page index at a constant offset on most pages (else []).
    """
    count = len(pages)
    edges = [_edge_rows(lines) for lines in pages]
    shapes: Counter[str] = Counter()
    with_number: Counter[str] = Counter()  # shapes seen with a page number attached
    for lines, edge in zip(pages, edges, strict=True):
        shapes.update({_shape(lines[i].text) for i in edge})
        with_number.update(
            {_shape(lines[i].text) for i in edge if _EDGE_NUMBER.search(lines[i].text)}
        )
    # More than half the pages; four in ten for a line that carries the page number
    # (headers that differ on left and right pages each reach that). A table's column
    # heads repeated on a third of the pages stay.
    if count >= 3:
        repeated = {
            shape
            for shape, n in shapes.items()
            if len(shape) >= 4
            and n >= max(3, count // 2 + 1 if with_number[shape] < n / 2 else round(0.4 * count))
        }
    else:
        repeated = set()
    running: list[str] = []
    offsets: Counter[int] = Counter()
    numbered = 0
    for index, (lines, edge) in enumerate(zip(pages, edges, strict=True)):
        keep: list[Line] = []
        found: set[int] = set()
        bands: dict[bool, list[str]] = {}
        middle = _middle(lines)
        for i, line in enumerate(lines):
            text = line.text.strip()
            if i in edge and (_shape(text) in repeated or _PAGE_NUMBER.match(text)):
                top = line.y is not None and line.y >= middle
                bands.setdefault(top, []).append(text)
                number = (
                    _EDGE_NUMBER.search(text)
                    if _shape(text) in repeated
                    else re.search(r"\d{1,4}", text)
                )
                if number is not None:
                    found.add(int(number.group(0)) - (index + 1))
                continue
            keep.append(line)
        pages[index] = keep
        # A running header set on two lines is one title line.
        running.extend(" ".join(texts) for texts in bands.values())
        if found:
            numbered += 1
            offsets.update(found)
    printed: list[str] = []
    if offsets and count >= 3:
        offset, hits = offsets.most_common(1)[0]
        if offset != 0 and hits >= max(3, 0.6 * numbered) and hits >= count // 2:
            # An unnumbered page (a cover) is cited by its place in brackets: "[1]".
            printed = [
                str(i + offset) if i + offset >= 1 else f"[{i}]" for i in range(1, count + 1)
            ]
    return running, printed


def _drop_margin_notes(pages: list[list[Line]], body_size: float) -> list[Block]:
    """Remove side headings (margin notes of gazettes) and return them as 'meta' blocks.

    A note is set smaller than the body text in short lines. It is found first by where
    it starts: left of the body's column, or far right of where body lines start. In a
    document that has such notes, a column of three or more small short lines at one
    position is a note too: an inserted section's own side heading sits beside the
    quoted text, inside the page's column.
    """
    if not body_size:
        return []
    found: list[list[bool]] = []
    for lines in pages:
        body = [ln for ln in lines if ln.size >= 0.92 * body_size and ln.y is not None]
        flags = [False] * len(lines)
        if len(body) >= 5:
            starts = sorted(ln.x for ln in body)
            left = starts[len(starts) // 20]  # the column's left edge, a stray line aside
            rightmost = starts[-1 - len(starts) // 20]
            for i, ln in enumerate(lines):
                if _note_sized(ln, body_size) and (
                    ln.x < left - 6 or ln.x > rightmost + 8 * body_size
                ):
                    flags[i] = True
        found.append(flags)
    if not _has_note_columns(pages, found):
        return []
    for lines, flags in zip(pages, found, strict=True):
        _mark_note_columns(lines, flags, body_size)
    notes: list[Block] = []
    for number, (lines, flags) in enumerate(zip(pages, found, strict=True), start=1):
        current: list[str] = []
        for line, note in zip(lines, flags, strict=True):
            if note:
                current.append(line.text)
                if not line.text.rstrip().endswith("."):
                    continue
            if current:
                text = join_hyphenated("\n".join(current)).replace("\n", " ")
                notes.append(Block(text=text, kind="meta", page=number))
                current = []
        if current:
            text = join_hyphenated("\n".join(current)).replace("\n", " ")
            notes.append(Block(text=text, kind="meta", page=number))
        pages[number - 1] = [ln for ln, note in zip(lines, flags, strict=True) if not note]
    return notes


def _has_note_columns(pages: list[list[Line]], found: list[list[bool]]) -> bool:
    """Gazette-like: side notes on a good share of the pages (three in ten), standing in
    one or two columns (left and right of the body, as pages alternate). Small tables and
    figure labels beside a report's text stand at many places and on few pages."""
    xs = sorted(ln.x for lines, flags in zip(pages, found, strict=True)
                for ln, flag in zip(lines, flags, strict=True) if flag)  # fmt: skip
    pages_with_notes = sum(any(flags) for flags in found)
    if pages_with_notes < max(2, 0.3 * sum(1 for lines in pages if lines)):
        return False
    columns: list[int] = []
    for i, x in enumerate(xs):
        if i == 0 or x - xs[i - 1] > 8:
            columns.append(0)
        columns[-1] += 1
    return sum(sorted(columns, reverse=True)[:2]) >= 0.8 * len(xs)


def _note_sized(line: Line, body_size: float) -> bool:
    return 0 < line.size < 0.92 * body_size and len(line.text) <= 40 and line.y is not None


def _mark_note_columns(lines: list[Line], flags: list[bool], body_size: float) -> None:
    """Flag runs of small short lines that start at one position: three or more, or two
    that end a sentence ("Soliciting a / child.")."""
    i = 0
    while i < len(lines):
        j = i
        while (
            j < len(lines)
            and _note_sized(lines[j], body_size)
            and abs(lines[j].x - lines[i].x) <= 2
        ):
            j += 1
        if j - i >= 3 or (j - i == 2 and lines[j - 1].text.rstrip().endswith(".")):
            for k in range(i, j):
                flags[k] = True
        i = max(j, i + 1)


_LEADER_LINE = re.compile(r"(?:\.{3,}|…{2,}|(?:\s?\.\s){3,}|_{4,}|·{3,})\s*\S{0,6}\s*$")
_CONTENTS_TITLE = re.compile(
    r"^(?:table of )?contents$|^содержание$|^оглавление$|^mazmuny$|^sommaire$", re.I
)
_ENDS_WITH_PAGE = re.compile(
    r"\s(?:\d{1,4}|x{0,3}(?:ix|iv|v?i{1,3}|v)|X{0,3}(?:IX|IV|V?I{1,3}|V))$"
)


def _drop_printer_lines(pages: list[list[Line]], body_size: float) -> None:
    """Remove a printer's job line at the foot or head of a page ("2—PL 000608–5,650
    (08/2005)"): small type, in the page's first or last row, hardly a letter in it."""
    for index, lines in enumerate(pages):
        heights = [ln.y for ln in lines if ln.y is not None]
        if not heights or not body_size:
            continue
        low, high = min(heights), max(heights)
        pages[index] = [
            ln
            for ln in lines
            if not (
                ln.y in (low, high)
                and 0 < ln.size < 0.92 * body_size
                and sum(ch.isalpha() for ch in ln.text) < 0.25 * len(ln.text)
            )
        ]


def _drop_contents(pages: list[list[Line]]) -> None:
    """Remove a printed table of contents: lines with dot leaders and a page number,
    and on a page headed "Contents" the entry lines that end in a page number."""
    for index, lines in enumerate(pages):
        leaders = sum(1 for ln in lines if _LEADER_LINE.search(ln.text))
        titled = any(_CONTENTS_TITLE.match(ln.text.strip(" :")) for ln in lines[:4])
        if leaders < 3 and not titled:
            continue
        keep = []
        for ln in lines:
            text = ln.text.strip()
            if _LEADER_LINE.search(text) or _CONTENTS_TITLE.match(text.strip(" :")):
                continue
            if titled and _ENDS_WITH_PAGE.search(text) and len(text) < 120:
                continue
            keep.append(ln)
        pages[index] = keep


def _page_labels(reader: PdfReader, page_count: int) -> list[str]:
    """The PDF's own page labels ("i", "67"), when it has them and they are not the index."""
    try:
        if "/PageLabels" not in reader.trailer["/Root"]:
            return []
        labels = [str(label) for label in reader.page_labels][:page_count]
    except Exception:
        return []
    if len(labels) != page_count or labels == [str(i) for i in range(1, page_count + 1)]:
        return []
    return labels


_ARTEFACT_TITLE = re.compile(
    r"\.(?:docx?|odt|rtf|pdf|p65|pm\d|indd|qxd|qxp|pub|txt|html?|ai|eps|tmp|wpd)\s*$"
    r"|^(?:microsoft (?:word|powerpoint|excel)|untitled|document\d*|pdf|print)\b",
    re.I,
)
_DATE_LINE = re.compile(
    r"^(?:(?:\d{1,2}\s+)?(?:january|february|march|april|may|june|july|august|september|october"
    r"|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|spring|summer|autumn"
    r"|fall|winter|январ\w*|феврал\w*|март\w*|апрел\w*|ма[йя]|июн\w*|июл\w*|август\w*|сентябр\w*"
    r"|октябр\w*|ноябр\w*|декабр\w*)\.?,?\s+)?(?:\d{1,2},?\s+)?\d{4}(?:\s*г(?:ода|\.)?)?$"
    r"|^(?:vol(?:ume)?|issue|no|number|№|выпуск|series)\.?\s*\d",
    re.I,
)


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text.casefold()) if len(w) >= 3 and not w.isdigit()]


def title_is_artefact(title: str, location: str) -> bool:
    """A metadata title that names a file or the program that made it, not the document."""
    stem = re.sub(r"\.\w{1,4}$", "", location.rsplit("/", 1)[-1]).casefold()
    plain = title.strip().casefold()
    return bool(_ARTEFACT_TITLE.search(title.strip())) or plain in (stem, location.casefold())


def first_page_title(first_page: list[Line], body_size: float, running: list[str]) -> str:
    """The first page's largest text (with the subtitle set just below it in the next
    size), without date or issue lines; '' when nothing stands out from the body text."""
    candidates = [
        (i, ln)
        for i, ln in enumerate(first_page)
        if ln.size and not _DATE_LINE.match(ln.text.strip()) and not _PAGE_NUMBER.match(ln.text)
        and sum(ch.isalpha() for ch in ln.text) >= 3
    ]  # fmt: skip
    if not candidates:
        return ""
    largest = max(ln.size for _, ln in candidates)
    if body_size and largest < 1.15 * body_size:
        return ""
    tiers = sorted({round(ln.size) for _, ln in candidates}, reverse=True)

    def run_of(size: int, start: int) -> tuple[list[str], int]:
        """The lines set in `size` from `start` on, in reading order, and where they end."""
        texts, last = [], start
        for i, ln in candidates:
            if i < start:
                continue
            if round(ln.size) == size:
                if texts and i > last + 2:
                    break
                texts.append(ln.text)
                last = i
            elif texts:
                break
        return texts, last

    first = next(i for i, ln in candidates if round(ln.size) == tiers[0])
    title_lines, last = run_of(tiers[0], first)
    title = _join_lines(title_lines)
    if (
        len(tiers) > 1
        and tiers[1] >= 0.5 * tiers[0]
        and (not body_size or tiers[1] >= 1.15 * body_size)
    ):
        following = [i for i, ln in candidates if i > last]
        if (
            following
            and round(first_page[following[0]].size) == tiers[1]
            and following[0] <= last + 2
        ):
            sub_lines, _ = run_of(tiers[1], following[0])
            subtitle = _join_lines(sub_lines)
            if subtitle and len(title) + len(subtitle) < 240:
                title = f"{title.rstrip(' :')}: {subtitle}"
    if len(title) > 300:
        return ""
    return _case_from_running(title, running)


def _join_lines(lines: list[str]) -> str:
    return " ".join(join_hyphenated("\n".join(lines)).split())


def _unnumbered(line: str) -> str:
    """A running line without its page number ("7Penal Code … of 2006" -> "Penal Code … of 2006")."""
    # The number may follow the last word with no space ("…SURVIVORS2"), as set in a box.
    return re.sub(
        r"^\d{1,4}(?=\s|[A-ZА-ЯЁ])\s*|(?:\s+|(?<=[^\W\d_]))\d{1,3}$", "", line.strip()
    ).strip()


def _case_from_running(title: str, running: list[str]) -> str:
    """A title set in capitals takes the case of a running header that says the same."""
    if not title.isupper():
        return title
    key = _key(title)
    for line in running:
        text = _unnumbered(line)
        if _key(text) == key:
            return text
    return title


def choose_title(meta_title: str, first_page: list[Line], first_pages: list[list[Line]],
                 body_size: float, running: list[str], location: str) -> str:  # fmt: skip
    """The title a librarian would record: the metadata title unless it is missing, a
    file or program artefact, or not what the first pages say; then the first page's
    own title. '' when neither is found."""
    meta_title = " ".join(meta_title.split())
    if meta_title and not title_is_artefact(meta_title, location):
        words = _words(meta_title)
        shown = set(_words(" ".join(ln.text for lines in first_pages for ln in lines)))
        shown |= set(_words(" ".join(running)))
        if not words or sum(w in shown for w in words) >= 0.5 * len(words):
            return meta_title
    found = first_page_title(first_page, body_size, running)
    own = _running_title(running, first_page)
    if not found and meta_title and not title_is_artefact(meta_title, location):
        own = ""  # a metadata title is still better than a repeated line that is no title
    if own and _key(own) != _key(found):
        # The running header repeats the document's own title line ("Penal Code (Amendment)
        # Act, No. 16 of 2006") where the cover's largest text is the issuing body; a cover
        # title that holds the running line and more ("Polaris Analysis of 2021 Data…") stays.
        later_parts = [_key(part) for part in found.split(": ")[1:]]
        if not found or _key(own) in later_parts or _key(own) not in _key(found):
            found = own
    return found or (
        "" if not meta_title or title_is_artefact(meta_title, location) else meta_title
    )


def _running_title(running: list[str], first_page: list[Line]) -> str:
    """The running header or footer that is a title line printed on the first page too."""
    texts = Counter(_unnumbered(line) for line in running)
    shown = set(_words(" ".join(ln.text for ln in first_page)))
    for text, n in texts.most_common(3):
        words = _words(text)
        if (
            n >= 2
            and 3 <= len(words) <= 30
            and not text.endswith((".", "!", "?", ";", ":"))
            and sum(w in shown for w in words) >= 0.9 * len(words)
        ):
            return text
    return ""


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def _blocks_from_pages(pages: list[list[Line]], outline: list[OutlineEntry],
                       body_size: float = 0.0) -> list[Block]:  # fmt: skip
    """Paragraphs and headings in reading order; a paragraph cut by a page break is one
    block with its page range. Without an outline, lines set clearly larger than the
    body text are headings (their size gives the level)."""
    titles_by_page: dict[int, list[tuple[str, int]]] = {}
    for entry in outline:
        if entry.page is not None:
            titles_by_page.setdefault(entry.page, []).append((_key(entry.title), entry.level))
    # A sparse outline (a cover bookmark or two) leaves long stretches without headings:
    # larger-font lines are headings below the outline's levels.
    sparse = len(outline) < max(3, len(pages) // 4)
    depth = max((entry.level for entry in outline), default=0)
    levels = (
        {size: level + depth for size, level in _size_levels(pages, body_size).items()}
        if sparse
        else {}
    )
    blocks: list[Block] = []
    paragraph: list[str] = []
    started = [0]  # the page the open paragraph started on
    last_size = [0.0]  # the font size of its last line
    placed: list[Line] = []  # its lines, for the font signals
    last_low = [False]  # whether that line is the lowest on its page (the text ran on)

    def flush(page: int) -> None:
        if paragraph:
            text = join_hyphenated("\n".join(paragraph)).replace("\n", " ")
            first = started[0] or page
            sizes = [ln.size for ln in placed]
            blocks.append(
                Block(
                    text=text,
                    kind="paragraph",
                    page=first,
                    page_end=page if page != first else None,
                    # For segmentation: a short bold line alone ("Статья 1.") may head a part.
                    size=round(max(sizes) / body_size, 2) if body_size and sizes else 0.0,
                    bold=bool(placed) and all(ln.bold for ln in placed),
                )
            )
            paragraph.clear()
            placed.clear()

    for page, lines in enumerate(pages, start=1):
        wanted = list(titles_by_page.get(page, []))
        longest = max((len(line.text) for line in lines), default=0)
        lowest = min((line.y for line in lines if line.y is not None), default=0.0)
        # The previous page's paragraph runs on when it stopped mid-sentence and this
        # page starts with plain text: it stays open, else it ends with its page.
        if paragraph and not (
            paragraph_continues(paragraph)
            and lines
            and abs(lines[0].size - last_size[0]) < 1
            and last_low[0]
            and not _BULLET.match(lines[0].text)
            and not _is_heading_line(lines[0], wanted, levels)
        ):
            flush(page - 1)
        i = 0
        while i < len(lines):
            line = lines[i].text
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
                    and hit[0].startswith(_key(text + " " + lines[i + 1].text))
                ):
                    i += 1
                    text = f"{text} {lines[i].text}"
                flush(page)
                wanted.remove(hit)
                blocks.append(Block(text=text, kind="heading", level=hit[1], page=page))
                i += 1
                continue
            level = levels.get(round(lines[i].size * 2) / 2, 0) if _heading_shaped(line) else 0
            if level and not (paragraph and paragraph_continues(paragraph) and started[0] == page):
                # Consecutive lines in the same heading size are one wrapped heading.
                text, size = line, lines[i].size
                while (
                    i + 1 < len(lines)
                    and lines[i + 1].size == size
                    and len(text) < 200
                    and not text.endswith((":", ".", "?", "!"))
                    and _heading_shaped(lines[i + 1].text)
                ):
                    i += 1
                    text = f"{text} {lines[i].text}"
                flush(page)
                blocks.append(Block(text=_join_lines([text]), kind="heading", level=level,
                                    page=page, size=round(size / body_size, 2), bold=lines[i].bold))  # fmt: skip
                i += 1
                continue
            # A change of type size ends a paragraph: a cover's title is not glued to the
            # "Статья 1." set below it.
            if placed and lines[i].size and abs(lines[i].size - placed[-1].size) >= 1:
                flush(page)
            heading = match_heading(line)
            if heading is not None and not paragraph_continues(paragraph):
                flush(page)
                relative = round(lines[i].size / body_size, 2) if body_size else 0.0
                blocks.append(Block(text=line, kind="heading", level=heading.level, page=page,
                                    size=relative, bold=lines[i].bold))  # fmt: skip
                i += 1
                continue
            if paragraph and _BULLET.match(line):
                flush(page)
            if not paragraph:
                started[0] = page
            paragraph.append(line)
            placed.append(lines[i])
            last_size[0] = lines[i].size
            last_low[0] = lines[i].y is None or lines[i].y <= lowest + 2
            if (
                line.rstrip().endswith((".", "!", "?", ":", ";", "»", "”"))
                and len(line) < 0.8 * longest
            ):
                flush(page)
            i += 1
    flush(len(pages))
    return blocks


def _size_levels(pages: list[list[Line]], body_size: float) -> dict[float, int]:
    """Font sizes that mark headings (clearly larger than the body text, used on short
    lines more than once or twice but not for running text) -> heading level."""
    if not body_size:
        return {}
    chars: Counter[float] = Counter()
    uses: Counter[float] = Counter()
    runs: Counter[float] = Counter()  # runs of consecutive lines in the size
    beyond_cover: set[float] = set()
    for number, lines in enumerate(pages, start=1):
        previous = 0.0
        for line in lines:
            size = round(line.size * 2) / 2
            if size >= 1.15 * body_size and _heading_shaped(line.text):
                chars[size] += len(line.text)
                uses[size] += 1
                runs[size] += size != previous
                if number > 1:
                    beyond_cover.add(size)
            previous = size
    total = sum(len(ln.text) for lines in pages for ln in lines) or 1
    # Text set large throughout (a poster's list, a report's paragraphs over table-sized
    # type) is no heading: headings are short lines, one to three at a time.
    uses = Counter(
        {s: n for s, n in uses.items() if chars[s] / n <= 50 and n / max(runs[s], 1) <= 3}
    )
    # A size used on the cover only sets the title and the publisher, not headings.
    sizes = sorted(
        (s for s in uses if chars[s] < 0.35 * total and (s in beyond_cover or len(pages) <= 2)),
        reverse=True,
    )
    return {size: min(level, 6) for level, size in enumerate(sizes, start=1)}


def _heading_shaped(text: str) -> bool:
    """Short, not a list item, not a long sentence: a line that can be a heading."""
    text = text.strip()
    if len(text) > 150 or _BULLET.match(text) or text.startswith(("»", "•", "●", "▪", "*")):
        return False
    if sum(ch.isalpha() for ch in text) < 3:  # a chart's figures ("37+16+31+16+G")
        return False
    return not (len(text) > 60 and text.endswith("."))


def _is_heading_line(line: Line, wanted: list[tuple[str, int]], levels: dict[float, int]) -> bool:
    key = _key(line.text)
    if any(key and (key == w[0] or w[0].startswith(key + " ")) for w in wanted):
        return True
    if levels.get(round(line.size * 2) / 2) and _heading_shaped(line.text):
        return True
    return match_heading(line.text) is not None


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


def page_texts(extracted: Extracted) -> list[str]:
    """The text of each page as extraction kept it: no running headers or footers, page
    numbers, margin notes or printed contents (for readers of page text, such as the
    legal-structure parser). A paragraph cut by a page break is on the page it starts on."""
    pages: list[list[str]] = [[] for _ in range(extracted.page_count)]
    for block in extracted.blocks:
        if block.page is not None and 0 < block.page <= len(pages):
            pages[block.page - 1].append(block.text)
    return ["\n".join(texts) for texts in pages]


@dataclass
class PageLines:
    """A PDF's text page by page, a printed line a line, without the page's furniture."""

    pages: list[str]
    running: list[str]  # the running headers and footers taken off (a gazette's short title)


def page_lines(ref: SourceRef, data: bytes, *, max_pages: int = MAX_PDF_PAGES,
               ocr: bool = True) -> PageLines:  # fmt: skip
    """The pages as `extract_pdf` reads them, furniture removed the same way, but each
    printed line kept on its own line (a law's provisions start on a line of their own),
    for the legal-structure parser. A scanned PDF is read by OCR as `extract_pdf` reads it."""
    reader = _open(ref, data, max_pages)
    pages, _warnings = _layout(reader)
    if _without_text_layer(pages, len(pages)):
        return PageLines(page_texts(extract_pdf(ref, data, max_pages=max_pages, ocr=ocr)), [])
    running, _printed, _notes = _drop_furniture(pages, _body_size(pages))
    return PageLines(["\n".join(line.text for line in lines) for lines in pages], running)
