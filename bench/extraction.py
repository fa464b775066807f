"""Extraction: speed on one core, and main-content quality on the extraction benchmark.

Speed: pypdf (raw and through our extractor) beside poppler's pdftotext. All three read
the same sample of PDFs; pdftotext is run once per file, as a user calling the command
would, so its process start-up is included. HTML pages go through our extractor.

Quality (`make eval-extraction`, `python -m bench.extraction`): our HTML extractor over
the pages of ../shared/extraction-bench/ against the article text a person marked, with
the benchmark's metric (4-word shingles, precision and recall averaged over pages), once
as a folder build and once with the pages grouped by site.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import statistics
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

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


# --- Main-content quality on the extraction benchmark (../shared/extraction-bench) -----------


def default_bench_folder() -> Path:
    """../shared/extraction-bench beside the checkout (or beside the folder of worktrees)."""
    repo = Path(__file__).resolve().parents[1]
    for base in (repo.parent, repo.parent.parent):
        if (base / "shared" / "extraction-bench" / "ground-truth.json").is_file():
            return base / "shared" / "extraction-bench"
    return repo.parent / "shared" / "extraction-bench"


BENCH_FOLDER = default_bench_folder()
_WORD = re.compile(r"\w+")


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    # The benchmark's metric: \w+ tokens, 4-word shingles, counted as a multiset.
    words = _WORD.findall(text or "")
    return Counter(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)) if words)


def page_scores(gold: str, found: str) -> tuple[float, float]:
    """Precision and recall of one page's extracted text against the marked article."""
    g, f = _shingles(gold), _shingles(found)
    hit = sum((g & f).values())
    extra = sum((f - g).values())
    missed = sum((g - f).values())
    if not g and not f:
        return 1.0, 1.0
    precision = hit / (hit + extra) if hit + extra else (1.0 if not missed else 0.0)
    recall = hit / (hit + missed) if hit + missed else (1.0 if not extra else 0.0)
    return precision, recall


@dataclass
class BenchScore:
    f1: float
    precision: float
    recall: float
    lost: list[str]  # pages refused, or whose article came out with under a fifth of its text
    pages: int
    worst: list[tuple[float, str]]

    def line(self, label: str = "extraction") -> str:
        return (
            f"{label}: F1={self.f1:.3f} P={self.precision:.3f} R={self.recall:.3f} "
            f"lost={len(self.lost)} pages={self.pages}"
        )


def score_pages(gold: dict[str, str], found: dict[str, str | None]) -> BenchScore:
    """Macro-averaged precision and recall over pages (every page weighs the same), F1 of the two."""
    precisions, recalls, lost, per_page = [], [], [], []
    for page_id, article in sorted(gold.items()):
        text = found.get(page_id)
        p, r = page_scores(article, text or "")
        precisions.append(p)
        recalls.append(r)
        if text is None or r < 0.2:
            lost.append(page_id)
        per_page.append((2 * p * r / (p + r) if p + r else 0.0, page_id))
    p, r = statistics.mean(precisions), statistics.mean(recalls)
    return BenchScore(
        f1=2 * p * r / (p + r) if p + r else 0.0,
        precision=p,
        recall=r,
        lost=lost,
        pages=len(gold),
        worst=sorted(per_page)[:10],
    )


@dataclass
class BenchPage:
    id: str
    url: str
    html: bytes
    article: str


def load_bench(folder: Path = BENCH_FOLDER) -> list[BenchPage]:
    """The benchmark's pages (gzipped HTML named by id) with their marked article text."""
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, item in sorted(truth.items()):
        data = gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append(BenchPage(page_id, item.get("url", ""), data, item["articleBody"]))
    return pages


def extract_bench(
    pages: list[BenchPage], *, by_host: bool, with_title: bool = False
) -> dict[str, str | None]:
    """Run our extractor as a build would: every page, then repeated blocks removed per site.

    by_host=False is a folder build (`kb build --corpus`): the pages share one folder and
    nothing tells the sites apart but the pages themselves. by_host=True is a manifest
    naming each page's site (`site = host`).
    """
    from kb.errors import SourceError
    from kb.extract import extract_bytes
    from kb.ingest.pipeline import Outcome, clean_site_boilerplate
    from kb.model import SourceRef

    outcomes: list[Outcome] = []
    found: dict[str, str | None] = {}
    for page in pages:
        site = (urlparse(page.url).hostname or "") if by_host else "html"
        ref = SourceRef(
            key=f"/bench/html/{page.id}.html",
            location=f"html/{page.id}.html",
            collection="html",
            site=site,
            site_given=by_host,
        )
        try:
            outcomes.append(Outcome(ref, "new", extracted=extract_bytes(ref, page.html)))
        except SourceError:
            found[page.id] = None
    clean_site_boilerplate(outcomes, None)
    for outcome in outcomes:
        extracted = outcome.extracted
        assert extracted is not None
        blocks = extracted.blocks
        # The page's title is reported as the document's title (as trafilatura
        # reports it apart from the text); the benchmark's articles leave it out.
        if not with_title and blocks and blocks[0].kind == "heading":
            blocks = blocks[1:] if blocks[0].text == extracted.title else blocks
        found[Path(outcome.ref.key).stem] = "\n".join(b.text for b in blocks)
    return found


def evaluate_bench(
    folder: Path = BENCH_FOLDER, *, with_title: bool = False
) -> dict[str, BenchScore]:
    pages = load_bench(folder)
    gold = {p.id: p.article for p in pages}
    return {
        "folder": score_pages(gold, extract_bench(pages, by_host=False, with_title=with_title)),
        "by_site": score_pages(gold, extract_bench(pages, by_host=True, with_title=with_title)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Main-content extraction on the benchmark pages.")
    parser.add_argument("--folder", type=Path, default=BENCH_FOLDER)
    parser.add_argument("--worst", action="store_true", help="list the ten worst pages")
    parser.add_argument(
        "--pass",
        dest="main_pass",
        choices=["trafilatura", "scored", "markup"],
        default="trafilatura",
        help="the main-content pass to measure (see kb.extract.html.MAIN_CONTENT_PASS)",
    )
    parser.add_argument(
        "--with-title", action="store_true", help="count the page's title (h1) as article text"
    )
    args = parser.parse_args()
    if not (args.folder / "ground-truth.json").is_file():
        print(f"extraction: skipped, no benchmark at {args.folder} (see bench/extraction.py)")
        return
    import kb.extract.html

    kb.extract.html.MAIN_CONTENT_PASS = args.main_pass
    scores = evaluate_bench(args.folder, with_title=args.with_title)
    for name, label in (("folder", "extraction"), ("by_site", "extraction by site")):
        score = scores[name]
        if args.worst:
            for f1, page_id in score.worst:
                print(f"  worst ({name}): F1={f1:.2f} {page_id}")
        print(score.line(label))


if __name__ == "__main__":
    main()
