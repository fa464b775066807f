"""Extraction speed on one core: pypdf (raw and through our extractor) beside poppler's pdftotext.

All three read the same sample of PDFs; pdftotext is run once per file, as a
user calling the command would, so its process start-up is included. HTML pages
go through our extractor.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from bench.measure import median


def _pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def pypdf_raw(files: list[Path]) -> float:
    """Seconds for PdfReader + extract_text on every page (no cleaning)."""
    from pypdf import PdfReader

    started = time.perf_counter()
    for path in files:
        for page in PdfReader(path).pages:
            page.extract_text()
    return time.perf_counter() - started


def ours_pdf(files: list[Path]) -> float:
    """Seconds for our extractor: pypdf text, outline, running headers removed, blocks."""
    from kb.extract.pdf import extract_pdf
    from kb.model import SourceRef

    started = time.perf_counter()
    for path in files:
        extract_pdf(SourceRef(key=str(path), location=path.name), path.read_bytes())
    return time.perf_counter() - started


def pdftotext(files: list[Path]) -> float | None:
    if shutil.which("pdftotext") is None:
        return None
    started = time.perf_counter()
    for path in files:
        subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
        )
    return time.perf_counter() - started


def ours_html(files: list[Path]) -> float:
    from kb.extract.html import extract_html
    from kb.model import SourceRef

    started = time.perf_counter()
    for path in files:
        extract_html(SourceRef(key=str(path), location=path.name), path.read_bytes())
    return time.perf_counter() - started


def measure_extraction(
    pdfs: list[Path], htmls: list[Path], repeats: int = 3
) -> dict[str, float | int | None]:
    """Pages per second, the median of `repeats` passes over the same files."""
    pages = sum(_pages(p) for p in pdfs)
    ours_pdf(pdfs[:1])  # imports and first-use costs out of the timing
    ours_html(htmls[:1])
    raw = median([pypdf_raw(pdfs) for _ in range(repeats)])
    ours = median([ours_pdf(pdfs) for _ in range(repeats)])
    poppler_runs = [pdftotext(pdfs) for _ in range(repeats)]
    poppler = (
        median([r for r in poppler_runs if r is not None]) if poppler_runs[0] is not None else None
    )
    html = median([ours_html(htmls) for _ in range(repeats)])
    return {
        "pdf_files": len(pdfs),
        "pdf_pages": pages,
        "pypdf_pages_per_s": round(pages / raw, 1),
        "ours_pdf_pages_per_s": round(pages / ours, 1),
        "pdftotext_pages_per_s": round(pages / poppler, 1) if poppler else None,
        "html_files": len(htmls),
        "html_pages_per_s": round(len(htmls) / html, 1),
    }
