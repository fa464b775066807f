"""Throughput of language detection on synthetic sections.

Run: .venv/bin/python tests/lang_eval/benchmark.py [--sections 100000]

Sections are built from the labelled paragraphs (one language each, 3-12
paragraphs, 5% with a line of another language, every one made unique by a number
so the per-text cache cannot help) and each gets a short heading. Reports sections
per second for detect_language on the section text, on its heading (with the
section's language as fallback), and for language_shares.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Callable

from evaluate import load_items

from kb.tagging.lang import clear_caches, detect_language, language_shares


def build_sections(count: int, seed: int = 1) -> list[tuple[str, str, str]]:
    """(language, heading, text) triples."""
    rng = random.Random(seed)
    items = load_items()
    paragraphs: dict[str, list[str]] = {}
    headings: dict[str, list[str]] = {}
    for item in items:
        if item.lang in ("en", "ru", "tk"):
            target = paragraphs if item.kind == "paragraph" else headings
            target.setdefault(item.lang, []).append(item.text)
    languages = sorted(paragraphs)
    sections = []
    for number in range(count):
        lang = rng.choice(languages)
        body = rng.choices(paragraphs[lang], k=rng.randint(3, 12))
        if rng.random() < 0.05:
            other = rng.choice([x for x in languages if x != lang])
            body.insert(rng.randrange(len(body)), rng.choice(headings[other]))
        text = f"{number}. " + "\n\n".join(body)
        sections.append((lang, rng.choice(headings[lang]), text))
    return sections


def _time(label: str, calls: list[Callable[[], object]]) -> None:
    start = time.perf_counter()
    for call in calls:
        call()
    elapsed = time.perf_counter() - start
    print(f"  {label:<46} {len(calls) / elapsed:9,.0f} /s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=20_000)
    args = parser.parse_args()
    sections = build_sections(args.sections)
    mean_chars = sum(len(text) for _, _, text in sections) / len(sections)
    print(f"{len(sections):,} sections, {mean_chars:,.0f} characters on average")

    clear_caches()
    start = time.perf_counter()
    guesses = [detect_language(text) for _, _, text in sections]
    elapsed = time.perf_counter() - start
    print(f"  {'detect_language(section text)':<46} {len(sections) / elapsed:9,.0f} /s")
    # Numbered headings ("12. Introduction") are unique: no help from the cache.
    headings = [
        (f"{number}. {heading}", guess.lang)
        for number, ((_, heading, _), guess) in enumerate(zip(sections, guesses, strict=True))
    ]
    _time(
        "detect_language(heading, fallback=section lang)",
        [lambda h=heading, f=lang: detect_language(h, fallback=f) for heading, lang in headings],
    )
    _time(
        "language_shares(section text), warm cache",
        [lambda t=text: language_shares(t) for _, _, text in sections],
    )
    _time(
        "language_shares(section text), cold cache",
        [lambda t=text: (clear_caches(), language_shares(t)) for _, _, text in sections],
    )
    wrong = sum(
        1 for (lang, _, _), guess in zip(sections, guesses, strict=True) if guess.lang != lang
    )
    methods = Counter(guess.method for guess in guesses)
    print(f"  wrong main language: {wrong}; methods: {dict(methods)}")


if __name__ == "__main__":
    main()
