"""Search across languages: an expansion never loses the words typed, inflected Russian
names are entities, and a query's own language is on the first page."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.home import paths as home_paths
from kb.model import Document, Section, SourceRef, Tag
from kb.store import Store
from kb.tagging.vocab import load_vocabulary
from search.indexer import build_index
from search.query import _with_query_language, search, searchers


def _section(sid: str, order: int, heading: str, text: str, lang: str,
             entities: tuple[str, ...] = ()) -> Section:  # fmt: skip
    return Section(id=sid, order=order, heading_path=[heading], text=text, lang=lang,
                   tags=[Tag("entity", e) for e in entities])  # fmt: skip


def _doc(doc_id: str, title: str, lang: str, sections: list[Section]) -> Document:
    source = SourceRef(key=f"/corpus/{doc_id}.pdf", location=f"{doc_id}.pdf")
    return Document(id=doc_id, source=source, format="pdf", title=title, sections=sections,
                    doctype="report", lang=lang, languages=[lang])  # fmt: skip


def _documents() -> list[Document]:
    # English reports that all mention the Balkan velayat and victim identification, and
    # are tagged with both entities (so the tag alternative alone would match them).
    english = [
        _doc(
            f"report-{n}",
            f"Quarterly report {n}",
            "en",
            [
                _section(
                    "s-1",
                    0,
                    "Victim identification in Balkan velayat",
                    f"Report {n}: victim identification training held in Balkan velayat for "
                    "police officers and social workers; victim identification checklists.",
                    "en",
                    ("place.balkan", "topic.victim_identification"),
                )
            ],
        )
        for n in range(1, 13)
    ]
    # A Russian page with the place name in the genitive and no entity tags at all: only
    # the words typed can find it.
    russian = _doc(
        "ru-seminar",
        "Семинар для социальных работников",
        "ru",
        [
            _section(
                "intro",
                0,
                "Семинар",
                "Социальные работники Балканского велаята обсудили, как проходит выявление "
                "жертв торговли людьми и куда их направлять. "
                "Участники делились опытом работы с семьями и школами района.",
                "ru",
            )
        ],
    )
    return [*english, russian]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("lang-search")
    paths = home_paths(home).ensure()
    with Store(paths.store) as store:
        with store.transaction() as db:
            for doc in _documents():
                store.save_document(doc, db)
        build_index(paths, store)
    return home


def _keys(results) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.key for h in results.hits]


def test_words_typed_in_the_nominative_find_the_genitive_without_the_vocabulary(home: Path) -> None:
    results = search("Балканский велаят", home=home, flat=True, expand=False)
    assert _keys(results) == ["ru-seminar#intro"]
    assert not results.hits[0].partial  # both words match, not "Балканский" alone


def test_an_expansion_adds_alternatives_and_keeps_the_page_with_the_words_typed(home: Path) -> None:
    results = search("Балканский велаят", home=home, flat=True, limit=5)
    assert [e.entity for e in results.expansions] == ["place.balkan"]
    # The untagged Russian page holds the very words typed: it is found and comes first,
    # among the tagged English reports the expansion adds.
    assert _keys(results)[0] == "ru-seminar#intro"
    assert results.total == 13


def test_a_russian_query_has_russian_sections_on_the_first_page(home: Path) -> None:
    results = search("выявление жертв", home=home, limit=10)
    langs = [h.lang for h in results.hits]
    assert "ru" in langs and "en" in langs  # its own language, and the expansion's


def test_sections_in_the_query_language_move_up_into_the_first_page(home: Path) -> None:
    # A ranking where twelve English sections outscore the only Russian one (as the
    # heading-boosted English manual outscored Russian pages for "признаки эксплуатации").
    searcher = searchers.get(home_paths(home))
    docnum = {searcher.stored_fields(d)["key"]: d for d in range(searcher.doc_count_all())}
    english = [(docnum[f"report-{n}#s-1"], 20.0 - n, 0) for n in range(1, 13)]
    russian = (docnum["ru-seminar#intro"], 5.0, 0)
    order = _with_query_language(searcher, [*english, russian], "ru", 10)
    assert order[:9] == english[:9] and order[9] == russian  # the last place of page 1
    assert order[10:] == english[9:]  # the displaced English sections move down, not away
    # An English query or a weak Russian section leaves the order alone.
    assert _with_query_language(searcher, [*english, russian], "en", 10) == [*english, russian]
    weak = (russian[0], 1.0, 0)  # under a fifth of the best score
    assert _with_query_language(searcher, [*english, weak], "ru", 10) == [*english, weak]


@pytest.mark.parametrize(
    ("text", "entity", "mention"),
    [
        ("Семинар прошёл в Балканском велаяте.", "place.balkan", "Балканском велаяте"),
        ("Жители Балканского велаята", "place.balkan", "Балканского велаята"),
        ("в Лебапском и Дашогузском велаятах", "place.lebap", "Лебапском"),
        ("в Лебапском и Дашогузском велаятах", "place.dashoguz", "Дашогузском велаятах"),
        ("хякимлик Дашогузского велаята", "place.dashoguz", "Дашогузского велаята"),
        ("работа в Туркменистане", "place.turkmenistan", "Туркменистане"),
        ("граждане Туркменистана", "place.turkmenistan", "Туркменистана"),
        ("с Министерством внутренних дел", "gov.ministry_interior", "Министерством внутренних дел"),
        ("органы выявляют жертв торговли людьми", "topic.victim_identification",
         "выявляют жертв торговли людьми"),
    ],
)  # fmt: skip
def test_russian_names_are_tagged_in_every_case(text: str, entity: str, mention: str) -> None:
    found = {(m.id, m.text) for m in load_vocabulary().find(text)}
    assert (entity, mention) in found


def test_balkan_alone_is_not_the_velayat() -> None:
    # "Балканский полуостров" is the Balkans, not the Turkmen velayat.
    assert not load_vocabulary().find("на Балканском полуострове")
