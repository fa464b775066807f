"""The tagging stage: languages, document type, publication date, entities, dates and facts.

`tag_document` fills in what segmentation left open and returns the same `Document`.
Running it twice gives the same result: the tags it owns are replaced, not added to.
"""

from __future__ import annotations

import re
from collections import Counter

from kb.model import Document, Section, Tag
from kb.tagging.dates import find_dates, publication_date_with_source
from kb.tagging.doctype import detect_doctype
from kb.tagging.facts import extract_facts
from kb.tagging.lang import detect_language, language_shares
from kb.tagging.vocab import EntityMatch, Vocabulary, load_vocabulary

UND = "und"
# Below this many characters a section proves little about its language: it gets the
# document's language unless its letters say otherwise (the language helper decides).
SHORT_SECTION_CHARS = 40
# A language is recorded for the document when it holds this share of the text, or at
# least a line's worth of characters (the Russian hotline line on an English page).
MIN_LANGUAGE_SHARE = 0.02
MIN_LANGUAGE_CHARS = 40
# A short section in another script counts as a line in that language from this length
# ("Позвоните на горячую линию!"), not a lone name in a heading.
MIN_SHORT_LINE_CHARS = 20
_CYRILLIC_SCRIPT_LANGS = frozenset({"ru", "uk", "kk", "ky", "tg", "be", "bg", "mk", "sr"})
# Only the start and the end of a document are searched for its publication date.
_DATE_HEAD_CHARS = 1500
_DATE_TAIL_CHARS = 600

_SECTION_KINDS_OWNED = frozenset({"entity", "date"})
_DOCUMENT_KINDS_OWNED = frozenset({"entity", "fact"})


def tag_document(doc: Document, vocabulary: Vocabulary | None = None) -> Document:
    """Set languages, type, date and tags on `doc` (in place) and return it."""
    vocab = vocabulary or load_vocabulary()
    _tag_languages(doc)
    doc.doctype, doc.doctype_reason = detect_doctype(doc)
    _tag_publication_date(doc)
    document_entities: dict[str, Tag] = {}
    for tag in _entity_tags(vocab, vocab.find(doc.title)):
        document_entities[tag.value] = tag
    section_mentions: list[list[EntityMatch]] = []
    for section in doc.sections:
        mentions = vocab.find(section.text)
        section_mentions.append(mentions)
        entity_tags = _entity_tags(vocab, vocab.find(section.heading) + mentions)
        section.tags = [
            *(t for t in section.tags if t.kind not in _SECTION_KINDS_OWNED),
            *entity_tags,
            *_date_tags(section),
        ]
        for tag in entity_tags:
            _merge_entity(document_entities, tag)
    doc.tags = [
        *(t for t in doc.tags if t.kind not in _DOCUMENT_KINDS_OWNED),
        *document_entities.values(),
        *extract_facts(doc, vocab, section_mentions=section_mentions),
    ]
    return doc


# --- languages ----------------------------------------------------------------------------------


def _tag_languages(doc: Document) -> None:
    """Each section's language, the document's main language, and every language it holds."""
    chars_by_lang: Counter[str] = Counter()
    detected: list[str | None] = []
    for section in doc.sections:
        text = section.text.strip()
        if len(text) < SHORT_SECTION_CHARS:
            detected.append(None)
            continue
        guess = detect_language(text)
        detected.append(guess.lang if guess.lang != UND else None)
        if guess.lang != UND:
            chars_by_lang[guess.lang] += len(text)
    hint = doc.source.lang_hint.strip()
    if chars_by_lang:
        main = chars_by_lang.most_common(1)[0][0]
    elif hint:
        main = hint
    else:
        main = detect_language(doc.title + "\n" + doc.text[:2000]).lang
    contained: Counter[str] = Counter()
    for section, lang in zip(doc.sections, detected, strict=True):
        if lang is None:
            section.lang = _short_section_language(section.text.strip() or section.heading, main)
            if section.lang != main and len(section.text.strip()) >= MIN_SHORT_LINE_CHARS:
                contained[section.lang] += max(len(section.text), MIN_LANGUAGE_CHARS)
            continue
        section.lang = lang
        if _may_mix(section.text, lang):
            for share_lang, share in language_shares(section.text).items():
                contained[share_lang] += share * len(section.text)
        else:
            contained[lang] += len(section.text)
    doc.lang = main
    total = sum(contained.values()) or 1
    others = [
        lang
        for lang, chars in contained.most_common()
        if lang not in (UND, main)
        and (chars / total >= MIN_LANGUAGE_SHARE or chars >= MIN_LANGUAGE_CHARS)
    ]
    doc.languages = ([main] if main != UND else []) + others


_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LATIN = re.compile(r"[A-Za-zÀ-ž]")
_TURKMEN_LETTERS = re.compile(r"[ňýžäöüşçŇÝŽÄÖÜŞÇ]")
# Four Latin words in a row: more than the Latin abbreviations Russian text carries.
_LATIN_RUN = re.compile(r"[A-Za-z]{2,}(?:[\s,]+[A-Za-z]{2,}){3}")
_ENGLISH_WORDS = re.compile(r"\b(?:the|and|of|with|for|is|are)\b")


def _short_section_language(text: str, main: str) -> str:
    """A heading or a short line inherits the document's language, unless it is written in
    the other script: a Russian line on an English page is Russian, "Aşgabat" is not Turkmen."""
    if not text:
        return main
    guess = detect_language(text, fallback=main)
    if guess.lang in (UND, main):
        return main
    cyrillic = len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text))
    main_cyrillic = main in _CYRILLIC_SCRIPT_LANGS
    return guess.lang if cyrillic != main_cyrillic else main


def _may_mix(text: str, lang: str) -> bool:
    """Could this section hold lines in another language? Only then are its lines weighed
    one by one (the costly part); otherwise the whole section counts for its language."""
    if lang == "ru":
        return _LATIN_RUN.search(text) is not None
    if lang == "en":
        return _CYRILLIC.search(text) is not None or _TURKMEN_LETTERS.search(text) is not None
    if lang == "tk":
        return _CYRILLIC.search(text) is not None or _ENGLISH_WORDS.search(text) is not None
    return True


# --- publication date ---------------------------------------------------------------------------


def _date_search_text(doc: Document) -> str:
    body = doc.text
    if len(body) > _DATE_HEAD_CHARS + _DATE_TAIL_CHARS:
        body = body[:_DATE_HEAD_CHARS] + "\n\n" + body[-_DATE_TAIL_CHARS:]
    return f"{doc.title}\n\n{body}" if doc.title else body


def _tag_publication_date(doc: Document) -> None:
    if doc.date_text and not doc.date and "published" not in doc.metadata:
        # What the extractor found, as written (segmentation puts it in date_text). Kept in
        # the metadata so that tagging again reads the same evidence.
        doc.metadata["published"] = doc.date_text
    found = publication_date_with_source(_date_search_text(doc), doc.metadata)
    if found is None:
        doc.date = ""
        return
    date, source = found
    doc.date = date.start
    doc.date_text = date.text
    doc.metadata["date_source"] = source


# --- section tags -------------------------------------------------------------------------------


def _entity_tags(vocab: Vocabulary, mentions: list[EntityMatch]) -> list[Tag]:
    """One tag per entity (first mention as evidence, and how many mentions)."""
    tags: dict[str, Tag] = {}
    for match in mentions:
        tag = tags.get(match.id)
        if tag is None:
            tags[match.id] = Tag(
                kind="entity",
                value=match.id,
                label=vocab.entry(match.id).label,
                text=match.text,
                data={"kind": match.kind, "count": 1},
            )
        else:
            tag.data["count"] += 1
    return list(tags.values())


def _merge_entity(into: dict[str, Tag], tag: Tag) -> None:
    known = into.get(tag.value)
    if known is None:
        into[tag.value] = Tag(tag.kind, tag.value, tag.label, tag.text, dict(tag.data))
    else:
        known.data["count"] = known.data.get("count", 0) + tag.data.get("count", 1)


def _date_tags(section: Section) -> list[Tag]:
    tags: list[Tag] = []
    seen: set[tuple[str, str]] = set()
    for text in (section.heading, section.text):
        for date in find_dates(text):
            if (date.start, date.end) in seen:
                continue
            seen.add((date.start, date.end))
            data: dict[str, object] = {
                "end": date.end,
                "precision": date.precision,
                "is_period": date.is_period,
            }
            if date.note:
                data["note"] = date.note
            tags.append(Tag(kind="date", value=date.start, text=date.text, data=data))
    return tags
