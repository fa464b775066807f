"""Per-language analyzers, composed Whoosh-style from small tokenizers and filters.

These classes are pickled into the index schema: keep them at this import path.
Stemmers are created lazily and never pickled (PyStemmer objects cannot be).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StopFilter, Token

# Words: letters/digits; article numbers and ids keep their inner hyphens ("129-1").
WORD_PATTERN = r"\w+(?:['’]\w+)*"
REF_PATTERN = r"\d+(?:[-–]\d+)+[a-zA-Z]?|[A-Za-z]+\d[A-Za-z0-9.]*|\w+"

_FOLD = str.maketrans({"ё": "е", "й": "и", "ä": "a", "ç": "c", "ň": "n", "ö": "o", "ş": "s",
                       "ü": "u", "ý": "y", "ž": "z", "җ": "ж", "ң": "н", "ө": "о", "ү": "у", "ә": "а"})  # fmt: skip


def fold(text: str) -> str:
    """Accent folding for matching (ä->a, ş->s, ё->е…); the stored text keeps its letters."""
    text = text.translate(_FOLD)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    # Keep Cyrillic letters whole: only strip combining marks from Latin letters.
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


class FoldFilter(Filter):
    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = fold(t.text)
            yield t


class SuperscriptFilter(Filter):
    """'129¹' -> '129-1' so every written form of an article number is one term."""

    _sup = str.maketrans("¹²³⁴⁵⁶⁷⁸⁹⁰", "1234567890")

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            m = re.match(r"^(\d+)([¹²³⁴⁵⁶⁷⁸⁹⁰]+)$", t.text)
            if m:
                t.text = f"{m.group(1)}-{m.group(2).translate(self._sup)}"
            else:
                t.text = t.text.replace("–", "-")
            yield t


@lru_cache(maxsize=8)
def _stemmer(lang: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(lang)


@lru_cache(maxsize=200_000)
def stem(lang: str, word: str) -> str:
    if lang == "turkmen":
        return turkmen_stem(word)
    return _stemmer(lang).stemWord(word)


class SnowballFilter(Filter):
    """Snowball stemming through PyStemmer, with a shared cache of stems."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SnowballFilter) and other.lang == self.lang

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            if not t.stopped:
                t.text = stem(self.lang, t.text)
            yield t


# Turkmen has no Snowball stemmer. A light suffix stripper: plural, possessive and
# case endings, longest first, keeping a stem of at least three letters.
_TK_SUFFIXES = sorted(
    [
        "larynyň", "leriniň", "larynda", "lerinde", "laryndan", "lerinden", "lary", "leri",
        "lar", "ler", "nyň", "niň", "ynyň", "iniň", "yň", "iň", "uň", "üň",
        "nda", "nde", "ndan", "nden", "da", "de", "dan", "den", "ta", "te", "tan", "ten",
        "na", "ne", "ny", "ni", "ga", "ge", "ka", "ke", "a", "e", "y", "i", "sy", "si",
        "ymyz", "imiz", "yňyz", "iňiz", "nyň", "dyr", "dir", "lyk", "lik", "çy", "çi",
    ],
    key=len,
    reverse=True,
)  # fmt: skip


def turkmen_stem(word: str) -> str:
    for _ in range(2):
        for suffix in _TK_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        else:
            break
    return word


STOP_EN = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "will", "with"]
)
STOP_RU = frozenset(["и", "в", "во", "не", "что", "он", "на", "я", "с", "со", "как", "а", "то", "все", "она", "так", "его", "но", "да", "ты", "к", "у", "же", "вы", "за", "бы", "по", "ее", "мне", "было", "вот", "от", "о", "из", "ему", "для"])
STOP_TK = frozenset(["we", "bilen", "üçin", "hem", "bu", "şu", "ol", "bir-de", "we-de", "barada"])


def english_analyzer() -> Any:
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | StopFilter(stoplist=STOP_EN, minsize=1) | SnowballFilter("english") | FoldFilter()


def russian_analyzer() -> Any:
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | StopFilter(stoplist=STOP_RU, minsize=1) | SnowballFilter("russian") | FoldFilter()


def turkmen_analyzer() -> Any:
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | StopFilter(stoplist=STOP_TK, minsize=1) | SnowballFilter("turkmen") | FoldFilter()


def exact_analyzer() -> Any:
    """Unstemmed: case- and accent-folded words, with article numbers and ids kept whole."""
    return RegexTokenizer(REF_PATTERN) | LowercaseFilter() | SuperscriptFilter() | FoldFilter()


def plain_analyzer() -> Any:
    """The baseline a user would get from Whoosh without language work (for `make eval`)."""
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter()
