"""The fixed query set: single words, phrases, filters, article numbers, several languages.

Each query is run through `search.query.search` and, translated, through the
SQLite FTS5 baseline, so both answer the same questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BenchQuery:
    text: str
    kind: str  # word | words | phrase | filter | ref | cross
    filters: dict[str, str] = field(default_factory=dict)  # doctype, lang, year, tag


QUERIES: tuple[BenchQuery, ...] = (
    BenchQuery("trafficking", "word"),
    BenchQuery("hotline", "word"),
    BenchQuery("shelter", "word"),
    BenchQuery("exploitation", "word"),
    BenchQuery("жертвы", "word"),
    BenchQuery("идентификации", "word"),
    BenchQuery("pidalary", "word"),
    BenchQuery("söwdasy", "word"),
    BenchQuery("victim identification", "words"),
    BenchQuery("labour exploitation indicators", "words"),
    BenchQuery("referral mechanism training", "words"),
    BenchQuery("горячая линия", "words"),
    BenchQuery("трудовой эксплуатации", "words"),
    BenchQuery("adam söwdasy", "words"),
    BenchQuery("howpsuz migrasiýa", "words"),
    BenchQuery('"national referral mechanism"', "phrase"),
    BenchQuery('"forced labour"', "phrase"),
    BenchQuery('"торговли людьми"', "phrase"),
    BenchQuery('"ynam telefony"', "phrase"),
    BenchQuery("victims", "filter", {"doctype": "legislation"}),
    BenchQuery("hotline", "filter", {"lang": "ru"}),
    BenchQuery("training", "filter", {"year": "2016"}),
    BenchQuery("migrants", "filter", {"lang": "en", "doctype": "event_report"}),
    BenchQuery("12-1", "ref"),
    BenchQuery("Article 5", "ref"),
    BenchQuery("Статья 7", "ref"),
    BenchQuery("Ashgabat", "cross"),
    BenchQuery("Asgabat", "cross"),
    BenchQuery("IOM HMG", "cross"),
    BenchQuery("Mary shelter", "cross"),
)

_PHRASE = re.compile(r'"([^"]+)"')
_WORD = re.compile(r"\w+")


def fts5_match(text: str) -> str:
    """The FTS5 MATCH expression a user would write: quoted phrases and words, all required.

    Every token is quoted, so FTS5 operators and punctuation ("12-1") cannot break the query.
    """
    parts: list[str] = []
    for phrase in _PHRASE.findall(text):
        parts.append('"' + " ".join(_WORD.findall(phrase)) + '"')
    rest = _PHRASE.sub(" ", text)
    for token in re.findall(r"[\w-]+", rest):
        words = _WORD.findall(token)
        parts.append('"' + " ".join(words) + '"')
    return " AND ".join(p for p in parts if p != '""')
