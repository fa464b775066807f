"""How documents without an outline are cut into sections: count, largest page span and size.

Measures extraction + segmentation only (no tagging), on files given on the
command line, and prints one line a file (or JSON with --json):

    .venv/bin/python -m bench.sections FILE... [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from kb.extract import extract_bytes
from kb.model import SourceRef
from kb.runtime.limits import Limits
from kb.segment.sections import segment


def measure(path: Path) -> dict[str, object]:
    ref = SourceRef(key=str(path.resolve()), location=path.name, site=path.parent.name)
    started = time.perf_counter()
    extracted = extract_bytes(ref, path.read_bytes(), limits=Limits(max_text_mb=50, ocr=False))
    doc = segment(extracted, path.stem)
    seconds = time.perf_counter() - started
    spans = [
        (s.page_end or s.page_start or 0) - (s.page_start or 0) + 1
        for s in doc.sections
        if s.page_start is not None
    ]
    largest = max(doc.sections, key=lambda s: len(s.text))
    widest = max(
        doc.sections,
        key=lambda s: ((s.page_end or 0) - (s.page_start or 0)) if s.page_start else -1,
    )
    return {
        "file": path.name,
        "pages": doc.page_count,
        "sections": len(doc.sections),
        "max_page_span": max(spans, default=0),
        "widest": " > ".join(widest.heading_path)[:70],
        "max_chars": len(largest.text),
        "largest": " > ".join(largest.heading_path)[:70],
        "over_3_pages": sum(1 for n in spans if n > 3),
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(path) for path in args.files]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        print(
            f"{row['file'][:60]:60} pages={row['pages']:>4} sections={row['sections']:>5} "
            f"max_span={row['max_page_span']:>3}p >3p={row['over_3_pages']:>3} "
            f"max_chars={row['max_chars']:>7} ({row['seconds']}s)\n"
            f"    widest: {row['widest']}\n    largest: {row['largest']}"
        )


if __name__ == "__main__":
    main()
