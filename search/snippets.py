"""Snippets: the passage of a section where the query matches, with matches in **bold**.

The section text is analysed with the same analyzers as the query (its language's
stemmer and the unstemmed copy), so "victims" highlights "victim", "жертв" highlights
"жертвам", and "129-1" highlights "129-1" whole — never the "1" of another number.
A phrase is highlighted only where all its words follow one another; a Turkmen word,
searched as a prefix, wherever a word starts with it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from whoosh.analysis import CompositeAnalyzer, RegexTokenizer
from whoosh.fields import Schema

from search.schema import TEXT_LANGS

SNIPPET_CHARS = 240
SECOND_FRAGMENT_CHARS = 120
CONTEXT_BEFORE = 60
# Highlighting one text stops looking for matches after this long: a section that
# predates the bound on section size (kb.segment.sections) can be megabytes of one paragraph, and
# one search must never hold a server thread for minutes. What was found by then is marked.
HIGHLIGHT_SECONDS = 0.25
# How many words are analysed between two looks at the clock.
_CLOCK_EVERY = 2048


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    key: tuple[str, ...]  # the term or phrase it matched


@dataclass
class Snippet:
    text: str
    words: list[str]  # the matched words as written in the section (for citations)


def matched_spans(
    text: str,
    lang: str,
    highlight: dict[str, set[tuple[str, ...]]],
    schema: Schema,
    *,
    deadline: float | None = None,
) -> list[Span]:
    """Where the query's terms and phrases occur in `text`, longest first where they overlap.

    Linear in the length of `text`; the text is read only until `deadline` (a
    `time.monotonic()` value, default HIGHLIGHT_SECONDS from now), so a huge text is
    marked up to where the clock ran out rather than holding its caller."""
    if deadline is None:
        deadline = time.monotonic() + HIGHLIGHT_SECONDS
    lang = lang if lang in TEXT_LANGS else "en"
    groups = {
        f"body_{lang}": (f"body_{lang}", f"title_{lang}", f"heading_{lang}"),
        "exact": ("exact", "title_exact", "heading_exact", "refs"),
    }
    spans: list[Span] = []
    for analyzer_field, fields in groups.items():
        wanted: set[tuple[str, ...]] = set()
        for name in fields:
            wanted |= highlight.get(name, set())
        if not wanted:
            continue
        tokens = _tokens(schema[analyzer_field].analyzer, text, deadline)
        spans.extend(_find(tokens, wanted, deadline))
    return _non_overlapping(spans, len(text))


# Per analyzer, what each word it has seen becomes: a snippet analyses ten sections of
# about a thousand words each, and the words repeat, so analysing each word once is several
# times faster than running the whole analyzer chain over every section.
_WORD_CACHES: dict[int, tuple[Any, dict[str, str | None]]] = {}
_WORD_CACHE_LIMIT = 200_000


def _tokens(analyzer: Any, text: str, deadline: float) -> list[tuple[str, int, int]]:
    """(term, start, end) of each indexed word of `text`, as `analyzer` indexes it, up to
    `deadline`."""
    tokenizer = analyzer.items[0] if isinstance(analyzer, CompositeAnalyzer) else None
    if not isinstance(tokenizer, RegexTokenizer) or tokenizer.gaps:
        found: list[tuple[str, int, int]] = []
        for t in analyzer(text, chars=True, mode="index"):
            found.append((t.text, t.startchar, t.endchar))
            if len(found) % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
                break
        return found
    entry = _WORD_CACHES.get(id(analyzer))
    if entry is None or entry[0] is not analyzer:
        entry = (analyzer, {})  # the analyzer is kept so that its id is not reused
        _WORD_CACHES[id(analyzer)] = entry
    cache = entry[1]
    if len(cache) > _WORD_CACHE_LIMIT:
        cache.clear()
    out: list[tuple[str, int, int]] = []
    for count, match in enumerate(tokenizer.expression.finditer(text), start=1):
        if count % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
            break
        word = match.group(0)
        term = cache.get(word, "")
        if term == "":
            # Every filter of our analyzers maps one token to at most one token.
            terms = [t.text for t in analyzer(word, mode="index")]
            term = terms[0] if len(terms) == 1 else None
            cache[word] = term
        if term is not None:
            out.append((term, match.start(), match.end()))
    return out


def _find(
    tokens: list[tuple[str, int, int]], wanted: set[tuple[str, ...]], deadline: float
) -> Iterable[Span]:
    by_first: dict[str, list[tuple[str, ...]]] = {}
    prefixes = sorted({seq[0][:-1] for seq in wanted if len(seq) == 1 and seq[0].endswith("*")})
    for seq in wanted:
        if seq and not (len(seq) == 1 and seq[0].endswith("*")):
            by_first.setdefault(seq[0], []).append(seq)
    for i, (term, start, end) in enumerate(tokens):
        if i % _CLOCK_EVERY == _CLOCK_EVERY - 1 and time.monotonic() > deadline:
            return
        for prefix in prefixes:
            if term.startswith(prefix):
                yield Span(start, end, (prefix + "*",))
        for seq in by_first.get(term, ()):
            n = len(seq)
            if tuple(t for t, _, _ in tokens[i : i + n]) == seq:
                yield Span(start, tokens[i + n - 1][2], seq)


def _non_overlapping(spans: list[Span], length: int) -> list[Span]:
    """Longest first, each span kept unless it overlaps one already kept.

    The characters taken are marked in a byte array, so the check costs the span's own
    length rather than a look at every span kept before (which made a section with
    thousands of matches take seconds to minutes)."""
    taken = bytearray(length)
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
        if taken.find(1, span.start, span.end) < 0:
            taken[span.start : span.end] = b"\x01" * (span.end - span.start)
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def make_snippet(text: str, spans: list[Span], *, maxchars: int = SNIPPET_CHARS) -> Snippet:
    """The window of `text` holding the most different matches (and a second, shorter one
    for matches the first leaves out), whitespace collapsed, matches as **word**."""
    words = [text[s.start : s.end] for s in spans]
    if not spans:
        return Snippet(_clip(text, 0, maxchars), [])
    start, end = _best_window(text, spans, maxchars)
    inside_keys = {s.key for s in spans if s.start >= start and s.end <= end}
    fragments = [(start, end)]
    missing = [s for s in spans if s.key not in inside_keys]
    if missing:
        s2, e2 = _window_around(text, missing[0], SECOND_FRAGMENT_CHARS)
        if e2 <= start or s2 >= end:
            fragments.append((s2, e2))
    fragments.sort()
    parts = [_render(text, spans, s, e) for s, e in fragments]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.removesuffix(" …") + " … " + part.removeprefix("… ")
    return Snippet(joined, words)


def _best_window(text: str, spans: list[Span], maxchars: int) -> tuple[int, int]:
    """The window, starting a little before some match, holding the most different matches.

    `spans` do not overlap and are in text order, so the windows' ends only move forward:
    one pass with a running count of the keys inside (linear, not a scan per window)."""
    best: tuple[tuple[int, int, int], int] | None = None
    keys: Counter[tuple[str, ...]] = Counter()
    j = 0  # spans[i:j] are inside the window of spans[i]
    for i, first in enumerate(spans):
        end = max(0, first.start - CONTEXT_BEFORE) + maxchars
        j = max(j, i)
        while j < len(spans) and spans[j].end <= end:
            keys[spans[j].key] += 1
            j += 1
        score = (len(keys), j - i, -first.start)
        if best is None or score > best[0]:
            best = (score, i)
        if j > i:
            keys[first.key] -= 1
            if not keys[first.key]:
                del keys[first.key]
    assert best is not None
    return _window_around(text, spans[best[1]], maxchars)


def _window_around(text: str, span: Span, maxchars: int) -> tuple[int, int]:
    """A window starting a little before `span`, at a sentence or word boundary."""
    start = max(0, span.start - CONTEXT_BEFORE)
    sentence = max(text.rfind(". ", start, span.start), text.rfind("\n", start, span.start))
    if sentence >= 0:
        start = sentence + 1
    elif start > 0:
        space = text.find(" ", start, span.start)
        start = space + 1 if space >= 0 else start
    while start < span.start and text[start].isspace():
        start += 1
    end = min(len(text), start + maxchars)
    if end < len(text):
        space = text.rfind(" ", max(span.end, start + maxchars // 2), end)
        end = space if space > span.end else end
    return start, end


def _render(text: str, spans: list[Span], start: int, end: int) -> str:
    out: list[str] = []
    pos = start
    for s in spans:
        if s.start < start or s.end > end:
            continue
        out.append(text[pos : s.start])
        out.append(f"**{text[s.start : s.end]}**")
        pos = s.end
    out.append(text[pos:end])
    body = " ".join("".join(out).split())
    return ("… " if start > 0 else "") + body + (" …" if end < len(text) else "")


def _clip(text: str, start: int, maxchars: int) -> str:
    flat = " ".join(text[start:].split())
    if len(flat) <= maxchars:
        return flat
    cut = flat[:maxchars].rsplit(" ", 1)[0]
    return cut + " …"


def snippet_for(
    data: dict[str, Any],
    lang: str,
    highlight: dict[str, set[tuple[str, ...]]],
    schema: Schema,
    *,
    deadline: float | None = None,
) -> Snippet:
    text = str(data.get("text") or "")
    return make_snippet(text, matched_spans(text, lang, highlight, schema, deadline=deadline))
