"""Recognising numbered headings in running text: modules, chapters, articles, numbered sections.

Shared by PDF extraction (to keep a heading line out of a paragraph) and by
segmentation (to build the heading path when a document has no outline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# An article or section number as laws write it: 5, 129-1, 129¹, 360C, 225-4-1.
NUMBER = r"\d+(?:[-–.]\d+)*[¹²³⁴⁵⁶⁷⁸⁹⁰]*[A-Za-z]?"

_PATTERNS: list[tuple[str, int, re.Pattern[str]]] = [
    ("part", 1, re.compile(rf"^(?:part|раздел|bölüm)\s+([IVXLC]+|{NUMBER})\b[.:]?\s*(.*)$", re.I)),
    (
        "chapter",
        2,
        re.compile(rf"^(?:chapter|глава|bap)\s+([IVXLC]+|{NUMBER})\b[.:]?\s*(.*)$", re.I),
    ),
    ("chapter", 2, re.compile(r"^([IVXLC]+)(?:-nji|-njy|-nji)?\s+bap\b[.:]?\s*(.*)$", re.I)),
    ("module", 2, re.compile(rf"^(?:module|модуль|modul)\s+({NUMBER})\b[.:]?\s*(.*)$", re.I)),
    (
        "annex",
        2,
        re.compile(
            rf"^(?:annex|appendix|приложение|goşundy)\s+({NUMBER}|[A-Z])\b[.:]?\s*(.*)$", re.I
        ),
    ),
    (
        "article",
        3,
        re.compile(rf"^(?:article|art\.|статья|ст\.|section)\s+({NUMBER})\b[.:]?\s*(.*)$", re.I),
    ),
    (
        "article",
        3,
        re.compile(rf"^({NUMBER})-(?:nji|njy|nju|njü|nä|njı)\s+madda\b[.:]?\s*(.*)$", re.I),
    ),
    ("article", 3, re.compile(rf"^(?:madda)\s+({NUMBER})\b[.:]?\s*(.*)$", re.I)),
]
# "3.2 Indicators of labour exploitation": at least one dot, then a capitalised title.
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3})\.?\s+(\S.{1,150})$")
_TOC_LEADER = re.compile(r"(\.{4,}|…{2,}|\s\.\s\.\s)\s*\d+\s*$")


@dataclass(frozen=True)
class HeadingMatch:
    kind: str
    level: int
    number: str
    title: str


def match_heading(line: str) -> HeadingMatch | None:
    """Is this one line a numbered heading? Table-of-contents lines are not."""
    line = line.strip()
    if not line or len(line) > 200 or _TOC_LEADER.search(line):
        return None
    for kind, level, pattern in _PATTERNS:
        m = pattern.match(line)
        if m:
            title = m.group(2).strip()
            # "Article 5 of the Law provides..." is a sentence, not a heading.
            if len(title) > 120 or len(title.split()) > 14 or (title and title[0].islower()):
                return None
            return HeadingMatch(kind, level, normalise_number(m.group(1)), title)
    m = _NUMBERED.match(line)
    if m:
        title = m.group(2).strip()
        if title[:1].isupper() and not title.endswith((",", ";")) and len(title.split()) <= 14:
            number = m.group(1)
            return HeadingMatch("section", 2 + number.count("."), number, title)
    return None


_SUPERSCRIPTS = str.maketrans("¹²³⁴⁵⁶⁷⁸⁹⁰", "1234567890")


def normalise_number(number: str) -> str:
    """'129¹' -> '129-1', '129–1' -> '129-1', '360c' -> '360C'."""
    number = number.strip().rstrip(".")
    m = re.match(r"^(\d+(?:[-–.]\d+)*)([¹²³⁴⁵⁶⁷⁸⁹⁰]+)([A-Za-z]?)$", number)
    if m:
        number = f"{m.group(1)}-{m.group(2).translate(_SUPERSCRIPTS)}{m.group(3)}"
    number = number.replace("–", "-")
    return number.upper() if number[-1:].isalpha() and number[:1].isdigit() else number
