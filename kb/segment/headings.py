"""Recognising numbered headings in running text: modules, chapters, articles, numbered sections.

Shared by PDF extraction (to keep a heading line out of a paragraph) and by
segmentation (to build the heading path when a document has no outline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

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
    # Kyrgyz "5-берене." (article), Kazakh "2-тарау." (chapter) and "1-бөлім" (part).
    ("article", 3, re.compile(rf"^({NUMBER})-(?:берене)\b[.:]?\s*(.*)$", re.I)),
    ("chapter", 2, re.compile(rf"^({NUMBER})-(?:тарау)\b[.:]?\s*(.*)$", re.I)),
    ("part", 1, re.compile(rf"^({NUMBER})-(?:бөлім|бөлүм)\b[.:]?\s*(.*)$", re.I)),
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


# --- headings found in running text (documents without an outline or heading styles) ---

# "370. Trafficking of person." / "12. Definitions": a bare provision number and a short title.
_BARE_NUMBERED = re.compile(r"^(\d{1,4}[A-Z]?)\.\s+([A-ZА-ЯЁÇÄŇÖŞÜÝŽ«\"“(].{1,150})$")
# The same heading left at the end of a paragraph block, where a PDF line break was lost.
_BARE_TAIL = re.compile(
    r"(?<=[.;:)»”])\s+(\d{1,4}[A-Z]?)\.\s+([A-ZА-ЯЁÇÄŇÖŞÜÝŽ][^.;:!?]{2,110}\.)$"
)
# Provision numbers may skip a few (repealed, renumbered), never go back.
MAX_NUMBER_STEP = 5
MIN_CHAIN = 3
# Words that make a long keyword line a sentence rather than a heading ("Статья 5 настоящего…").
_LONG_TITLE_WORDS = 80


@dataclass(frozen=True)
class FoundHeading:
    """A heading found in a document's blocks: which block, and where it splits (tail headings)."""

    index: int
    match: HeadingMatch
    text: str
    tail_at: int = -1  # >= 0: the heading is the block's text from this offset on


# The two halves of a criminal code, above its parts ("ОБЩАЯ ЧАСТЬ", "Special Part").
_CODE_HALF = re.compile(
    r"^(?:общая|особенная|жалпы|ерекше)\s+(?:часть|бөлім|бөлүк)|^(?:general|special)\s+part$"
    r"|^(?:umumy|aýratyn)\s+bölüm$",
    re.I,
)


def keyword_heading(text: str) -> HeadingMatch | None:
    """A heading named by its keyword: "Статья 5. …", "Глава 2", "Article 3 – …", "5-berene".

    Longer titles are allowed than for a line of a PDF (`match_heading`): a block is a
    whole paragraph, and article titles of codes run to 20 words and more.
    """
    text = " ".join(text.split())
    if _CODE_HALF.match(text):
        return HeadingMatch("book", 0, "", text)
    found = match_heading(text)
    if found is not None and found.kind != "section":
        return found
    if len(text) > 700 or _TOC_LEADER.search(text):
        return None
    for kind, level, pattern in _PATTERNS:
        m = pattern.match(text)
        if m is None:
            continue
        title = m.group(2).strip().lstrip("–—-: ").strip()
        separated = bool(re.match(rf"^\S+\s+{re.escape(m.group(1))}\s*[.:–—-]", text)) or (
            text.startswith(m.group(1))
        )
        if (
            separated
            and title[:1].isupper()
            and len(title.split()) <= _LONG_TITLE_WORDS
            and not title.endswith((",", ";", ":"))
            # Past a line's length a title that ends a sentence is a provision's text.
            and (len(title.split()) <= 14 or not title.endswith("."))
        ):
            return HeadingMatch(kind, level, normalise_number(m.group(1)), title)
        return None
    return None


def _bare_candidate(text: str) -> tuple[int, str, str] | None:
    """(number, number text, title) for a block that is a bare numbered heading."""
    m = _BARE_NUMBERED.match(text)
    if m is None:
        return None
    title = m.group(2).strip()
    if len(title.split()) > 14 or title.endswith((",", ";", ":")) or _TOC_LEADER.search(text):
        return None
    # A title is a phrase; a numbered clause is a sentence with a verb and more than one stop.
    if title.count(". ") >= 1 and not title.endswith("."):
        return None
    return int(re.match(r"\d+", m.group(1)).group(0)), m.group(1), title


def numbered_chain(texts: list[str]) -> list[FoundHeading]:
    """Bare numbered headings ("370. Trafficking of person.") that follow one another in order.

    Numbered clauses inside provisions ("1. …", "2. …") also look like this, so only
    the longest run of candidates whose numbers only go up, by at most MAX_NUMBER_STEP,
    is taken, and only when most of its members have text of their own under them.
    """
    candidates: list[tuple[int, int, str, str, int]] = []  # (block, number, raw, title, tail)
    for index, text in enumerate(texts):
        found = _bare_candidate(text)
        if found is not None:
            candidates.append((index, *found, -1))
            continue
        m = _BARE_TAIL.search(text)
        if m is not None and len(text) - m.start() < 160:
            number = int(re.match(r"\d+", m.group(1)).group(0))
            candidates.append((index, number, m.group(1), m.group(2).strip(), m.start() + 1))
    if len(candidates) < MIN_CHAIN:
        return []
    # Longest chain: best[i] = (length, previous) over candidates, numbers rising by 1..STEP.
    best: list[tuple[int, int]] = []
    last_at: dict[int, int] = {}  # number -> index in candidates of the best chain ending there
    for i, (_, number, _, _, _) in enumerate(candidates):
        length, previous = 1, -1
        for step in range(1, MAX_NUMBER_STEP + 1):
            j = last_at.get(number - step)
            if j is not None and best[j][0] + 1 > length:
                length, previous = best[j][0] + 1, j
        best.append((length, previous))
        if number not in last_at or best[last_at[number]][0] <= length:
            last_at[number] = i
    end = max(range(len(best)), key=lambda i: best[i][0])
    if best[end][0] < MIN_CHAIN:
        return []
    chain: list[int] = []
    while end >= 0:
        chain.append(end)
        end = best[end][1]
    chain.reverse()
    members = [candidates[i] for i in chain]
    adjacent = sum(1 for a, b in pairwise(members) if b[0] - a[0] <= 1)
    if adjacent * 2 > len(members):
        return []  # a list of numbered lines, not headings with text under them
    return [
        FoundHeading(
            index,
            HeadingMatch("section", 3, raw, title),
            texts[index][tail:] if tail >= 0 else texts[index],
            tail,
        )
        for index, _, raw, title, tail in members
    ]


# "III. Legal framework", "B.Victim assistance" (UN and report style): a short title, no stop.
_ROMAN_HEADING = re.compile(r"^([IVX]{1,5})\.\s*([A-ZА-ЯЁ][^.;:]{2,120})$")
_LETTER_HEADING = re.compile(r"^([A-H])\.\s*([A-ZА-ЯЁ][^.;:]{2,120})$")


def _outline_headings(texts: list[str], taken: set[int]) -> list[FoundHeading]:
    """Roman-numbered (level 1) and lettered (level 2) heading lines, when there are two or more."""
    found: list[FoundHeading] = []
    for level, pattern in ((1, _ROMAN_HEADING), (2, _LETTER_HEADING)):
        hits = []
        for index, text in enumerate(texts):
            m = pattern.match(" ".join(text.split()))
            if m and index not in taken and len(m.group(2).split()) <= 14:
                match = HeadingMatch(
                    "part" if level == 1 else "chapter", level, m.group(1), m.group(2)
                )
                hits.append(FoundHeading(index, match, " ".join(text.split())))
        if len(hits) >= 2:
            found += hits
    return found


def is_caps_heading(text: str) -> bool:
    """An all-capitals line that stands alone: "GENERAL PROVISIONS", "ОБЩАЯ ЧАСТЬ"."""
    text = text.strip()
    if len(text) > 120 or text.endswith((",", ";")) or "\n" in text:
        return False
    words = text.split()
    if not 1 <= len(words) <= 12:
        return False
    letters = [ch for ch in text if ch.isalpha()]
    return (
        len(letters) >= 4
        and all(ch.isupper() for ch in letters if ch.isupper() or ch.islower())
        and any(sum(ch.isalpha() for ch in word) >= 3 for word in words)
    )


def find_headings(texts: list[str], *, weak: bool = True, caps: bool = True) -> list[FoundHeading]:
    """Headings among a document's blocks, from the text alone, strongest signal first.

    Keyword headings (part, chapter, article…) are always taken. Bare numbered
    provisions are taken when no keyword names the articles; all-capitals lines
    only when nothing else was found (and `caps` is on). `weak=False` takes keyword
    headings only.
    """
    found: list[FoundHeading] = []
    for index, text in enumerate(texts):
        match = keyword_heading(text)
        if match is not None:
            found.append(FoundHeading(index, match, " ".join(text.split())))
    if not weak:
        return found
    if not any(f.match.kind == "article" for f in found):
        taken = {f.index for f in found}
        found += [f for f in numbered_chain(texts) if f.index not in taken]
        found += _outline_headings(texts, taken | {f.index for f in found})
    if not found and caps:
        found = [
            FoundHeading(i, HeadingMatch("section", 2, "", t.strip()), t.strip())
            for i, t in enumerate(texts)
            if is_caps_heading(t)
        ]
    return sorted(found, key=lambda f: f.index)
