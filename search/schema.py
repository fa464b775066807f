"""The Whoosh schema: one index document per section.

Text, title and heading are indexed in the fields of the section's language
(English and Russian with Snowball stemming, Turkmen as folded words searched
by prefix) plus unstemmed copies of all three that keep article numbers and ids
whole and hold every language. A lowercase word field feeds "did you mean".
"""

from __future__ import annotations

import re

from whoosh.fields import ID, KEYWORD, STORED, TEXT, FieldType, Schema
from whoosh.formats import Existence

from search.analysis import (
    english_analyzer,
    exact_analyzer,
    russian_analyzer,
    spelling_analyzer,
    turkmen_analyzer,
)

SCHEMA_VERSION = "11"
TEXT_LANGS = ("en", "ru", "tk")
INDEX_NAME = "sections"
_SUPERSCRIPTS = str.maketrans("¹²³⁴⁵⁶⁷⁸⁹⁰", "1234567890")

ANALYZERS = {"en": english_analyzer, "ru": russian_analyzer, "tk": turkmen_analyzer}

# How much a match in each field counts (BM25F field boosts, applied at query time).
# The document title repeats on every section, so it counts for less than the
# section's own heading: it tells documents apart, the heading tells sections apart.
TITLE_BOOST = 1.5
HEADING_BOOST = 3.0
BODY_BOOST = 1.0
EXACT_BOOST = 0.5  # the unstemmed copy: a bonus for the form as typed, on top of the stem
REFS_BOOST = 2.0


def body_field(lang: str) -> str:
    return f"body_{lang if lang in TEXT_LANGS else 'en'}"


def build_schema() -> Schema:
    fields: dict[str, object] = {
        "key": ID(stored=True, unique=True),  # "doc_id#section_id"
        "doc_id": ID(stored=True, sortable=True),
        "section_id": ID(stored=True),
        "exact": TEXT(analyzer=exact_analyzer(), phrase=True),
        "title_exact": TEXT(analyzer=exact_analyzer(), phrase=True),
        "heading_exact": TEXT(analyzer=exact_analyzer(), phrase=True),
        "refs": KEYWORD(lowercase=True, commas=True, scorable=True),
        # "Did you mean" asks only which documents hold a word (search.spelling): no counts.
        "spell": FieldType(Existence(), spelling_analyzer()),
        "doctype": ID(stored=True),
        "lang": ID(stored=True),
        "body_lang": ID(),  # the body_* field the text went to (for per-language statistics)
        "year": ID(stored=True),
        "date": ID(stored=True, sortable=True),
        "tags": KEYWORD(stored=True, commas=True, scorable=True),
        # The section's place in its document: kept with the hit, never searched or sorted on
        # (indexed as a number it was 8 terms a section, 4 % of the postings).
        "order": STORED(),
        "data": STORED(),  # title, heading path, pages, source, citation, text for display
    }
    for lang, analyzer in ANALYZERS.items():
        fields[f"body_{lang}"] = TEXT(analyzer=analyzer(), phrase=True)
        fields[f"title_{lang}"] = TEXT(analyzer=analyzer(), phrase=True)
        fields[f"heading_{lang}"] = TEXT(analyzer=analyzer(), phrase=True)
    return Schema(**fields)


def field_boosts() -> dict[str, float]:
    """Every searchable text field and its weight."""
    boosts = {"exact": EXACT_BOOST, "title_exact": TITLE_BOOST * EXACT_BOOST,
              "heading_exact": HEADING_BOOST * EXACT_BOOST}  # fmt: skip
    for lang in TEXT_LANGS:
        boosts[f"body_{lang}"] = BODY_BOOST
        boosts[f"title_{lang}"] = TITLE_BOOST
        boosts[f"heading_{lang}"] = HEADING_BOOST
    return boosts


def normalise_ref(ref: str) -> str:
    """An article number or id as indexed and searched: 129¹ → 129-1, en dash → hyphen, lower case."""
    m = re.match(r"^(\d+)([¹²³⁴⁵⁶⁷⁸⁹⁰]+)$", ref)
    if m:
        ref = f"{m.group(1)}-{m.group(2).translate(_SUPERSCRIPTS)}"
    return ref.replace("–", "-").lower()
