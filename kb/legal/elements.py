"""Check a national definition of trafficking against the international one, with evidence.

The international definition (Palermo Protocol art. 3, the Council of Europe
Convention art. 4) is data in `elements.toml`: acts, means, forms of exploitation and
the rules around them, each with English, Russian, Turkmen and French terms. For each
element the report says present, partial, absent or broader, and quotes the exact
words of the text that matched and the unit they are in — never a bare yes or no.

"broader" is for means: a definition that names acts and a purpose but no means at
all covers more than the international one (every means is then unnecessary), which
is not a gap. Matching is on word stems (PyStemmer's Snowball stemmers for English,
Russian and French); Turkmen has no stemmer, so its terms match as word prefixes.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import Stemmer

from kb.errors import NotFoundError
from kb.legal.structure import LegalUnit, find_unit, provisions
from kb.normalize import normalize_text

ELEMENTS_FILE = Path(__file__).with_name("elements.toml")
KINDS: tuple[str, ...] = ("act", "means", "form", "rule", "extra")
STATUSES: tuple[str, ...] = ("present", "partial", "absent", "broader", "unknown")
LANGUAGES: tuple[str, ...] = ("en", "ru", "tk", "fr")
_STEMMERS = {"en": "english", "ru": "russian", "fr": "french"}
_MAX_GAP = 30  # "*" spans at most this many words, and never a sentence end
_MAX_EVIDENCE = 5

# --- terms -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    mode: str  # stem | prefix | exact | gap
    value: str


@dataclass(frozen=True)
class Term:
    source: str
    words: tuple[_Word, ...]


@dataclass
class ElementSpec:
    id: str
    kind: str
    label: str
    require: list[dict[str, list[Term]]]
    structural: list[str]  # per require group: "" or the name of a structural test
    partial: dict[str, list[Term]] = field(default_factory=dict)

    def has_language(self, lang: str) -> bool:
        return any(group.get(lang) for group in self.require)


_TOKEN = re.compile(r"[^\W_]+")


def _fold(text: str) -> str:
    return normalize_text(text).casefold().replace("ё", "е")  # for terms


@cache
def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    name = _STEMMERS.get(lang)
    return Stemmer.Stemmer(name) if name else None


def _stem(word: str, lang: str) -> str:
    stemmer = _stemmer(lang)
    return stemmer.stemWord(word) if stemmer else word


def _compile_term(source: str, lang: str) -> Term:
    words: list[_Word] = []
    for raw in source.split():
        if raw == "*":
            words.append(_Word("gap", ""))
            continue
        if raw.startswith("="):
            words.extend(_Word("exact", t) for t in _TOKEN.findall(_fold(raw[1:])))
            continue
        prefix = raw.endswith("~")
        tokens = _TOKEN.findall(_fold(raw.rstrip("~")))
        for index, token in enumerate(tokens):
            last = index == len(tokens) - 1
            if (prefix and last) or lang == "tk":
                words.append(_Word("prefix", token))
            else:
                words.append(_Word("stem", _stem(token, lang)))
    return Term(source, tuple(words))


def _compile_group(data: dict[str, Any]) -> dict[str, list[Term]]:
    return {
        lang: [_compile_term(term, lang) for term in data.get(lang, [])]
        for lang in LANGUAGES
        if data.get(lang)
    }


@cache
def load_elements(path: Path = ELEMENTS_FILE) -> tuple[ElementSpec, ...]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    specs = []
    for entry in data["element"]:
        groups = entry.get("require", [])
        specs.append(
            ElementSpec(
                id=entry["id"],
                kind=entry["kind"],
                label=entry.get("label", entry["id"]),
                require=[_compile_group(group) for group in groups],
                structural=[group.get("structural", "") for group in groups],
                partial=_compile_group(entry.get("partial", {})),
            )
        )
    return tuple(specs)


# --- matching --------------------------------------------------------------------


@dataclass
class _Token:
    folded: str
    stem: str
    start: int
    end: int
    sentence: int


def _fold_same_length(text: str) -> str:
    """Case-fold character by character, so offsets in the result are offsets in `text`."""
    return "".join((ch.casefold() or ch)[0] for ch in text).replace("ё", "е")


def _tokens(text: str, lang: str) -> list[_Token]:
    folded = _fold_same_length(text)
    tokens: list[_Token] = []
    sentence = 0
    last_end = 0
    for match in _TOKEN.finditer(folded):
        # A sentence (or list item) ends at . ; ! ? followed by a space: "*" stops there.
        if tokens and re.search(r"[.;!?](?:\s|$)", folded[last_end : match.start()]):
            sentence += 1
        word = match.group()
        tokens.append(_Token(word, _stem(word, lang), match.start(), match.end(), sentence))
        last_end = match.end()
    return tokens


def _word_matches(word: _Word, token: _Token) -> bool:
    if word.mode == "stem":
        return token.stem == word.value
    if word.mode == "prefix":
        return token.folded.startswith(word.value)
    return token.folded == word.value


def _match_at(words: tuple[_Word, ...], tokens: list[_Token], position: int) -> int | None:
    """Index of the last token of a match of `words` starting at `position`, or None."""
    if not words:
        return position - 1
    word = words[0]
    if word.mode == "gap":
        rest = words[1:]
        if not rest or position == 0:
            return position - 1
        sentence = tokens[position - 1].sentence
        for index in range(position, min(len(tokens), position + _MAX_GAP + 1)):
            if tokens[index].sentence != sentence:
                return None
            end = _match_at(rest, tokens, index)
            if end is not None:
                return end
        return None
    if position >= len(tokens) or not _word_matches(word, tokens[position]):
        return None
    return _match_at(words[1:], tokens, position + 1)


def find_terms(text: str, terms: Iterable[Term], lang: str) -> list[str]:
    """The exact words of `text` matched by any of the terms, in text order."""
    text = normalize_text(text)
    tokens = _tokens(text, lang)
    spans: list[tuple[int, int]] = []
    for term in terms:
        for start in range(len(tokens)):
            end = _match_at(term.words, tokens, start)
            if end is not None and end >= start:
                spans.append((tokens[start].start, tokens[end].end))
    # Shortest quotes first, then no overlaps: "use of force", not the whole list of means
    # that a wider term ("force * fraud") would also span.
    chosen: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[1] - span[0], span[0])):
        if all(end <= s or start >= e for s, e in chosen):
            chosen.append((start, end))
    return [" ".join(text[start:end].split()) for start, end in sorted(chosen)]


# --- the report ------------------------------------------------------------------


@dataclass
class Evidence:
    unit: str
    text: str


@dataclass
class ElementResult:
    id: str
    kind: str
    label: str
    status: str
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class ElementsReport:
    document: str
    unit: str
    lang: str
    elements: list[ElementResult]
    extra: list[ElementResult]

    def status(self, element_id: str) -> str:
        for result in (*self.elements, *self.extra):
            if result.id == element_id:
                return result.status
        return "absent" if element_id.startswith("extra.") else "unknown"

    def by_status(self, status: str) -> list[str]:
        return [r.id for r in self.elements if r.status == status]


@dataclass
class _UnitText:
    unit: LegalUnit
    text: str


def _scope_texts(scope: LegalUnit) -> list[_UnitText]:
    return [_UnitText(u, u.text) for u in scope.walk() if u.text.strip()]


def _search(texts: list[_UnitText], terms: list[Term], lang: str) -> list[Evidence]:
    if not terms:
        return []
    found: list[Evidence] = []
    for item in texts:
        for words in find_terms(item.text, terms, lang):
            evidence = Evidence(item.unit.id, words)
            if evidence not in found:
                found.append(evidence)
    return found


def _child_without_means(
    texts: list[_UnitText], specs: tuple[ElementSpec, ...], lang: str
) -> list[Evidence]:
    """Units that name a child, an act and a purpose, and no means: a child rule written
    as structure rather than words (Sri Lanka s. 360C(1)(c))."""
    child_terms = [_compile_term(t, lang) for t in _CHILD_WORDS.get(lang, [])]
    act_terms = [t for s in specs if s.kind == "act" for g in s.require for t in g.get(lang, [])]
    purpose_terms = [
        t for s in specs if s.kind == "form" for g in s.require for t in g.get(lang, [])
    ]
    purpose_terms += [_compile_term(t, lang) for t in _PURPOSE_WORDS.get(lang, [])]
    means_terms = [
        t for s in specs if s.kind == "means" for g in s.require for t in g.get(lang, [])
    ]
    found: list[Evidence] = []
    for item in texts:
        child = find_terms(item.text, child_terms, lang)
        if not child or not find_terms(item.text, act_terms, lang):
            continue
        if find_terms(item.text, purpose_terms, lang) and not find_terms(
            item.text, means_terms, lang
        ):
            found.append(Evidence(item.unit.id, _sentence_with(item.text, child[0])))
    return found


def _sentence_with(text: str, words: str) -> str:
    text = " ".join(normalize_text(text).split())
    index = text.find(words)
    if index < 0:
        return words
    start = max(text.rfind(";", 0, index), text.rfind(". ", 0, index))
    end_candidates = [i for i in (text.find(";", index), text.find(". ", index)) if i >= 0]
    end = min(end_candidates) if end_candidates else len(text)
    return text[start + 1 : end].strip()


_CHILD_WORDS = {
    "en": ["=child", "=children", "=minor", "=minors"],
    "ru": ["ребен~", "=детей", "=дети", "несовершеннолетн~"],
    "tk": ["çaga~", "kämillik ýaşyna ýetmedik"],
    "fr": ["=mineur", "=mineurs", "=enfant", "=enfants"],
}
_PURPOSE_WORDS = {
    "en": ["purpose of exploitation", "for the purpose of"],
    "ru": ["целях эксплуатации", "в целях"],
    "tk": ["ekspluatasiýa * maksady", "maksady bilen"],
    "fr": ["fins d exploitation"],
}


def guess_language(text: str) -> str:
    """en, ru, tk or fr from letters and small words; good enough to pick the terms."""
    sample = text[:20_000].casefold()
    cyrillic = len(re.findall(r"[а-яё]", sample))
    latin = len(re.findall(r"[a-z]", sample))
    if cyrillic > latin:
        return "tk" if re.search(r"[җңөүә]", sample) else "ru"
    if len(re.findall(r"[ňýž]", sample)) >= 2:  # letters only Turkmen uses
        return "tk"
    french = len(re.findall(r"\b(?:le|la|les|des|du|une|est|à)\b", sample))
    english = len(re.findall(r"\b(?:the|of|and|is|to|shall)\b", sample))
    return "fr" if french > english else "en"


def _definition_unit(root: LegalUnit, specs: tuple[ElementSpec, ...], lang: str) -> LegalUnit:
    """The provision naming the most acts, means and forms: the definition article."""
    core = [s for s in specs if s.kind in ("act", "means", "form")]
    best, best_score = root, 0
    for unit in provisions(root):
        texts = _scope_texts(unit)
        score = sum(
            1 for s in core if s.require and _search(texts, s.require[0].get(lang, []), lang)
        )
        if score > best_score:
            best, best_score = unit, score
    return best


def check_elements(
    root: LegalUnit, unit_ref: str | None = None, *, lang: str = "en"
) -> ElementsReport:
    """Check the definition in `unit_ref` (or the one found in the text) element by element.

    Without `unit_ref` the definition article is found by its wording, and the rules
    (consent, children, attempt…) are looked for in the whole text, since laws often put
    them in other articles. `lang` is "en", "ru", "tk", "fr" or "auto"."""
    if lang == "auto":
        lang = guess_language(root.full_text())
    specs = load_elements()
    if unit_ref:
        scope = find_unit(root, unit_ref)
        if scope is None:
            raise NotFoundError(f"no unit {unit_ref!r} in {root.heading or 'the document'}")
        core_scope = rules_scope = scope
    else:
        core_scope = _definition_unit(root, specs, lang)
        rules_scope = root
    core_texts = _scope_texts(core_scope)
    rule_texts = _scope_texts(rules_scope)
    results: list[ElementResult] = []
    extras: list[ElementResult] = []
    for spec in specs:
        texts = rule_texts if spec.kind == "rule" else core_texts
        result = _check_one(spec, texts, specs, lang)
        if spec.kind == "extra":
            if result.status == "present":
                extras.append(result)
        else:
            results.append(result)
    _mark_broader(results)
    return ElementsReport(root.heading, core_scope.id, lang, results, extras)


def _check_one(
    spec: ElementSpec, texts: list[_UnitText], specs: tuple[ElementSpec, ...], lang: str
) -> ElementResult:
    if not spec.has_language(lang):
        return ElementResult(spec.id, spec.kind, spec.label, "unknown")
    found_groups: list[list[Evidence]] = []
    for group, structural in zip(spec.require, spec.structural, strict=True):
        evidence = _search(texts, group.get(lang, []), lang)
        if not evidence and structural == "child_without_means":
            evidence = _child_without_means(texts, specs, lang)
        found_groups.append(evidence)
    evidence = [e for group in found_groups for e in group][:_MAX_EVIDENCE]
    if all(found_groups):
        status = "present"
    elif any(found_groups):
        status = "partial"
    else:
        evidence = _search(texts, spec.partial.get(lang, []), lang)[:_MAX_EVIDENCE]
        status = "partial" if evidence else "absent"
    return ElementResult(spec.id, spec.kind, spec.label, status, evidence)


def _mark_broader(results: list[ElementResult]) -> None:
    """Acts and a purpose but no means at all: the definition needs no means."""
    means = [r for r in results if r.kind == "means"]
    if any(r.status in ("present", "partial") for r in means):
        return
    acts = [r for r in results if r.kind == "act" and r.status == "present"]
    forms = [r for r in results if r.kind == "form" and r.status in ("present", "partial")]
    if not acts or not forms:
        return
    evidence = [acts[0].evidence[0], forms[0].evidence[0]]
    for result in means:
        if result.status == "absent":
            result.status = "broader"
            result.evidence = list(evidence)


def report_to_dict(report: ElementsReport) -> dict[str, Any]:
    def evidence(items: list[Evidence]) -> list[dict[str, str]]:
        return [{"unit": e.unit, "text": e.text} for e in items]

    return {
        "document": report.document,
        "unit": report.unit,
        "elements": [
            {"id": r.id, "kind": r.kind, "status": r.status, "evidence": evidence(r.evidence)}
            for r in report.elements
        ],
        "extra": [
            {"id": r.id, "kind": r.kind, "status": r.status, "evidence": evidence(r.evidence)}
            for r in report.extra
        ],
    }


def element_labels() -> dict[str, str]:
    return {spec.id: spec.label for spec in load_elements()}
