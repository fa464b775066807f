"""The query API: `search("query", home=…, filters…) -> Results`, and `similar(…)`.

A search parses the query (`search.syntax`), compiles it against the index with
cross-lingual expansion (`search.compile`), ranks sections by BM25F, and returns a
page of them grouped by document, with snippets, citations, facet counts, the
expansions it used and a "did you mean" suggestion for words the index lacks.

Reading never starts Prefect and reuses one open searcher per index folder,
reopening only when the `index` symlink points somewhere new.
"""

from __future__ import annotations

import functools
import gc
import math
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import numpy as np
from whoosh import index as windex
from whoosh import query as wq
from whoosh.searching import Searcher

from kb.errors import IndexMissingError, NotFoundError, QueryError
from kb.home import HomePaths
from kb.home import paths as home_paths
from kb.legal.editions import load_editions
from search.citation import best_unit, citation_line, format_pages, shown_pages
from search.compile import Compiled, Compiler, Expansion, filter_term
from search.engine import IndexArrays, Matches, index_arrays, top
from search.schema import INDEX_NAME, body_field
from search.scoring import LanguageBM25F
from search.snippets import HIGHLIGHT_SECONDS, make_snippet, matched_spans
from search.spelling import suggest
from search.syntax import MAX_QUERY_CHARS, AndQuery, OrQuery, Word, parse, validate_query
from search.vocabulary import load_vocabulary_for

__all__ = [
    "MAX_QUERY_CHARS",
    "Hit",
    "Results",
    "format_pages",
    "search",
    "searchers",
    "similar",
    "warm",
]

MAX_LIMIT = 200
# Ranked sections looked at for grouping, sorting and paging; a page beyond it is refused.
MAX_WINDOW = 1000
DEFAULT_PER_DOCUMENT = 3
# Time for a page's snippets together, and the least each hit gets after that is spent.
SNIPPETS_SECONDS = 1.0
P = ParamSpec("P")
R = TypeVar("R")
# Searchers open at once on one index folder (see _SearcherCache), and how long a thread
# waits for one to be free before opening one more anyway. KB_MAX_SEARCHERS overrides.
_SEARCHERS_ENV = os.environ.get("KB_MAX_SEARCHERS", "").strip()
MAX_SEARCHERS = max(1, int(_SEARCHERS_ENV)) if _SEARCHERS_ENV.isdigit() else 4
SEARCHER_WAIT_SECONDS = 30.0
MIN_HIGHLIGHT_SECONDS = 0.005
# A document's further sections are grouped with its best one when they score at least
# this share of it.
GROUP_SCORE_SHARE = 0.5
SORTS = ("relevance", "date")
# A query in Russian or Turkmen gets at least this many sections in its own language on
# the first page (when that many match at all and score at least QUERY_LANG_SCORE_SHARE
# of the best section): a reader of "признаки эксплуатации" expects Russian text among
# the English, without having to filter the English away.
QUERY_LANG_MIN = 3
QUERY_LANG_SCORE_SHARE = 0.2
# A query expanded into other languages gets at least this many sections in them.
OTHER_LANG_MIN = 2
FACETS = {"doctype": "doctype", "lang": "lang", "year": "year", "tags": "tags"}
MAX_TAG_FACETS = 20


@dataclass
class Hit:
    doc_id: str
    section_id: str
    title: str
    heading: str
    heading_path: list[str]
    pages: list[int | str]  # printed page numbers when the PDF has its own, else the index
    lang: str
    doctype: str
    date: str
    score: float
    snippet: str
    source: str
    citation: str = ""
    rank: int = 0  # 1-based place in the ranking (before grouping)
    number: str = ""
    kind: str = ""
    tags: list[str] = field(default_factory=list)
    partial: bool = False  # matches only some of the words (shown after full matches)
    # The citation's parts, for an interface that writes it in its own language.
    cite_title: str = ""
    cite_label: str = ""  # the provision or section, as the citation names it
    url: str = ""  # the page's address, for a web page fetched from one
    pdf_pages: list[int] = field(default_factory=list)  # the PDF's page index, for #page= links
    status: str = ""  # laws: "in_force" or "repealed" (kb.legal.editions)
    repealed_by: str = ""  # a repealed law: the edition in force that replaced it

    @property
    def key(self) -> str:
        return f"{self.doc_id}#{self.section_id}"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 4)
        data["pages_label"] = format_pages(self.pages)
        return data


@dataclass
class Group:
    """A document's sections on this page, in rank order; `more`: its other matching sections."""

    doc_id: str
    title: str
    doctype: str
    date: str
    sections: list[str]
    more: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Results:
    query: str
    total: int
    hits: list[Hit] = field(default_factory=list)
    page: int = 1
    pages: int = 0
    page_size: int = 10
    sort: str = "relevance"
    grouped: bool = True
    groups: list[Group] = field(default_factory=list)
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    expansions: list[Expansion] = field(default_factory=list)
    suggestion: str | None = None
    corrected: bool = False  # the hits are for `suggestion`: the query as typed found nothing
    searched: str = ""  # the query that was run
    relaxed: bool = False  # some hits match only some of the words
    filters: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "hits": [h.as_dict() for h in self.hits],
            "page": self.page,
            "pages": self.pages,
            "page_size": self.page_size,
            "sort": self.sort,
            "grouped": self.grouped,
            "groups": [g.as_dict() for g in self.groups],
            "facets": self.facets,
            "expansions": [e.as_dict() for e in self.expansions],
            "suggestion": self.suggestion,
            "corrected": self.corrected,
            "searched": self.searched,
            "relaxed": self.relaxed,
            "filters": self.filters,
            "seconds": round(self.seconds, 4),
        }


class _Lease:
    """The searchers one thread holds: home folder -> (index folder, searcher)."""

    __slots__ = ("__weakref__", "open")

    def __init__(self) -> None:
        self.open: dict[Path, tuple[Path, Searcher]] = {}


def _give_back(
    returned: deque[tuple[Path, Path, Searcher]], held: dict[Path, tuple[Path, Searcher]]
) -> None:
    # Runs when a thread ends (its lease is collected): possibly inside a garbage
    # collection, so it takes no lock; deque.append is atomic.
    for root, (target, searcher) in held.items():
        returned.append((root, target, searcher))


class _SearcherCache:
    """Open searchers, lent to threads: one per home and thread while the thread holds it.

    Whoosh searchers share file handles and are not safe to use from two threads at once
    (stored fields come back garbled), so a thread has a searcher of its own until it
    gives it back (`release`, which the web server calls after each request) or ends;
    the searcher then waits, open, for the next thread. So a server whose worker threads
    come and go holds as many searchers as it runs searches at once, not one for every
    thread it ever had (which grew by hundreds of MB a burst).

    And at most MAX_SEARCHERS of one index: each searcher holds its own copy of the
    index's terms files (Whoosh reads them into memory when it opens them; the postings
    stay in the segments' memory maps, shared: see search.whoosh_internals._MappedFile),
    12 MB for 93,848 sections. A thread needing one more waits for one to be given back
    (searches are bounded in time: see search.snippets), or opens one past the limit
    after SEARCHER_WAIT_SECONDS rather than fail.

    When the live index folder changes, a thread's old searcher is forgotten, not closed
    (the thread may be in the middle of using it; its files are released when it is
    garbage-collected); idle searchers of the old folder are closed.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Condition()
        self._leases: weakref.WeakSet[_Lease] = weakref.WeakSet()
        self._idle: dict[tuple[Path, Path], list[Searcher]] = {}
        self._returned: deque[tuple[Path, Path, Searcher]] = deque()
        self._opened: dict[tuple[Path, Path], int] = {}  # lent or idle, per index folder

    def get(self, paths: HomePaths) -> Searcher:
        return self.get_with_folder(paths)[0]

    def _lease(self) -> _Lease:
        lease: _Lease | None = getattr(self._local, "lease", None)
        if lease is None:
            lease = self._local.lease = _Lease()
            weakref.finalize(lease, _give_back, self._returned, lease.open)
            with self._lock:
                self._leases.add(lease)
        return lease

    def get_with_folder(self, paths: HomePaths) -> tuple[Searcher, Path]:
        link = paths.index_link
        if not link.exists():
            raise IndexMissingError(f"no index in {paths.root}: run `kb build` first")
        target = Path(os.path.realpath(link))
        lease = self._lease()
        cached = lease.open.get(paths.root)
        if cached and cached[0] == target:
            return cached[1], target
        key = (paths.root, target)
        stale: list[Searcher] = []
        searcher: Searcher | None = None
        with self._lock:
            if cached is not None:  # of an older index folder: forgotten
                self._forget((paths.root, cached[0]))
                del lease.open[paths.root]
            self._take_returned(stale)
            for old_key in [k for k in self._idle if k[0] == paths.root and k[1] != target]:
                for old in self._idle.pop(old_key):
                    self._forget(old_key)
                    stale.append(old)
            give_up = time.monotonic() + SEARCHER_WAIT_SECONDS
            while True:
                pool = self._idle.get(key)
                if pool:
                    searcher = pool.pop()
                    break
                if self._opened.get(key, 0) < MAX_SEARCHERS or time.monotonic() > give_up:
                    self._opened[key] = self._opened.get(key, 0) + 1
                    break
                # Woken by `release`; a thread that ended gives back without a signal.
                self._lock.wait(timeout=0.05)
                self._take_returned(stale)
        for old in stale:
            old.close()
        if searcher is None:
            try:
                searcher = self._open(target)
            except BaseException:
                with self._lock:
                    self._forget(key)
                raise
        lease.open[paths.root] = (target, searcher)
        return searcher, target

    def _forget(self, key: tuple[Path, Path]) -> None:
        """One searcher of `key` fewer (call with the lock held)."""
        left = self._opened.get(key, 0) - 1
        if left > 0:
            self._opened[key] = left
        else:
            self._opened.pop(key, None)

    @staticmethod
    def _open(target: Path) -> Searcher:
        _freeze_startup_objects()
        try:
            ix = windex.open_dir(str(target), indexname=INDEX_NAME)
        except Exception as exc:
            raise IndexMissingError(
                f"the index in {target} cannot be opened ({exc}); run `kb build --full`"
            ) from None
        if "spell" not in ix.schema:
            raise IndexMissingError(
                f"the index in {target} was built by an older version; run `kb build --full`"
            )
        return ix.searcher(weighting=LanguageBM25F())

    def _take_returned(self, stale: list[Searcher]) -> None:
        """Searchers of ended threads join the idle ones (call with the lock held)."""
        while self._returned:
            root, target, searcher = self._returned.popleft()
            self._put_idle(root, target, searcher, stale)

    def _put_idle(
        self, root: Path, target: Path, searcher: Searcher, stale: list[Searcher]
    ) -> None:
        key = (root, target)
        pool = self._idle.setdefault(key, [])
        if len(pool) < MAX_SEARCHERS:
            pool.append(searcher)
        else:  # opened past the limit while all were busy: not kept
            self._forget(key)
            stale.append(searcher)
        self._lock.notify_all()

    def release(self) -> None:
        """Give this thread's searchers back: it is done with them (end of a request)."""
        lease: _Lease | None = getattr(self._local, "lease", None)
        if lease is None or not lease.open:
            return
        stale: list[Searcher] = []
        with self._lock:
            for root, (target, searcher) in lease.open.items():
                self._put_idle(root, target, searcher, stale)
            lease.open.clear()
        for old in stale:
            old.close()

    def held(self) -> int:
        """How many searchers are open here: lent to threads, or idle."""
        stale: list[Searcher] = []
        with self._lock:
            self._take_returned(stale)
            lent = sum(len(lease.open) for lease in list(self._leases))
            count = lent + sum(len(pool) for pool in self._idle.values())
        for old in stale:
            old.close()
        return count

    def close(self) -> None:
        """Close every searcher (tests, shutdown); the next search opens new ones."""
        with self._lock:
            everything = [s for pool in self._idle.values() for s in pool]
            for lease in list(self._leases):
                everything.extend(searcher for _, searcher in lease.open.values())
                lease.open.clear()
            while self._returned:
                everything.append(self._returned.popleft()[2])
            self._idle.clear()
            self._opened.clear()
            self._local = threading.local()
        for searcher in everything:
            searcher.close()


searchers = _SearcherCache()


_startup_frozen = threading.Event()


def _freeze_startup_objects() -> None:
    """Before the process's first searcher: leave what is alive now (the modules imported,
    the caller's set-up) out of later garbage collections, which would otherwise walk it.
    A full collection falls due during the first searches, which create many objects: it
    took 25 ms of the second search in a new process (10,000 documents). Only once: the
    searchers opened later (and their caches) stay collectable when an index is swapped."""
    if not _startup_frozen.is_set():
        _startup_frozen.set()
        gc.freeze()


def _returns_searchers(function: Callable[P, R]) -> Callable[P, R]:
    """The searchers a call opens go back to the pool when it returns (its results are plain
    data), unless the calling thread already held some: then the caller gives them back."""

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        lease: _Lease | None = getattr(searchers._local, "lease", None)
        holding = lease is not None and bool(lease.open)
        try:
            return function(*args, **kwargs)
        finally:
            if not holding:
                searchers.release()

    return call


def warm(home: Path | str | None = None) -> float:
    """Open the index and load what every search needs (section columns, facet values, field
    lengths), so that the first search a server answers is as fast as the next ones.
    Returns the seconds it took; raises IndexMissingError without an index."""
    started = time.perf_counter()
    searcher = searchers.get(home_paths(home))
    arrays = index_arrays(searcher)
    for fieldname in ("doc_id", "date", *FACETS.values()):
        if fieldname != "tags":
            arrays.column(fieldname)
    arrays.term_counts("tags", arrays.evaluate(wq.Every()))
    for fieldname in searcher.schema.names():
        if fieldname.startswith(("body_", "title_", "heading_", "exact")):
            arrays.field_lengths(fieldname)
    return time.perf_counter() - started


@_returns_searchers
def search(
    query: str,
    *,
    home: Path | str | None = None,
    doctype: str | None = None,
    lang: str | None = None,
    year: str | None = None,
    tag: str | None = None,
    doc: str | None = None,
    limit: int = 10,
    page: int = 1,
    sort: str = "relevance",
    flat: bool = False,
    expand: bool = True,
    per_document: int = DEFAULT_PER_DOCUMENT,
    in_force: bool = False,
) -> Results:
    """Sections matching `query`, best first, grouped by document unless `flat`.

    in_force: leave out laws that a later law (or the manifest) repealed. Without it a
    repealed law is still found, marked "repealed", after the edition in force that
    replaced it when both match.

    limit: sections per page; page: 1-based; sort: "relevance" or "date" (newest first);
    expand: add the vocabulary's terms in other languages for entity names in the query;
    per_document: at most this many sections of one document on a grouped page (the
    others are counted in the group's `more`; `doc=ID` lists them all).
    Raises QueryError for a query that cannot be run, IndexMissingError without an index.
    """
    started = time.perf_counter()
    text = validate_query(query)
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use {' or '.join(SORTS)}")
    limit = max(1, min(int(limit), MAX_LIMIT))
    page = max(1, int(page))
    if page * limit > MAX_WINDOW:
        raise QueryError(
            f"page {page} is beyond the first {MAX_WINDOW} results: narrow the search with a filter"
        )
    tree = parse(text)
    searcher, folder = searchers.get_with_folder(home_paths(home))
    vocabulary = load_vocabulary_for(folder)
    options = {"type": doctype, "lang": lang, "year": year, "tag": tag, "doc": doc}
    filters = [filter_term(name, value, vocabulary) for name, value in options.items() if value]
    editions = _editions(searcher, folder)
    repealed = sorted(d for d, info in editions.items() if info.status == "repealed")
    if in_force and repealed:
        filters.append(wq.AndNot(wq.Every(), wq.Or([wq.Term("doc_id", d) for d in repealed])))
    found = _find(
        searcher,
        tree,
        text,
        vocabulary if expand else None,
        filters,
        wanted=page * limit,
        sort=sort,
    )

    order = _order(searcher, found.ranked, sort)
    if repealed and sort == "relevance":
        order = _in_force_first(searcher, order, editions)
    if sort == "relevance" and not lang and page == 1:
        expanded = (
            any(any(lang_ != query_lang for lang_ in e.terms) for e in found.compiled.expansions)
            if (query_lang := _query_language(found.searched))
            else False
        )
        order = _with_query_language(searcher, order, query_lang, limit, expanded=expanded)
    results = Results(query=text, total=found.total, page=page, page_size=limit, sort=sort,
                      grouped=not flat, expansions=found.compiled.expansions,
                      suggestion=found.suggestion, corrected=found.corrected, searched=found.searched,
                      relaxed=found.relaxed, filters={k: v for k, v in options.items() if v})  # fmt: skip
    if in_force:
        results.filters["in_force"] = "yes"
    results.facets = _facet_lists(found.facets, vocabulary)
    more: dict[str, int] = {}
    shown = order if flat else _grouped(searcher, order, max(1, per_document), more, found.matches)
    results.pages = math.ceil(len(shown) / limit) if shown else 0
    rank_of = {docnum: i + 1 for i, (docnum, _, _) in enumerate(order)}
    # One budget for the page's snippets: the hits after it is spent are marked as far
    # as a short look finds (see search.snippets.HIGHLIGHT_SECONDS).
    snippets_until = time.monotonic() + SNIPPETS_SECONDS
    results.hits = [_hit(searcher, docnum, score, found.compiled, rank_of[docnum], missing > 0,
                         snippets_until)
                    for docnum, score, missing in shown[(page - 1) * limit : page * limit]]  # fmt: skip
    for hit in results.hits:
        info = editions.get(hit.doc_id)
        if info is not None:
            hit.status = info.status
            hit.repealed_by = info.repealed_by if info.status == "repealed" else ""
    if not flat:
        results.groups = _groups_of(results.hits, more)
    results.seconds = time.perf_counter() - started
    return results


def _editions(searcher: Searcher, folder: Path) -> dict[str, Any]:
    """The laws' statuses saved with the index, read once per open index (parsing them was
    several milliseconds of every search on 10,000 documents); not to be changed."""
    memo = index_arrays(searcher).memo
    editions = memo.get("editions")
    if editions is None:
        editions = memo["editions"] = load_editions(folder)
    return editions


def _in_force_first(searcher: Searcher, order: Ranked, editions: dict[str, Any]) -> Ranked:
    """When a repealed law's section outranks every section of the edition in force that
    replaced it, that edition's best section moves up to just before it: a legal advisor
    reads the law in force first, and the old one keeps its place, marked. (Moving the old
    sections down instead pushed provisions the new law no longer has off the first page.)"""
    arrays = index_arrays(searcher)
    codes, labels = arrays.column("doc_id")
    doc_of = [labels[c] for c in codes[[item[0] for item in order]].tolist()] if order else []
    first_at: dict[str, int] = {}
    for position, doc_id in enumerate(doc_of):
        first_at.setdefault(doc_id, position)
    place = [float(position) for position in range(len(order))]
    moved: set[str] = set()
    for position, doc_id in enumerate(doc_of):
        info = editions.get(doc_id)
        if info is None or info.status != "repealed":
            continue
        for edition in info.editions:
            live = editions.get(edition)
            best = first_at.get(edition)
            if live is None or live.status != "in_force" or best is None or edition in moved:
                continue
            if best > position:
                place[best] = position - 0.5 + best / 1e6
                moved.add(edition)
    return [order[position] for position in sorted(range(len(order)), key=place.__getitem__)]


# (docnum, score, partial): partial is 0 for a section matching the whole query, 1 for a
# relaxed match (those come after, ranked by score times the share of words matched).
Ranked = list[tuple[int, float, int]]


@dataclass
class _Run:
    """One query run: its best sections (at most MAX_WINDOW), every match, facet counts."""

    ranked: Ranked
    matches: Matches
    facets: dict[str, dict[str, int]]

    @property
    def total(self) -> int:
        return self.matches.count


@dataclass
class _Found:
    compiled: Compiled
    run: _Run
    suggestion: str | None
    searched: str
    corrected: bool = False
    relaxed: bool = False

    def __post_init__(self) -> None:
        self.ranked: Ranked = list(self.run.ranked)
        self.facets = self.run.facets
        self.matches = self.run.matches
        self.total = self.run.total


def _find(searcher: Searcher, tree: Any, text: str, vocabulary: Any, filters: list[wq.Query], *,
          wanted: int, sort: str = "relevance") -> _Found:  # fmt: skip
    """The query as typed; if it finds nothing, its spelling correction; and if that leaves
    fewer sections than the page needs, sections matching only some of the words after them."""
    query_lang = _query_language(text)
    compiled = Compiler(searcher, vocabulary, query_lang=query_lang).compile(tree)
    suggestion = suggest(searcher, text, compiled.words)
    run = _run(searcher, compiled, filters, sort=sort)
    found = _Found(compiled, run, suggestion, text)
    if not run.ranked and suggestion:
        retry = Compiler(searcher, vocabulary, query_lang=query_lang).compile(parse(suggestion))
        run = _run(searcher, retry, filters, sort=sort)
        if run.ranked:
            found = _Found(retry, run, suggestion, suggestion, corrected=True)
    if found.total >= wanted or not _can_relax(tree):
        return found
    loose = Compiler(searcher, vocabulary, relaxed=True, query_lang=query_lang).compile(
        parse(found.searched)
    )
    loose_run = _run(searcher, loose, filters, sort=sort)
    seen = {docnum for docnum, _, _ in found.ranked}
    extra_docs = [d for d, _, _ in loose_run.ranked if d not in seen]
    if not extra_docs:
        return found
    missing = _missing_groups(searcher, loose.groups, extra_docs)
    groups = max(1, len(loose.groups))
    # A partial match counts in proportion to the share of the words it matches.
    found.ranked = found.ranked + [
        (d, s * (groups - missing[d]) / groups, 1) for d, s, _ in loose_run.ranked if d not in seen
    ]
    # The loose query matches the full matches too.
    found.facets, found.matches, found.total = loose_run.facets, loose_run.matches, loose_run.total
    found.relaxed = True
    found.compiled.highlight = _merge_highlight(found.compiled.highlight, loose.highlight)
    return found


def _groups_of(hits: list[Hit], more: dict[str, int]) -> list[Group]:
    groups: list[Group] = []
    for hit in hits:
        if groups and groups[-1].doc_id == hit.doc_id:
            groups[-1].sections.append(hit.section_id)
        else:
            groups.append(Group(hit.doc_id, hit.title, hit.doctype, hit.date, [hit.section_id],
                                more.get(hit.doc_id, 0)))  # fmt: skip
    return groups


def _run(searcher: Searcher, compiled: Compiled, option_filters: list[wq.Query], *,
         sort: str = "relevance") -> _Run:  # fmt: skip
    """Every section the query matches within the filters, its best MAX_WINDOW in `sort`
    order, and the facet counts over all of them."""
    arrays = index_arrays(searcher)
    matches = arrays.evaluate(compiled.query)
    for filter_q in (compiled.filter, *option_filters):
        if filter_q is not None:
            matches.mask &= arrays.docs(filter_q)
    if compiled.mask is not None:
        matches.mask &= ~arrays.docs(compiled.mask)
    order_key = _date_ranks(arrays) if sort == "date" else None
    ranked = [(docnum, score, 0) for docnum, score in top(matches, MAX_WINDOW, order_key)]
    counts: dict[str, dict[str, int]] = {}
    for name, fieldname in FACETS.items():
        found = (arrays.term_counts if name == "tags" else arrays.counts)(fieldname, matches)
        counts[name] = {k: v for k, v in found.items() if k}
    return _Run(ranked, matches, counts)


def _date_ranks(arrays: IndexArrays) -> np.ndarray:
    """Each section's place in newest-first date order (undated sections last)."""
    ranks = arrays.memo.get("date_ranks")
    if ranks is None:
        codes, labels = arrays.column("date")
        order = sorted(range(len(labels)), key=lambda i: _invert(labels[i]))
        place = np.empty(len(labels) + 1, dtype=np.int64)
        place[np.asarray(order, dtype=np.int64)] = np.arange(len(labels))
        place[len(labels)] = len(labels)  # code -1: no date
        ranks = place[np.where(codes < 0, len(labels), codes)]
        arrays.memo["date_ranks"] = ranks
    return ranks


def _can_relax(tree: Any) -> bool:
    """Are there two plain words side by side (else a relaxed query is the same)?"""
    if isinstance(tree, AndQuery):
        words = [c for c in tree.children if isinstance(c, Word) and not c.prefix]
        return len(words) > 1 or any(_can_relax(c) for c in tree.children)
    if isinstance(tree, OrQuery):
        return any(_can_relax(c) for c in tree.children)
    return False


def _merge_highlight(
    a: dict[str, set[tuple[str, ...]]], b: dict[str, set[tuple[str, ...]]]
) -> dict[str, set[tuple[str, ...]]]:
    out = {k: set(v) for k, v in a.items()}
    for k, v in b.items():
        out.setdefault(k, set()).update(v)
    return out


def _column(searcher: Searcher, name: str) -> Any:
    reader = searcher.reader()
    return reader.column_reader(name) if reader.has_column(name) else None


def _missing_groups(
    searcher: Searcher, groups: list[wq.Query], docnums: list[int]
) -> dict[int, int]:
    """For each section, how many of the query's word groups it does not match."""
    arrays = index_arrays(searcher)
    missing = dict.fromkeys(docnums, 0)
    ids = np.asarray(docnums, dtype=np.int64)
    for group in groups:
        matched = arrays.evaluate(group).mask[ids]
        for docnum in ids[~matched].tolist():
            missing[docnum] += 1
    return missing


def _order(searcher: Searcher, ranked: Ranked, sort: str) -> Ranked:
    """Full matches before partial ones (fuller ones first); then by score or by date."""
    if sort == "date":
        ranks = _date_ranks(index_arrays(searcher))
        return sorted(ranked, key=lambda item: (item[2], int(ranks[item[0]]), -item[1], item[0]))
    return sorted(ranked, key=lambda item: (item[2], -item[1], item[0]))


def _query_language(text: str) -> str:
    """ "ru" or "tk" for a query written in that language; "" otherwise (English, numbers)."""
    from kb.tagging.lang import detect_language

    guess = detect_language(text).lang
    return guess if guess in ("ru", "tk") else ""


def _with_query_language(
    searcher: Searcher, order: Ranked, query_lang: str, limit: int, *, expanded: bool = False
) -> Ranked:
    """`order` with the first page holding some sections in the query's language (at least
    QUERY_LANG_MIN when that many match and score a fair share of the best one) and, when
    the query was expanded into other languages, some in those (OTHER_LANG_MIN): the
    expansion promised them. Promoted sections take the last places of the first page;
    the sections they displace move down, not away. Full matches only."""
    if len(order) <= limit or not order:
        return order
    codes, labels = index_arrays(searcher).column("lang")
    langs = codes[[item[0] for item in order]].tolist()
    wanted = labels.index(query_lang) if query_lang in labels else None
    quotas: list[tuple[Any, int, float]] = []
    if wanted is not None and query_lang != "en":
        # English is most of the corpus: an English query never lacks English sections.
        quotas.append((lambda code: code == wanted, QUERY_LANG_MIN, QUERY_LANG_SCORE_SHARE))
    if expanded and query_lang:
        quotas.append((lambda code: code != wanted and code >= 0, OTHER_LANG_MIN, 0.0))
    for belongs, minimum, share in quotas:
        present = sum(1 for code in langs[:limit] if belongs(code))
        if present >= minimum:
            continue
        floor = order[0][1] * share
        promoted = [
            i
            for i in range(limit, len(order))
            if belongs(langs[i]) and order[i][2] == 0 and order[i][1] >= floor
        ][: minimum - present]
        if not promoted:
            continue
        moved = set(promoted)
        keep = [i for i in range(len(order)) if i not in moved]
        # Never push out a section an earlier quota placed: fill from the end of the page
        # with the lowest sections that no quota wants.
        cut = limit - len(promoted)
        index_order = keep[:cut] + promoted + keep[cut:]
        order = [order[i] for i in index_order]
        langs = [langs[i] for i in index_order]
    return order


def _invert(date: str) -> str:
    """A sort key that puts later dates first and undated sections last; a partial date
    ("2024", "2024-06") counts as the start of its period, after the dated days in it."""
    if not date:
        return "\uffff"
    full = {4: date + "-00-00", 7: date + "-00"}.get(len(date), date)
    return "".join(chr(0xFFFF - ord(ch)) for ch in full)


def _grouped(searcher: Searcher, order: Ranked, per_document: int, more: dict[str, int],
             matches: Matches) -> Ranked:  # fmt: skip
    """Each document's best sections together, documents in the order of their best section.

    A document's further sections join its best one only if they are nearly as good
    (and as complete a match): a weak tenth section must not push other documents'
    strong ones off the page. The others, ranked or not, are counted in `more`."""
    arrays = index_arrays(searcher)
    codes, labels = arrays.column("doc_id")
    matching = arrays.tally("doc_id", matches)
    groups: dict[str, Ranked] = {}
    code_of: dict[str, int] = {}
    for item, code in zip(order, codes[[i[0] for i in order]].tolist(), strict=True):
        groups.setdefault(labels[code], []).append(item)
        code_of[labels[code]] = code
    shown: Ranked = []
    for doc_id, items in groups.items():
        best = items[0]
        close = [i for i in items[1:] if i[2] == best[2] and i[1] >= GROUP_SCORE_SHARE * best[1]]
        kept = [best, *close[: per_document - 1]]
        shown.extend(kept)
        others = max(len(items), int(matching[code_of[doc_id]])) - len(kept)
        if others > 0:
            more[doc_id] = others
    return shown


def _hit(
    searcher: Searcher,
    docnum: int,
    score: float,
    compiled: Compiled,
    rank: int,
    partial: bool,
    snippets_until: float | None = None,
) -> Hit:
    fields = searcher.stored_fields(docnum)
    data = fields["data"]
    lang = fields.get("lang", "")
    text = str(data.get("text") or "")
    now = time.monotonic()
    until = now + HIGHLIGHT_SECONDS
    if snippets_until is not None:
        until = max(min(until, snippets_until), now + MIN_HIGHLIGHT_SECONDS)
    spans = matched_spans(
        text, lang or data.get("doc_lang", "en"), compiled.highlight, searcher.schema,
        deadline=until,
    )  # fmt: skip
    snip = make_snippet(text, spans)
    unit = best_unit(data.get("units") or [], snip.words) if data.get("units") else ""
    return Hit(
        doc_id=fields["doc_id"],
        section_id=fields["section_id"],
        title=data["title"],
        heading=" / ".join(data["heading_path"]),
        heading_path=list(data["heading_path"]),
        pages=shown_pages(data),
        pdf_pages=list(data["pages"]),
        lang=lang,
        doctype=fields.get("doctype", ""),
        date=fields.get("date", ""),
        score=score,
        snippet=snip.text,
        source=data["source"],
        citation=citation_line(data, unit),
        rank=rank,
        number=data.get("number", ""),
        kind=data.get("kind", ""),
        tags=[t for t in (fields.get("tags") or "").split(",") if t],
        partial=partial,
        cite_title=str(data.get("cite_title") or data["title"]),
        cite_label=unit or str(data.get("cite_label") or ""),
        url=web_address(str(data.get("url") or data["source"])),
    )


def web_address(value: str) -> str:
    """`value` if it is a web address (http or https), else ""."""
    return value if value.startswith(("http://", "https://")) else ""


def _facet_lists(
    counts: dict[str, dict[str, int]], vocabulary: Any
) -> dict[str, list[dict[str, Any]]]:
    from kb.model import DOCTYPE_LABELS

    out: dict[str, list[dict[str, Any]]] = {}
    for name, values in counts.items():
        items = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        if name == "year":
            items = sorted(values.items(), key=lambda kv: kv[0], reverse=True)
        if name == "tags":
            items = items[:MAX_TAG_FACETS]
        rows = []
        for value, count in items:
            label = value
            if name == "doctype":
                label = DOCTYPE_LABELS.get(value, value)
            elif name == "tags" and vocabulary is not None:
                try:
                    label = vocabulary.entry(value).label
                except Exception:
                    label = value
            rows.append({"value": value, "label": label, "count": count})
        out[name] = rows
    return out


# --- similar sections ------------------------------------------------------------------------

SIMILAR_KEY_TERMS = 12
SIMILAR_TAG_WEIGHT = 0.5


@_returns_searchers
def similar(
    doc_id: str,
    section_id: str | None = None,
    *,
    home: Path | str | None = None,
    limit: int = 10,
    same_document: bool = False,
    doctype: str | None = None,
    lang: str | None = None,
) -> Results:
    """Sections most like a given section ("DOC#SECTION", or DOC and SECTION), or like a
    whole document: its key terms (Whoosh's Bo1 model) plus its entity tags, which carry
    the likeness across languages. Other documents only, unless `same_document`."""
    started = time.perf_counter()
    if section_id is None and "#" in doc_id:
        doc_id, section_id = doc_id.split("#", 1)
    limit = max(1, min(int(limit), MAX_LIMIT))
    searcher, folder = searchers.get_with_folder(home_paths(home))
    if section_id:
        docnums = list(searcher.document_numbers(key=f"{doc_id}#{section_id}"))
        if not docnums:
            raise NotFoundError(
                f"no section {doc_id}#{section_id} in the index; `kb show {doc_id}` lists its sections"
            )
    else:
        docnums = list(searcher.document_numbers(doc_id=doc_id))
        if not docnums:
            raise NotFoundError(f"no document {doc_id!r} in the index; `kb docs` lists them")
        same_document = False
    stored = [searcher.stored_fields(d) for d in docnums]
    source_lang = stored[0].get("lang") or stored[0]["data"].get("doc_lang", "en")
    text = "\n\n".join(str(s["data"].get("text") or "") for s in stored)[:50_000]
    fieldname = body_field(source_lang)
    candidates = searcher.key_terms_from_text(
        fieldname, text, numterms=SIMILAR_KEY_TERMS * 2, normalize=True
    )
    # Numbers and two-letter stems say little about what a section is about.
    key_terms = [(t, w) for t, w in candidates if len(t) > 2 and not t.isdigit()]
    key_terms = key_terms[:SIMILAR_KEY_TERMS]
    tags = sorted({t for s in stored for t in (s.get("tags") or "").split(",") if t})
    subqueries: list[wq.Query] = [
        wq.Term(fieldname, term, boost=float(weight)) for term, weight in key_terms
    ]
    # Entity tags are the same in every language: they carry the likeness across.
    subqueries += [wq.Term("tags", t, boost=SIMILAR_TAG_WEIGHT) for t in tags]
    if not subqueries:
        return Results(query=f"similar:{doc_id}#{section_id or ''}", total=0)
    masks = (
        [wq.Term("doc_id", doc_id)]
        if not same_document
        else [wq.Term("key", f"{doc_id}#{section_id}")]
    )
    filters = [filter_term(n, v) for n, v in (("type", doctype), ("lang", lang)) if v]
    compiled = Compiled(wq.Or(subqueries), wq.And(filters) if len(filters) > 1 else (filters[0] if filters else None),
                        wq.Or(masks), [], [], {fieldname: {(t,) for t, _ in key_terms}})  # fmt: skip
    run = _run(searcher, compiled, [])
    page_items = run.ranked[:limit]
    hits = [_hit(searcher, d, s, compiled, i + 1, False) for i, (d, s, _) in enumerate(page_items)]
    label = f"{doc_id}#{section_id}" if section_id else doc_id
    results = Results(query=f"similar:{label}", total=run.total, hits=hits, page_size=limit,
                      pages=math.ceil(run.total / limit) if run.total else 0, grouped=False,
                      searched=" ".join(t for t, _ in key_terms))  # fmt: skip
    results.facets = _facet_lists(run.facets, load_vocabulary_for(folder))
    results.seconds = time.perf_counter() - started
    return results
