"""The words of a law's source text as the parser reads them: Markdown and HTML markup
removed, and each publisher's note (amendment records, «Сноска.», «КонсультантПлюс:
примечание.») moved to a line of its own that starts with `ANNOTATION_MARK`, so the
parser keeps it with its unit but out of the law's words.
"""

from __future__ import annotations

import re

from kb.normalize import normalize_text

ANNOTATION_MARK = "\x1e"  # starts a line that holds a publisher's note, after cleaning
_FRONT_MATTER = re.compile(r"\A\s*---\n.*?\n---[ \t]*\n", re.DOTALL)
_WIKI_NAV_LINE = re.compile(r"^>.*\[\[.*$", re.MULTILINE)
_QUOTE_PREFIX = re.compile(r"^>[ \t]?", re.MULTILINE)
_WIKI_LINK = re.compile(r"\[\[(?:[^\]|]*\|)?([^\]]*)\]\]")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_SUP = re.compile(r"<sup>\s*(\d+)\s*</sup>", re.IGNORECASE)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_INLINE_TAG = re.compile(
    r"</?(?:a|span|em|strong|b|i|u|s|sub|font|abbr|small|mark|ins|del|code)\b[^>]*>",
    re.IGNORECASE,
)
_EMPHASIS = re.compile(r"(?<![\w*_\\])(\*{1,3}|_{1,3})(?=\S)(.+?)(?<=\S)\1(?![\w*_])")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+.!-])")
_SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
# "(В редакции Федерального закона от 07.12.2011 № 420-ФЗ)", "(Дополнение пунктом -
# Федеральный закон от …)": the publisher's record of amendments, not the law's words.
_AMENDMENT_NOTE = re.compile(
    r"\(\s*(?:(?:Часть|Пункт|Подпункт|Абзац|Статья|Примечание|Наименование|Раздел|Глава)\s+)?"
    r"(?:[Вв] редакции|Дополнение|Дополнен[аоы]?|Утратил[аио]?|Исключен[аоы]?|Введен[аоы]?"
    r"|Признан[аоы]?|Изменен[аоы]?)\b[^()]*?(?:[Зз]акон|ФЗ|Указ|[Пп]остановлени)[^()]*?\)"
)
# Blocks that run to the next blank line: «Сноска. Статья 128 с изменениями…» (adilet),
# «Примечание ИЗПИ!»; and «КонсультантПлюс: примечание.» with the line after it.
_FOOTNOTE_BLOCK = re.compile(
    r"^[ \t]*(?:Сноска\.|Примечание ИЗПИ[!.])[^\n]*(?:\n(?![ \t]*\n)[^\n]*)*", re.MULTILINE
)
_CONSULTANT_NOTE = re.compile(r"^[ \t]*КонсультантПлюс: примечание\.[ \t]*\n[^\n]*", re.MULTILINE)


def _as_annotation(match: re.Match[str]) -> str:
    return f"\n{ANNOTATION_MARK}{' '.join(match.group(0).split())}\n"


def visible_text(text: str) -> str:
    """The words a reader sees: Markdown and HTML markup (links, emphasis, front matter,
    wiki navigation) removed, so two editions that differ only in whether a
    cross-reference is a link read the same. Publisher's notes are not touched here."""
    text = _FRONT_MATTER.sub("", text)
    text = _WIKI_NAV_LINE.sub("", text)
    text = _QUOTE_PREFIX.sub("", text)
    text = _IMAGE.sub("", text)
    text = _WIKI_LINK.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_REF_LINK.sub(r"\1", text)
    text = _SUP.sub(lambda m: m.group(1).translate(_SUPERSCRIPT_DIGITS), text)
    text = _BR.sub("\n", text)
    text = _INLINE_TAG.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    return _MD_ESCAPE.sub(r"\1", text)


def clean_source(text: str) -> str:
    """Normalised, visible text with each publisher's note moved to a line of its own
    (marked, so the parser keeps it with the unit but out of the unit's words)."""
    text = visible_text(normalize_text(text))
    text = _FOOTNOTE_BLOCK.sub(_as_annotation, text)
    text = _CONSULTANT_NOTE.sub(_as_annotation, text)
    return _AMENDMENT_NOTE.sub(_as_annotation, text)
