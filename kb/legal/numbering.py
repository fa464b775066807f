"""Provision numbers in the forms laws write them, and the keys used to compare them.

"129¹" and "129-1" are the same article; "Глава II" is chapter 2; point "б)" of a
Russian text is the second point, like "b)" of its English translation. Numbers keep
their written form for citations; `number_key` gives the form used in ids and lookups.
"""

from __future__ import annotations

import re

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_SUPERSCRIPT_RUN = re.compile(r"([0-9A-Za-z])([⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
_DASHES = re.compile(r"\s*[-‐‑‒–—]\s*")
# "360 C" in scanned or PDF text is section 360C: a lone capital letter after digits.
_SPACED_LETTER = re.compile(r"^(\d+)\s+([A-Za-z])$")

# Russian legal enumerations skip the letters that cannot start a word or look alike.
CYRILLIC_POINT_LETTERS = "абвгдежзиклмнопрстуфхцчшщэюя"
LATIN_POINT_LETTERS = "abcdefghijklmnopqrstuvwxyz"

_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_ROMAN = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")

# A provision's number as laws write it in a heading or a citation: "5", "5.1", "360C",
# "129¹", "12-1", "4 bis". The parser and the citation lookup read numbers with it.
PROVISION_NUMBER = r"\d+(?:\.\d+)*(?:\s?[A-Z]{1,2}\b|[a-z]{1,4}\b)?(?:[-‐‑–—]\d+[A-Za-z]?)*[⁰¹²³⁴⁵⁶⁷⁸⁹]*(?:[-‐‑–—]\d+)*(?:\s(?:bis|ter|quater|quinquies|sexies|septies|octies)\b)?"

_RUSSIAN_ORDINALS = {
    "первая": 1, "вторая": 2, "третья": 3, "четвертая": 4, "четвёртая": 4, "пятая": 5,
    "шестая": 6, "седьмая": 7, "восьмая": 8, "девятая": 9, "десятая": 10,
    "первый": 1, "второй": 2, "третий": 3, "четвертый": 4, "четвёртый": 4, "пятый": 5,
}  # fmt: skip


def normalize_number(raw: str) -> str:
    """The written number, tidied: "129¹" -> "129-1", "360 C" -> "360C", "5–1" -> "5-1"."""
    text = raw.strip().strip(".:")
    text = _SUPERSCRIPT_RUN.sub(
        lambda m: f"{m.group(1)}-{m.group(2).translate(_SUPERSCRIPTS)}", text
    )
    text = _DASHES.sub("-", text)
    spaced = _SPACED_LETTER.match(text)
    if spaced:
        text = spaced.group(1) + spaced.group(2).upper()
    if re.fullmatch(r"\d+[a-z]{1,2}", text):
        text = text.upper()  # "286c" and "286C" are the same section
    return text


def is_roman(text: str) -> bool:
    return bool(text) and bool(_ROMAN.match(text.upper())) and text.isalpha()


def roman_to_int(text: str) -> int:
    total = 0
    previous = 0
    for char in reversed(text.upper()):
        value = _ROMAN_VALUES[char]
        total = total - value if value < previous else total + value
        previous = max(previous, value)
    return total


def ordinal_word(text: str) -> int | None:
    return _RUSSIAN_ORDINALS.get(text.casefold())


def point_letter_key(letter: str) -> str:
    """Map a point letter to the Latin letter of the same rank: "б" -> "b", "e" -> "e"."""
    lower = letter.casefold()
    if lower in CYRILLIC_POINT_LETTERS:
        index = CYRILLIC_POINT_LETTERS.index(lower)
        return LATIN_POINT_LETTERS[index] if index < len(LATIN_POINT_LETTERS) else lower
    return lower


def number_key(number: str, kind: str = "") -> str:
    """Key for ids and comparisons: lower case, chapters in Arabic digits, points in Latin.

    >>> number_key("II", "chapter"), number_key("129¹"), number_key("б", "point")
    ('2', '129-1', 'b')
    """
    text = normalize_number(number).rstrip("°")
    if not text:
        return ""
    if kind in ("part", "chapter", "section") and is_roman(text):
        return str(roman_to_int(text))
    if kind == "paragraph" and is_roman(text) and text.isupper():
        return text.lower()
    if kind == "point" and len(text) == 1 and text.isalpha():
        return point_letter_key(text)
    ordinal = ordinal_word(text)
    if ordinal is not None:
        return str(ordinal)
    # The dot stays: article 127.1 of a Russian code is not article 1271 (nor 127).
    key = re.sub(r"[^0-9a-zа-яёäçňöşüýž.-]+", "", text.casefold())
    return key.strip("-.")


def next_in_sequence(previous: str, candidate: str, *, roman: bool = False) -> bool:
    """True when `candidate` can follow `previous` in one enumeration (gaps allowed).

    Laws skip repealed points, so any later item is accepted; an earlier or equal
    one means the line is running text that happens to start like a point.
    """
    prev = rank(previous, roman=roman)
    cand = rank(candidate, roman=roman)
    if prev is None or cand is None:
        return True
    return cand > prev


def is_first_in_sequence(candidate: str, *, roman: bool = False) -> bool:
    value = rank(candidate, roman=roman)
    return value is None or value <= 1


def rank(number: str, *, roman: bool = False) -> int | None:
    """Position of an item in its enumeration: "c" -> 3, "в" -> 3, "iv" (roman) -> 4."""
    text = normalize_number(number).rstrip("°").strip("()")
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if roman and is_roman(text):
        return roman_to_int(text)
    if len(text) == 1 and text.isalpha():
        lower = text.casefold()
        if lower in CYRILLIC_POINT_LETTERS:
            return CYRILLIC_POINT_LETTERS.index(lower) + 1
        if lower in LATIN_POINT_LETTERS:
            return LATIN_POINT_LETTERS.index(lower) + 1
        return None
    if is_roman(text):
        return roman_to_int(text)
    return None
