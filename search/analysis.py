"""Per-language analyzers, composed Whoosh-style from small tokenizers and filters.

These classes are pickled into the index schema: keep them at this import path, and
bump `search.schema.SCHEMA_VERSION` whenever what they produce changes (an index built
with other analyzers would no longer match the queries).
Stemmers are created lazily and never pickled (PyStemmer objects cannot be).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StopFilter, Token

# Words: letters/digits; apostrophes inside words stay ("don't").
# Possessive (`++`, `*+`): the same words, without trying to give back letters a match
# can never use (10 % of the tokenizer's time).
WORD_PATTERN = r"\w++(?:['’]\w++)*+"
# The unstemmed field keeps article numbers ("129-1") and ids ("TM10P0524") whole: the words
# of `\d++(?:[-–]\d++)++[a-zA-Z]?|[A-Za-z]++\d[A-Za-z0-9]*+|\w++`, each word's first run
# of digits or letters read once rather than again by each alternative (8 % less time).
REF_PATTERN = r"\d++(?:(?:[-–]\d++)++[a-zA-Z]?|\w*+)|[A-Za-z]++(?:\d[A-Za-z0-9]*+|\w*+)|\w++"
# What a query word must look like to be searched as a reference rather than as words.
REF_WORD = re.compile(
    r"^(?:\d+(?:[-–]\d+)+[a-zA-Z]?|\d+[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\d+[A-Za-z]|[A-Za-z]+\d[A-Za-z0-9]*"
    r"|\d+[A-Za-z]+\d[A-Za-z0-9]*)$"
)

_FOLD = str.maketrans({"ё": "е", "й": "и", "ä": "a", "ç": "c", "ň": "n", "ö": "o", "ş": "s",
                       "ü": "u", "ý": "y", "ž": "z", "җ": "ж", "ң": "н", "ө": "о", "ү": "у", "ә": "а"})  # fmt: skip


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Accent folding for matching (ä->a, ş->s, ё->е…); the stored text keeps its letters.

    Cached: called on every token of three fields, and words repeat (measured in bench/).
    """
    text = text.translate(_FOLD)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    # Keep Cyrillic letters whole: only strip combining marks from Latin letters.
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


class FoldFilter(Filter):
    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = fold(t.text)
            yield t


class YoFilter(Filter):
    """ё -> е before Russian stemming, so "партнёрство" and "партнерство" stem alike."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = t.text.replace("ё", "е")
            yield t


_SUPERSCRIPTS = frozenset("¹²³⁴⁵⁶⁷⁸⁹⁰")
_SUPERSCRIPTED = re.compile(r"^(\d+)([¹²³⁴⁵⁶⁷⁸⁹⁰]+)$")


class SuperscriptFilter(Filter):
    """'129¹' -> '129-1' so every written form of an article number is one term."""

    _sup = str.maketrans("¹²³⁴⁵⁶⁷⁸⁹⁰", "1234567890")

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            # Most tokens end in neither a superscript nor hold a dash: skip the regex for them.
            if t.text[-1:] in _SUPERSCRIPTS:
                m = _SUPERSCRIPTED.match(t.text)
                if m:
                    t.text = f"{m.group(1)}-{m.group(2).translate(self._sup)}"
                    yield t
                    continue
            if "–" in t.text:
                t.text = t.text.replace("–", "-")
            yield t


# British and American spellings meet before stemming: "centred"/"centered",
# "labour"/"labor", "organisation"/"organization", "counselling"/"counseling".
_EN_SPELLING = {
    "centre": "center", "centres": "centers", "centred": "centered", "centring": "centering",
    "metre": "meter", "metres": "meters", "programme": "program", "programmes": "programs",
    "defence": "defense", "licence": "license", "licences": "licenses", "offence": "offense",
    "offences": "offenses", "counselling": "counseling", "counsellor": "counselor",
    "counsellors": "counselors", "travelling": "traveling", "travelled": "traveled",
    "traveller": "traveler", "travellers": "travelers", "labelled": "labeled",
    "modelling": "modeling", "cancelled": "canceled", "signalling": "signaling",
    "fulfil": "fulfill", "fulfilment": "fulfillment", "enrolment": "enrollment",
    "judgement": "judgment", "ageing": "aging", "combatting": "combating",
    "practise": "practice", "practised": "practiced", "paediatric": "pediatric",
    "grey": "gray", "catalogue": "catalog", "dialogue": "dialog", "analogue": "analog",
}  # fmt: skip
_EN_OUR = re.compile(
    r"^(behavi|col|fav|harb|hon|hum|lab|neighb|rum|savi|vap|vig|endeav|flav|arm)our(s|ed|ing|ers?|able|ite|ites)?$"
)
_EN_ISE = re.compile(r"^(\w{3,})is(e|es|ed|ing|ation|ations|er|ers)$")
_EN_YSE = re.compile(r"^(\w+)ys(e|es|ed|ing)$")
# -ise words that are not -ize words elsewhere; mapping them would be harmless but odd.
_EN_ISE_KEEP = frozenset(["advise", "advised", "advises", "advising", "adviser", "advisers", "comprise", "comprises",
                          "comprised", "comprising", "compromise", "compromised", "exercise", "exercises", "exercised",
                          "exercising", "expertise", "franchise", "otherwise", "precise", "premise", "premises",
                          "promise", "promises", "promised", "promising", "revise", "revised", "supervise",
                          "supervised", "supervising", "supervisor", "surprise", "surprised", "televise",
                          "enterprise", "enterprises", "merchandise", "disguise", "concise", "excise", "despise",
                          "improvise", "raise", "raised", "raises", "raising", "praise", "rise", "arise", "arises",
                          "noise", "poise", "wise", "cruise", "bruise", "devise", "devised", "paradise"])  # fmt: skip


def american_spelling(word: str) -> str:
    """One spelling for British and American forms (lowercase input)."""
    if word in _EN_SPELLING:
        return _EN_SPELLING[word]
    m = _EN_OUR.match(word)
    if m:
        return f"{m.group(1)}or{m.group(2) or ''}"
    if word not in _EN_ISE_KEEP:
        m = _EN_ISE.match(word)
        if m:
            return f"{m.group(1)}iz{m.group(2)}"
        m = _EN_YSE.match(word)
        if m and len(word) > 6:
            return f"{m.group(1)}yz{m.group(2)}"
    return word


class SpellingFilter(Filter):
    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = american_spelling(t.text)
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
    """Snowball stemming through PyStemmer (Turkmen: our suffix stripper), with a shared cache."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SnowballFilter) and other.lang == self.lang

    def __hash__(self) -> int:
        return hash(("snowball", self.lang))

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            if not t.stopped:
                t.text = stem(self.lang, t.text)
            yield t


# Turkmen has no Snowball stemmer, and its endings are ambiguous by spelling alone
# ("telefony" is telefon + y, "pidany" is pida + ny). Turkmen text is indexed as folded
# words, unstemmed, and a query word becomes a prefix: its shortest reading with up to
# three endings (case, possessive, plural; both vowel harmonies) removed, less a final
# consonant that alternates before endings (Aşgabat/Aşgabady, çykarmak/çykarmagyň).
# So "söwdasy" looks for söwd*, "telefony" for telefo*, "Aşgabady" for asgaba*.
# Letters are folded first (ň -> n, ý -> y), so the endings are written folded here.
_TK_ENDINGS = tuple(
    sorted(
        {
            "lar", "ler", "lary", "leri", "larda", "lerde", "lardan", "lerden", "lara", "lere",
            "laryn", "lerin", "larynda", "lerinde", "larynyn", "lerinin", "laryny", "lerini",
            "sy", "si", "syn", "sin", "syna", "sine", "syny", "sini", "synda", "sinde",
            "syndan", "sinden", "synyn", "sinin", "ym", "im", "um", "ymyz", "imiz",
            "yn", "in", "un", "ynyz", "iniz", "nyn", "nin", "nun", "na", "ne", "ny", "ni",
            "nda", "nde", "ndan", "nden", "da", "de", "ta", "te", "dan", "den", "tan", "ten",
            "ga", "ge", "ka", "ke", "daky", "daki", "a", "e", "y", "i", "u",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
TK_MIN_STEM = 4
_TK_ALTERNATING = frozenset("dtgkbpjc")
_TK_READINGS_LIMIT = 64


@lru_cache(maxsize=100_000)
def turkmen_stem(word: str) -> str:
    """The prefix a (lowercase) Turkmen word is searched by (see above)."""
    folded = fold(word)
    readings = {folded}
    frontier = [folded]
    for _ in range(3):
        shorter: list[str] = []
        for form in frontier:
            for ending in _TK_ENDINGS:
                if form.endswith(ending) and len(form) - len(ending) >= TK_MIN_STEM:
                    stem_ = form[: -len(ending)]
                    if stem_ not in readings:
                        readings.add(stem_)
                        shorter.append(stem_)
        frontier = shorter[:_TK_READINGS_LIMIT]
    best = min(readings, key=lambda r: (len(r), r))
    if len(best) > TK_MIN_STEM and best[-1] in _TK_ALTERNATING:
        best = best[:-1]
    return best


STOP_EN = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
    ]
)
STOP_RU = frozenset(
    [
        "и",
        "в",
        "во",
        "не",
        "что",
        "он",
        "на",
        "я",
        "с",
        "со",
        "как",
        "а",
        "то",
        "все",
        "она",
        "так",
        "его",
        "но",
        "да",
        "ты",
        "к",
        "у",
        "же",
        "вы",
        "за",
        "бы",
        "по",
        "ее",
        "мне",
        "было",
        "вот",
        "от",
        "о",
        "из",
        "ему",
        "для",
    ]
)
STOP_TK = frozenset(["we", "bilen", "üçin", "hem", "bu", "şu", "ol", "bir-de", "we-de", "barada"])
# A query word that is a stop word in any of the languages does not have to match.
STOP_ANY = STOP_EN | STOP_RU | STOP_TK


def english_analyzer() -> Any:
    return (RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | StopFilter(stoplist=STOP_EN, minsize=1)
            | SpellingFilter() | SnowballFilter("english") | FoldFilter())  # fmt: skip


def russian_analyzer() -> Any:
    return (RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | StopFilter(stoplist=STOP_RU, minsize=1)
            | YoFilter() | SnowballFilter("russian") | FoldFilter())  # fmt: skip


def russian_unstemmed_analyzer() -> Any:
    """The Russian analyzer without the stemmer: a query word as typed, to set beside its stem."""
    return (RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | StopFilter(stoplist=STOP_RU, minsize=1)
            | YoFilter() | FoldFilter())  # fmt: skip


def turkmen_analyzer() -> Any:
    """Folded words, unstemmed: a Turkmen query word is searched as a prefix (`turkmen_stem`)."""
    return (
        RegexTokenizer(WORD_PATTERN)
        | LowercaseFilter()
        | StopFilter(stoplist=STOP_TK, minsize=1)
        | FoldFilter()
    )


def exact_analyzer() -> Any:
    """Unstemmed: case- and accent-folded words, with article numbers and ids kept whole."""
    return RegexTokenizer(REF_PATTERN) | LowercaseFilter() | SuperscriptFilter() | FoldFilter()


class SpacelessTokenizer(RegexTokenizer):  # type: ignore[misc]
    """A `RegexTokenizer` whose words never hold whitespace (its pattern's promise).

    A text's words are then the words of its whitespace-separated pieces, and a field that
    records only which words occur (the spelling field) finds them piece by distinct piece,
    each piece read once (search.field_terms), instead of reading the whole text again.
    """


def spelling_analyzer() -> Any:
    """Lowercase words as written (no folding): the vocabulary "did you mean" draws on."""
    return SpacelessTokenizer(r"[^\W\d_]{3,}") | LowercaseFilter()


def plain_analyzer() -> Any:
    """The baseline a user would get from Whoosh without language work (for `make eval`)."""
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter()
