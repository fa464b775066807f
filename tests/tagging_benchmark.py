"""Throughput of the tagging stage (sections per second), and of its parts.

Run: .venv/bin/python tests/tagging_benchmark.py [--sections 100000]

Documents are built from the labelled doctype snippets (English, Russian, Turkmen),
20 sections each; every section text gets a distinct suffix so that no cache can
answer for a text it has seen before.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

from kb.model import Document, Section, SourceRef
from kb.tagging.dates import find_dates
from kb.tagging.facts import extract_facts
from kb.tagging.lang import detect_language
from kb.tagging.tagger import tag_document
from kb.tagging.vocab import load_vocabulary

SECTIONS_PER_DOCUMENT = 20


def _snippet_sections() -> list[tuple[str, str, str]]:
    """(title, heading, text) of every section of every labelled snippet."""
    path = Path(__file__).parent / "doctype_eval" / "evaluate.py"
    spec = importlib.util.spec_from_file_location("doctype_evaluate", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    out = []
    for case in module.load_cases():
        for section in module.case_document(case).sections:
            if section.text:
                out.append((case.title, section.heading, section.text))
    return out


def build_documents(count: int) -> list[Document]:
    pool = _snippet_sections()
    documents: list[Document] = []
    for start in range(0, count, SECTIONS_PER_DOCUMENT):
        sections = []
        for n in range(start, min(count, start + SECTIONS_PER_DOCUMENT)):
            _, heading, text = pool[n % len(pool)]
            sections.append(
                Section(
                    id=f"s{n}",
                    order=n - start,
                    heading_path=[heading] if heading else [],
                    text=f"{text} [{n}]",
                )
            )
        documents.append(
            Document(
                id=f"d{start}",
                source=SourceRef(key=f"d{start}", location=f"d{start}.txt"),
                format="text",
                title=pool[start % len(pool)][0],
                sections=sections,
            )
        )
    return documents


def _rate(label: str, count: int, seconds: float, cpu: float) -> None:
    # CPU time as well as wall time: on a shared machine the wall clock says little.
    print(
        f"{label:28s} {count / cpu:10,.0f} sections/s of CPU time  "
        f"({cpu:.1f} s CPU, {seconds:.1f} s wall)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sections", type=int, default=10_000)
    args = parser.parse_args()
    vocab = load_vocabulary()
    documents = build_documents(args.sections)
    texts = [s.text for d in documents for s in d.sections]
    chars = sum(map(len, texts))
    print(
        f"{len(texts):,} sections in {len(documents):,} documents, {chars / len(texts):.0f} chars each"
    )
    for label, work in (
        ("vocabulary.find", lambda: [vocab.find(t) for t in texts]),
        ("find_dates", lambda: [find_dates(t) for t in texts]),
        ("detect_language", lambda: [detect_language(t) for t in texts]),
        ("extract_facts", lambda: [extract_facts(d, vocab) for d in documents]),
    ):
        started, cpu = time.perf_counter(), time.process_time()
        work()
        _rate(label, len(texts), time.perf_counter() - started, time.process_time() - cpu)
    documents = build_documents(args.sections)  # fresh texts: no cache helps the full run
    started, cpu = time.perf_counter(), time.process_time()
    for document in documents:
        tag_document(document, vocab)
    _rate(
        "tag_document (all of it)",
        len(texts),
        time.perf_counter() - started,
        time.process_time() - cpu,
    )


if __name__ == "__main__":
    main()
