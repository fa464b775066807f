"""A disjunction that scores a section by its best-matching alternative.

Used for the vocabulary's terms in other languages: a section that says "торговля
людьми" and "противодействие торговле людьми" should count once, not once per variant.
Whoosh has `DisjunctionMax`, but its matcher (whoosh-reloaded 2.7.5) returns the larger
of the two sub-scores even when only one sub-matcher is on the current document, so
sections that match nothing score as if they matched (tested in tests/test_search_query.py).
"""

from __future__ import annotations

from typing import Any

from whoosh import matching
from whoosh.matching import UnionMatcher, WrappingMatcher
from whoosh.util import make_binary_tree

from search.whoosh_internals import PluggableCompoundQuery, forget_current_id


class BestOfMatcher(UnionMatcher):
    """The union of two matchers, scoring each document by the better of the two on it
    (plus `tiebreak` times the other). Quality-based skipping is disabled: the union's
    quality bounds assume added scores."""

    def __init__(self, a: Any, b: Any, tiebreak: float = 0.0) -> None:
        super().__init__(a, b)
        self.tiebreak = tiebreak

    def copy(self) -> BestOfMatcher:
        return self.__class__(self.a.copy(), self.b.copy(), self.tiebreak)

    def supports_block_quality(self) -> bool:
        return False

    def replace(self, minquality: float = 0) -> Any:
        a_active, b_active = self.a.is_active(), self.b.is_active()
        if not (a_active or b_active):
            return matching.NullMatcher()
        if not a_active:
            return self.b.replace(0)
        if not b_active:
            return self.a.replace(0)
        a, b = self.a.replace(0), self.b.replace(0)
        if a is not self.a or b is not self.b:
            return self.__class__(a, b, self.tiebreak)
        forget_current_id(self)
        return self

    def score(self) -> float:
        a, b = self.a, self.b
        if not a.is_active():
            return b.score()
        if not b.is_active():
            return a.score()
        id_a, id_b = a.id(), b.id()
        if id_a < id_b:
            return a.score()
        if id_b < id_a:
            return b.score()
        sa, sb = a.score(), b.score()
        return max(sa, sb) + self.tiebreak * min(sa, sb)


class BestOf(PluggableCompoundQuery):
    """Matches what any subquery matches; scores by the best one (see BestOfMatcher)."""

    JOINT = " | "
    intersect_merge = False

    def __init__(self, subqueries: list[Any], boost: float = 1.0, tiebreak: float = 0.0) -> None:
        super().__init__(subqueries, boost=boost)
        self.tiebreak = tiebreak

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and getattr(other, "tiebreak", None) == self.tiebreak

    def __hash__(self) -> int:
        return super().__hash__() ^ hash(self.tiebreak)

    def normalize(self) -> Any:
        norm = super().normalize()
        if isinstance(norm, BestOf):
            norm.tiebreak = self.tiebreak
        return norm

    def requires(self) -> set[Any]:
        return self.subqueries[0].requires() if len(self.subqueries) == 1 else set()

    def estimate_size(self, ixreader: Any) -> int:
        return sum(q.estimate_size(ixreader) for q in self.subqueries)

    def combine(self, subs: list[Any], searcher: Any, context: Any) -> Any:
        matchers = [q.matcher(searcher, context) for q in subs]
        matcher = make_binary_tree(BestOfMatcher, matchers, tiebreak=self.tiebreak)
        if self.boost != 1.0:
            matcher = WrappingMatcher(matcher, self.boost)
        return matcher
