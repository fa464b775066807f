"""Dates and periods in English, Russian and Turkmen text, and a document's publication date.

dateparser refuses Turkmen, so the forms are written out here as regex tables per
language. Every match becomes a `FoundDate` with ISO partial dates ("2009-11",
"2025-01-15") and the precision that is certain. A date that cannot exist
("31 November 2009") is kept as written and normalised to the part that is
certain ("2009-11"), with a note saying why; it is never dropped.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

Precision = Literal["year", "month", "day"]
_PRECISION_RANK: dict[str, int] = {"year": 0, "month": 1, "day": 2}


@dataclass(frozen=True)
class FoundDate:
    """A date or period as found in text.

    text: the words as written (a "Start Date … End Date …" pair with its whitespace collapsed).
    start/end: ISO partial dates at `precision` ("2009", "2009-11", "2009-11-30");
    end == start for a single date. offset: where `text` starts in the input.
    note: why the precision is coarser than written ("day 31 does not exist in November").
    """

    text: str
    start: str
    end: str
    precision: Precision
    is_period: bool = False
    note: str = ""
    offset: int = 0


@dataclass(frozen=True)
class _Point:
    year: int
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> Precision:
        if self.day is not None:
            return "day"
        return "month" if self.month is not None else "year"

    def iso(self, precision: Precision) -> str:
        if precision == "year" or self.month is None:
            return f"{self.year:04d}"
        if precision == "month" or self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


# --- month names --------------------------------------------------------------------------------

# Prefix -> month number, tried in order; "мар" must come before "ма" (март vs май).
_MONTH_PREFIXES: tuple[tuple[str, int], ...] = (
    ("jan", 1), ("yan", 1), ("янв", 1),
    ("feb", 2), ("few", 2), ("фев", 2),
    ("mar", 3), ("мар", 3),
    ("apr", 4), ("апр", 4),
    ("may", 5), ("ма", 5),
    ("jun", 6), ("iyun", 6), ("июн", 6),
    ("jul", 7), ("iyul", 7), ("июл", 7),
    ("aug", 8), ("awg", 8), ("авг", 8),
    ("sep", 9), ("sen", 9), ("сен", 9),
    ("oct", 10), ("okt", 10), ("окт", 10),
    ("nov", 11), ("noy", 11), ("ноя", 11),
    ("dec", 12), ("dek", 12), ("дек", 12),
)  # fmt: skip

_MONTH_NAMES_EN = (
    "", "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip


def month_number(word: str) -> int | None:
    """1-12 for an English, Russian or Turkmen month name in any case form, else None."""
    folded = word.casefold().replace("ý", "y")
    for prefix, number in _MONTH_PREFIXES:
        if folded.startswith(prefix):
            return number
    return None


_EN_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_RU_MONTH = (
    r"(?:январ[ьяе]|феврал[ьяе]|март[ае]?|апрел[ьяе]|ма[йяе]|июн[ьяе]|июл[ьяе]|август[ае]?"
    r"|сентябр[ьяе]|октябр[ьяе]|ноябр[ьяе]|декабр[ьяе])\b"
)
# Turkmen month names take case endings: ýanwary, ýanwarda, iýunyň, maýynda.
_TK_MONTH = (
    r"(?:[ýy]anwar|fewral|mart|aprel|ma[ýy]|i[ýy]un|i[ýy]ul|awgust|sent[ýy]abr|okt[ýy]abr"
    r"|no[ýy]abr|dekabr)[a-zäçňöşüýž]*"
)
_YEAR = r"(?:1[89]\d\d|2[01]\d\d)"
_DAY = r"(?:[0-3]?\d)"
_EN_ORD = r"(?:st|nd|rd|th)?"
# Turkmen ordinal after digits: 15-nji, 6-njy, 2025-nji, 1-inji.
_TK_ORD = r"(?:-?\s?(?:[iyuü]?nj[iyuüı]))"
_TK_YEAR_WORD = r"(?:[ýy]yl[a-zäçňöşüýž]*|[ýy]\.)"
_MONTH_2 = r"[01]\d"
_MONTH_12 = r"[01]?\d"
_DAY_2 = r"[0-3]\d"
_YEAR_OR_2 = _YEAR + r"|\d\d"
_DASH = r"\s*[-–—‐‒]\s*"
_RU_YEAR_WORD = r"(?:\s*(?:гг?\.|год(?:а|у|ов)?\b))?"


def _g(name: str, body: str) -> str:
    return f"(?P<{name}>{body})"


# --- the pattern table --------------------------------------------------------------------------

_Builder = Callable[[re.Match[str]], "tuple[_Point, _Point] | None"]


class _Pattern:
    """One written form of a date: a regex and what it means.

    Patterns are written in lower case and run on the lower-cased text (IGNORECASE
    makes Python's `re` several times slower); `folding` is the same pattern with
    IGNORECASE, for the rare text whose lower case has another length (so offsets
    would shift).
    """

    def __init__(self, name: str, source: str, build: _Builder, before: str | None = None) -> None:
        self.name = name
        self.family = name.split("_", 1)[0]  # iso, dotted, en, ru, tk or year
        self.build = build
        self.exact = re.compile(source)
        self.folding = re.compile(source, re.IGNORECASE)
        self.has_core = "core" in self.exact.groupindex
        # Must match (anchored at its end) the text just before the match: a cue word.
        self.before = re.compile(before, re.IGNORECASE) if before else None


def _i(match: re.Match[str], group: str) -> int:
    return int(match.group(group))


def _year(match: re.Match[str], group: str = "y") -> int:
    return int(match.group(group))


def _month(match: re.Match[str], group: str) -> int:
    number = month_number(match.group(group))
    assert number is not None  # the regex only admits month names
    return number


def _single(point: _Point) -> tuple[_Point, _Point]:
    return point, point


def _day_range(m: re.Match[str]) -> tuple[_Point, _Point]:
    year, month = _year(m), _month(m, "m")
    return _Point(year, month, _i(m, "d1")), _Point(year, month, _i(m, "d2"))


def _day_month_range(m: re.Match[str]) -> tuple[_Point, _Point]:
    year = _year(m)
    return _Point(year, _month(m, "m1"), _i(m, "d1")), _Point(year, _month(m, "m2"), _i(m, "d2"))


def _month_range(m: re.Match[str]) -> tuple[_Point, _Point]:
    year = _year(m)
    return _Point(year, _month(m, "m1")), _Point(year, _month(m, "m2"))


def _day_month_year(m: re.Match[str]) -> tuple[_Point, _Point]:
    return _single(_Point(_year(m), _month(m, "m"), _i(m, "d")))


def _month_year(m: re.Match[str]) -> tuple[_Point, _Point]:
    return _single(_Point(_year(m), _month(m, "m")))


def _tk_day(m: re.Match[str]) -> tuple[_Point, _Point]:
    year, month = _year(m), _month(m, "m")
    start = _Point(year, month, _i(m, "d1"))
    end = _Point(year, month, _i(m, "d2")) if m.group("d2") else start
    return start, end


def _numeric(m: re.Match[str]) -> tuple[_Point, _Point] | None:
    month = _i(m, "mo")
    if not 1 <= month <= 12:
        return None
    return _single(_Point(_year(m), month, _i(m, "d")))


def _year_only(m: re.Match[str]) -> tuple[_Point, _Point]:
    return _single(_Point(_year(m)))


def _year_range(m: re.Match[str]) -> tuple[_Point, _Point] | None:
    start = _year(m, "y1")
    end_text = m.group("y2")
    end = int(end_text) if len(end_text) == 4 else start // 100 * 100 + int(end_text)
    # "2018-06" is a month, "1997-2030" is no span anyone means: keep plausible spans only.
    if not start < end <= start + 30:
        return None
    return _Point(start), _Point(end)


# Longer, more specific forms first: on overlap the longer match wins, ties go to the earlier row.
_PATTERNS: tuple[_Pattern, ...] = (
    # ISO 8601, optionally with a time: 2018-06-12, 2018-06-12T09:30:00+05:00
    _Pattern(
        "iso",
        rf"(?<![\d.\-/]){_g('y', _YEAR)}-{_g('mo', _MONTH_2)}-{_g('d', _DAY_2)}(?:[t ]\d\d:\d\d(?::\d\d)?(?:\.\d+)?(?:z|[+-]\d\d:?\d\d)?)?(?![\d])",
        _numeric,
    ),
    # 15.03.2024, 15.03.2024 г., 15.03.2024 ý.
    _Pattern(
        "dotted",
        rf"(?<![\d.]){_g('d', _DAY)}\.{_g('mo', _MONTH_12)}\.{_g('y', _YEAR)}(?![\d])(?:\s*(?:г\.|ý\.|y\.))?",
        _numeric,
    ),
    # English day first: "15 January – 3 February 2025", "15-16 January 2025", "01 December 2008"
    _Pattern(
        "en_dm_dm_y",
        rf"\b{_g('d1', _DAY)}{_EN_ORD}\s+(?:of\s+)?{_g('m1', _EN_MONTH)}{_DASH}{_g('d2', _DAY)}{_EN_ORD}\s+(?:of\s+)?{_g('m2', _EN_MONTH)},?\s+{_g('y', _YEAR)}\b",
        _day_month_range,
    ),
    _Pattern(
        "en_dd_m_y",
        rf"\b{_g('d1', _DAY)}{_EN_ORD}{_DASH}{_g('d2', _DAY)}{_EN_ORD}\s+(?:of\s+)?{_g('m', _EN_MONTH)},?\s+{_g('y', _YEAR)}\b",
        _day_range,
    ),
    _Pattern(
        "en_d_m_y",
        rf"\b{_g('d', _DAY)}{_EN_ORD}\s+(?:of\s+)?{_g('m', _EN_MONTH)},?\s+{_g('y', _YEAR)}\b",
        _day_month_year,
    ),
    # English month first: "January 15 – February 3, 2025", "June 5-8, 2018", "June 5, 2018"
    _Pattern(
        "en_md_md_y",
        rf"\b{_g('m1', _EN_MONTH)}\s+{_g('d1', _DAY)}{_EN_ORD}{_DASH}{_g('m2', _EN_MONTH)}\s+{_g('d2', _DAY)}{_EN_ORD},?\s+{_g('y', _YEAR)}\b",
        _day_month_range,
    ),
    _Pattern(
        "en_m_dd_y",
        rf"\b{_g('m', _EN_MONTH)}\s+{_g('d1', _DAY)}{_EN_ORD}{_DASH}{_g('d2', _DAY)}{_EN_ORD},?\s+{_g('y', _YEAR)}\b",
        _day_range,
    ),
    _Pattern(
        "en_m_d_y",
        rf"\b{_g('m', _EN_MONTH)}\s+{_g('d', _DAY)}{_EN_ORD},?\s+{_g('y', _YEAR)}\b",
        _day_month_year,
    ),
    # "January–March 2025", "December, 2011", "in October 2011"
    _Pattern(
        "en_m_m_y",
        rf"\b{_g('m1', _EN_MONTH)}{_DASH}{_g('m2', _EN_MONTH)},?\s+{_g('y', _YEAR)}\b",
        _month_range,
    ),
    _Pattern(
        "en_m_y",
        rf"\b{_g('m', _EN_MONTH)},?\s+{_g('y', _YEAR)}\b",
        _month_year,
    ),
    # Russian: "15–16 января 2025 г.", "1 декабря – 5 января 2025 года", "15 марта 2024 г.",
    # "в октябре 2011 года", "январь–март 2025 г."
    _Pattern(
        "ru_dm_dm_y",
        rf"\b{_g('d1', _DAY)}\s+{_g('m1', _RU_MONTH)}{_DASH}{_g('d2', _DAY)}\s+{_g('m2', _RU_MONTH)}\s+{_g('y', _YEAR)}{_RU_YEAR_WORD}",
        _day_month_range,
    ),
    _Pattern(
        "ru_dd_m_y",
        rf"\b{_g('d1', _DAY)}{_DASH}{_g('d2', _DAY)}\s+{_g('m', _RU_MONTH)}\s+{_g('y', _YEAR)}{_RU_YEAR_WORD}",
        _day_range,
    ),
    _Pattern(
        "ru_d_m_y",
        rf"\b{_g('d', _DAY)}\s+{_g('m', _RU_MONTH)}\s+{_g('y', _YEAR)}{_RU_YEAR_WORD}",
        _day_month_year,
    ),
    _Pattern(
        "ru_m_m_y",
        rf"\b{_g('m1', _RU_MONTH)}{_DASH}{_g('m2', _RU_MONTH)}\s+{_g('y', _YEAR)}{_RU_YEAR_WORD}",
        _month_range,
    ),
    _Pattern(
        "ru_m_y",
        rf"\b{_g('m', _RU_MONTH)}\s+{_g('y', _YEAR)}{_RU_YEAR_WORD}",
        _month_year,
    ),
    # Turkmen: "2025-nji ýylyň 15-nji ýanwary", "2025-nji ýylyň 15-16-njy ýanwary",
    # "2025-nji ýylyň ýanwar aýynda", "15-nji ýanwar 2025 ý.", "2025-nji ýylda"
    _Pattern(
        "tk_y_d_m",
        rf"\b{_g('y', _YEAR)}{_TK_ORD}\s+{_TK_YEAR_WORD}\s+{_g('d1', _DAY)}{_TK_ORD}?(?:{_DASH}{_g('d2', _DAY)})?{_TK_ORD}\s+{_g('m', _TK_MONTH)}",
        _tk_day,
    ),
    _Pattern(
        "tk_y_m",
        rf"\b{_g('y', _YEAR)}{_TK_ORD}\s+{_TK_YEAR_WORD}\s+{_g('m', _TK_MONTH)}(?:\s+a[ýy][a-zäçňöşüýž]*)?",
        _month_year,
    ),
    _Pattern(
        "tk_d_m_y",
        rf"\b{_g('d1', _DAY)}(?:{_DASH}{_g('d2', _DAY)})?{_TK_ORD}\s+{_g('m', _TK_MONTH)}\s+{_g('y', _YEAR)}(?:{_TK_ORD})?(?:\s*{_TK_YEAR_WORD})?",
        _tk_day,
    ),
    _Pattern(
        "tk_y",
        rf"\b{_g('y', _YEAR)}(?:{_TK_ORD}\s+[ýy]yl[a-zäçňöşüýž]*|\s*ý\.)",
        _year_only,
    ),
    # Year spans: "(2016- 2018, 2020-2022)", "2025-2029", "2008–09"
    _Pattern(
        "year_range",
        rf"(?<![\d\-./]){_g('y1', _YEAR)}\s*[-–—]\s*{_g('y2', _YEAR_OR_2)}(?![\d\-–]|\.\d)",
        _year_range,
    ),
    # A bare year only with a cue, so that "2030 Agenda" or a phone number is not a date.
    _Pattern(
        "year_cue",
        rf"\b{_g('y', _YEAR)}(?![\d\-–])",
        _year_only,
        before=(
            r"(?:\b(?:in|since|by|until|till|from|during|year|of|start\s+date|end\s+date|в|с|до|по|к)"
            r"[\s:\-–—•]+|\()$"
        ),
    ),
    _Pattern(
        "year_ru",
        rf"\b{_g('core', _g('y', _YEAR))}\s*(?:гг?\.|год(?:а|у)?\b)",
        _year_only,
    ),
)  # fmt: skip

# What may stand between two dates that form one period: "1 May – 3 June", "с … по …".
_RANGE_CONNECTOR = re.compile(r"^\s*(?:[-–—‐‒]+|to|till|until|through|по|до)\s*$", re.IGNORECASE)
_START_LABEL = re.compile(
    r"(?:start\s+date|date\s+of\s+start|дата\s+начала|başlan[a-zäçňöşüýž]*\s+senesi)[\s:\-–—•]*$",
    re.IGNORECASE,
)
_END_LABEL = re.compile(
    r"(?:end\s+date|date\s+of\s+completion|дата\s+окончания|tamamlan[a-zäçňöşüýž]*\s+senesi)[\s:\-–—•]*$",
    re.IGNORECASE,
)
_HAS_DIGIT_RUN = re.compile(r"\d{4}")


# --- building FoundDates ------------------------------------------------------------------------


def _certain(point: _Point) -> tuple[_Point, str]:
    """Drop a day that cannot exist in its month (31 November, 29 February 2023), saying why."""
    if point.day is None or point.month is None:
        return point, ""
    if point.day == 0:
        return _Point(point.year, point.month), "day 0 does not exist"
    last = calendar.monthrange(point.year, point.month)[1]
    if point.day > last:
        month = _MONTH_NAMES_EN[point.month]
        if point.month == 2:
            month += f" {point.year}"  # 29 February exists in some years
        return _Point(point.year, point.month), f"day {point.day} does not exist in {month}"
    return point, ""


def _coarser(a: Precision, b: Precision) -> Precision:
    return a if _PRECISION_RANK[a] <= _PRECISION_RANK[b] else b


def _make(text: str, offset: int, start: _Point, end: _Point) -> FoundDate | None:
    if (start.day or 0) > 31 or (end.day or 0) > 31:
        return None  # "45 January" is no mistyped date: it is not a date at all
    is_period = start != end
    start, start_note = _certain(start)
    end, end_note = _certain(end)
    notes = [n for n in (start_note, end_note) if n]
    # One precision for both ends, so that `precision` is true of start and of end.
    precision = _coarser(start.precision, end.precision)
    start_iso, end_iso = start.iso(precision), end.iso(precision)
    if end_iso < start_iso:
        notes.append("end is before start")
    return FoundDate(
        text=text,
        start=start_iso,
        end=end_iso,
        precision=precision,
        is_period=is_period,
        note="; ".join(dict.fromkeys(notes)),
        offset=offset,
    )


# Every form carries a four-digit year, so patterns only run in a window around each
# year: far cheaper than scanning all text with two dozen patterns. The window holds the
# longest forms ("15th of September – 30th of September, 2025" before the year,
# "2025-nji ýylyň 15-16-njy sentýabrynda" after it).
_YEAR_ANCHOR = re.compile(r"(?<!\d)(?:1[89]|2[01])\d\d(?!\d)")
_WINDOW_BEFORE = 60
_WINDOW_AFTER = 45
_CUE_CHARS = 20


def _windows(text: str) -> list[tuple[int, int]]:
    windows: list[tuple[int, int]] = []
    for m in _YEAR_ANCHOR.finditer(text):
        start, end = max(0, m.start() - _WINDOW_BEFORE), min(len(text), m.end() + _WINDOW_AFTER)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


# Within a window, a family of patterns runs only if its month names (or Turkmen
# ordinals) are there; most windows hold a bare year and need only the numeric forms.
# Gates, like patterns, read the lower-cased text.
_FAMILY_GATES: dict[str, re.Pattern[str]] = {
    "en": re.compile(rf"\b{_EN_MONTH}"),
    "ru": re.compile(_RU_MONTH),
    "tk": re.compile(r"\d-?\s?[iyuü]?nj[iyuüı]|\d\s*ý\."),
}
_CYRILLIC = re.compile(r"[а-яё]")


def _open_families(lowered: str, start: int, end: int) -> set[str]:
    families = {"iso", "dotted", "year"}
    for family, gate in _FAMILY_GATES.items():
        if family == "ru" and not _CYRILLIC.search(lowered, start, end):
            continue  # the cheap test first: no Cyrillic, no Russian month
        if gate.search(lowered, start, end):
            families.add(family)
    return families


def _atoms(text: str) -> Iterator[tuple[int, int, int, _Point, _Point]]:
    """(start, end, pattern rank, start point, end point) for every pattern match."""
    lowered = text.lower()
    same_length = len(lowered) == len(text)  # else offsets would shift: match the text itself
    scanned = lowered if same_length else text
    for window_start, window_end in _windows(text):
        families = (
            _open_families(lowered, window_start, window_end)
            if same_length
            else {p.family for p in _PATTERNS}
        )
        for rank, pattern in enumerate(_PATTERNS):
            if pattern.family not in families:
                continue
            regex = pattern.exact if same_length else pattern.folding
            for m in regex.finditer(scanned, window_start, window_end):
                if pattern.before is not None and not pattern.before.search(
                    text, max(0, m.start() - _CUE_CHARS), m.start()
                ):
                    continue
                built = pattern.build(m)
                if built is None:
                    continue
                span = m.span("core") if pattern.has_core else m.span()
                yield span[0], span[1], rank, built[0], built[1]


def _non_overlapping(
    candidates: list[tuple[int, int, int, _Point, _Point]],
) -> list[tuple[int, int, int, _Point, _Point]]:
    chosen: list[tuple[int, int, int, _Point, _Point]] = []
    for cand in sorted(candidates, key=lambda c: (-(c[1] - c[0]), c[2], c[0])):
        if all(cand[1] <= other[0] or cand[0] >= other[1] for other in chosen):
            chosen.append(cand)
    return sorted(chosen, key=lambda c: c[0])


def find_dates(text: str) -> list[FoundDate]:
    """Every date and period in `text`, in order; ranges written as two dates become one period."""
    if not _HAS_DIGIT_RUN.search(text):
        return []  # every form we know carries a four-digit year
    return list(_find_dates_cached(text))


# The tagger and the fact extractor read the same section text: parse it once.
@lru_cache(maxsize=4096)
def _find_dates_cached(text: str) -> tuple[FoundDate, ...]:
    atoms = _non_overlapping(list(_atoms(text)))
    merged: list[tuple[int, int, _Point, _Point]] = []
    for start, end, _rank, first, last in atoms:
        if merged:
            prev_start, prev_end, prev_first, prev_last = merged[-1]
            if (
                prev_first == prev_last
                and first == last
                and (prev_first.precision == "year") == (first.precision == "year")
                and _RANGE_CONNECTOR.match(text[prev_end:start])
            ):
                merged[-1] = (prev_start, end, prev_first, last)
                continue
        merged.append((start, end, first, last))
    found = [
        date
        for start, end, first, last in merged
        if (date := _make(text[start:end], start, first, last)) is not None
    ]
    return tuple(_join_start_end_labels(text, found))


def _join_start_end_labels(text: str, found: list[FoundDate]) -> list[FoundDate]:
    """A "Start Date 2023" shortly followed by an "End Date 2025" is one period, as project
    pages mean it. Its text is the labelled span with whitespace collapsed."""
    out: list[FoundDate] = []
    skip_next = False
    for index, date in enumerate(found):
        if skip_next:
            skip_next = False
            continue
        before = text[max(0, date.offset - 40) : date.offset]
        label = _START_LABEL.search(before)
        following = found[index + 1] if index + 1 < len(found) else None
        if label and following is not None and not date.is_period and not following.is_period:
            gap = text[date.offset + len(date.text) : following.offset]
            if len(gap) <= 60 and _END_LABEL.search(gap):
                label_start = date.offset - len(before) + label.start()
                precision = _coarser(date.precision, following.precision)
                start_iso = date.start[: _iso_len(precision)]
                end_iso = following.end[: _iso_len(precision)]
                raw = text[label_start : following.offset + len(following.text)]
                note = "; ".join(n for n in (date.note, following.note) if n)
                out.append(
                    FoundDate(
                        text=" ".join(raw.replace("\n-\n", " - ").split()),
                        start=start_iso,
                        end=end_iso,
                        precision=precision,
                        is_period=True,
                        note=note,
                        offset=label_start,
                    )
                )
                skip_next = True
                continue
        out.append(date)
    return out


def _iso_len(precision: Precision) -> int:
    return {"year": 4, "month": 7, "day": 10}[precision]


def parse_date(value: str) -> FoundDate | None:
    """The first date in a short value (a metadata field, a label's value); None if none."""
    value = value.strip()
    compact = re.fullmatch(r"(?:D:)?(\d{4})(\d{2})(\d{2})(?:\d{6})?.*", value)
    if compact:
        year, month, day = (int(g) for g in compact.groups())
        if 1 <= month <= 12:
            return _make(value, 0, _Point(year, month, day), _Point(year, month, day))
    found = find_dates(value)
    if found:
        return found[0]
    bare = re.fullmatch(r"\s*(" + _YEAR + r")(?:-(\d{2}))?\s*", value)
    if bare:
        year = int(bare.group(1))
        month = int(bare.group(2)) if bare.group(2) else None
        if month is not None and not 1 <= month <= 12:
            month = None
        point = _Point(year, month)
        return _make(value.strip(), 0, point, point)
    return None


# --- publication date ---------------------------------------------------------------------------

_METADATA_KEYS: tuple[str, ...] = (
    "date",
    "published",
    "article:published_time",
    "og:published_time",
    "datepublished",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "dcterms.issued",
    "pubdate",
    "publish-date",
    "publication_date",
)
_PUBLISHED_CUE = re.compile(
    r"(?:published|posted|date\s+of\s+publication|release\s+date|issued|опубликовано"
    r"|дата\s+публикации|дата|çap\s+edilen\s+senesi|çap\s+edildi|neşir\s+edilen\s+senesi|sene)"
    r"\s*(?:on|:)?\s*$",
    re.IGNORECASE,
)
# "///nCa, 18 January 2025", "— Reuters, 12 June 2018", "(TDH, 3 May 2024)": a source, a comma, a date.
_BYLINE = re.compile(r"(?:\n|///|//|—|\s-\s|\()\s*[^\W\d][\w .&'’-]{0,40},\s*$")
# "Ashgabat, 15-16 January 2025." opening a line at the top of a news text.
_DATELINE = re.compile(r"^\s*[^\W\d][\w .’'-]{1,40}[,–—]\s*$")
# Labels that make a date a project's span rather than the document's own date.
_PERIOD_LABEL = re.compile(
    r"(?:period|duration|start\s+date|end\s+date|период|срок\w*|möhlet\w*)\b[^\n]{0,30}$",
    re.IGNORECASE,
)
_HEAD_CHARS = 500
_TAIL_CHARS = 400


def publication_date(text: str, metadata: Mapping[str, str]) -> FoundDate | None:
    """The document's own date: metadata first, then a labelled date, a byline, a dateline,
    a date near the top. None when nothing says when the document was published."""
    found = publication_date_with_source(text, metadata)
    return found[0] if found else None


def publication_date_with_source(
    text: str, metadata: Mapping[str, str]
) -> tuple[FoundDate, str] | None:
    """Like `publication_date`, also saying which cue decided ("metadata 'date'", "byline", ...)."""
    lowered = {key.casefold(): value for key, value in metadata.items() if value}
    for key in _METADATA_KEYS:
        if key in lowered:
            date = parse_date(lowered[key])
            if date is not None:
                return replace(date, offset=0), f"metadata '{key}'"

    head = text[:_HEAD_CHARS]
    tail_offset = max(0, len(text) - _TAIL_CHARS)  # may overlap the head in a short text
    head_dates = find_dates(head)
    tail_dates = [replace(d, offset=d.offset + tail_offset) for d in find_dates(text[tail_offset:])]

    def before(date: FoundDate, width: int) -> str:
        start = max(0, date.offset - width)
        # A newline stands for the start of the text, so that patterns anchored on one work there.
        return ("\n" if start == 0 else "") + text[start : date.offset]

    def line_before(date: FoundDate) -> str:
        return text[text.rfind("\n", 0, date.offset) + 1 : date.offset]

    for date in head_dates + tail_dates:
        if _PUBLISHED_CUE.search(before(date, 40)):
            return date, "labelled date"
    for date in reversed(tail_dates):
        # In a short text the tail overlaps the head: a byline is in the second half.
        in_second_half = date.offset > len(text) // 2
        if in_second_half and date.precision == "day" and _BYLINE.search(before(date, 45)):
            return date, "byline"
    for date in head_dates:
        if date.precision == "day" and _DATELINE.match(line_before(date)):
            return date, "dateline"
    for date in head_dates:
        if _PERIOD_LABEL.search(line_before(date)):
            continue
        if date.precision == "day" or (date.precision == "month" and not date.is_period):
            return date, "date near the top"
    return None
