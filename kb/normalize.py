"""Text normalisation applied to every extracted string before segmentation."""

from __future__ import annotations

import re
import unicodedata

# Spaces that look like a space but are not U+0020 (the seeds have U+00A0).
_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000\t\f\v]")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_MULTI_SPACE = re.compile(r" {2,}")
# A word broken across lines with a hyphen: "identifi-\ncation". Only joins when
# the next line starts lowercase, so "129-\n1" and "Anti-\nTrafficking" survive.
_LINE_HYPHEN = re.compile(r"([^\W\d_])-\n([a-zа-яёäçňöşüýž])")


def normalize_text(text: str) -> str:
    """NFC, unify spaces, drop zero-width characters and soft hyphens, trim lines."""
    text = unicodedata.normalize("NFC", text)
    text = _ZERO_WIDTH.sub("", text)
    text = _SPACES.sub(" ", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_MULTI_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def join_hyphenated(text: str) -> str:
    """Undo end-of-line hyphenation in PDF text ("identifi-\\ncation" -> "identification")."""
    return _LINE_HYPHEN.sub(r"\1\2", text)


def unwrap_lines(text: str) -> str:
    """Join lines that a PDF wrapped inside a paragraph; keep blank-line breaks."""
    paragraphs = re.split(r"\n\s*\n", text)
    return "\n\n".join(" ".join(p.split("\n")).strip() for p in paragraphs if p.strip())


def fold_case(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def slugify(text: str, max_len: int = 60) -> str:
    """ASCII-ish id from a title or file name: "Закон 2016" -> "zakon-2016"."""
    text = transliterate(text.casefold())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:max_len].strip("-") or "doc"


_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya", "ň": "n", "ý": "y", "ž": "zh", "ä": "a", "ş": "sh", "ç": "ch",
        "ö": "o", "ü": "u", "җ": "j", "ң": "n", "ө": "o", "ү": "u", "ә": "a",
    }
)  # fmt: skip


def transliterate(text: str) -> str:
    return text.translate(_TRANSLIT)
