"""From the parsed query to a Whoosh query: fields, weights, cross-lingual expansion.

Every word is looked for in every text field with that field's own analyzer (English
and Russian stems, Turkmen prefixes, the unstemmed copy), so one query works in any
of the three languages. Article numbers and ids ("129-1", "TM10P0524") are looked for
only in the unstemmed fields, where they are one term: "129-1" never matches "129".

Words that name a vocabulary entity ("идентификация жертв", "adam söwdasy", "Akhal")
are expanded to the entity's terms in every language and to its tag; expanded terms
weigh less than the user's own words, and each expansion used is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq
from whoosh.searching import Searcher

from kb.errors import QueryError
from kb.model import DOCTYPE_LABELS, DOCTYPES
from search.analysis import (
    REF_WORD,
    STOP_ANY,
    TK_MIN_STEM,
    exact_analyzer,
    fold,
    russian_unstemmed_analyzer,
    turkmen_stem,
)
from search.dismax import BestOf
from search.engine import index_arrays
from search.schema import EXACT_BOOST, TEXT_LANGS, field_boosts, normalise_ref
from search.syntax import (
    FILTER_FIELDS,
    AndQuery,
    FieldQuery,
    Node,
    Not,
    OrQuery,
    Phrase,
    Word,
)

# How much an expanded term counts against the user's own words.
EXPANSION_WEIGHT = 0.5
# An expanded term in the language the query is written in: a synonym the reader reads.
SAME_LANGUAGE_EXPANSION_WEIGHT = 1.0
# A section tagged with the entity (found by the tagger in any language and word form).
TAG_WEIGHT = 0.6
# A prefix may stand for at most this many words, so "a*" cannot run away.
MAX_PREFIX_TERMS = 300
MIN_PREFIX_CHARS = 2

LANG_NAMES = {"english": "en", "russian": "ru", "turkmen": "tk", "en": "en", "ru": "ru", "tk": "tk",
              "und": "und", "русский": "ru", "türkmen": "tk", "türkmençe": "tk"}  # fmt: skip
_RU_CONSONANT_END = re.compile(r"[бвгджзйклмнпрстфхцчшщ]$")
_TAG_ID = re.compile(r"^[a-z]+\.[a-z0-9_]+$")
_YEAR = re.compile(r"^\d{4}$")
_YEARS = re.compile(r"^(\d{4})\s*(?:-|–|\.\.)\s*(\d{4})$")

FIELD_SETS: dict[str, tuple[str, ...]] = {
    "all": tuple(field_boosts()),
    "title": ("title_exact", *(f"title_{lang}" for lang in TEXT_LANGS)),
    "heading": ("heading_exact", *(f"heading_{lang}" for lang in TEXT_LANGS)),
}
EXACT_FIELDS = ("exact", "title_exact", "heading_exact")


@dataclass
class Expansion:
    """Words of the query that name a vocabulary entity, and the terms added for them."""

    text: str
    entity: str
    label: str
    terms: dict[str, list[str]]

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "entity": self.entity, "label": self.label, "terms": self.terms}


@dataclass
class Compiled:
    query: wq.Query
    filter: wq.Query | None
    mask: wq.Query | None
    expansions: list[Expansion]
    words: list[tuple[Word, bool]]  # each plain word of the query, and whether the index knows it
    highlight: dict[str, set[tuple[str, ...]]]  # field -> terms and phrases, for snippets
    # Relaxed: the word groups any of which may match (to rank by how many match).
    groups: list[wq.Query] = field(default_factory=list)


@dataclass
class _State:
    expansions: list[Expansion] = field(default_factory=list)
    words: list[tuple[Word, bool]] = field(default_factory=list)
    highlight: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)
    groups: list[wq.Query] = field(default_factory=list)


class Compiler:
    def __init__(
        self,
        searcher: Searcher,
        vocabulary: Any | None,
        *,
        relaxed: bool = False,
        query_lang: str = "",
    ) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.schema = searcher.schema
        self.vocabulary = vocabulary
        self.relaxed = relaxed
        self.query_lang = query_lang
        self.boosts = field_boosts()
        self.state = _State()

    # -- entry point

    def compile(self, tree: Node) -> Compiled:
        self.state = _State()
        children = tree.children if isinstance(tree, AndQuery) else [tree]
        filters: list[wq.Query] = []
        masks: list[wq.Query] = []
        rest: list[Node] = []
        for child in children:
            if isinstance(child, FieldQuery) and child.name in FILTER_FIELDS:
                filters.append(self.filter_query(child))
            elif (
                isinstance(child, Not)
                and isinstance(child.child, FieldQuery)
                and child.child.name in FILTER_FIELDS
            ):
                masks.append(self.filter_query(child.child))
            else:
                rest.append(child)
        main = self.sequence(rest) if rest else wq.Every()
        if main is None:
            # Only stop words ("the", "и"): nothing can rank; refuse rather than list everything.
            raise QueryError(
                "the query has only very common words (the, of, и, we…): add a word that matters"
            )
        return Compiled(
            query=main,
            filter=_all(filters),
            mask=_any(masks),
            expansions=self.state.expansions,
            words=self.state.words,
            highlight=self.state.highlight,
            groups=self.state.groups,
        )

    # -- structure

    def node(self, node: Node) -> wq.Query | None:
        if isinstance(node, AndQuery):
            return self.sequence(node.children)
        if isinstance(node, OrQuery):
            return _any([q for q in (self.node(c) for c in node.children) if q is not None])
        if isinstance(node, Not):
            inner = self.node(node.child)
            return wq.Not(inner) if inner is not None else None
        if isinstance(node, FieldQuery):
            if node.name in FILTER_FIELDS:
                return wq.ConstantScoreQuery(self.filter_query(node), 0.0)
            return self.text(node.value, FIELD_SETS[node.name], expand=False)
        return self.group([node]) if isinstance(node, Word) else self.text(node, FIELD_SETS["all"])

    def sequence(self, children: list[Node]) -> wq.Query | None:
        """Children that must all match; runs of plain words are grouped by the vocabulary
        terms they spell. Relaxed, any of the word groups will do, but phrases, field
        queries and alternatives typed by the user still must match."""
        words: list[wq.Query] = []
        others: list[wq.Query] = []
        negative: list[wq.Query] = []
        run: list[Word] = []

        def flush() -> None:
            for group in self.word_groups(run):
                q = self.group(group)
                if q is not None:
                    words.append(q)
            run.clear()

        for child in children:
            if isinstance(child, Word) and not child.prefix:
                run.append(child)
                continue
            flush()
            q = self.node(child)
            if q is None:
                continue
            if isinstance(q, wq.Not):
                negative.append(q.query)
            else:
                others.append(q)
        flush()
        if self.relaxed:
            self.state.groups.extend(words)
            main = _all([q for q in (*others, _any(words)) if q is not None])
        else:
            main = _all([*others, *words])
        if main is None:
            return None
        if negative:
            main = wq.AndNot(main, _any(negative))
        return main

    def word_groups(self, words: list[Word]) -> list[list[Word]]:
        """Consecutive words split where vocabulary terms begin and end."""
        if not words:
            return []
        if self.vocabulary is None:
            return [[w] for w in words]
        text = " ".join(w.text for w in words)
        offsets = []
        pos = 0
        for w in words:
            offsets.append((pos, pos + len(w.text)))
            pos += len(w.text) + 1
        groups: list[list[Word]] = []
        i = 0
        for match in self.vocabulary.find(text):
            covered = [k for k, (s, e) in enumerate(offsets) if s >= match.start and e <= match.end]
            if not covered:
                continue
            groups.extend([words[k]] for k in range(i, covered[0]))
            groups.append([words[k] for k in covered])
            i = covered[-1] + 1
        groups.extend([words[k]] for k in range(i, len(words)))
        return groups

    # -- words and phrases

    def group(self, words: list[Word]) -> wq.Query | None:
        """The user's words (all must match), or, when they name a vocabulary entity, them
        or the entity's terms in any language or the entity's tag."""
        own = _all([q for q in (self.word(w) for w in words) if q is not None])
        text = " ".join(w.text for w in words)
        ids = self.entity_ids(text)
        if not ids:
            return own
        alternatives = self.expansions(text, ids)
        # Words that spell a vocabulary term are not misspelt, whatever the index holds.
        self.state.words = [(w, known or w in words) for w, known in self.state.words]
        if own is None and not alternatives:
            return None
        return _any([q for q in (own, *alternatives) if q is not None])

    def word(self, word: Word) -> wq.Query | None:
        text = word.text
        if word.prefix:
            return self.prefix(word)
        if REF_WORD.match(text):
            return self.reference(word)
        if text.casefold() in STOP_ANY or not re.search(r"\w", text):
            return None
        q, known = self.fields_query(text, FIELD_SETS["all"])
        self.state.words.append((word, known))
        return q

    def text(
        self, node: Word | Phrase, fields: tuple[str, ...], *, expand: bool = True
    ) -> wq.Query | None:
        if isinstance(node, Word):
            if node.prefix:
                return self.prefix(node, fields=tuple(f for f in fields if f in EXACT_FIELDS))
            if REF_WORD.match(node.text):
                return self.reference(node, fields=tuple(f for f in fields if f in EXACT_FIELDS))
            q, known = self.fields_query(node.text, fields)
            self.state.words.append((node, known))
            return q
        q, _ = self.fields_query(node.text, fields)
        if not expand:
            return q
        ids = self.entity_ids(node.text)
        if not ids:
            return q
        return _any([x for x in (q, *self.expansions(node.text, ids)) if x is not None])

    def fields_query(self, text: str, fields: tuple[str, ...], *,
                     weight: float = 1.0) -> tuple[wq.Query | None, bool]:  # fmt: skip
        """`text` in each of `fields`, analysed by each field's analyzer (several words: a
        phrase); and whether the index holds it (every token, in one field at least)."""
        subqueries: list[wq.Query] = []
        known = False
        for name in fields:
            tokens = [t.text for t in self.schema[name].analyzer(text, mode="query")]
            tokens = [t for t in tokens if t]
            if not tokens:
                continue
            boost = self.boosts.get(name, 1.0) * weight
            if name.endswith("_tk"):
                q, present = self.turkmen(name, tokens, boost)
                subqueries.append(q)
                known = known or present
                continue
            if len(tokens) == 1:
                subqueries.append(self.single_term(name, text, tokens[0], boost))
            else:
                # Words the analyzer splits ("gender-sensitive") must stay together.
                subqueries.append(wq.Phrase(name, tokens, boost=boost))
            self.state.highlight.setdefault(name, set()).add(tuple(tokens))
            if not known and all(self.reader.doc_frequency(name, t) > 0 for t in tokens):
                known = True
        return _any(subqueries), known

    def single_term(self, name: str, text: str, token: str, boost: float) -> wq.Query:
        """One analysed word. In a Russian field a word typed in the bare nominative is also
        looked for as written: Snowball cuts "велаят" to "вела" and "Туркменистан" to
        "туркмениста" but stems the other cases ("велаята", "Туркменистане") to the whole
        word, so the stem alone would miss the very word typed, inflected."""
        if not name.endswith("_ru") or not _RU_CONSONANT_END.search(text.casefold()):
            return wq.Term(name, token, boost=boost)
        typed = [t.text for t in russian_unstemmed_analyzer()(text, mode="query")]
        if len(typed) != 1 or typed[0] == token:
            return wq.Term(name, token, boost=boost)
        self.state.highlight.setdefault(name, set()).add((typed[0],))
        return wq.Or([wq.Term(name, token, boost=boost), wq.Term(name, typed[0], boost=boost)])

    def turkmen(self, name: str, tokens: list[str], boost: float) -> tuple[wq.Query, bool]:
        """Turkmen words as prefixes of their stems (see search.analysis.turkmen_stem); the
        words of a phrase must all be there, in any order."""
        parts: list[wq.Query] = []
        present = True
        for token in tokens:
            stem = turkmen_stem(token)
            if len(stem) >= TK_MIN_STEM:
                parts.append(wq.Prefix(name, stem, boost=boost, constantscore=False))
                self.state.highlight.setdefault(name, set()).add((stem + "*",))
                present = present and bool(index_arrays(self.searcher).prefix_terms(name, stem))
            else:
                parts.append(wq.Term(name, token, boost=boost))
                self.state.highlight.setdefault(name, set()).add((token,))
                present = present and self.reader.doc_frequency(name, token) > 0
        query = parts[0] if len(parts) == 1 else wq.And(parts)
        return query, present

    def reference(self, word: Word, fields: tuple[str, ...] = EXACT_FIELDS) -> wq.Query | None:
        """An article number or id: only where it is one unstemmed term (never "129" for "129-1")."""
        analyzer = exact_analyzer()
        tokens = [t.text for t in analyzer(word.text)]
        subqueries: list[wq.Query] = []
        for name in fields:
            boost = self.boosts.get(name, 1.0) / EXACT_BOOST  # as heavy as a stemmed match
            if len(tokens) == 1:
                subqueries.append(wq.Term(name, tokens[0], boost=boost))
            elif tokens:
                subqueries.append(wq.Phrase(name, tokens, boost=boost))
            self.state.highlight.setdefault(name, set()).add(tuple(tokens))
        if fields == EXACT_FIELDS:
            subqueries.append(wq.Term("refs", normalise_ref(word.text), boost=1.0))
        self.state.words.append((word, True))  # numbers and ids are never "misspelt"
        return _any(subqueries)

    def prefix(self, word: Word, fields: tuple[str, ...] = EXACT_FIELDS) -> wq.Query | None:
        stem = fold(word.text.casefold())
        letters = re.sub(r"\W", "", stem)
        if len(letters) < MIN_PREFIX_CHARS:
            raise QueryError(
                f"{word.text}* is too short a prefix: type at least {MIN_PREFIX_CHARS} letters before *"
            )
        subqueries: list[wq.Query] = []
        for name in fields or EXACT_FIELDS:
            terms = []
            for term in index_arrays(self.searcher).prefix_terms(name, stem):
                terms.append(term.decode("utf-8") if isinstance(term, bytes) else term)
                if len(terms) > MAX_PREFIX_TERMS:
                    raise QueryError(f"{word.text}* stands for more than {MAX_PREFIX_TERMS} different words: "
                                     "type more letters before *")  # fmt: skip
            boost = self.boosts.get(name, 1.0) / EXACT_BOOST
            subqueries.extend(wq.Term(name, t, boost=boost) for t in terms)
            self.state.highlight.setdefault(name, set()).update((t,) for t in terms)
        self.state.words.append((word, True))
        return _any(subqueries) if subqueries else wq.NullQuery

    # -- the vocabulary

    def entity_ids(self, text: str) -> list[str]:
        if self.vocabulary is None:
            return []
        return list(self.vocabulary.lookup(text))

    def expansions(self, text: str, ids: list[str]) -> list[wq.Query]:
        out: list[wq.Query] = []
        typed = _normal(text)
        for entity_id in ids:
            terms_by_lang: dict[str, list[str]] = {}
            alternatives: list[wq.Query] = []
            for lang in TEXT_LANGS:
                # Not the document title: it repeats on every section, and a concept in a
                # title says little about which section treats it.
                fields = (f"body_{lang}", f"heading_{lang}")
                weight = (
                    SAME_LANGUAGE_EXPANSION_WEIGHT if lang == self.query_lang else EXPANSION_WEIGHT
                )
                for term in self.vocabulary.terms(entity_id, lang):
                    if _normal(term) == typed:
                        continue
                    q, _ = self.fields_query(term, fields, weight=weight)
                    if q is not None:
                        alternatives.append(q)
                        terms_by_lang.setdefault(lang, []).append(term)
            alternatives.append(wq.Term("tags", entity_id, boost=TAG_WEIGHT))
            out.append(BestOf(alternatives))
            try:
                label = self.vocabulary.entry(entity_id).label
            except Exception:
                label = entity_id
            self.state.expansions.append(Expansion(text, entity_id, label, terms_by_lang))
        return out

    # -- filters

    def filter_query(self, node: FieldQuery) -> wq.Query:
        value = node.value.text.strip()
        return filter_term(node.name, value, self.vocabulary)


def filter_term(name: str, value: str, vocabulary: Any | None = None) -> wq.Query:
    """A filter (`type:`, `lang:`, `year:`, `tag:`, `doc:`, or the matching option) as a query."""
    if not value:
        raise QueryError(f"{name}: needs a value, e.g. {name}:{_EXAMPLES.get(name, 'x')}")
    if name == "type":
        return wq.Term("doctype", doctype_value(value))
    if name == "lang":
        lang = LANG_NAMES.get(value.casefold())
        if lang is None:
            raise QueryError(f"unknown language {value!r}: use en, ru or tk")
        return wq.Term("lang", lang)
    if name == "year":
        if _YEAR.match(value):
            return wq.Term("year", value)
        m = _YEARS.match(value)
        if m:
            low, high = sorted((m.group(1), m.group(2)))
            return wq.TermRange("year", low, high)
        raise QueryError(f"year {value!r} is not a year: use 2011 or a range 2011-2018")
    if name == "tag":
        if _TAG_ID.match(value):
            return wq.Term("tags", value)
        ids = vocabulary.lookup(value) if vocabulary is not None else []
        if not ids:
            raise QueryError(
                f"no vocabulary entry called {value!r}: use an id such as place.mary (see the facets)"
            )
        return _any([wq.Term("tags", i) for i in ids]) or wq.NullQuery
    if name == "doc":
        return wq.Term("doc_id", value)
    raise QueryError(f"unknown filter {name}:")


_EXAMPLES = {
    "type": "legislation",
    "lang": "ru",
    "year": "2016",
    "tag": "place.mary",
    "doc": "DOC_ID",
}


def doctype_value(value: str) -> str:
    """A document type by its id, its label, or an unambiguous beginning of either."""
    wanted = value.casefold().replace(" ", "_").replace("-", "_")
    if wanted in DOCTYPES:
        return wanted
    for doctype, label in DOCTYPE_LABELS.items():
        if label.casefold().replace(" ", "_") == wanted:
            return doctype
    matches = [
        d
        for d in DOCTYPES
        if d.startswith(wanted) or DOCTYPE_LABELS[d].casefold().startswith(value.casefold())
    ]
    if len(matches) == 1:
        return matches[0]
    raise QueryError(f"unknown document type {value!r}: use one of {', '.join(DOCTYPES)}")


def _normal(text: str) -> str:
    return " ".join(fold(text.casefold()).replace("-", " ").split())


def _all(queries: list[wq.Query]) -> wq.Query | None:
    queries = [q for q in queries if q is not None]
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else wq.And(queries)


def _any(queries: list[wq.Query]) -> wq.Query | None:
    queries = [q for q in queries if q is not None]
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else wq.Or(queries)


__all__ = ["EXPANSION_WEIGHT", "TAG_WEIGHT", "Compiled", "Compiler", "Expansion", "filter_term"]
