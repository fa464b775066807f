""" "Did you mean": words of the query the index does not hold, corrected from its own words.

Candidates come from the `spell` field (every word of every document, lowercased, as
written; indexed once per document, on its first section) within one or two edits, prefix
kept; the closest wins (a swap of two letters counts as one edit), then the one found in
more documents.

Not the `exact` field's words instead: those are folded (й -> и, ş -> s, ё -> е), so a
correction drawn from them would be misspelled in Russian and Turkmen.
"""

from __future__ import annotations

from whoosh.searching import Searcher

from search.syntax import Word

SPELL_FIELD = "spell"
MIN_WORD_CHARS = 3


def max_edits(word: str) -> int:
    return 1 if len(word) <= 5 else 2


def correct_word(searcher: Searcher, word: str) -> str | None:
    """The index's closest word to `word` (lowercase), or None."""
    reader = searcher.reader()
    lowered = word.casefold()
    if len(lowered) < MIN_WORD_CHARS or not lowered.isalpha():
        return None
    if reader.doc_frequency(SPELL_FIELD, lowered) > 0:
        return None
    from rapidfuzz.distance import OSA  # only needed for unknown words: imported late

    edits = max_edits(lowered)
    candidates = []
    for term in reader.terms_within(SPELL_FIELD, lowered, edits, prefix=1):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        distance = OSA.distance(lowered, text)
        if distance <= edits:
            candidates.append((distance, -reader.doc_frequency(SPELL_FIELD, text), text))
    if not candidates:
        return None
    return min(candidates)[2]


def suggest(searcher: Searcher, query: str, words: list[tuple[Word, bool]]) -> str | None:
    """The query with each unknown word replaced by its correction, or None if none is needed."""
    replacements: list[tuple[int, int, str]] = []
    for word, known in words:
        if known:
            continue
        fixed = correct_word(searcher, word.text)
        if fixed is None:
            continue
        if word.text[:1].isupper():
            fixed = fixed[:1].upper() + fixed[1:]
        replacements.append((word.start, word.end, fixed))
    if not replacements:
        return None
    out = query
    for start, end, fixed in sorted(set(replacements), reverse=True):
        out = out[:start] + fixed + out[end:]
    return out if out != query else None
