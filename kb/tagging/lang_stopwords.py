"""Small stop-word lists: frequent function words that mark a language.

They decide short texts (titles, headings) and corroborate langdetect before an
extra language is reported. Words shared with English ("a", "to", "door", "come")
are left out of the other lists, so English text does not look foreign; likewise
"we" (Turkmen "and") and "has" (Turkmen "more") are in neither en nor tk.
"""

from __future__ import annotations


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _word_set(
        "the of and to in for on with by is are was were be been have had it its this "
        "that these those from as at or an a not will would should can may which who "
        "their they them our his her he she you your about into after before under "
        "between during within than also such other all any each only how what"
    ),
    "tk": _word_set(
        "bilen üçin hem bu şu ol olar öz bolup bolan boýunça barada hakynda hakyndaky "
        "arasynda tarapyndan ýaly ýa görä soň soňra emma ýöne ýok däl diýip edip bolsa "
        "ähli käbir iň biz siz onuň olaryň esasy babatda çäginde "
        # Turkmen in Cyrillic (before 1993, and typed on Russian keyboards).
        "ве билен учин үчин боюнча хакында барада арасында тарапындан ялы бу шу ол "
        "олар өз болуп болан хем эмма"
    ),
    "ru": _word_set(
        "и в во не на с со по для что как о об из к от это или а также при до за он она "
        "они мы вы его её их был была были будет который которые которая"
    ),
    "tr": _word_set("ve ile için olarak daha gibi kadar çok değil veya ama ise"),
    "az": _word_set("və ilə üzrə olaraq kimi isə həm amma yaxud üçün"),
    "uz": _word_set("va uchun bilan boʻyicha bo'yicha haqida orqali ham esa emas kerak mumkin"),
    "de": _word_set(
        "und der die das nicht mit von zu ist im den für auf sich des dem ein eine einer "
        "bei oder sie wird werden nach"
    ),
    "fr": _word_set(
        "le la les des et du une un est dans pour que qui au aux par sur avec ne pas ce "
        "cette sont l d"
    ),
    "es": _word_set("el los las del por con para una su al como más pero sus también"),
    "it": _word_set("il di che è della per non una sono nella degli alla gli anche più dei"),
    "nl": _word_set("het een niet voor zijn ook bij maar wordt worden naar"),
    "pt": _word_set("os das dos em uma não para com mais pela pelo ao foi são também"),
    "cs": _word_set("je se na že jako pro ve ale jsou nebo podle aby také který která"),
    "pl": _word_set("się nie że jest jak przez dla oraz są lub który która także"),
}

_LANGUAGES_OF_WORD: dict[str, tuple[str, ...]] = {}
for _lang, _words in STOP_WORDS.items():
    for _word in _words:
        _LANGUAGES_OF_WORD[_word] = (*_LANGUAGES_OF_WORD.get(_word, ()), _lang)


def stop_word_hits(words: list[str]) -> dict[str, int]:
    """How many of the (lowercase) words are stop-words of each language."""
    hits: dict[str, int] = {}
    for word in words:
        for lang in _LANGUAGES_OF_WORD.get(word, ()):
            hits[lang] = hits.get(lang, 0) + 1
    return hits
