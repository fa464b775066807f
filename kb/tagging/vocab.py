"""The domain vocabulary (organisations, government bodies, places, legal instruments,
topics) in English, Russian and Turkmen, and finding its mentions in text.

Terms and text are compared as sequences of token keys: a key is the token casefolded
and stemmed for its language (Snowball for English and Russian, a small suffix stripper
for Turkmen), so "Министерства внутренних дел" matches "Министерство внутренних дел" and
"adam söwdasynyň pidalary" matches "adam söwdasynyň pidasy". Hyphens and dashes separate
tokens, so "counter-trafficking" and "counter trafficking" are the same term, and "129¹"
is "129-1". Abbreviations ("IOM", "MoI", "МВД") are matched only as written.

The data lives in kb/vocab/*.toml, one file per kind; see organisations.toml for the format.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import Stemmer

from kb.errors import KBError

DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "vocab"
LANGS: tuple[str, ...] = ("en", "ru", "tk")
# kind -> the prefix its ids carry
KINDS: dict[str, str] = {
    "organisation": "org",
    "government": "gov",
    "place": "place",
    "legal": "legal",
    "topic": "topic",
}
_ID = re.compile(r"^[a-z]+\.[a-z0-9_]+$")


class VocabularyError(KBError):
    """A vocabulary file that cannot be used: bad TOML, a missing id, an unknown kind."""


@dataclass(frozen=True)
class Entry:
    id: str
    kind: str
    labels: dict[str, str]  # lang -> label
    variants: dict[str, list[str]]  # lang -> other terms

    @property
    def label(self) -> str:
        """The English label (the one shown in facets and tags)."""
        return self.labels.get("en") or next(iter(self.labels.values()), self.id)


@dataclass(frozen=True)
class EntityMatch:
    id: str
    kind: str
    text: str
    start: int
    end: int


# --- tokens and keys ----------------------------------------------------------------------------

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPERSCRIPT_DIGITS = str.maketrans(_SUPERSCRIPTS, "0123456789")
# Letters, digit runs and superscript digit runs are separate tokens: "129¹" -> 129, 1;
# "TM10P0524" -> tm, 10, p, 0524; everything else (spaces, hyphens, dots) separates.
_TOKEN = re.compile(rf"[{_SUPERSCRIPTS}]+|\d+|[^\W\d_{_SUPERSCRIPTS}]+")
# Punctuation between two words that a multi-word term may not span ("Mary, Balkan").
_HARD_GAP = re.compile(r"[,;:()\[\]{}!?]|\n\s*\n")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# "Ministry of the Interior" = "Ministry of Interior": the article is no part of a name.
_SKIPPED_RAW = frozenset({"the", "The", "THE"})
_APOSTROPHES = "'’"

_TK_FOLD = str.maketrans(
    {"ý": "y", "ň": "n", "ä": "a", "ö": "o", "ü": "u", "ş": "s", "ç": "c", "ž": "z"}
)
# Turkmen case, possessive and plural endings, in the form they take after folding
# (ň -> n). Stripped from the end, longest first, keeping at least four letters.
_TK_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        {
            "larynyn", "lerinin", "larynda", "lerinde", "lardan", "lerden", "lara", "lere",
            "lary", "leri", "lar", "ler", "synyn", "sinin", "synda", "sinde", "syndan",
            "sinden", "syna", "sine", "syny", "sini", "ynda", "inde", "ndan", "nden", "nyn",
            "nin", "nun", "nda", "nde", "dan", "den", "daky", "daki", "yn", "in", "un", "da",
            "de", "na", "ne", "ny", "ni", "sy", "si", "a", "e", "y", "i", "u",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
# Final consonants alternate before vowel endings (Aşgabat -> Aşgabady, ministrlik -> ministrligi).
_TK_VOICING = {"d": "t", "g": "k", "b": "p", "j": "c"}
_TK_MIN_STEM = 4
# British and American spellings share a key.
_EN_SPELLING = {
    "labour": "labor",
    "labours": "labors",
    "centre": "center",
    "centres": "centers",
    "centred": "centered",
    "programme": "program",
    "programmes": "programs",
    "counselling": "counseling",
    "defence": "defense",
    "behaviour": "behavior",
    "combatting": "combating",
}
_EN_ISE = re.compile(r"is(e|es|ed|ing|ation|ations)$")
_RU_IRREGULAR = {"людьми": "люд", "детьми": "дет"}

_en_stemmer = Stemmer.Stemmer("english")
_ru_stemmer = Stemmer.Stemmer("russian")


def _fold(token: str) -> str:
    return token.casefold().replace("ё", "е").translate(_SUPERSCRIPT_DIGITS)


def _en_key(folded: str) -> str:
    folded = _EN_SPELLING.get(folded, folded)
    folded = _EN_ISE.sub(r"iz\1", folded) if len(folded) > 6 else folded
    stem = _en_stemmer.stemWord(folded)
    # "identification" -> identif, "identify" -> identifi: one key for both.
    return "e" + (stem[:-1] if stem.endswith("ifi") else stem)


def _ru_key(folded: str) -> str:
    return "r" + (_RU_IRREGULAR.get(folded) or _ru_stemmer.stemWord(folded))


# Snowball reads the end of a bare nominative as an ending ("велаят" -> вела, "Туркменистан"
# -> туркмениста) but stems the other cases to the whole word ("велаята", "велаяте" ->
# велаят): a word ending in a consonant also stands for the stem of its genitive.
_RU_CONSONANT_END = re.compile(r"[бвгджзйклмнпрстфхцчшщ]$")


def _ru_keys(folded: str) -> frozenset[str]:
    key = _ru_key(folded)
    if _RU_CONSONANT_END.search(folded) and folded not in _RU_IRREGULAR:
        return frozenset((key, "r" + folded))
    return frozenset((key,))


def tk_stems(word: str) -> frozenset[str]:
    """Every reading of a Turkmen word with 0-3 endings removed (folded: ň -> n, ý -> y ...).

    Endings are ambiguous by spelling alone ("Türkmenistanyň" is Türkmenistan + yň, but
    could be read as Türkmenista + nyň), so all readings are kept and two words match when
    their readings share one. The final consonant is unvoiced in every reading, so that
    Aşgabady and Aşgabat, ministrligi and ministrlik meet.
    """
    folded = word.casefold().translate(_TK_FOLD)
    readings = {folded}
    frontier = [folded]
    for _ in range(3):
        shorter: list[str] = []
        for form in frontier:
            for suffix in _TK_SUFFIXES:
                if form.endswith(suffix) and len(form) - len(suffix) >= _TK_MIN_STEM:
                    stem = form[: -len(suffix)]
                    if stem not in readings:
                        readings.add(stem)
                        shorter.append(stem)
        frontier = shorter
    return frozenset(_unvoice(form) for form in readings)


def _unvoice(form: str) -> str:
    last = form[-1:]
    return form[:-1] + _TK_VOICING[last] if last in _TK_VOICING else form


def _tk_keys(folded: str) -> frozenset[str]:
    return frozenset("t" + stem for stem in tk_stems(folded))


def _term_keys(token: str, lang: str) -> frozenset[str]:
    """The keys a vocabulary term's token stands for; a text token matches it if they share one."""
    folded = _fold(token)
    if folded.isdigit():
        return frozenset(("d" + folded,))
    if _CYRILLIC.search(folded):
        return _ru_keys(folded)
    return _tk_keys(folded) if lang == "tk" else frozenset((_en_key(folded),))


def _text_keys(token: str) -> frozenset[str]:
    """Every key a text token may stand for: Latin words are read as English and as Turkmen."""
    folded = _fold(token)
    if folded.isdigit():
        return frozenset(("d" + folded,))
    if _CYRILLIC.search(folded):
        return _ru_keys(folded)
    return _tk_keys(folded) | {_en_key(folded)}


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    raw: str


def _tokens(text: str) -> Iterator[_Token]:
    for m in _TOKEN.finditer(text):
        raw = m.group()
        start = m.start()
        if raw in _SKIPPED_RAW:
            continue
        # Possessive 's: "Prosecutor’s General Office" = "Prosecutor General Office".
        if raw in ("s", "S") and start > 0 and text[start - 1] in _APOSTROPHES:
            continue
        yield _Token(start, m.end(), raw)


def _is_abbreviation(term: str) -> bool:
    """One token with two or more capitals: IOM, MoI, VoT, МВД, ÝHHG."""
    return (
        sum(ch.isupper() for ch in term) >= 2
        and len(term) <= 8
        and _TOKEN.fullmatch(term) is not None
        and not term.isdigit()
    )


@dataclass(frozen=True)
class _Term:
    entry_id: str
    keys: tuple[frozenset[str], ...]  # per token: the keys it stands for
    # Positions j whose gap (before token j) holds punctuation in the term itself.
    hard_gaps: frozenset[int]


# (keys, terms that may start here longest first, exact-match id or "")
_TokenInfo = tuple[frozenset[str], tuple[_Term, ...], str]
# Headings and short lines recur across sections: their matches are kept.
_RESULT_CACHE_CHARS = 200
_RESULT_CACHE_SIZE = 20_000

# --- the vocabulary -----------------------------------------------------------------------------


class Vocabulary:
    """Entries and a matcher over them. Build with `load_vocabulary()`."""

    _CACHE_LIMIT = 300_000

    def __init__(self, entries: list[Entry]) -> None:
        self._entries = list(entries)
        self._by_id = {entry.id: entry for entry in entries}
        self._first: dict[str, list[_Term]] = {}
        self._exact: dict[str, list[str]] = {}  # surface form -> ids (as written)
        self._exact_folded: dict[str, list[str]] = {}  # casefolded surface -> ids (lookup)
        self._info_cache: dict[str, _TokenInfo] = {}
        self._result_cache: dict[str, tuple[EntityMatch, ...]] = {}
        for entry in entries:
            for lang in LANGS:
                for term in self._raw_terms(entry, lang):
                    self._add(entry.id, lang, term)
        for terms in self._first.values():
            terms.sort(key=lambda t: len(t.keys), reverse=True)

    def __getstate__(self) -> dict[str, object]:
        # Pickled with a search index: the matcher, not what it happened to cache.
        state = dict(self.__dict__)
        state["_info_cache"] = {}
        state["_result_cache"] = {}
        return state

    # -- building

    @staticmethod
    def _raw_terms(entry: Entry, lang: str) -> list[str]:
        label = entry.labels.get(lang)
        return ([label] if label else []) + entry.variants.get(lang, [])

    def _add(self, entry_id: str, lang: str, term: str) -> None:
        exact = term.startswith("=")
        surface = term[1:] if exact else term
        if exact or _is_abbreviation(surface):
            forms = [surface] if exact else [surface, surface + "s"]
            for form in forms:
                _append_unique(self._exact.setdefault(form, []), entry_id)
                _append_unique(self._exact_folded.setdefault(_fold(form), []), entry_id)
            return
        tokens = list(_tokens(surface))
        if not tokens:
            return
        keys = tuple(_term_keys(t.raw, lang) for t in tokens)
        hard = frozenset(
            j
            for j in range(1, len(tokens))
            if _HARD_GAP.search(surface, tokens[j - 1].end, tokens[j].start)
        )
        term_ = _Term(entry_id, keys, hard)
        for key in keys[0]:
            bucket = self._first.setdefault(key, [])
            if not any(t.keys == keys and t.entry_id == entry_id for t in bucket):
                bucket.append(term_)

    # -- reading

    def entries(self) -> list[Entry]:
        return list(self._entries)

    def entry(self, id: str) -> Entry:
        try:
            return self._by_id[id]
        except KeyError:
            raise VocabularyError(f"unknown vocabulary id {id!r}") from None

    def terms(self, id: str, lang: str | None = None) -> list[str]:
        """Label and variants of an entry (one language, or all), for expanding a search query."""
        entry = self.entry(id)
        langs = LANGS if lang is None else (lang,)
        out: list[str] = []
        for one in langs:
            for term in self._raw_terms(entry, one):
                _append_unique(out, term.removeprefix("="))
        return out

    # -- matching

    def _token_info(self, raw: str) -> _TokenInfo:
        """Keys of a text token, the terms that may start with it (longest first), its exact id."""
        info = self._info_cache.get(raw)
        if info is None:
            if len(self._info_cache) >= self._CACHE_LIMIT:
                self._info_cache.clear()
            keys = _text_keys(raw)
            starting: dict[int, _Term] = {}
            for key in keys:
                for term in self._first.get(key, ()):
                    starting.setdefault(id(term), term)
            terms = tuple(sorted(starting.values(), key=lambda t: len(t.keys), reverse=True))
            exact_ids = self._exact.get(raw)
            info = self._info_cache[raw] = (keys, terms, exact_ids[0] if exact_ids else "")
        return info

    def find(self, text: str) -> list[EntityMatch]:
        """Every mention in `text`, non-overlapping: where mentions overlap, the longest wins."""
        short = len(text) <= _RESULT_CACHE_CHARS
        if short and text in self._result_cache:
            return list(self._result_cache[text])
        starts: list[int] = []
        ends: list[int] = []
        infos: list[_TokenInfo] = []
        token_info = self._token_info
        for m in _TOKEN.finditer(text):
            raw = m.group()
            if raw in _SKIPPED_RAW:
                continue
            start = m.start()
            if (raw == "s" or raw == "S") and start and text[start - 1] in _APOSTROPHES:
                continue
            starts.append(start)
            ends.append(m.end())
            infos.append(token_info(raw))
        count = len(starts)
        candidates: list[tuple[int, int, int, str]] = []  # (tokens, start, end, id)
        for i in range(count):
            _, terms, best_id = infos[i]
            if not terms and not best_id:
                continue
            best_size = 1 if best_id else 0
            for term in terms:
                size = len(term.keys)
                if size <= best_size:
                    break  # sorted longest first: nothing later is longer
                if i + size <= count and self._continues(text, starts, ends, infos, i, term):
                    best_size, best_id = size, term.entry_id
                    break
            if best_id:
                candidates.append((best_size, starts[i], ends[i + best_size - 1], best_id))
        found = [
            EntityMatch(entity_id, self._by_id[entity_id].kind, text[start:end], start, end)
            for start, end, entity_id in _longest_first(candidates)
        ]
        if short:
            if len(self._result_cache) >= _RESULT_CACHE_SIZE:
                self._result_cache.clear()
            self._result_cache[text] = tuple(found)
        return found

    @staticmethod
    def _continues(
        text: str,
        starts: list[int],
        ends: list[int],
        infos: list[_TokenInfo],
        i: int,
        term: _Term,
    ) -> bool:
        """Do the tokens after i carry the rest of the term, with no punctuation the term lacks?"""
        for j in range(1, len(term.keys)):
            if term.keys[j].isdisjoint(infos[i + j][0]):
                return False
            if j not in term.hard_gaps and _HARD_GAP.search(text, ends[i + j - 1], starts[i + j]):
                return False
        return True

    def lookup(self, phrase: str) -> list[str]:
        """Ids whose term is this whole phrase after normalisation ("идентификация жертв" ->
        topic.victim_identification); abbreviations compare without case here ("iom")."""
        tokens = list(_tokens(phrase))
        if not tokens:
            return []
        found: list[str] = []
        if len(tokens) == 1:
            for entity_id in self._exact_folded.get(_fold(tokens[0].raw), []):
                _append_unique(found, entity_id)
        keys = [_text_keys(t.raw) for t in tokens]
        for key in keys[0]:
            for term in self._first.get(key, ()):
                if len(term.keys) == len(tokens) and all(
                    not term.keys[j].isdisjoint(keys[j]) for j in range(1, len(tokens))
                ):
                    _append_unique(found, term.entry_id)
        return found


def _append_unique(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def _longest_first(candidates: list[tuple[int, int, int, str]]) -> list[tuple[int, int, str]]:
    """Keep non-overlapping mentions, those of more words first (ties: the earlier one);
    return (start, end, id) in text order."""
    starts: list[int] = []
    chosen: list[tuple[int, int, str]] = []
    ranked = sorted(candidates, key=lambda c: (-c[0], c[1]))
    for _, start, end, entity_id in ranked:
        cand = (start, end, entity_id)
        at = bisect.bisect_left(starts, start)
        if at > 0 and chosen[at - 1][1] > start:
            continue
        if at < len(chosen) and chosen[at][0] < end:
            continue
        starts.insert(at, start)
        chosen.insert(at, cand)
    return chosen


# --- loading ------------------------------------------------------------------------------------


def _read_file(path: Path) -> list[Entry]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise VocabularyError(f"{path}: cannot read vocabulary file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{path}: not valid TOML: {exc}") from None
    kind = data.get("kind")
    if kind not in KINDS:
        raise VocabularyError(f"{path}: 'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
    entries: list[Entry] = []
    for number, raw in enumerate(data.get("entry", []), start=1):
        where = f"{path.name}: entry {number}"
        if not isinstance(raw, dict):
            raise VocabularyError(f"{where}: not a table")
        entry_id = raw.get("id")
        if not isinstance(entry_id, str) or not _ID.match(entry_id):
            raise VocabularyError(f"{where}: id must look like 'org.iom', not {entry_id!r}")
        where = f"{where} ({entry_id})"
        if not entry_id.startswith(KINDS[kind] + "."):
            raise VocabularyError(f"{where}: ids of kind {kind} start with '{KINDS[kind]}.'")
        unknown = set(raw) - {"id", *LANGS}
        if unknown:
            raise VocabularyError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        labels: dict[str, str] = {}
        variants: dict[str, list[str]] = {}
        for lang in LANGS:
            terms = raw.get(lang, [])
            if not isinstance(terms, list) or not all(
                isinstance(t, str) and t.strip() for t in terms
            ):
                raise VocabularyError(f"{where}: '{lang}' must be a list of non-empty strings")
            if terms:
                labels[lang] = terms[0].strip().removeprefix("=")
                variants[lang] = [t.strip() for t in terms[1:]]
        if "en" not in labels:
            raise VocabularyError(f"{where}: an English term (en = [...]) is required")
        for term in (t for ts in raw.values() if isinstance(ts, list) for t in ts):
            if term.startswith("=") and len(list(_tokens(term[1:]))) != 1:
                raise VocabularyError(f"{where}: exact term {term!r} must be one word")
        entries.append(Entry(entry_id, kind, labels, variants))
    return entries


def read_vocabulary(folder: Path) -> Vocabulary:
    """Read every *.toml in `folder` (uncached; `load_vocabulary` caches)."""
    if not folder.is_dir():
        raise VocabularyError(f"{folder}: vocabulary folder not found")
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        for entry in _read_file(path):
            if entry.id in seen:
                raise VocabularyError(
                    f"{path.name}: id {entry.id} already defined in {seen[entry.id]}"
                )
            seen[entry.id] = path.name
            entries.append(entry)
    return Vocabulary(entries)


_DEFAULT_KEY = str(DEFAULT_FOLDER)


@lru_cache(maxsize=8)
def _load_cached(folder: str) -> Vocabulary:
    return read_vocabulary(Path(folder))


def load_vocabulary(folder: Path | None = None) -> Vocabulary:
    """The vocabulary in `folder` (default kb/vocab/), read once per process."""
    return _load_cached(str(folder.resolve()) if folder is not None else _DEFAULT_KEY)
