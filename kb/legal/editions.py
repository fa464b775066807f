"""Editions and translations of one law, and which of them is in force.

A later law that repeals an earlier one says so in its final provisions ("…of 14
December 2007 No. 159-III is declared invalid", «…№ 159-III признаётся утратившим
силу», "…güýjüni ýitiren diýip ykrar edilsin"); the earlier law is found by the number
and year it quotes. A manifest can say it too: `supersedes = "law-ctip-2007-en"`
(document ids, comma-separated) and `in_force_from = "2016-10-15"`. Laws joined by a
shared number or by a repeal are editions of one law; each lists the others, newest
first, and a repealed one names the edition that replaced it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from kb.model import LEGAL_DOCTYPES, Document
from kb.normalize import normalize_text

# The words that repeal, by language; the sentence holding them names the repealed law.
_REPEAL = re.compile(
    r"(?:(?:is|are|shall be|be) (?:hereby )?(?:declared|deemed|recognised|recognized) "
    r"(?:invalid|null and void|to have lost (?:its|their) force)"
    r"|(?:is|are|shall be) (?:hereby )?repealed"
    r"|утратившим(?:и)? силу|утратил(?:а|и)? силу"
    r"|güýjüni ýitiren diýip ykrar\w*|güýjüni ýitirdi)",
    re.IGNORECASE,
)
# Every match of _REPEAL holds one of these (in lower case).
_REPEAL_WORDS = ("invalid", "null and void", "to have lost", "repealed", "утрати", "güýjüni")
# "No. 159-III", "№ 159-III", "No 16 of 2006", "N 63-ФЗ"
_NUMBER = re.compile(r"(?:No\.?|№|N)\s?(\d+[-‐‑–][IVXLCА-Яа-яA-Z]+|\d+(?=\s+of\s+\d{4}))")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
# A sentence ends at ". " or "; " before a capital or a digit, but not after "No." or "Art.".
_SENTENCE_END = re.compile(
    r"(?<=[.;])(?<!No\.)(?<!Nr\.)(?<!Art\.)(?<!ст\.)(?<!\bN\.)\s+(?=[A-ZА-ЯЁÄÇŇÖŞÜÝŽ0-9\"«“])"
)


@dataclass
class RepealRef:
    """A law the text repeals: the words that say so, and the number and year quoted."""

    words: str
    number: str
    year: str


@dataclass
class EditionInfo:
    doc_id: str
    status: str = "in_force"  # in_force | repealed
    repealed_by: str = ""  # the document that repealed it
    reason: str = ""  # the repealing words, or "manifest: supersedes = …"
    in_force_from: str = ""
    number: str = ""
    year: str = ""
    editions: list[str] = field(default_factory=list)  # the same law's others, newest first

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _repealing_sentences(text: str) -> list[str]:
    """The sentences of `text` that hold repealing words, each once, in order.

    Most laws repeal nothing: a look for the words every match holds rules them out
    first, since the pattern tries its alternatives at every place of the text (1.7 s
    for the 800 laws of the bench's 10,000 documents, most of writing editions.json).
    Then the pattern runs once over the whole text and only its matches' sentences are
    cut out; a match never spans two sentences (the repealing words hold no "." or ";").
    """
    flat = " ".join(normalize_text(text).split())
    lowered = flat.lower()
    if not any(word in lowered for word in _REPEAL_WORDS):
        return []
    hits = [m.start() for m in _REPEAL.finditer(flat)]
    if not hits:
        return []
    gaps = list(_SENTENCE_END.finditer(flat))
    starts = [0, *(gap.end() for gap in gaps)]
    ends = [*(gap.start() for gap in gaps), len(flat)]
    chosen = dict.fromkeys(bisect_right(starts, hit) - 1 for hit in hits)
    return [flat[starts[i] : ends[i]] for i in chosen if starts[i] < ends[i]]


def repeal_refs(text: str) -> list[RepealRef]:
    """Every law this text declares repealed, with the sentence that does it."""
    found: list[RepealRef] = []
    for sentence in _repealing_sentences(text):
        number = _NUMBER.search(sentence)
        year = _YEAR.search(sentence)
        if number is None and year is None:
            continue
        found.append(
            RepealRef(
                sentence,
                _number_key(number.group(1)) if number else "",
                year.group(1) if year else "",
            )
        )
    return found


def _number_key(number: str) -> str:
    return re.sub(r"[-‐‑–]", "-", number).upper()


def law_identity(doc: Document) -> tuple[str, str]:
    """(number, year) of a law from its title and opening words ("Ashgabat, 14 December
    2007, No. 159-III"); empty parts when the text does not say."""
    opening = " ".join([doc.title, *(s.text for s in doc.sections[:2])])[:1500]
    number = _NUMBER.search(opening)
    year = _YEAR.search(opening)
    return (
        _number_key(number.group(1)) if number else "",
        (doc.date or "")[:4] or (year.group(1) if year else ""),
    )


def _full_text(doc: Document) -> str:
    return "\n".join(section.text for section in doc.sections)


@dataclass
class _Law:
    """What the statuses need of one law, kept instead of the document: a full build reads
    its laws one at a time (800 of them, 1.5 s and the largest documents, at the bench's
    10,000 documents) and holds none of them."""

    id: str
    lang: str
    date: str
    in_force_from: str
    supersedes: list[str]
    number: str
    year: str
    repeals: list[RepealRef]

    @classmethod
    def of(cls, doc: Document) -> _Law:
        number, year = law_identity(doc)
        supersedes = [s.strip() for s in doc.source.supersedes.split(",") if s.strip()]
        return cls(doc.id, doc.lang, doc.date or "", doc.source.in_force_from, supersedes,
                   number, year, repeal_refs(_full_text(doc)))  # fmt: skip


def edition_statuses(docs: Iterable[Document]) -> dict[str, EditionInfo]:
    """Status and editions of every law among `docs` (other documents are left out; each
    document is let go once read, so `docs` may be a stream)."""
    laws = [_Law.of(d) for d in docs if d.doctype in LEGAL_DOCTYPES]
    info = {law.id: EditionInfo(law.id) for law in laws}
    for law in laws:
        info[law.id].number, info[law.id].year = law.number, law.year
        info[law.id].in_force_from = law.in_force_from
    links: dict[str, set[str]] = {law.id: set() for law in laws}

    def link(a: str, b: str) -> None:
        links[a].add(b)
        links[b].add(a)

    for doc in laws:
        for ref in doc.repeals:
            for other in laws:
                if other.id == doc.id:
                    continue
                if ref.number and other.number != ref.number:
                    continue
                if not ref.number and (not other.year or other.year != ref.year):
                    continue
                _repeal(info[other.id], doc.id, ref.words, same_language=doc.lang == other.lang)
                link(doc.id, other.id)
        for old_id in doc.supersedes:
            if old_id in info:
                _repeal(info[old_id], doc.id, f"manifest: supersedes = {old_id!r}")
                link(doc.id, old_id)
    by_number: dict[str, list[str]] = {}
    for law in laws:
        if law.number:
            by_number.setdefault(law.number, []).append(law.id)
    for same in by_number.values():
        for other in same[1:]:
            link(same[0], other)
    # A translation of a repealed law is repealed too; one of a law in force is in force.
    for doc in laws:
        if info[doc.id].status == "repealed":
            continue
        number = doc.number
        twin = next(
            (
                info[o]
                for o in by_number.get(number, [])
                if o != doc.id and info[o].status == "repealed"
            ),
            None,
        )
        if number and twin is not None:
            _repeal(info[doc.id], twin.repealed_by, twin.reason)
    order = {d.id: (d.year or "0000", d.date, d.id) for d in laws}
    for doc in laws:
        group = _component(doc.id, links) - {doc.id}
        info[doc.id].editions = sorted(group, key=lambda i: order[i], reverse=True)
    return info


def _repeal(target: EditionInfo, by: str, reason: str, *, same_language: bool = False) -> None:
    target.status = "repealed"
    if not target.repealed_by or same_language:
        target.repealed_by, target.reason = by, reason


def _component(start: str, links: dict[str, set[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for other in links[todo.pop()]:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def in_force_successor(
    doc_id: str, statuses: dict[str, EditionInfo], lang_of: dict[str, str]
) -> str:
    """The edition in force that replaced `doc_id`, in its language when there is one."""
    info = statuses.get(doc_id)
    if info is None or info.status != "repealed":
        return ""
    candidates = [e for e in info.editions if statuses.get(e) and statuses[e].status == "in_force"]
    same_lang = [e for e in candidates if lang_of.get(e) == lang_of.get(doc_id)]
    return (same_lang or candidates or [info.repealed_by])[0]


EDITIONS_FILE = "editions.json"


def legal_documents(store: Any) -> Iterator[Document]:
    """The laws and instruments in a store (only they can repeal or be repealed), read one
    at a time."""
    rows = store.db.execute(
        "SELECT id FROM documents WHERE doctype IN (?, ?) ORDER BY id", LEGAL_DOCTYPES
    ).fetchall()
    return store.iter_documents(row[0] for row in rows)


def save_editions(folder: Any, store: Any) -> dict[str, EditionInfo]:
    """Write the laws' statuses next to an index being built (read back by search)."""
    import json
    from pathlib import Path

    statuses = edition_statuses(legal_documents(store))
    data = {doc_id: info.as_dict() for doc_id, info in statuses.items()}
    (Path(folder) / EDITIONS_FILE).write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return statuses


def load_editions(folder: Any) -> dict[str, EditionInfo]:
    """The statuses saved with an index; {} for an index built before they were saved."""
    import json
    from pathlib import Path

    if folder is None:
        return {}
    try:
        data = json.loads((Path(folder) / EDITIONS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {doc_id: EditionInfo(**fields) for doc_id, fields in data.items()}
