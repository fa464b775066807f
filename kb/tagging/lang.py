"""Language identification for sections and documents: English, Russian, Turkmen.

langdetect knows no Turkmen (it calls Turkmen Latin text Turkish) and guesses wildly
on short strings ("Закон" -> Macedonian, "Law" -> Tagalog), so it is our last
resort, not our first. The order of evidence, cheapest and surest first:

1. script: Cyrillic text is Russian unless it carries Turkmen Cyrillic letters
   (җ ң ө ү ә) or another language's own letters;
2. letters: ň ý ž exist in Turkmen Latin and (in our domain) nowhere else; ı ğ mark
   Turkish and ə Azerbaijani, which Turkmen spells without them;
3. a character n-gram model, Turkmen against English, trained on our own text
   (`lang_ngram`), with small stop-word lists per language;
4. langdetect, restricted to a dozen profiles and seeded, for Latin text that is
   neither English nor Turkmen; its answer is kept only when it is sure.

Short texts (titles, headings, captions under ~40 characters) use letters and
stop-words, then the caller's `fallback` (usually the document's language), never
a guess. Output is always one of `SUPPORTED`, `EXTRA` or "und".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from kb.tagging.lang_ngram import LATIN_WORD, turkmen_score
from kb.tagging.lang_stopwords import stop_word_hits

# langdetect samples n-grams at random; seeding the class makes every detector
# deterministic, ours and any other in the process. Done here and nowhere else.
DetectorFactory.seed = 0

SUPPORTED: tuple[str, ...] = ("en", "ru", "tk")
# Reported only on strong evidence (their own letters, several of their stop-words,
# or langdetect at high probability); otherwise the answer is "und" or the fallback.
EXTRA: tuple[str, ...] = (
    "tr", "az", "uz", "de", "fr", "es", "it", "nl", "pt", "uk", "kk", "cs", "pl"
)  # fmt: skip
UND = "und"

SHORT_TEXT_CHARS = 40
# Headings, captions and repeated boilerplate lines are short and recur: cache them.
_CACHED_TEXT_CHARS = 400
# Long texts are classified on a sample: start, middle and end (a section's language
# does not change every paragraph, and the sample bounds the cost of huge sections).
SAMPLE_CHARS = 3000
LANGDETECT_SAMPLE_CHARS = 600
LANGDETECT_MIN_PROBABILITY = 0.9
# Both scripts hold at least this share of the letters: a genuinely mixed text,
# classified sentence by sentence.
MIXED_SCRIPT_SHARE = 0.15

# Mean n-gram log-ratio (Turkmen minus English) beyond which the model decides.
# Measured on tests/lang_eval: Turkmen texts score >= 0.5, English <= 0; Turkish
# and other Turkic text lands in between, which is why the bar for Turkmen is high.
TURKMEN_SCORE = 0.45
ENGLISH_SCORE = -0.3
SHORT_TURKMEN_SCORE = 0.5
SHORT_ENGLISH_SCORE = -0.6
SHORT_MIN_LETTERS = 8

_TURKMEN_LATIN_LETTERS = "ňýž"
_TURKMEN_WEAK_LETTERS = "äşçöü"  # shared with Turkish, German, Azerbaijani...
_TURKISH_LETTERS = "ığ"
_AZERBAIJANI_LETTERS = "ə"
_CZECH_POLISH_LETTERS = "čšřěůťďľąęłśźżćńő"
_TURKMEN_CYRILLIC_LETTERS = "җңөүә"
_KAZAKH_CYRILLIC_LETTERS = "қғұһ"
_UKRAINIAN_LETTERS = "їєґ"
# Kazakh and Ukrainian both write і; Turkmen Cyrillic never does.
_CYRILLIC_I = "і"

# Each telltale letter and the _Letters field it counts towards.
_LETTER_GROUPS: dict[str, str] = {
    **dict.fromkeys(_TURKMEN_LATIN_LETTERS, "turkmen_latin"),
    **dict.fromkeys(_TURKMEN_WEAK_LETTERS, "turkmen_weak"),
    # "İ".lower() is "i" + a combining dot above: the dot counts as Turkish.
    **dict.fromkeys(_TURKISH_LETTERS + "\u0307", "turkish"),
    **dict.fromkeys(_AZERBAIJANI_LETTERS, "azerbaijani"),
    **dict.fromkeys(_CZECH_POLISH_LETTERS, "czech_polish"),
    **dict.fromkeys(_TURKMEN_CYRILLIC_LETTERS, "turkmen_cyrillic"),
    **dict.fromkeys(_KAZAKH_CYRILLIC_LETTERS, "kazakh"),
    **dict.fromkeys(_UKRAINIAN_LETTERS, "ukrainian"),
    **dict.fromkeys(_CYRILLIC_I, "cyrillic_i"),
}
# Latin letters the Turkmen alphabet lacks (it writes ç, k, w, h/ks for them): in
# ordinary words, evidence for Turkish, Azerbaijani, Uzbek, English... never Turkmen.
# Capitalised words (names, "IOM", "COVID") are not counted.
_NOT_TURKMEN_LATIN = re.compile(r"[cqvx]")
_CAPITALS_OR_DIGITS = re.compile(r"\b(?:[^\W\d_a-zäöüçşňýžı]\w*|\w*\d\w*)\b")
# A word starting with y and a vowel: Turkmen writes ý there (ýurt, ýyl, ýene).
_Y_VOWEL_START = re.compile(r"(?<![^\W\d_])y[aeiouäöüı]")
# Uzbek Latin's oʻ and gʻ (with a turned comma or, typed, an apostrophe).
_UZBEK_LETTERS = re.compile(r"[og][ʻ‘'`]")
# A share of Latin letters (resp. of words) beyond which the signs against Turkmen win.
NOT_TURKMEN_LETTER_SHARE = 0.012
Y_VOWEL_WORD_SHARE = 0.04
_TELLTALE_LETTER = re.compile("[" + "".join(_LETTER_GROUPS) + "]")
# Runs rather than single letters: counting them makes far fewer objects.
_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]+")
# Addresses are Latin letters in no language ("info@iom.int" is not English).
_URL_OR_EMAIL = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+\.\w+")
_SEGMENT_BREAK = re.compile(r"\n+|(?<=[.!?…])\s+")


# Words of the extra languages need company before they count (one "die" or "la"
# in an English or Turkmen title proves nothing).
_EXTRA_STOP_WORDS_NEEDED = 2


@dataclass(frozen=True)
class LangGuess:
    """A language with how sure we are and which evidence decided it."""

    lang: str  # "en" | "ru" | "tk" | one of EXTRA | "und"
    confidence: float  # 0..1
    method: str  # script | turkmen-letters | letters | ngram | stopwords | langdetect | fallback | mixed


def detect_language(text: str, *, fallback: str = UND) -> LangGuess:
    """The main language of a text; `fallback` (e.g. the document's language) is
    returned when the text holds too little evidence (short titles, numbers)."""
    if len(text) <= _CACHED_TEXT_CHARS:
        return _detect_cached(text, fallback, True)
    return _detect(text, fallback, split=True)


def language_shares(text: str) -> dict[str, float]:
    """Share of the text (by letters of its lines/sentences) in each language, summing
    to 1 over detected languages; used to find every language a document contains."""
    letters_by_lang = _letters_by_language(text)
    total = sum(letters_by_lang.values())
    if not total:
        return {}
    return {
        lang: count / total
        for lang, count in sorted(letters_by_lang.items(), key=lambda item: -item[1])
    }


def main_language(texts: list[str], *, fallback: str = UND) -> str:
    """Main language of several texts weighted by length (a document from its sections)."""
    letters_by_lang: Counter[str] = Counter()
    for text in texts:
        guess = detect_language(text)
        if guess.lang != UND:
            letters_by_lang[guess.lang] += sum(_script_letters(text))
    if not letters_by_lang:
        return fallback
    return letters_by_lang.most_common(1)[0][0]


def contained_languages(texts: list[str], *, min_letters: int = 30) -> list[str]:
    """Every language with at least `min_letters` letters across the texts, most used
    first: what a document records as its languages (a Russian hotline line on an
    English page counts; a stray word does not)."""
    letters_by_lang: Counter[str] = Counter()
    for text in texts:
        letters_by_lang.update(_letters_by_language(text))
    return [lang for lang, count in letters_by_lang.most_common() if count >= min_letters]


def clear_caches() -> None:
    """Forget cached answers for whole texts (benchmarks; the per-word n-gram cache
    stays, it depends only on the bundled model)."""
    _detect_cached.cache_clear()


# --- detection --------------------------------------------------------------------


@dataclass(frozen=True)
class _Letters:
    """Letter counts of a lowercased text: scripts and the telltale letters."""

    latin_words: list[str]
    cyrillic_words: list[str]
    latin: int
    cyrillic: int
    turkmen_latin: int
    turkmen_weak: int
    turkish: int
    azerbaijani: int
    czech_polish: int
    turkmen_cyrillic: int
    kazakh: int
    ukrainian: int
    cyrillic_i: int
    not_turkmen: int = 0  # c q v x in ordinary (not all-capital) words
    y_vowel_starts: int = 0
    uzbek: int = 0

    @property
    def against_turkmen(self) -> bool:
        """Letters or word starts Turkmen does not have, beyond the odd name."""
        if not self.latin:
            return False
        return (
            self.not_turkmen >= max(1, NOT_TURKMEN_LETTER_SHARE * self.latin)
            or self.y_vowel_starts >= max(1, Y_VOWEL_WORD_SHARE * len(self.latin_words))
            or self.uzbek > 0
        )

    @classmethod
    def of(cls, text: str) -> _Letters:
        lowered = text.lower()
        groups = dict.fromkeys(_LETTER_GROUPS.values(), 0)
        for letter in _TELLTALE_LETTER.findall(lowered):
            groups[_LETTER_GROUPS[letter]] += 1
        latin_words = LATIN_WORD.findall(lowered)
        cyrillic_words = _CYRILLIC_WORD.findall(lowered)
        # Names and abbreviations ("Central Asia", "IOM") are capitalised: only the
        # lowercase words' letters speak for the language.
        ordinary = _CAPITALS_OR_DIGITS.sub(" ", text)
        return cls(
            latin_words=latin_words,
            cyrillic_words=cyrillic_words,
            latin=sum(map(len, latin_words)),
            cyrillic=sum(map(len, cyrillic_words)),
            not_turkmen=len(_NOT_TURKMEN_LATIN.findall(ordinary)),
            y_vowel_starts=len(_Y_VOWEL_START.findall(lowered)),
            uzbek=len(_UZBEK_LETTERS.findall(lowered)),
            **groups,
        )


@lru_cache(maxsize=50_000)
def _detect_cached(text: str, fallback: str, split: bool) -> LangGuess:
    return _detect(text, fallback, split=split)


def _detect_segment(text: str, fallback: str = UND) -> LangGuess:
    """Like `detect_language`, but never splits the text further."""
    if len(text) <= _CACHED_TEXT_CHARS:
        return _detect_cached(text, fallback, False)
    return _detect(text, fallback, split=False)


def _detect(text: str, fallback: str, *, split: bool) -> LangGuess:
    text = _normalise(text)
    if len(text) < SHORT_TEXT_CHARS:
        return _detect_short(text, fallback)
    sample = _sample(text)
    letters = _Letters.of(sample)
    script_letters = letters.latin + letters.cyrillic
    if not script_letters:
        return _fallback(fallback)
    if split and min(letters.latin, letters.cyrillic) >= MIXED_SCRIPT_SHARE * script_letters:
        shares = language_shares(sample)
        if shares:
            lang, share = next(iter(shares.items()))
            return LangGuess(lang, round(min(0.95, share), 3), "mixed")
        return _fallback(fallback)
    if letters.cyrillic > letters.latin:
        return _cyrillic_guess(letters, short=False)
    return _latin_guess(sample, letters, fallback)


def _detect_short(text: str, fallback: str) -> LangGuess:
    letters = _Letters.of(text)
    if not letters.latin and not letters.cyrillic:
        return _fallback(fallback)
    if letters.cyrillic > letters.latin:
        return _cyrillic_guess(letters, short=True)

    if letters.uzbek:
        return LangGuess("uz", 0.8, "letters")
    if letters.azerbaijani and not letters.turkmen_latin:
        return LangGuess("az", 0.8, "letters")
    if letters.turkish and not letters.turkmen_latin:
        # ı or ğ with q or x is Azerbaijani (Turkish has neither letter).
        if "q" in text.lower() or "x" in text.lower():
            return LangGuess("az", 0.7, "letters")
        return LangGuess("tr", 0.8, "letters")
    against = letters.against_turkmen
    if letters.turkmen_latin and not letters.czech_polish and not against:
        return LangGuess("tk", 0.9, "turkmen-letters")

    words = letters.latin_words
    stop_lang = _stop_word_language(words)
    if stop_lang and not (stop_lang == "tk" and against):
        return LangGuess(stop_lang, 0.8, "stopwords")
    if against and (letters.turkmen_weak or letters.turkmen_latin):
        # Turkic letters with signs Turkmen lacks: Turkish written without ı and ğ.
        return LangGuess("tr", 0.6, "letters") if "q" not in text.lower() else _fallback(fallback)
    if letters.turkmen_weak and not letters.czech_polish:
        return LangGuess("tk", 0.7, "turkmen-letters")
    if letters.latin >= SHORT_MIN_LETTERS:
        score = turkmen_score(words)
        if score >= SHORT_TURKMEN_SCORE and not against:
            return LangGuess("tk", 0.7, "ngram")
        if score <= SHORT_ENGLISH_SCORE:
            return LangGuess("en", 0.7, "ngram")
    return _fallback(fallback)


def _cyrillic_guess(letters: _Letters, *, short: bool) -> LangGuess:
    if letters.turkmen_cyrillic and not letters.kazakh and not letters.cyrillic_i:
        return LangGuess("tk", 0.9, "turkmen-letters")
    if letters.kazakh or (letters.turkmen_cyrillic and letters.cyrillic_i):
        # ә ө ү ң beside і (or қ ғ ұ һ): Kazakh, which Turkmen resembles in Cyrillic.
        return LangGuess("kk", 0.8, "letters")
    ukrainian = letters.ukrainian + letters.cyrillic_i
    if ukrainian and ukrainian >= 0.02 * letters.cyrillic:
        return LangGuess("uk", 0.8, "letters")
    hits = stop_word_hits(letters.cyrillic_words)
    if hits.get("tk", 0) > hits.get("ru", 0):
        # Turkmen typed in Cyrillic without its own letters ("ве", "билен", "боюнча").
        return LangGuess("tk", 0.7, "stopwords")
    return LangGuess("ru", 0.8 if short else 0.95, "script")


def _latin_guess(text: str, letters: _Letters, fallback: str) -> LangGuess:
    if letters.azerbaijani >= 0.01 * letters.latin:
        return LangGuess("az", 0.9, "letters")
    words = letters.latin_words
    hits = stop_word_hits(words)
    # Letters Turkmen lacks count as another language's: no Turkmen on them.
    against = letters.against_turkmen
    uzbek_words = hits.get("uz", 0)
    if (letters.uzbek and uzbek_words) or (against and uzbek_words >= 2):
        return LangGuess("uz", 0.9 if letters.uzbek else 0.8, "letters")
    if letters.turkish >= 0.01 * letters.latin and letters.turkish > letters.turkmen_latin:
        return LangGuess("tr", 0.9, "letters")

    score = turkmen_score(words)
    foreign = letters.czech_polish >= 0.01 * letters.latin
    if score >= TURKMEN_SCORE and not foreign and not against:
        return LangGuess("tk", _score_confidence(score, TURKMEN_SCORE), "ngram")

    english_hits = hits.get("en", 0)
    other_hits = max((count for lang, count in hits.items() if lang not in ("en", "tk")), default=0)
    if (
        score <= ENGLISH_SCORE
        and not foreign
        and english_hits >= 0.08 * len(words)
        and english_hits >= 2 * other_hits
    ):
        return LangGuess("en", _score_confidence(-score, -ENGLISH_SCORE), "ngram")

    turkmen_letters = letters.turkmen_latin >= 0.005 * letters.latin and not foreign and not against
    if letters.uzbek:
        return LangGuess("uz", 0.7, "letters")
    detected = _langdetect(text)
    if detected is not None:
        lang, probability = detected
        confidence = round(min(0.9, probability), 3)
        if lang == "tr" and not letters.turkish:
            # langdetect calls Turkmen Turkish; without ı or ğ it is Turkmen if
            # anything Turkmen shows, and otherwise (a list of names) nothing sure;
            # with letters Turkmen lacks it is Turkish written without ı and ğ.
            if against and hits.get("tr", 0):
                return LangGuess("tr", min(confidence, 0.8), "langdetect")
            if turkmen_letters or hits.get("tk", 0) or score >= 0.2:
                return LangGuess("tk", confidence, "langdetect")
        elif lang == "en" and score < 0:
            return LangGuess("en", confidence, "langdetect")
        elif lang in EXTRA and hits.get(lang, 0) >= _EXTRA_STOP_WORDS_NEEDED:
            # langdetect is sure of itself on names and tables too: an extra language
            # needs its own function words as well.
            return LangGuess(lang, confidence, "langdetect")
    if turkmen_letters:
        return LangGuess("tk", 0.6, "turkmen-letters")
    return _fallback(fallback)


def _score_confidence(score: float, threshold: float) -> float:
    """Map a score past its threshold to 0.7..0.99: twice the threshold is near sure."""
    return round(min(0.99, 0.7 + 0.3 * (score - threshold) / max(threshold, 0.1)), 3)


def _stop_word_language(words: list[str]) -> str | None:
    """The language whose stop-words clearly dominate a short text, if any."""
    hits = stop_word_hits(words)
    if not hits:
        return None
    ranked = Counter(hits).most_common()
    lang, count = ranked[0]
    if len(ranked) > 1 and ranked[1][1] == count:
        return None
    if lang not in SUPPORTED and count < _EXTRA_STOP_WORDS_NEEDED:
        return None
    return lang


def _fallback(fallback: str) -> LangGuess:
    return LangGuess(fallback or UND, 0.5 if fallback and fallback != UND else 0.0, "fallback")


# --- langdetect, restricted -------------------------------------------------------

LANGDETECT_PROFILES: tuple[str, ...] = (
    "en",
    "ru",
    "uk",
    "tr",
    "de",
    "fr",
    "es",
    "it",
    "nl",
    "pt",
    "cs",
    "pl",
)


@cache
def _langdetect_factory() -> DetectorFactory:
    """A langdetect factory that knows only the languages we may report: it cannot
    answer Macedonian or Tagalog, and it runs faster with fewer profiles."""
    factory = DetectorFactory()
    profiles = [
        (Path(PROFILES_DIRECTORY) / lang).read_text(encoding="utf-8")
        for lang in LANGDETECT_PROFILES
    ]
    factory.load_json_profile(profiles)
    return factory


def _langdetect(text: str) -> tuple[str, float] | None:
    """langdetect's best language and probability, or None when it is not sure."""
    detector = _langdetect_factory().create()
    detector.set_max_text_length(LANGDETECT_SAMPLE_CHARS)
    detector.append(_sample(text, LANGDETECT_SAMPLE_CHARS))
    try:
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return None
    if best.prob < LANGDETECT_MIN_PROBABILITY:
        return None
    return best.lang, best.prob


# --- splitting and sampling -------------------------------------------------------


def _letters_by_language(text: str) -> Counter[str]:
    """Letters per language over the text's lines and sentences. Segments with no
    evidence of their own (a name, "Don't hurry...") join the text's main language;
    segments without letters (phone numbers) belong to no language."""
    segments: list[tuple[str, int]] = []
    for piece in _SEGMENT_BREAK.split(_normalise(text)):
        latin, cyrillic = _script_letters(piece)
        if min(latin, cyrillic) >= MIXED_SCRIPT_SHARE * (latin + cyrillic) > 0:
            segments.extend((run, sum(_script_letters(run))) for run in _script_runs(piece))
        elif latin or cyrillic:
            segments.append((piece.strip(), latin + cyrillic))
    letters_by_lang: Counter[str] = Counter()
    undecided: list[tuple[str, int]] = []
    for segment, letters in segments:
        lang = _detect_segment(segment).lang
        if lang == UND:
            undecided.append((segment, letters))
        else:
            letters_by_lang[lang] += letters
    if letters_by_lang and undecided:
        main = letters_by_lang.most_common(1)[0][0]
        for segment, letters in undecided:
            letters_by_lang[_detect_segment(segment, main).lang] += letters
    letters_by_lang.pop(UND, None)
    return letters_by_lang


def _script_letters(text: str) -> tuple[int, int]:
    """(Latin letters, Cyrillic letters): the letters our languages are written in."""
    latin = sum(map(len, LATIN_WORD.findall(text.lower())))
    return latin, sum(map(len, _CYRILLIC_WORD.findall(text)))


def _script_runs(segment: str) -> list[str]:
    """A sentence that mixes scripts (a Turkmen sentence quoting a Russian title) cut
    into runs of words of one script."""
    runs: list[list[str]] = []
    run_script = ""
    for word in segment.split():
        latin, cyrillic = _script_letters(word)
        script = "cyrillic" if cyrillic > latin else "latin" if latin else ""
        if not runs or (script and run_script and script != run_script):
            runs.append([])
        runs[-1].append(word)
        run_script = script or run_script
    return [" ".join(run) for run in runs]


# Turkish text decoded with a Western code page (cp1252/latin-1 instead of cp1254) shows
# ı as ý, İ as Ý, ğ as ð and ş as þ: ý is a Turkmen letter, so the damage reads as
# Turkmen. ð and þ exist in no language of ours; a ý between consonants (or a word-
# initial ý before one) exists in no Turkmen word, where ý is always next to a vowel.
_CODE_PAGE_DAMAGE = str.maketrans({"ý": "ı", "Ý": "İ", "ð": "ğ", "Ð": "Ğ", "þ": "ş", "Þ": "Ş"})
_DOTLESS_I_ONLY = str.maketrans({"ý": "ı", "Ý": "İ"})
_THORN_OR_ETH = re.compile("[ðþÐÞ]")
_CONSONANT = "bcçdfgğhjklmnňprsştvzžwxqBCÇDFGHJKLMNŇPRSŞTVZŽWXQ"
_Y_ACUTE_BETWEEN_CONSONANTS = re.compile(
    rf"(?:(?<=[{_CONSONANT}])|(?<![^\W\d_]))[ýÝ](?=[{_CONSONANT}]|(?![^\W\d_]))"
)


def repair_charset(text: str) -> str:
    """Turkish text whose ı ğ ş were shown as ý ð þ by a wrong code page, repaired;
    any other text unchanged."""
    if "ý" not in text and "Ý" not in text:
        return text
    if _THORN_OR_ETH.search(text):
        return text.translate(_CODE_PAGE_DAMAGE)
    damaged = len(_Y_ACUTE_BETWEEN_CONSONANTS.findall(text))
    if damaged >= 2 and 2 * damaged >= text.count("ý") + text.count("Ý"):
        return text.translate(_DOTLESS_I_ONLY)
    return text


def _normalise(text: str) -> str:
    text = repair_charset(text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if "@" in text or "://" in text or "www." in text:
        text = _URL_OR_EMAIL.sub(" ", text)
    return text.strip()


def _sample(text: str, limit: int = SAMPLE_CHARS) -> str:
    """At most `limit` characters: the start, middle and end, cut at spaces."""
    if len(text) <= limit:
        return text
    part = limit // 3
    middle = len(text) // 2 - part // 2
    start = text[:part].rsplit(" ", 1)[0]
    middle_piece = text[middle : middle + part].split(" ", 1)[-1].rsplit(" ", 1)[0]
    end = text[-part:].split(" ", 1)[-1]
    return f"{start} {middle_piece} {end}"
