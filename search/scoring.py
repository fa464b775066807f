"""BM25F with each language's body field treated as its own collection.

Whoosh computes a term's rarity (idf) and the average field length over every document
in the index. Section text is indexed in the field of its language, so in a corpus with
120 English and 30 Russian sections, a Russian word found in all 30 Russian sections
looked rare (30 of 150) and each Russian section looked long (its length against an
average diluted by 120 empty fields): cross-lingual results were ranked by the size of
each language's share of the corpus rather than by how well they match. Here a
language's fields (body, title, heading) count only the sections in that language.
"""

from __future__ import annotations

from math import log
from typing import Any

from whoosh.scoring import BM25F, BM25FScorer

from search.schema import TEXT_LANGS

BODY_FIELDS = {
    f"{kind}_{lang}": lang for lang in TEXT_LANGS for kind in ("body", "title", "heading")
}


# A language with only a handful of sections would otherwise make every one of its words
# look common (a word in all 4 Turkmen sections has the idf of "the"): its collection
# counts as at least this many sections, or the whole index if that is smaller.
MIN_COLLECTION = 10


def field_doc_count(searcher: Any, fieldname: str) -> int:
    """How many sections count as the collection of `fieldname`: those in its language
    (with the floor above), or all of them for the language-neutral fields."""
    total = searcher.doc_count_all()
    lang = BODY_FIELDS.get(fieldname)
    if lang is None:
        return total
    return max(searcher.doc_frequency("body_lang", lang), min(total, MIN_COLLECTION), 1)


class LanguageBM25F(BM25F):
    def idf(self, searcher: Any, fieldname: str, text: str) -> float:
        parent = searcher.get_parent()
        n = parent.doc_frequency(fieldname, text)
        return log(field_doc_count(parent, fieldname) / (n + 1)) + 1

    def scorer(self, searcher: Any, fieldname: str, text: str, qf: int = 1) -> Any:
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        if isinstance(scorer, BM25FScorer) and fieldname in BODY_FIELDS:
            parent = searcher.get_parent()
            sections = max(1, parent.doc_frequency("body_lang", BODY_FIELDS[fieldname]))
            scorer.avgfl = (parent.field_length(fieldname) / sections) or 1
        return scorer
