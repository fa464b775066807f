"""What kind of document this is: newsletter, news, event report, project page, training
manual, legislation, action plan, international instrument, or other.

The manifest's hint wins. Otherwise each type collects points from cues in the title,
the headings and the text (article structure, "Module N" headings, a project metadata
block, a dateline and byline...); the type with most points wins if it has at least
`MIN_SCORE`, and the reason names the cues that decided.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kb.model import DOCTYPES, Document

MIN_SCORE = 2
# Only the start of a very long document is read for text cues: types show early.
_TEXT_CHARS = 40_000
_SHORT_NEWS_CHARS = 5_000
# On a tie, the more specific structure wins.
_PRIORITY: tuple[str, ...] = (
    "legislation",
    "international_instrument",
    "action_plan",
    "training_manual",
    "project_page",
    "newsletter",
    "event_report",
    "news",
)


@dataclass
class _Features:
    """What the cues read. Everything but `head_as_written` is casefolded, so that the
    patterns need no IGNORECASE (four times slower in `re` on this text)."""

    title: str
    headings: list[str]
    section_kinds: list[str]
    text: str
    head: str
    tail: str
    head_as_written: str
    length: int

    def says_any(self, words: tuple[str, ...]) -> bool:
        """A cheap test before a pattern that cannot match without one of these words."""
        return any(word in self.text for word in words)


@dataclass
class _Score:
    points: int = 0
    reasons: list[tuple[int, str]] = field(default_factory=list)

    def add(self, points: int, reason: str) -> None:
        if points > 0:
            self.points += points
            self.reasons.append((points, reason))


def _features(doc: Document) -> _Features:
    text_parts: list[str] = []
    size = 0
    for section in doc.sections:
        if size > _TEXT_CHARS:
            break
        text_parts.append(section.text)
        size += len(section.text)
    text = "\n\n".join(text_parts)
    folded = text.casefold()
    total = sum(len(s.text) for s in doc.sections)
    last_text = doc.sections[-1].text if doc.sections else ""
    return _Features(
        title=doc.title.casefold(),
        headings=[s.heading.casefold() for s in doc.sections if s.heading],
        section_kinds=[s.kind for s in doc.sections],
        text=folded,
        head=folded[:1500],
        tail=last_text[-600:].casefold(),
        head_as_written=text[:300],
        length=total,
    )


def _rx(pattern: str) -> re.Pattern[str]:
    """A cue pattern, written in lower case and matched against casefolded text."""
    return re.compile(pattern, re.MULTILINE)


_ARTICLE_HEADING = _rx(
    r"^(?:article|art\.|статья|ст\.|madda)\s+\d|^\d+(?:[-–]\d+)?[¹²³]?-?(?:nji|njy|nju|njü|inji|ynjy)\s+madda"
)
_MODULE_HEADING = _rx(
    r"^(?:module|модуль|modul|session|сессия|sessiýa|unit|lesson|урок|sapak)\s+\d"
)
_LAW_TITLE = _rx(
    r"\b(?:law|code|decree|закон\w*|кодекс\w*|указ\w*|постановлени\w*|kanun\w*|kodeks\w*|karar\w*)\b"
)
_LAW_TEXT = _rx(
    r"\b(?:this\s+law|the\s+present\s+law|настоящ\w+\s+закон\w*|şu\s+kanun\w*|enters?\s+into\s+force"
    r"|вступает\s+в\s+силу|güýje\s+girýär)"
)
_INSTRUMENT_TITLE = _rx(
    r"\b(?:protocol|convention|covenant|declaration|протокол\w*|конвенци\w*|пакт\w*|декларац\w*"
    r"|teswirnama\w*|konwensiýa\w*|jarnama\w*)\b"
)
_STATES_PARTIES = _rx(
    r"\bstates?\s+part(?:y|ies)\b|государств\w*[\s-]+участник\w*|gatnaşyjy\s+döwlet\w*"
)
_ACTION_PLAN_TITLE = _rx(
    r"\b(?:action\s+plan|plan\s+of\s+action|план\w*\s+действий|план\w*\s+мероприятий"
    r"|hereket\s+meýilnama\w*|çäreler\s+meýilnama\w*)"
)
_PLAN_COLUMNS: tuple[re.Pattern[str], ...] = (
    _rx(r"\b(?:responsible\s*(?::|agenc|bod|executor|institution|party|parties)|implementing\s+agenc"
        r"|ответственн\w+\s+исполнител|ответственные|jogapkär)"),
    _rx(r"\b(?:deadline|time\s*frame|timeline|срок\w*\s+исполнения|сроки\s+выполнения|ýerine\s+ýetiriş\s+möhlet"
        r"|ýerine\s+ýetirilýän\s+möhlet)"),
    _rx(r"\b(?:measures?|activities|мероприяти\w*|меры|çäreler\w*)\b"),
)  # fmt: skip
_MANUAL_TITLE = _rx(
    r"\b(?:manual|handbook|guide|guidelines|toolkit|curriculum|training\s+materials?|trainer'?s?\s+guide"
    r"|руководств\w*|пособи\w*|методическ\w*|учебн\w*|gollanma\w*|okuw\s+maglumatlary)\b"
)
_MANUAL_TEXT = _rx(
    r"\b(?:learning\s+objectives|exercise|handout|trainer'?s?\s+notes?|facilitator'?s?\s+notes?|case\s+study"
    r"|group\s+work|цели\s+обучения|упражнени\w*|раздаточн\w*|заметки\s+для\s+тренера|maşk\w*"
    r"|okuw\s+maksatlary|toparlaýyn\s+iş)"
)
_PROJECT_LABELS = _rx(
    r"^\W*(project\s+period|project\s+title|project\s+partners|project\s+description|start\s+date|end\s+date"
    r"|prima\s+id|projects?\s+id|budget\s+amount|project\s+status|project\s+type|donor|benefiting\s+member\s+states"
    r"|main\s+objectives|срок\s+реализации\s+проекта|название\s+проекта|донор|бюджет\s+проекта"
    r"|taslamanyň\s+(?:ady|möhleti|býudjeti))\b"
)
_NEWSLETTER = _rx(
    r"\b(?:newsletter|bulletin|digest|информационн\w+\s+бюллетен\w*|бюллетен\w*|вестник|дайджест"
    r"|habarnama\w*|býulleten\w*)\b"
)
_ISSUE = _rx(r"\b(?:issue\s+(?:no\.?\s*)?\d+|выпуск\s+№?\s*\d+|№\s*\d+\s*\(\d+\))")
# "Ashgabat, 15-16 January 2025." / "ASHGABAT, 3 May 2024 —" / "Aşgabat, 2025-nji ýylyň ..."
# Matched against the text as written: a place name starts with a capital.
_DATELINE = re.compile(
    r"\A\s*[A-ZÀ-ÝА-ЯÄÇŇÖŞÜÝŽ][\w’'.-]+(?:\s+[\w’'.-]+)?\s*[,–—]\s*(?:\d{1,2}[\s–-]|\d{4}-nji|"
    r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|январ|феврал|март|апрел|ма[йя]|июн|июл|август|сентябр|октябр|ноябр|декабр))"
)
_BYLINE = _rx(
    r"(?:///|//|—|\()\s*[^\W\d][\w .&'’-]{0,40},\s*\d{1,2}\s+\w+\s+\d{4}|(?:published|опубликовано|çap\s+edildi)\s*:?\s*\d"
)
_PRESS_RELEASE = _rx(
    r"\b(?:press\s+release|пресс-релиз|metbugat\s+beýanaty|for\s+immediate\s+release)\b"
)
_EVENT_DONE = _rx(
    r"\b(?:workshops?|trainings?|seminars?|round\s*tables?|conferences?|meetings?|study\s+tours?|courses?"
    r"|training\s+of\s+trainers|tot|sessions?|forums?)\b[^.;]{0,150}?\b(?:was|were|has\s+been|have\s+been)?\s*"
    r"(?:held|organi[sz]ed|conducted|facilitated|delivered|took\s+place|brought\s+together)\b"
    r"|\b(?:took\s+part|participated)\s+in\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:workshop|training|seminar|round\s*table|conference|study\s+tour|course)"
    r"|\b(?:organi[sz]ed|conducted|held|facilitated|delivered|hosted)\s+(?:a|an|the)?\s*(?:[\w-]+\s+){0,4}?"
    r"(?:workshop|training|seminar|round\s*table|conference|study\s+tour|course)"
    r"|(?:семинар|тренинг|кругл\w+\s+стол|конференци|совещани|обучени)\w*\s+(?:был\w*\s+)?(?:проведен|организован|состоял)"
    r"|(?:провел\w*|организовал\w*|состоял\w*)\s+(?:\w+\s+){0,3}?(?:семинар|тренинг|кругл|конференц)"
    r"|(?:okuw|seminar|maslahat|duşuşyk|türgenleşik)\w*\s+(?:\w+\s+){0,2}?(?:geçirildi|guraldy|gurnaldy)"
)
_EVENT_WORDS = (
    "held", "organiz", "organis", "conducted", "facilitated", "delivered", "took place",
    "brought together", "took part", "participated", "hosted", "проведен", "проведён",
    "организован", "состоял", "провел", "провёл", "организовал", "geçirildi", "guraldy",
    "gurnaldy",
)  # fmt: skip
_PARTICIPANTS = _rx(r"\b(?:participants|участник\w*|gatnaşyjy\w*)\b")
_EVENT_TITLE = _rx(
    r"\b(?:activity\s+update|workshop|training|seminar|round\s*table|study\s+tour|conference"
    r"|семинар|тренинг|кругл\w+\s+стол|конференци\w*|okuw|seminar|maslahat)\w*"
)


def _legislation(f: _Features, score: _Score) -> None:
    articles = sum(kind == "article" for kind in f.section_kinds) or sum(
        1 for h in f.headings if _ARTICLE_HEADING.match(h)
    )
    if articles >= 3:
        score.add(3, f"{articles} headings 'Article N'")
    elif articles:
        score.add(1, f"{articles} heading(s) 'Article N'")
    if _LAW_TITLE.search(f.title) and not _INSTRUMENT_TITLE.search(f.title):
        score.add(2, "title names a law")
    if _LAW_TEXT.search(f.text):
        score.add(1, "'this Law' wording")


def _instrument(f: _Features, score: _Score) -> None:
    if _INSTRUMENT_TITLE.search(f.title):
        score.add(3, "title names a Protocol/Convention")
    parties = len(_STATES_PARTIES.findall(f.text))
    if parties >= 2:
        score.add(3, f"'States Parties' {parties} times")
    elif parties:
        score.add(1, "'States Parties'")


def _action_plan(f: _Features, score: _Score) -> None:
    if _ACTION_PLAN_TITLE.search(f.title):
        score.add(3, "title says 'Action Plan'")
    columns = sum(1 for pattern in _PLAN_COLUMNS if pattern.search(f.text))
    if columns >= 2 and _PLAN_COLUMNS[0].search(f.text):
        score.add(2, "measures, responsible agencies and deadlines")


def _training_manual(f: _Features, score: _Score) -> None:
    modules = sum(kind == "module" for kind in f.section_kinds) or sum(
        1 for h in f.headings if _MODULE_HEADING.match(h)
    )
    if modules >= 2:
        score.add(3, f"{modules} 'Module N' headings")
    elif modules:
        score.add(1, "a 'Module N' heading")
    if _MANUAL_TITLE.search(f.title):
        score.add(3, "title says manual/guide")
    cues = len(_MANUAL_TEXT.findall(f.text))
    if cues >= 2:
        score.add(2, "exercises and learning objectives")
    elif cues:
        score.add(1, "an exercise or learning objective")


def _project_page(f: _Features, score: _Score) -> None:
    labels: list[str] = []
    for source in (f.text, "\n".join(f.headings)):
        for m in _PROJECT_LABELS.finditer(source):
            label = " ".join(m.group(1).split())
            label = (label[:1].upper() + label[1:]).replace(" id", " ID")  # 'Prima ID' block
            if label not in labels:
                labels.append(label)
    if len(labels) >= 2:
        score.add(4, f"'{labels[0]}' block")
    elif labels:
        score.add(1, f"'{labels[0]}' label")


def _newsletter(f: _Features, score: _Score) -> None:
    if _NEWSLETTER.search(f.title):
        score.add(4, "title contains 'Newsletter'")
    elif _NEWSLETTER.search(f.head[:300]):
        score.add(2, "'Newsletter' at the top")
    if _ISSUE.search(f.title + "\n" + f.head[:300]):
        score.add(1, "issue number")


def _news(f: _Features, score: _Score) -> None:
    dateline = bool(_DATELINE.search(f.head_as_written))
    byline = bool(_BYLINE.search(f.tail)) or bool(_BYLINE.search(f.head[:300]))
    if dateline and byline:
        score.add(4, "dateline and byline")
    elif dateline:
        score.add(2, "dateline")
    elif byline:
        score.add(2, "byline")
    if _PRESS_RELEASE.search(f.title + "\n" + f.head):
        score.add(2, "press release")
    if score.points and f.length < _SHORT_NEWS_CHARS:
        score.add(1, "short text")


def _event_report(f: _Features, score: _Score) -> None:
    events = len(_EVENT_DONE.findall(f.text[:8000])) if f.says_any(_EVENT_WORDS) else 0
    if events >= 2:
        score.add(3, "'workshop/training was held' wording")
    elif events:
        score.add(2, "'workshop/training was held' wording")
    if events and _PARTICIPANTS.search(f.text[:8000]):
        score.add(1, "participants")
    if _EVENT_TITLE.search(f.title):
        score.add(2, "title names an event")


_SCORERS: dict[str, Callable[[_Features, _Score], None]] = {
    "legislation": _legislation,
    "international_instrument": _instrument,
    "action_plan": _action_plan,
    "training_manual": _training_manual,
    "project_page": _project_page,
    "newsletter": _newsletter,
    "news": _news,
    "event_report": _event_report,
}


def doctype_scores(doc: Document) -> dict[str, tuple[int, list[str]]]:
    """Points and cues per type (for explaining a decision)."""
    features = _features(doc)
    out: dict[str, tuple[int, list[str]]] = {}
    for doctype, scorer in _SCORERS.items():
        score = _Score()
        scorer(features, score)
        ordered = [reason for _, reason in sorted(score.reasons, key=lambda r: -r[0])]
        out[doctype] = (score.points, ordered)
    return out


def detect_doctype(doc: Document) -> tuple[str, str]:
    """(type, reason): the manifest's hint if it names a known type, else the best-scoring cues."""
    hint = doc.source.doctype_hint.strip()
    if hint in DOCTYPES:
        return hint, "manifest hint"
    scores = doctype_scores(doc)
    best = max(_PRIORITY, key=lambda t: (scores[t][0], -_PRIORITY.index(t)))
    points, reasons = scores[best]
    if points < MIN_SCORE:
        return "other", "no decisive cue"
    return best, "; ".join(reasons[:2])
