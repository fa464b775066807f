"""Small real PDFs for tests, written with fpdf2."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def make_pdf(path: Path, pages: list[list[str]], *, outline: list[tuple[str, int, int]] = (),
             header: str = "", footer_numbers: bool = True) -> Path:  # fmt: skip
    """Write a small real PDF with fpdf2: `pages` of lines, optional bookmarks (title, level, page)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_font("dejavu", "", str(DEJAVU))
    pdf.set_font("dejavu", size=11)
    marks = {p: [(t, lvl) for t, lvl, pg in outline if pg == p] for p in range(1, len(pages) + 1)}
    for number, lines in enumerate(pages, start=1):
        pdf.add_page()
        if header:
            pdf.set_xy(10, 8)
            pdf.cell(0, 5, header)
        pdf.set_xy(10, 20)
        for line in lines:
            for title, level in marks[number]:
                if line == title:
                    pdf.start_section(title, level=level - 1)
            pdf.set_x(10)
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        if footer_numbers:
            pdf.set_xy(10, 285)
            pdf.cell(0, 5, f"Page {number}")
    pdf.output(str(path))
    return path
