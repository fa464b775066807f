"""The text of a law's PDF page by page, without its margin notes.

Gazette PDFs (Sri Lanka's acts, many Commonwealth statutes) print a side heading
("Replacement of section 360C of the principal enactment.", "“Trafficking.") beside
each section in a smaller font. pypdf's plain text puts those words after the page's
body, so they end up inside whatever provision runs across the page break. Here the
page is rebuilt from pypdf's text runs, leaving out runs set clearly smaller than the
body text (the margin notes) and the printer's code at the foot of the page; running
headers and page numbers are dropped later by the structure parser, which sees every
page.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kb.errors import KBError

SMALLER_THAN_BODY = 0.88  # a run this much smaller than the body font is a margin note
MARGIN_LINE_MAX = 24  # margin notes wrap in a narrow column
FOOT_BAND = 0.03  # the bottom 3 % of the page holds the printer's code, not the law


@dataclass
class _Run:
    x: float
    y: float
    size: float
    text: str


def _page_runs(page: object) -> list[_Run]:
    runs: list[_Run] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: object, size: float) -> None:
        if not text:
            return
        x = tm[4] * cm[0] + cm[4]
        y = tm[5] * cm[3] + cm[5]
        scale = abs(tm[0] * cm[0]) or 1.0
        runs.append(_Run(x, y, size * scale, text))

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    return runs


def _is_small(run: _Run, body_size: float) -> bool:
    return body_size > 0 and run.size < body_size * SMALLER_THAN_BODY


def _in_foot(run: _Run, height: float) -> bool:
    return bool(height) and run.y < height * FOOT_BAND


def _margin_runs(runs: list[_Run], body_size: float, height: float) -> set[int]:
    """Indexes of runs in margin notes: consecutive small-type runs that all fit a narrow
    column. A small-type block with a long line (an act's long title in small capitals,
    a schedule) is text; a lone small number is a superscript or footnote call."""
    margin: set[int] = set()
    group: list[int] = []

    def close() -> None:
        texts = [runs[i].text.strip() for i in group]
        if (
            texts
            and max(len(t) for t in texts) <= MARGIN_LINE_MAX
            and any(sum(ch.isalpha() for ch in t) >= 3 for t in texts)
        ):
            margin.update(group)
        group.clear()

    for index, run in enumerate(runs):
        if not run.text.strip():
            continue
        if _in_foot(run, height):
            close()  # the printer's code at the foot is dropped on its own, not a margin note
        elif _is_small(run, body_size):
            group.append(index)
        else:
            close()
    close()
    return margin


def _rebuild(runs: list[_Run], body_size: float, height: float) -> str:
    margin = _margin_runs(runs, body_size, height)
    pieces: list[str] = []
    last_y: float | None = None
    for index, run in enumerate(runs):
        if index in margin:
            continue
        if _in_foot(run, height) and run.text.strip():
            continue
        if (
            last_y is not None
            and abs(run.y - last_y) > 1.5
            and pieces
            and not pieces[-1].endswith("\n")
        ):
            pieces.append("\n")
        pieces.append(run.text)
        last_y = run.y
    return "".join(pieces)


def pdf_page_texts(path: Path) -> list[str]:
    """Each page's text (1st page first), margin notes left out; a clear one-line error
    for an encrypted, unreadable or image-only PDF."""
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted:
            raise KBError(f"{path}: encrypted PDF, a password is required")
        per_page = [_page_runs(page) for page in reader.pages]
        heights = [float(page.mediabox.height) for page in reader.pages]
    except PdfReadError as exc:
        raise KBError(f"{path}: unreadable PDF ({exc})") from None
    sizes: Counter[float] = Counter()
    for runs in per_page:
        for run in runs:
            sizes[round(run.size, 1)] += len(run.text.strip())
    body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    pages = [
        _rebuild(runs, body_size, height) for runs, height in zip(per_page, heights, strict=True)
    ]
    if not any(text.strip() for text in pages):
        raise KBError(f"{path}: the PDF has no text layer (scanned? it needs OCR)")
    return pages
