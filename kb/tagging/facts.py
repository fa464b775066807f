"""Project facts from project pages, news and reports: title, period, donor, budget, ids,
partners, and how many people were trained. Each fact keeps the sentence it came from.

Project pages list facts as label/value pairs, either on one line ("Project period: …")
or as a label line followed by a value line ("Prima ID" / "TM10P0524"); news and reports
state them in sentences ("funded by the IOM Development Fund", "237 law enforcement
officers … were trained"). Both are read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from kb.model import Document, Tag
from kb.tagging.dates import FoundDate, find_dates
from kb.tagging.vocab import EntityMatch, Vocabulary, load_vocabulary

FACT_NAMES: tuple[str, ...] = (
    "project_title",
    "period",
    "donor",
    "budget",
    "project_id",
    "partner",
    "trained_count",
)
_IMPLEMENTER = "org.iom"  # the knowledge base's own agency: implementer, never its own partner
_ORG_KINDS = frozenset({"organisation", "government"})
_SEP = r"[\s:\-–—•#]*"  # between a label and its value, possibly across lines


class _Unit:
    """A text facts are read from (the title or one section), with its sentences and
    vocabulary mentions computed once and shared by every kind of fact."""

    def __init__(
        self, text: str, vocab: Vocabulary, mentions: list[EntityMatch] | None = None
    ) -> None:
        self.text = text
        self._vocab = vocab
        self._mentions = mentions  # when the caller has already looked them up

    @cached_property
    def sentences(self) -> list[tuple[int, int]]:
        return list(_sentence_spans(self.text))

    @property
    def mentions(self) -> list[EntityMatch]:
        if self._mentions is None:
            self._mentions = self._vocab.find(self.text)
        return self._mentions

    @cached_property
    def folded(self) -> str:
        return self.text.casefold()

    def says_any(self, words: tuple[str, ...]) -> bool:
        """Does the text contain one of these (casefolded) words? A cheap test that spares
        most texts the slower patterns."""
        folded = self.folded
        return any(word in folded for word in words)

    def sentences_with(
        self, cue: re.Pattern[str], words: tuple[str, ...] = ()
    ) -> Iterator[tuple[int, int, str]]:
        """(start, end, sentence) for each sentence holding the cue; nothing if the text lacks it.

        words: the cue cannot match without one of them (checked first, cheaply)."""
        if (words and not self.says_any(words)) or not cue.search(self.text):
            return
        for start, end in self.sentences:
            if cue.search(self.text, start, end):
                yield start, end, self.text[start:end]

    def sentence_around(self, offset: int) -> str:
        for start, end in self.sentences:
            if start <= offset < end:
                return self.text[start:end]
        return self.text[max(0, offset - 100) : offset + 100]

    def orgs_in(self, start: int, end: int) -> list[EntityMatch]:
        return [
            m for m in self.mentions if m.kind in _ORG_KINDS and start <= m.start and m.end <= end
        ]


def extract_facts(
    doc: Document,
    vocabulary: Vocabulary | None = None,
    *,
    section_mentions: list[list[EntityMatch]] | None = None,
) -> list[Tag]:
    """Fact tags (kind "fact", value = fact name) for a document, in reading order per fact.

    section_mentions: `vocabulary.find(section.text)` per section, when the caller has them.
    """
    vocab = vocabulary or load_vocabulary()
    mentions: list[list[EntityMatch] | None] = (
        list(section_mentions) if section_mentions else [None] * len(doc.sections)
    )
    units = [_Unit(doc.title, vocab)] + [
        _Unit(s.text, vocab, found) for s, found in zip(doc.sections, mentions, strict=True)
    ]
    facts: list[Tag] = []
    facts += _project_titles(doc, units)
    facts += _periods(doc, units)
    facts += _donors(units, vocab)
    facts += _budgets(units)
    facts += _project_ids(units)
    facts += _partners(units, vocab)
    facts += _trained_counts(units)
    return _dedupe(facts)


def _fact(name: str, label: str, text: str, data: dict[str, Any]) -> Tag:
    return Tag(kind="fact", value=name, label=label, text=_squash(text), data=data)


def _squash(text: str) -> str:
    return " ".join(text.replace("\n-\n", " ").split())


def _dedupe(facts: list[Tag]) -> list[Tag]:
    """One fact per name and value; a shorter title or a coarser period that an earlier fact
    already states more fully ("2008 – 2009" after "2008-12 – 2009-11") is dropped too."""
    out: list[Tag] = []
    for fact in facts:
        if not any(_says_same(kept, fact) for kept in out):
            out.append(fact)
    return out


def _says_same(kept: Tag, new: Tag) -> bool:
    if kept.value != new.value:
        return False
    if kept.label.casefold() == new.label.casefold():
        return True
    if new.value == "project_title":
        return kept.label.casefold().startswith(new.label.casefold())
    if new.value == "period":
        return kept.data["start"].startswith(new.data["start"]) and kept.data["end"].startswith(
            new.data["end"]
        )
    return False


# --- sentences ----------------------------------------------------------------------------------

# Words whose trailing dot does not end a sentence ("U.S. Department", "Mr. Kasko", "ст. 129").
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "no",
        "nos",
        "art",
        "arts",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "incl",
        "jr",
        "sr",
        "ст",
        "г",
        "гг",
        "им",
        "ул",
        "т.е",
        "тыс",
        "млн",
    ]
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"”»)]*\s+(?=[\"“«(]?[A-ZА-ЯЁÄÇŇÖŞÜÝŽ0-9])")


def _sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of lines, then of sentences within each line; abbreviations and
    initials ("U.S. Department", "Mr. Kasko") do not end a sentence."""
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        begin = line_start + len(line) - len(line.lstrip())
        for m in _SENTENCE_END.finditer(text, begin, line_end):
            word = re.search(r"([\w.]+)[.!?…]*$", text[begin : m.start() + 1])
            last = word.group(1).rstrip(".").casefold() if word else ""
            if (
                last in _ABBREVIATIONS
                or (len(last) == 1 and last.isalpha())
                or re.fullmatch(r"(?:\w\.)+\w", last)
            ):
                continue
            yield begin, m.start() + len(m.group(0).rstrip())
            begin = m.end()
        if text[begin:line_end].strip():
            yield begin, begin + len(text[begin:line_end].rstrip())
        line_start = line_end + 1


# --- project title ------------------------------------------------------------------------------

_TITLE_LABEL = re.compile(
    r"(?:project\s+title|project\s+name|title\s+of\s+the\s+project|название\s+проекта"
    r"|наименование\s+проекта|taslamanyň\s+ady)\s*[:\-–—]\s*(?P<value>[^\n]{5,300})",
    re.IGNORECASE,
)
_QUOTED_AFTER_PROJECT = re.compile(
    r"(?:project|проект\w*|taslama\w*)(?:\s+(?:on|entitled|titled|called|named|under\s+the\s+title))?\s*"
    r"[“\"«„](?P<value>[^”\"»“«\n]{10,250})[”\"»]",
    re.IGNORECASE,
)
_TITLE_WORDS = ("title", "name", "название", "наименование", "taslamanyň ady")
_PROJECT_WORDS = ("project", "проект", "taslama")
_QUOTE = re.compile(r"[“\"«„]")
# Turkmen puts the name first: «…» atly taslama.
_QUOTED_BEFORE_TASLAMA = re.compile(
    r"[“\"«„](?P<value>[^”\"»“«\n]{10,250})[”\"»]\s+(?:atly\s+)?taslama", re.IGNORECASE
)


def _project_titles(doc: Document, units: list[_Unit]) -> list[Tag]:
    facts: list[Tag] = []
    for unit in units:
        if not unit.says_any(_TITLE_WORDS):
            continue
        for m in _TITLE_LABEL.finditer(unit.text):
            value = m.group("value").strip().rstrip(".")
            facts.append(_fact("project_title", value, m.group(0), {"title": value}))
    for unit in units:
        if not unit.says_any(_PROJECT_WORDS):
            continue
        for _, _, sentence in unit.sentences_with(_QUOTE):
            for pattern in (_QUOTED_AFTER_PROJECT, _QUOTED_BEFORE_TASLAMA):
                for m in pattern.finditer(sentence):
                    value = m.group("value").strip().rstrip(".")
                    facts.append(_fact("project_title", value, sentence, {"title": value}))
    if not facts and doc.doctype == "project_page" and doc.title.strip():
        title = re.sub(r"\s*\(\d{4}\s*[-–—]\s*\d{2,4}\)\s*$", "", doc.title.strip())
        facts.append(_fact("project_title", title, doc.title, {"title": title}))
    return facts


# --- period -------------------------------------------------------------------------------------

_PERIOD_LABEL = re.compile(
    r"(?:project\s+period|period\s+of\s+implementation|implementation\s+period|project\s+duration"
    r"|duration|срок\s+реализации(?:\s+проекта)?|период\s+реализации(?:\s+проекта)?"
    r"|taslamanyň\s+möhleti|durmuşa\s+geçirilýän\s+döwri)\s*[:\-–—]\s*",
    re.IGNORECASE,
)
_PERIOD_WORDS = ("period", "duration", "срок", "период", "möhlet", "döwri")
_START_END_LABEL = re.compile(
    r"^(?:start\s+date|date\s+of\s+start|дата\s+начала|başlan)", re.IGNORECASE
)
_PROJECT_WORD = re.compile(r"\b(?:project|проект\w*|taslama\w*)", re.IGNORECASE)


def _period_fact(date: FoundDate, text: str) -> Tag:
    label = date.start if date.start == date.end else f"{date.start} – {date.end}"
    data: dict[str, Any] = {"start": date.start, "end": date.end, "precision": date.precision}
    if date.note:
        data["note"] = date.note
    return _fact("period", label, text, data)


def _periods(doc: Document, units: list[_Unit]) -> list[Tag]:
    facts: list[Tag] = []
    for unit in units:
        labelled = unit.says_any(_PERIOD_WORDS)
        for m in _PERIOD_LABEL.finditer(unit.text) if labelled else ():
            line_end = unit.text.find("\n", m.end())
            rest = unit.text[m.end() : line_end if line_end >= 0 else None]
            found = [d for d in find_dates(rest) if d.is_period]
            if found:
                facts.append(_period_fact(found[0], m.group(0) + rest))
        for date in find_dates(unit.text):
            if date.is_period and _START_END_LABEL.match(date.text):
                facts.append(_period_fact(date, date.text))
                continue
            before = unit.text[max(0, date.offset - 80) : date.offset]
            if (
                date.is_period
                and _PROJECT_WORD.search(before)
                and not re.search(r"[.;!?]\s", before[-40:])
            ):
                facts.append(_period_fact(date, unit.sentence_around(date.offset)))
    if doc.doctype == "project_page":
        facts += [_period_fact(d, doc.title) for d in find_dates(doc.title) if d.is_period]
    return facts


# --- donor --------------------------------------------------------------------------------------

_DONOR_AFTER = re.compile(
    r"(?:funded|financed|sponsored|supported|co-funded|financially\s+supported)\s+by"
    r"|with\s+(?:the\s+)?(?:generous\s+)?(?:financial\s+(?:support|assistance)|funding)\s+(?:of|from)"
    r"|\bdonors?\s*[:\-–—]|при\s+(?:финансовой\s+)?поддержке|финансир\w+\s+(?:со\s+стороны\s+)?"
    r"|за\s+сч[её]т\s+средств",
    re.IGNORECASE,
)
# Turkmen names the donor first: "ABŞ-nyň Döwlet Departamentiniň maliýe goldawy bilen".
_DONOR_BEFORE = re.compile(
    r"(?:maliýe\s+goldawy\s+bilen|maliýeleşdirmegi\s+bilen|goldawy\s+bilen|[\s-](?:funded|financed)\b(?!\s+by))",
    re.IGNORECASE,
)
_DONOR_WORDS = (
    "fund", "financ", "sponsor", "support", "donor", "поддерж", "финанс", "средств",
    "maliýe", "goldaw",
)  # fmt: skip
_DONOR_CUE = re.compile(f"{_DONOR_AFTER.pattern}|{_DONOR_BEFORE.pattern}", re.IGNORECASE)
_PROPER_NAME = re.compile(
    r"(?:the\s+)?(?P<name>[A-Z][\w.&'’-]*(?:\s+(?:of|for|and|on|to|in|the|[A-Z][\w.&'’-]*))*)"
)


def _donors(units: list[_Unit], vocab: Vocabulary) -> list[Tag]:
    facts: list[Tag] = []
    for unit in units:
        for start, end, sentence in unit.sentences_with(_DONOR_CUE, _DONOR_WORDS):
            for found in _donors_in(sentence, unit.orgs_in(start, end), start):
                if isinstance(found, str):
                    facts.append(_fact("donor", found, sentence, {"name": found}))
                else:
                    facts.append(_org_fact("donor", found, vocab, sentence))
    return facts


def _donors_in(sentence: str, orgs: list[EntityMatch], offset: int) -> list[EntityMatch | str]:
    """Donors named in one sentence: known organisations, or a proper name after "funded by".

    orgs: the organisations mentioned in the sentence, at offsets `offset` + sentence position.
    """
    found: list[EntityMatch | str] = []
    for cue in _DONOR_AFTER.finditer(sentence):
        after = [m for m in orgs if 0 <= m.start - offset - cue.end() <= 60]
        if after:
            found.append(after[0])
            continue
        rest = cue.end() + len(sentence[cue.end() :]) - len(sentence[cue.end() :].lstrip())
        name = _PROPER_NAME.match(sentence, rest)
        if name and len(name.group("name")) > 3:
            found.append(name.group("name").strip().rstrip("."))
    for cue in _DONOR_BEFORE.finditer(sentence):
        before = [m for m in orgs if 0 <= cue.start() - (m.end - offset) <= 20]
        if before:
            found.append(before[-1])
    return found


def _org_fact(name: str, match: EntityMatch, vocab: Vocabulary, sentence: str) -> Tag:
    label = vocab.entry(match.id).label
    return _fact(name, label, sentence, {"id": match.id, "label": label, "name": match.text})


# --- budget -------------------------------------------------------------------------------------

_CURRENCIES: dict[str, str] = {
    "usd": "USD", "us$": "USD", "$": "USD", "us dollars": "USD", "dollars": "USD",
    "dollar": "USD", "долларов сша": "USD", "долларов": "USD", "доллар": "USD", "долл": "USD",
    "amerikan dollary": "USD", "eur": "EUR", "€": "EUR", "euro": "EUR", "euros": "EUR",
    "евро": "EUR", "gbp": "GBP", "£": "GBP", "nok": "NOK", "tmt": "TMT", "manat": "TMT",
    "manats": "TMT", "манат": "TMT", "манатов": "TMT", "chf": "CHF",
}  # fmt: skip
_CURRENCY = (
    r"(?:US\$|USD|EUR|GBP|NOK|TMT|CHF|[$€£]|US\s+dollars|dollars?|долларов\s+США|долл(?:аров|ар)?\.?"
    r"|amerikan\s+dollary|euros?|евро|manats?|манатов|манат)"
)
_AMOUNT = r"\d{1,3}(?:[ ,.\u202f]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"
_SCALE = r"(?:million|mln|thousand|млн\.?|миллион\w*|тыс\.?|тысяч\w*|müň|million)"
_MONEY = re.compile(
    rf"(?:(?P<pre>{_CURRENCY})\s*)?(?P<amount>{_AMOUNT})(?:\s*(?P<scale>{_SCALE}))?(?:\s*(?P<post>{_CURRENCY}))?",
    re.IGNORECASE,
)
_BUDGET_LABEL = re.compile(
    rf"(?:budget\s+amount|total\s+budget|project\s+budget|budget|бюджет(?:\s+проекта)?|býudjet\w*)"
    rf"\s*(?:\((?P<label_currency>{_CURRENCY})\))?{_SEP}",
    re.IGNORECASE,
)
_BUDGET_WORDS = ("budget", "бюджет", "býudjet", "grant", "грант")
_BUDGET_WORD = re.compile(r"budget|бюджет|býudjet|grant|грант", re.IGNORECASE)
_SCALES = {
    "million": 1e6,
    "mln": 1e6,
    "млн": 1e6,
    "миллион": 1e6,
    "thousand": 1e3,
    "тыс": 1e3,
    "тысяч": 1e3,
    "müň": 1e3,
}


def parse_amount(text: str) -> float | None:
    """'100000.00' -> 100000.0, '1,250,000' -> 1250000.0, '250 000,50' -> 250000.5."""
    text = text.replace("\u202f", " ").strip()
    text = re.sub(r"(?<=\d) (?=\d{3}\b)", "", text)
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    elif "," in text:
        text = (
            text.replace(",", "")
            if re.fullmatch(r"\d{1,3}(?:,\d{3})+", text)
            else text.replace(",", ".")
        )
    elif text.count(".") > 1 or re.fullmatch(r"\d{1,3}\.\d{3}", text):
        text = text.replace(".", "")
    try:
        return float(text)
    except ValueError:
        return None


def _money(match: re.Match[str], label_currency: str | None) -> tuple[float, str] | None:
    currency_text = match.group("pre") or match.group("post") or label_currency
    if not currency_text:
        return None
    currency = _CURRENCIES.get(" ".join(currency_text.casefold().rstrip(".").split()))
    amount = parse_amount(match.group("amount"))
    if currency is None or amount is None:
        return None
    scale = (match.group("scale") or "").casefold().rstrip(".")
    for word, factor in _SCALES.items():
        if scale.startswith(word):
            amount *= factor
            break
    return amount, currency


def _budget_fact(amount: float, currency: str, text: str) -> Tag:
    label = f"{amount:,.2f}".rstrip("0").rstrip(".") + f" {currency}"
    return _fact("budget", label, text, {"amount": amount, "currency": currency})


def _budgets(units: list[_Unit]) -> list[Tag]:
    facts: list[Tag] = []
    for unit in units:
        if not unit.says_any(_BUDGET_WORDS):
            continue
        for label in _BUDGET_LABEL.finditer(unit.text):
            money = _MONEY.match(unit.text, label.end())
            if money and money.group("amount"):
                parsed = _money(money, label.group("label_currency"))
                if parsed:
                    facts.append(_budget_fact(*parsed, label.group(0) + money.group(0)))
        for _, _, sentence in unit.sentences_with(_BUDGET_WORD):
            for money in _MONEY.finditer(sentence):
                parsed = _money(money, None)
                if parsed and parsed[0] >= 100:
                    facts.append(_budget_fact(*parsed, sentence))
    return facts


# --- project ids --------------------------------------------------------------------------------

_ID_LABEL = re.compile(
    r"(?P<label>prima\s+id|projects?\s+id|project\s+(?:code|number|no\.?)|код\s+проекта|taslamanyň\s+kody)"
    rf"{_SEP}(?P<id>[A-Z]{{2}}[A-Z0-9]*(?:[./-][A-Z0-9]+)*\d)\b",
    re.IGNORECASE,
)
_ID_WORDS = (
    "prima",
    "project id",
    "projects id",
    "project code",
    "project n",
    "код проекта",
    "kody",
)
# IOM's Prima ids look like TM10P0524 (country, two digits, P, four digits).
_PRIMA_ID = re.compile(r"\b[A-Z]{2}\d{2}P\d{4}\b")


def _project_ids(units: list[_Unit]) -> list[Tag]:
    facts: list[Tag] = []
    for unit in units:
        labelled = unit.says_any(_ID_WORDS)
        for m in _ID_LABEL.finditer(unit.text) if labelled else ():
            project_id = m.group("id").upper()
            scheme = "prima" if m.group("label").casefold().startswith("prima") else "project"
            facts.append(
                _fact("project_id", project_id, m.group(0), {"id": project_id, "scheme": scheme})
            )
        for _, _, sentence in unit.sentences_with(_PRIMA_ID):
            for m in _PRIMA_ID.finditer(sentence):
                facts.append(
                    _fact("project_id", m.group(0), sentence, {"id": m.group(0), "scheme": "prima"})
                )
    return facts


# --- partners -----------------------------------------------------------------------------------

_PARTNER_WORDS = (
    "partner", "cooperation", "collaboration", "jointly", "партн", "сотрудничеств", "совместно",
    "hyzmatdaş", "bilelikde",
)  # fmt: skip
_PARTNER_CUE = re.compile(
    r"partner|in\s+(?:close\s+)?(?:cooperation|collaboration|partnership)\s+with|jointly\s+with"
    r"|партн[её]р|в\s+сотрудничестве\s+с|совместно\s+с|hyzmatdaş|bilen\s+bilelikde",
    re.IGNORECASE,
)


def _partners(units: list[_Unit], vocab: Vocabulary) -> list[Tag]:
    facts: list[Tag] = []
    for unit in units:
        for start, end, sentence in unit.sentences_with(_PARTNER_CUE, _PARTNER_WORDS):
            orgs = unit.orgs_in(start, end)
            # "funded by X and implemented in cooperation with Y": X is the donor, not a partner.
            donors = {d.id for d in _donors_in(sentence, orgs, start) if not isinstance(d, str)}
            for match in orgs:
                if match.id != _IMPLEMENTER and match.id not in donors:
                    facts.append(_org_fact("partner", match, vocab, sentence))
    return facts


# --- people trained -----------------------------------------------------------------------------

_TRAINING_WORDS = (
    "train", "workshop", "seminar", "course", "tot", "participant", "took part", "attended",
    "brought together", "обуч", "тренинг", "семинар", "курс", "участ", "okuw", "türgenleşik",
    "maslahat", "gatnaş",
)  # fmt: skip
_TRAINING_CUE = re.compile(
    r"train|workshop|seminar|course|\bToT\b|participant|took\s+part|attended|brought\s+together"
    r"|обуч|тренинг|семинар|курс|участ|okuw|türgenleşik|seminar|maslahat|gatnaş",
    re.IGNORECASE,
)
# A count: a number not inside parentheses (those hold breakdowns), followed by who.
_COUNT = re.compile(r"(?<![\d.,/-])(?P<count>\d{1,3}(?:,\d{3})+|\d+)(?:\s+sany)?\s+(?=[^\W\d_])")
_WHO_STOP = re.compile(
    r"\(|;|\.(?:\s|$)|\d|\b(?:were|was|have|has|had|from|at|who|which|took|attended|participated"
    r"|received|completed|trained|during|on|to|been|got|за|из|прошли|приняли|были|был[аи]?|на|в"
    r"|gatnaşdy|gatnaşdylar|okuwdan|geçdi|geçdiler)\b",
    re.IGNORECASE,
)
_PEOPLE = re.compile(
    r"\b(?:officers?|officials?|prosecutors?|judges?|police|policemen|policewomen|advocates?|lawyers?"
    r"|attorneys?|representatives?|participants?|specialists?|staff|employees?|workers?|teachers?"
    r"|students?|trainers?|journalists?|inspectors?|investigators?|guards?|experts?|members?"
    r"|people|persons?|women|men|girls?|boys?|youth|doctors?|nurses?|psychologists?|diplomats?"
    r"|consuls?|practitioners?|activists?|volunteers?|mediators?|civil\s+servants?"
    r"|сотрудник\w*|прокурор\w*|суд(?:ья|ьи|ей)\w*|адвокат\w*|юрист\w*|представител\w*|участник\w*"
    r"|специалист\w*|полицейск\w*|пограничник\w*|работник\w*|учител\w*|студент\w*|журналист\w*"
    r"|эксперт\w*|человек|женщин\w*|мужчин\w*|тренер\w*|следовател\w*|инспектор\w*|служащ\w*"
    r"|işgär\w*|prokuror\w*|kazy\w*|aklawçy\w*|wekil\w*|gatnaşyjy\w*|hünärmen\w*|adam\w*"
    r"|mugallym\w*|talyp\w*|žurnalist\w*|bilermen\w*|tälimçi\w*|derňewçi\w*|serhetçi\w*)\b",
    re.IGNORECASE,
)
_BREAKDOWN = re.compile(
    r"(?P<n>\d+)\s+(?P<sex>female|women|woman|male|men|man|жен\w*|муж\w*|aýal\w*|zenan\w*|erkek\w*)",
    re.IGNORECASE,
)
_FEMALE = re.compile(r"^(?:female|wom[ae]n|жен|aýal|zenan)", re.IGNORECASE)


def _trained_counts(units: list[_Unit]) -> list[Tag]:
    facts: list[Tag] = []
    for unit in units:
        if not _COUNT.search(unit.text):
            continue  # no number followed by a word: nobody was counted
        for _, _, sentence in unit.sentences_with(_TRAINING_CUE, _TRAINING_WORDS):
            if _COUNT.search(sentence):
                facts += _counts_in(sentence)
    return facts


def _counts_in(sentence: str) -> list[Tag]:
    facts: list[Tag] = []
    for m in _COUNT.finditer(sentence):
        if sentence.count("(", 0, m.start()) > sentence.count(")", 0, m.start()):
            continue  # "(1 female and 9 male)" is a breakdown of the count before it
        stop = _WHO_STOP.search(sentence, m.end())
        who_end = stop.start() if stop else len(sentence)
        who = re.sub(r"(?:[\s,]+(?:and|и|we))?[\s,]*$", "", sentence[m.end() : who_end]).strip()
        if not who or len(who) > 80 or not _PEOPLE.search(who):
            continue
        count = int(m.group("count").replace(",", ""))
        if 1900 <= count <= 2100 and "," not in m.group("count"):
            continue  # "2018 participants" is more likely "in 2018, participants"
        data: dict[str, Any] = {"count": count, "who": who}
        breakdown = re.match(r"\s*\(([^)]*)\)", sentence[who_end:])
        if breakdown:
            for part in _BREAKDOWN.finditer(breakdown.group(1)):
                sex = "female" if _FEMALE.match(part.group("sex")) else "male"
                data[sex] = data.get(sex, 0) + int(part.group("n"))
        facts.append(_fact("trained_count", f"{count} {who}", sentence, data))
    return facts
