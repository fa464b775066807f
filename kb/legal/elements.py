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
from kb.legal.units import LegalUnit, find_unit, path_to, provisions
from kb.normalize import normalize_text

ELEMENTS_FILE = Path(__file__).with_name("elements.toml")
KINDS: tuple[str, ...] = ("act", "means", "form", "rule", "extra")
STATUSES: tuple[str, ...] = ("present", "partial", "absent", "broader", "unknown")
LANGUAGES: tuple[str, ...] = ("en", "ru", "tk", "fr")
_STEMMERS = {"en": "english", "ru": "russian", "fr": "french"}
_MAX_GAP = 30  # "*" spans at most this many words, and never a sentence end
_LONG_GAP = 80  # "**": a rule that lists every means between its subject and its verb
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
    exclude: dict[str, list[Term]] = field(default_factory=dict)

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
        if raw in ("*", "**"):
            words.append(_Word("gap", "long" if raw == "**" else ""))
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
                exclude=_compile_group(entry.get("exclude", {})),
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
        limit = _LONG_GAP if word.value == "long" else _MAX_GAP
        for index in range(position, min(len(tokens), position + limit + 1)):
            if tokens[index].sentence != sentence:
                return None
            end = _match_at(rest, tokens, index)
            if end is not None:
                return end
        return None
    if position >= len(tokens) or not _word_matches(word, tokens[position]):
        return None
    return _match_at(words[1:], tokens, position + 1)


def _spans(tokens: list[_Token], terms: Iterable[Term]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for term in terms:
        for start in range(len(tokens)):
            end = _match_at(term.words, tokens, start)
            if end is not None and end >= start:
                spans.append((tokens[start].start, tokens[end].end))
    return spans


def find_terms(
    text: str, terms: Iterable[Term], lang: str, *, exclude: Iterable[Term] | None = None
) -> list[str]:
    """The exact words of `text` matched by any of the terms, in text order; a match
    inside words that an `exclude` term matches ("payment of compensation", "any
    means of transport", "received the assent") does not count."""
    text = normalize_text(text)
    tokens = _tokens(text, lang)
    spans = _spans(tokens, terms)
    if exclude:
        blocked = _spans(tokens, exclude)
        spans = [(a, b) for a, b in spans if not any(a < e and b > s for s, e in blocked)]
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
    reason: str = ""


@dataclass
class ElementsReport:
    document: str
    unit: str
    lang: str
    elements: list[ElementResult]
    extra: list[ElementResult]
    # Every provision whose words the check read, defining provision first.
    read: list[str] = field(default_factory=list)
    # Means named only as aggravating circumstances ("с применением насилия"): not part
    # of the definition, reported with their words.
    aggravating: list[Evidence] = field(default_factory=list)

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
    term: str = ""  # the term an interpretation entry defines ("prostitution")


def _search(
    texts: list[_UnitText], terms: list[Term], lang: str, exclude: list[Term] | None = None
) -> list[Evidence]:
    if not terms:
        return []
    found: list[Evidence] = []
    for item in texts:
        for words in find_terms(item.text, terms, lang, exclude=exclude):
            evidence = Evidence(item.unit.id, words)
            if evidence not in found:
                found.append(evidence)
    return found


def _excluded(spec: ElementSpec, lang: str) -> list[Term]:
    return spec.exclude.get(lang, [])


# --- what the defining provision says, and what only surrounds the definition -------

# A part that raises the penalty for "the same acts" committed in some way: its means
# words ("with violence") are aggravating circumstances, not elements of the offence.
_AGGRAVATING = re.compile(
    r"^(?:Те же деяни|То же деяни|Деяния,? предусмотренн|Деяние,? предусмотренн"
    r"|The same (?:act|offence)|(?:Where|If|When) (?:the|such|an?) (?:act|offence)\b[^.]{0,80}\bcommitted"
    r"|Aggravat|Şol hereketler|Şol bir hereket|Edilen hereketler)",
    re.IGNORECASE,
)
# "“child” means …", "«эксплуатация человека» –", "Под эксплуатацией … понимаются":
_ENTRY = re.compile(
    r"[“\"«](?P<term>[^”\"»]{2,80})[”\"»]\s*(?:means|includes|has the same meaning|shall mean|[–—-]\s|означает|понимается)",
    re.IGNORECASE,
)
_NUMBERED_ENTRY = re.compile(
    r"^(?P<term>[A-Za-zА-Яа-яЁёÄäÇçŇňÖöŞşÜüÝýŽž][\w \-]{2,80}?)\s+[–—]\s+\S", re.UNICODE
)
_TRAFFICKING_TERM = re.compile(
    r"traffick|торговл\w* людьми|торговля человеком|adam söwda|traite", re.IGNORECASE
)
_VICTIM_TERM = re.compile(
    r"victim|subjected to traffick|потерпевш|жертв|pidasy|ejir çeken", re.IGNORECASE
)
_EXPLOITATION_TERM = re.compile(r"exploit|эксплуатац|ekspluatasi|exploitation", re.IGNORECASE)
_EXPLOITATION_DEFINITION = re.compile(
    r"(?:[“\"«']exploitation[”\"»']\s*(?:shall\s+)?(?:means?|includes?)|\bexploited\b[^.]{0,60}\bonly if"
    r"|^Meaning of [\"“]?exploitation|Под эксплуатацией[^.]{0,80}понима"
    r"|^эксплуатация человека\s*[–—-]|ekspluatasiýa\w*\s*[–—-]\s|ekspluatasiýa\w*\s+diý(?:lip|ip|ilýär))",
    re.IGNORECASE | re.MULTILINE,
)


_LEAD_IN = re.compile(r"\b(?:only if|the following|следующ|şu aşakdaky)", re.IGNORECASE)


def _provision_of(root: LegalUnit, unit: LegalUnit) -> LegalUnit:
    for node in reversed(path_to(root, unit)):
        if node.kind in ("article", "section"):
            return node
    return unit


@dataclass
class _Scope:
    """The texts the check reads, each where it is in the law."""

    core: list[_UnitText] = field(default_factory=list)  # the offence: acts, means
    aggravating: list[_UnitText] = field(default_factory=list)
    definitions: list[_UnitText] = field(default_factory=list)  # exploitation, terms
    victim: list[_UnitText] = field(default_factory=list)  # never evidence of means
    rules: list[_UnitText] = field(default_factory=list)  # notes and the rest of the text

    def forms(self) -> list[_UnitText]:
        return [*self.core, *self.definitions, *self.aggravating]


def _split_entries(text: str) -> list[tuple[str, str]]:
    """(term, words) for each "“term” means …" entry of an interpretation provision;
    the words before the first entry come with the term ""."""
    starts = [(m.start(), m.group("term")) for m in _ENTRY.finditer(text)]
    if len(starts) < 2:
        return [("", text)]
    entries = [("", text[: starts[0][0]])] if text[: starts[0][0]].strip() else []
    for index, (start, term) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(text)
        entries.append((term, text[start:end]))
    return entries


def _classify(unit: LegalUnit) -> _Scope:
    """Split a defining provision into its offence, aggravating parts, term definitions
    and notes; descend into every paragraph and point."""
    scope = _Scope()

    def visit(node: LegalUnit, bucket: str) -> None:
        if node.kind == "note":
            bucket = "rules"
        elif bucket == "core" and node is not unit and _AGGRAVATING.match(node.text.strip()):
            bucket = "aggravating"
        if node.text.strip():
            if bucket == "rules" and _EXPLOITATION_DEFINITION.search(node.text):
                scope.definitions.append(_UnitText(node, node.text))
            elif bucket == "core":
                _sort_entries(node, scope)
            else:
                getattr(scope, bucket).append(_UnitText(node, node.text))
        for child in node.children:
            visit(child, bucket)

    visit(unit, "core")
    return scope


def _sort_entries(node: LegalUnit, scope: _Scope) -> None:
    for term, words in _split_entries(node.text):
        item = _UnitText(node, words, term)
        if not term:
            scope.core.append(item)
        elif _VICTIM_TERM.search(term):
            scope.victim.append(item)
        elif _TRAFFICKING_TERM.search(term):
            scope.core.append(item)
        else:
            scope.definitions.append(item)


def _cross_references(root: LegalUnit, scope: _Scope, unit: LegalUnit) -> list[_UnitText]:
    """Definitions of "exploitation" elsewhere in the law (an article of definitions,
    a section "Meaning of exploitation"), when the offence uses the word."""
    core_words = " ".join(item.text for item in scope.core)
    if not _EXPLOITATION_TERM.search(core_words):
        return []
    if any(_EXPLOITATION_DEFINITION.search(item.text) for item in scope.definitions):
        return []
    inside = {id(u) for u in unit.walk()}
    found: list[_UnitText] = []
    for other in root.walk():
        if id(other) in inside:
            continue
        heading_hit = other.heading and _EXPLOITATION_DEFINITION.search(other.heading)
        if heading_hit:
            found.extend(_UnitText(u, u.text) for u in other.walk() if u.text.strip())
            continue
        if other.text.strip() and _EXPLOITATION_DEFINITION.search(other.text):
            if _LEAD_IN.search(other.text):
                # "a person is exploited only if one or more of the following apply": the
                # definition is the whole provision this lead-in opens.
                holder = _provision_of(root, other)
                found.extend(
                    _UnitText(u, u.text)
                    for u in holder.walk()
                    if u.text.strip() and id(u) not in inside
                )
                continue
            for term, words in _split_entries(other.text):
                about_exploitation = bool(term) and bool(_EXPLOITATION_TERM.search(term))
                if about_exploitation or (not term and _EXPLOITATION_DEFINITION.search(words)):
                    found.append(_UnitText(other, words))
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
    """The provision naming the most acts, means and forms in its offence (not in its
    aggravating parts or a victim definition): the definition article."""
    core = [s for s in specs if s.kind in ("act", "means", "form")]
    best, best_score = root, 0
    for unit in provisions(root):
        scope = _classify(unit)
        texts = [*scope.core, *scope.definitions]
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

    Acts and means are read in the offence itself; forms of exploitation also in the
    law's definition of exploitation, followed wherever it is; rules (consent, children,
    attempt…) first in the defining provision and its notes, then in the whole text.
    Means words found only in aggravating parts make every means "broader" (the offence
    needs none) and are listed as aggravating circumstances. `lang` is en, ru, tk, fr
    or "auto"."""
    if lang == "auto":
        lang = guess_language(root.full_text())
    specs = load_elements()
    if unit_ref:
        unit = find_unit(root, unit_ref)
        if unit is None:
            raise NotFoundError(f"no unit {unit_ref!r} in {root.heading or 'the document'}")
    else:
        unit = _definition_unit(root, specs, lang)
    scope = _classify(unit)
    scope.definitions.extend(_cross_references(root, scope, unit))
    inside = {id(u) for u in unit.walk()}
    # The act's own words before its first provision (cover page, preamble) are no rule.
    rest = [
        _UnitText(u, u.text)
        for u in root.walk()
        if id(u) not in inside and u is not root and u.text.strip()
    ]
    rule_texts = [*scope.core, *scope.definitions, *scope.aggravating, *scope.rules, *rest]
    results: list[ElementResult] = []
    extras: list[ElementResult] = []
    for spec in specs:
        if spec.kind == "rule":
            texts = rule_texts
        elif spec.kind == "form":
            texts = scope.forms()
        else:
            texts = scope.core
        result = (
            _check_form(spec, texts, specs, lang)
            if spec.kind == "form"
            else _check_one(spec, texts, specs, lang)
        )
        if spec.kind == "extra":
            if result.status == "present":
                extras.append(result)
        else:
            results.append(result)
    aggravating = _aggravating_means(specs, scope, lang)
    _consent_for_children_only(results, lang, {item.unit.id: item.text for item in rule_texts})
    _payments_among_other_means(results)
    _prostitution_within_sexual_exploitation(results)
    _mark_broader(results, aggravating)
    read = list(
        dict.fromkeys(
            _provision_id(root, item.unit)
            for item in [*scope.core, *scope.aggravating, *scope.definitions, *scope.rules]
        )
    )
    for result in results:
        for item in result.evidence:
            provision = _provision_id(root, _unit_by_id(root, item.unit))
            if provision and provision not in read:
                read.append(provision)
    return ElementsReport(root.heading, unit.id, lang, results, extras, read, aggravating)


def _unit_by_id(root: LegalUnit, unit_id: str) -> LegalUnit | None:
    return next((u for u in root.walk() if u.id == unit_id), None)


def _provision_id(root: LegalUnit, unit: LegalUnit | None) -> str:
    """The article or section holding `unit` (its own id when it is one)."""
    return _provision_of(root, unit).id if unit is not None else ""


def _check_one(
    spec: ElementSpec, texts: list[_UnitText], specs: tuple[ElementSpec, ...], lang: str
) -> ElementResult:
    if not spec.has_language(lang):
        return ElementResult(
            spec.id, spec.kind, spec.label, "unknown", reason=f"no {lang} terms for this element"
        )
    found_groups: list[list[Evidence]] = []
    for group, structural in zip(spec.require, spec.structural, strict=True):
        evidence = _search(texts, group.get(lang, []), lang, _excluded(spec, lang))
        if not evidence and structural == "child_without_means":
            evidence = _child_without_means(texts, specs, lang)
        found_groups.append(evidence)
    evidence = [e for group in found_groups for e in group][:_MAX_EVIDENCE]
    if all(found_groups):
        status = "present"
        reason = "its words are in the definition"
    elif any(found_groups):
        status = "partial"
        reason = "only part of the element is worded"
    else:
        evidence = _search(texts, spec.partial.get(lang, []), lang, _excluded(spec, lang))
        evidence = evidence[:_MAX_EVIDENCE]
        status = "partial" if evidence else "absent"
        reason = (
            "a narrower or related wording covers it in part"
            if evidence
            else "not found in the definition"
        )
    return ElementResult(spec.id, spec.kind, spec.label, status, evidence, reason)


def _check_form(
    spec: ElementSpec, texts: list[_UnitText], specs: tuple[ElementSpec, ...], lang: str
) -> ElementResult:
    """A form of exploitation named only inside the definition of another form's term
    ("“prostitution” means the sexual exploitation … for commercial purposes") is covered
    only as far as that form reaches: partial."""
    others = [
        t
        for other in specs
        if other.kind == "form" and other.id != spec.id
        for group in other.require[:1]
        for t in group.get(lang, [])
    ]
    inside_other = [t for t in texts if t.term and find_terms(t.term, others, lang)]
    own = [t for t in texts if t not in inside_other]
    result = _check_one(spec, own, specs, lang)
    if result.status != "absent" or not inside_other:
        return result
    narrower = _check_one(spec, inside_other, specs, lang)
    if narrower.status in ("present", "partial"):
        narrower.status = "partial"
        term = inside_other[0].term
        narrower.reason = f"named only in the definition of “{term}”, so only as far as it reaches"
    return narrower


def _prostitution_within_sexual_exploitation(results: list[ElementResult]) -> None:
    """ "Any form of sexual exploitation" takes in the exploitation of the prostitution of
    others even when the word prostitution is not written: partial, with that reason."""
    by_id = {r.id: r for r in results}
    prostitution = by_id.get("form.prostitution_of_others")
    sexual = by_id.get("form.sexual_exploitation")
    if prostitution is None or sexual is None:
        return
    if prostitution.status == "absent" and sexual.status == "present":
        prostitution.status = "partial"
        prostitution.evidence = list(sexual.evidence)
        prostitution.reason = "not named, but covered by the words on sexual exploitation"


def _payments_among_other_means(results: list[ElementResult]) -> None:
    """Payments or benefits named as one means among others, with no word of a person
    having control ("in exchange for or by granting remuneration or any benefit",
    "inducement"), cover every payment the Protocol's element covers and more: broader.
    Named as the only condition (France before 2013), they are partial."""
    payments = next((r for r in results if r.id == "means.payments"), None)
    if payments is None or payments.status != "partial":
        return
    others = [r for r in results if r.kind == "means" and r.id != payments.id]
    if any(r.status == "present" for r in others):
        payments.status = "broader"
        payments.reason = (
            "any payment or benefit is a means here, not only one that wins the consent "
            "of a person having control over the victim"
        )


def _aggravating_means(specs: tuple[ElementSpec, ...], scope: _Scope, lang: str) -> list[Evidence]:
    found: list[Evidence] = []
    for spec in specs:
        if spec.kind != "means":
            continue
        for group in spec.require[:1]:
            for item in _search(
                scope.aggravating, group.get(lang, []), lang, _excluded(spec, lang)
            ):
                if item not in found:
                    found.append(item)
    return found


_CHILD_AFTER_CONSENT = 6  # "with or without the consent of such child": words to look at


def _consent_for_children_only(
    results: list[ElementResult], lang: str, unit_texts: dict[str, str]
) -> None:
    """ "With or without consent" said of a child is the child rule, not the consent
    rule (which needs words that hold for everyone)."""
    consent = next((r for r in results if r.id == "rule.consent_irrelevant"), None)
    child = next((r for r in results if r.id == "rule.child_no_means"), None)
    if consent is None or consent.status != "partial" or not consent.evidence:
        return
    child_terms = [_compile_term(t, lang) for t in _CHILD_WORDS.get(lang, [])]
    general = [
        e
        for e in consent.evidence
        if not _about_child(e, unit_texts.get(e.unit, ""), child_terms, lang)
    ]
    if general:
        consent.status = "present"
        consent.evidence = general
        consent.reason = "consent does not matter for anyone: the words hold for every victim"
        return
    for_children = consent.evidence
    consent.status = "absent"
    consent.evidence = []
    consent.reason = (
        "only a child's consent is said not to matter (counted for the child rule); "
        "nothing is said of adults"
    )
    if child is not None:
        child.evidence = [*child.evidence, *for_children][:_MAX_EVIDENCE]


def _about_child(evidence: Evidence, text: str, child_terms: list[Term], lang: str) -> bool:
    """Do the words right after the match say whose consent it is, and is it a child's?"""
    flat = " ".join(normalize_text(text).split())
    index = flat.find(evidence.text)
    if index < 0:
        return False
    after = flat[index + len(evidence.text) :].split()[:_CHILD_AFTER_CONSENT]
    return bool(find_terms(" ".join(after), child_terms, lang))


def _mark_broader(results: list[ElementResult], aggravating: list[Evidence]) -> None:
    """Acts and a purpose but no means in the offence: it needs no means, and each means
    is "broader" even when its words appear in an aggravating part."""
    means = [r for r in results if r.kind == "means"]
    if any(r.status in ("present", "partial") for r in means):
        return
    acts = [r for r in results if r.kind == "act" and r.status == "present"]
    forms = [r for r in results if r.kind == "form" and r.status in ("present", "partial")]
    if not acts or not forms:
        return
    evidence = [acts[0].evidence[0], forms[0].evidence[0]]
    reason = "the offence needs no means: acts for a purpose of exploitation suffice"
    if aggravating:
        reason += "; means words appear only as aggravating circumstances"
    for result in means:
        if result.status == "absent":
            result.status = "broader"
            result.evidence = list(evidence)
            result.reason = reason
    child = next((r for r in results if r.id == "rule.child_no_means"), None)
    if child is not None and child.status != "present":
        child.status = "present"
        child.reason = "no means are needed for anyone, so none for a child either"
        child.evidence = child.evidence or list(evidence)


def report_to_dict(report: ElementsReport) -> dict[str, Any]:
    def evidence(items: list[Evidence]) -> list[dict[str, str]]:
        return [{"unit": e.unit, "text": e.text} for e in items]

    def result(r: ElementResult) -> dict[str, Any]:
        return {
            "id": r.id,
            "kind": r.kind,
            "status": r.status,
            "evidence": evidence(r.evidence),
            "reason": r.reason,
        }

    return {
        "document": report.document,
        "unit": report.unit,
        "lang": report.lang,
        "read": report.read,
        "elements": [result(r) for r in report.elements],
        "aggravating": evidence(report.aggravating),
        "extra": [result(r) for r in report.extra],
    }


def element_labels() -> dict[str, str]:
    return {spec.id: spec.label for spec in load_elements()}
