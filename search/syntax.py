"""The query language, parsed into a small tree before it becomes a Whoosh query.

    victim identification        every word must match (ranked by BM25F)
    "reflection period"          an exact phrase
    shelter OR hotline           either (OR binds tighter than the implicit AND)
    -smuggling, NOT smuggling    must not match
    title:manual heading:"…"     only in the document title / the section heading
    type:legislation lang:ru     filters: type, lang, year (2011 or 2011-2018), tag, doc
    tag:place.mary, tag:Mary     sections tagged with a vocabulary entity
    traffick*                    words starting with "traffick"
    129-1, TM10P0524             article numbers and ids match as written
    (a OR b) c                   grouping

Nothing here raises on odd input except what cannot be searched at all: an unclosed
quote or parenthesis is closed at the end, an unknown `name:` is read as a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.errors import QueryError

MAX_QUERY_CHARS = 1000
MAX_TERMS = 40
MAX_DEPTH = 8

TEXT_FIELDS = ("title", "heading")
FILTER_FIELDS = ("type", "lang", "year", "tag", "doc")
FIELD_ALIASES = {"doctype": "type", "language": "lang", "tags": "tag", "document": "doc"}
KNOWN_FIELDS = frozenset((*TEXT_FIELDS, *FILTER_FIELDS, *FIELD_ALIASES))


@dataclass
class Word:
    text: str
    start: int  # where the word is in the query as typed (for "did you mean")
    end: int
    prefix: bool = False


@dataclass
class Phrase:
    text: str
    start: int
    end: int


@dataclass
class FieldQuery:
    """title:/heading: (a Word or Phrase searched in that field only) or a filter."""

    name: str
    value: Word | Phrase


@dataclass
class Not:
    child: Node


@dataclass
class AndQuery:
    children: list[Node] = field(default_factory=list)


@dataclass
class OrQuery:
    children: list[Node] = field(default_factory=list)


Node = Word | Phrase | FieldQuery | Not | AndQuery | OrQuery

# Tokens of the query language.
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<phrase>"[^"]*("|$))
  | (?P<field>(?P<fname>[A-Za-z]+):(?=[^\s)]))
  | (?P<minus>-(?=[^\s\-]))
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)


@dataclass
class _Tok:
    kind: str
    text: str
    start: int
    end: int


def validate_query(text: str) -> str:
    """The query stripped, or a QueryError that says what is wrong with it."""
    text = (text or "").strip()
    if not text:
        raise QueryError('empty query: type some words, e.g. kb search "victim identification"')
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long: {len(text):,} characters (the limit is {MAX_QUERY_CHARS:,}); "
                         "search for the few words that matter")  # fmt: skip
    if not re.search(r"\w", text):
        raise QueryError(f"query {text!r} has no words to search for")
    return text


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # cannot happen: `word` takes any other character
            raise QueryError(
                f"cannot read the query at character {pos + 1}: {text[pos : pos + 20]!r}"
            )
        kind = m.lastgroup or "word"
        if kind == "fname":
            kind = "field"
        if kind == "field" and m.group("fname").lower() not in KNOWN_FIELDS:
            # "Note:" or "http:" — not one of ours: read up to the next space as a word.
            m = re.compile(r"[^\s()\"]+").match(text, pos)
            assert m is not None
            kind = "word"
        if kind == "phrase":
            body = m.group()[1:]
            body = body[:-1] if body.endswith('"') else body
            out.append(_Tok("phrase", body, m.start(), m.end()))
        elif kind == "field":
            out.append(_Tok("field", m.group("fname").lower(), m.start(), m.end()))
        elif kind == "word" and m.group() in ("AND", "OR", "NOT", "&&", "||"):
            op = {"&&": "AND", "||": "OR"}.get(m.group(), m.group())
            out.append(_Tok(op, op, m.start(), m.end()))
        elif kind != "space":
            out.append(_Tok(kind, m.group(), m.start(), m.end()))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.terms = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.sequence(depth=0)
        if self.peek() is not None:  # a stray ")" : skip it and read on
            self.take()
            rest = self.parse()
            node = AndQuery([node, rest])
        return node

    def sequence(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise QueryError(f"too many nested parentheses (at most {MAX_DEPTH})")
        children: list[Node] = []
        while (tok := self.peek()) is not None and tok.kind != "close":
            if tok.kind == "AND":
                self.take()
                continue
            node = self.disjunction(depth)
            if node is not None:
                children.append(node)
        return children[0] if len(children) == 1 else AndQuery(children)

    def disjunction(self, depth: int) -> Node | None:
        first = self.unary(depth)
        options = [first] if first is not None else []
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            nxt = self.unary(depth)
            if nxt is not None:
                options.append(nxt)
        if not options:
            return None
        return options[0] if len(options) == 1 else OrQuery(options)

    def unary(self, depth: int) -> Node | None:
        tok = self.peek()
        if tok is None:
            return None
        if tok.kind in ("NOT", "minus"):
            self.take()
            child = self.unary(depth)
            return Not(child) if child is not None else None
        return self.primary(depth)

    def primary(self, depth: int) -> Node | None:
        tok = self.take()
        if tok.kind == "open":
            node = self.sequence(depth + 1)
            if self.peek() is not None and self.peek().kind == "close":  # type: ignore[union-attr]
                self.take()
            return node if not (isinstance(node, AndQuery) and not node.children) else None
        if tok.kind == "close" or tok.kind in ("AND", "OR"):
            return None  # a dangling operator: nothing to search for
        if tok.kind == "field":
            name = FIELD_ALIASES.get(tok.text, tok.text)
            value_tok = self.peek()
            if value_tok is None or value_tok.kind not in ("word", "phrase"):
                return None
            self.take()
            return FieldQuery(name, self.leaf(value_tok))
        return self.leaf(tok)

    def leaf(self, tok: _Tok) -> Word | Phrase:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(
                f"too many words in the query (at most {MAX_TERMS}); search for the few that matter"
            )
        if tok.kind == "phrase":
            return Phrase(" ".join(tok.text.split()), tok.start, tok.end)
        text = tok.text
        prefix = text.endswith("*")
        core = text.rstrip("*")
        # Trailing punctuation typed with the word ("victims," "Article 5.") is not part of it.
        stripped = core.rstrip(".,;:!?»”’\"'")
        end = tok.start + len(stripped) if stripped else tok.end
        return Word(stripped or core, tok.start, end, prefix=prefix)


def parse(text: str) -> Node:
    """Parse a (validated) query into its tree; refuses what cannot be bounded."""
    tree = _Parser(text).parse()
    if not has_positive_text(tree) and not has_filter(tree):
        if any(isinstance(node, Not) for node in walk(tree)):
            raise QueryError(f"query {text!r} only excludes: add a word to look for")
        raise QueryError(f"query {text!r} has no words to search for")
    return tree


def walk(node: Node) -> list[Node]:
    """Every node, depth first."""
    out: list[Node] = [node]
    if isinstance(node, AndQuery | OrQuery):
        for child in node.children:
            out.extend(walk(child))
    elif isinstance(node, Not):
        out.extend(walk(node.child))
    elif isinstance(node, FieldQuery):
        out.append(node.value)
    return out


def has_positive_text(node: Node) -> bool:
    if isinstance(node, Word | Phrase):
        return True
    if isinstance(node, FieldQuery):
        return node.name in TEXT_FIELDS
    if isinstance(node, Not):
        return False
    return any(has_positive_text(c) for c in node.children)


def has_filter(node: Node) -> bool:
    if isinstance(node, FieldQuery):
        return node.name in FILTER_FIELDS
    if isinstance(node, AndQuery):
        return any(has_filter(c) for c in node.children)
    return False
