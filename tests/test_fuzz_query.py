"""Generated queries and filters: `search` answers or raises one of our errors, never anything else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kb.errors import KBError
from kb.home import paths as home_paths
from kb.model import Document, Section, SourceRef, Tag
from kb.store import Store
from search.indexer import build_index
from search.query import Results, search, searchers

# Pieces of query syntax and of the three languages, to be shuffled into queries.
TOKENS = [
    "trafficking", "victims", "Ashgabat", "Mary", "торговля", "людьми", "жертв", "adam", "söwdasy",
    "ýaşlar", "129-1", "129¹", "TM10P0524", "AND", "OR", "NOT", "and", "(", ")", '"', "'", "*", "?",
    "~", "~2", "^", "^3", ":", "title:", "lang:", "doctype:", "year:2025", "tag:place.mary", "-", "+",
    "[", "]", "{", "}", "to", "[1 TO 5]", "\\", "/", "\u00a0", "\u200b", "\x00", "\t", "\n", "", " ",
    "é", "🙂", "%", "&", "|", "!", "=", ">", "<", "$", "#", "@", ",", ".", "..", "…", "«", "»",
]  # fmt: skip

queries = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join),
    st.lists(st.sampled_from(TOKENS), max_size=12).map("".join),
    st.text(alphabet="()\"'*?~^:-+[]{} abcAND", max_size=40),
    st.text(min_size=990, max_size=1100, alphabet="ab "),
)
# Mostly no filter or a valid one, so that paging and sorting get exercised on real answers too.
filters = st.one_of(
    st.sampled_from(
        [None, None, None, None, "", "en", "ru", "tk", "legislation", "2025", "place.mary"]
    ),
    st.text(max_size=12),
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A small index (documents made directly, no extraction or tagging) in three languages."""
    root = tmp_path_factory.mktemp("fuzz-home")
    paths = home_paths(root).ensure()
    texts = {
        "en": ("Identification of victims of trafficking in Ashgabat and Mary.", "en"),
        "ru": ("Статья 129-1. Торговля людьми и защита жертв.", "ru"),
        "tk": ("Adam söwdasyna garşy göreşmek hakynda kanun, ýaşlar üçin.", "tk"),
    }
    with Store(paths.store) as store, store.transaction() as db:
        for doc_id, (text, lang) in texts.items():
            section = Section(id="s-1", order=0, heading_path=["Article 5"], text=text, lang=lang, number="5",
                              tags=[Tag("entity", "place.mary")])  # fmt: skip
            source = SourceRef(key=f"/corpus/{doc_id}.pdf", location=f"{doc_id}.pdf")
            doc = Document(id=doc_id, source=source, format="pdf", title=f"Law {doc_id}", sections=[section],
                           doctype="legislation", lang=lang, date="2025-03-01")  # fmt: skip
            store.save_document(doc, db)
    with Store(paths.store) as store:
        build_index(paths, store)
    yield root
    searchers.close()


def _search_or_our_error(home: Path, query: str, **options: object) -> None:
    try:
        results = search(query, home=home, **options)  # type: ignore[arg-type]
    except KBError as exc:
        event(f"refused: {type(exc).__name__}")
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        return
    event("answered with hits" if results.total else "answered, no hits")
    assert isinstance(results, Results) and results.total >= 0


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=queries)
def test_queries_raise_nothing_but_our_errors(home: Path, query: str) -> None:
    _search_or_our_error(home, query)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=queries, doctype=filters, lang=filters, year=filters, tag=filters,
       page=st.integers(-3, 30), limit=st.integers(-5, 40), sort=st.sampled_from(["relevance", "date", "date", "x"]),
       flat=st.booleans())  # fmt: skip
def test_filters_and_paging_raise_nothing_but_our_errors(
    home: Path, query: str, doctype: str | None, lang: str | None, year: str | None, tag: str | None,
    page: int, limit: int, sort: str, flat: bool,
) -> None:  # fmt: skip
    _search_or_our_error(home, query, doctype=doctype, lang=lang, year=year, tag=tag, page=page, limit=limit,
                         sort=sort, flat=flat)  # fmt: skip
