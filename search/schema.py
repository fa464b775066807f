"""The Whoosh schema: one index document per section.

Text is indexed in the field of its own language (English and Russian with
Snowball stemming, Turkmen with our suffix stripper) plus an unstemmed field
that keeps article numbers and ids whole; title and heading are indexed with
every analyzer so a query in any language can match them.
"""

from __future__ import annotations

from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from search.analysis import english_analyzer, exact_analyzer, russian_analyzer, turkmen_analyzer

SCHEMA_VERSION = "4"
TEXT_LANGS = ("en", "ru", "tk")

ANALYZERS = {"en": english_analyzer, "ru": russian_analyzer, "tk": turkmen_analyzer}


def body_field(lang: str) -> str:
    return f"body_{lang if lang in TEXT_LANGS else 'en'}"


def build_schema() -> Schema:
    fields: dict[str, object] = {
        "key": ID(stored=True, unique=True),  # "doc_id#section_id"
        "doc_id": ID(stored=True),
        "section_id": ID(stored=True),
        "exact": TEXT(analyzer=exact_analyzer(), phrase=True),
        "title_exact": TEXT(analyzer=exact_analyzer(), field_boost=3.0),
        "heading_exact": TEXT(analyzer=exact_analyzer(), field_boost=2.5),
        "refs": KEYWORD(lowercase=True, commas=True, scorable=True, field_boost=2.0),
        "doctype": ID(stored=True),
        "lang": ID(stored=True),
        "year": ID(stored=True),
        "date": ID(stored=True, sortable=True),
        "tags": KEYWORD(stored=True, commas=True, scorable=True),
        "order": NUMERIC(stored=True, sortable=True),
        "data": STORED(),  # title, heading path, pages, source, content for display
    }
    for lang, analyzer in ANALYZERS.items():
        fields[f"body_{lang}"] = TEXT(analyzer=analyzer(), phrase=True)
        fields[f"title_{lang}"] = TEXT(analyzer=analyzer(), field_boost=3.0)
        fields[f"heading_{lang}"] = TEXT(analyzer=analyzer(), field_boost=2.5)
    return Schema(**fields)
