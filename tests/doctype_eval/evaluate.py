"""Accuracy of kb.tagging.doctype on the labelled snippets in cases.toml.

Run: .venv/bin/python tests/doctype_eval/evaluate.py [--errors]

Each case becomes a `Document` the way segmentation would build it: a line starting
with "## " is a heading that opens a section; the text up to the next heading is the
section's text. No manifest hint is given, so the detector must decide from cues.
"""

from __future__ import annotations

import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.model import Document, Section, SourceRef
from kb.segment.headings import match_heading
from kb.tagging.doctype import detect_doctype

CASES = Path(__file__).with_name("cases.toml")


@dataclass(frozen=True)
class Case:
    label: str
    title: str
    text: str


def load_cases(path: Path = CASES) -> list[Case]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Case(c["label"], c["title"], c["text"].strip()) for c in data["case"]]


def case_document(case: Case, doc_id: str = "case") -> Document:
    """Sections from "## " headings, numbered like segmentation numbers them."""
    sections: list[Section] = []
    heading: list[str] = []
    body: list[str] = []

    def close() -> None:
        if not body and not heading:
            return
        found = match_heading(heading[-1]) if heading else None
        sections.append(
            Section(
                id=f"s{len(sections)}",
                order=len(sections),
                heading_path=list(heading),
                text="\n".join(body).strip(),
                number=found.number if found else "",
                kind=found.kind if found else "section",
            )
        )

    for line in case.text.split("\n"):
        if line.startswith("## "):
            close()
            heading, body = [line[3:].strip()], []
        else:
            body.append(line)
    close()
    return Document(
        id=doc_id,
        source=SourceRef(key=doc_id, location=f"{doc_id}.txt"),
        format="text",
        title=case.title,
        sections=sections,
    )


def evaluate(show_errors: bool = False) -> dict[str, Any]:
    cases = load_cases()
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    errors: list[tuple[str, str, str, str]] = []
    for number, case in enumerate(cases):
        predicted, reason = detect_doctype(case_document(case, f"case{number}"))
        total[case.label] += 1
        if predicted == case.label:
            right[case.label] += 1
        else:
            errors.append((case.label, predicted, reason, case.title))
    accuracy = sum(right.values()) / len(cases)
    if show_errors:
        for label, predicted, reason, title in errors:
            print(f"  {label} -> {predicted} ({reason}): {title}")
    return {
        "cases": len(cases),
        "accuracy": accuracy,
        "per_type": {label: right[label] / total[label] for label in sorted(total)},
        "errors": errors,
    }


def main() -> None:
    result = evaluate(show_errors="--errors" in sys.argv)
    for label, share in result["per_type"].items():
        print(f"{label:26s} {share:6.1%}")
    print(f"{'overall':26s} {result['accuracy']:6.1%} of {result['cases']} cases")


if __name__ == "__main__":
    main()
