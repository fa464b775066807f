"""Editions of a law and which one is in force: from the repealing words of a later law
(English, Russian, Turkmen) or from manifest hints; shown by search and the web pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kb.acquire.sources import read_manifest
from kb.legal.editions import edition_statuses, law_identity, repeal_refs
from kb.model import Document, Section, SourceRef
from tests.cli_runner import invoke
from tests.web_support import web_client


def law(doc_id: str, lang: str, date: str, opening: str, final: str, **source: str) -> Document:
    return Document(
        id=doc_id,
        source=SourceRef(key=f"/laws/{doc_id}.md", location=f"{doc_id}.md", **source),
        format="text",
        title="Law on Combating Trafficking in Persons",
        sections=[
            Section("s1", 0, ["Preamble"], opening, 1, 1),
            Section("s2", 1, ["Final provisions"], final, 2, 2),
        ],
        doctype="legislation",
        lang=lang,
        date=date,
    )


OLD_EN = law(
    "ctip-2009-en", "en", "2009-03-02", "Ashgabat, 2 March 2009, No. 31-IV", "It enters into force."
)
NEW_EN = law(
    "ctip-2019-en",
    "en",
    "2019-06-01",
    "Ashgabat, 1 June 2019, No. 150-VI",
    "2. The Law of Turkmenistan on Combating Trafficking in Persons of 2 March 2009 No. 31-IV "
    "is declared invalid from the day this Law enters into force.",
)
NEW_RU = law(
    "ctip-2019-ru",
    "ru",
    "2019-06-01",
    "Ашхабад, 1 июня 2019 года, № 150-VI",
    "2. Закон Туркменистана о противодействии торговле людьми от 2 марта 2009 года № 31-IV "
    "признаётся утратившим силу со дня вступления в силу настоящего Закона.",
)
NEW_TK = law(
    "ctip-2019-tk",
    "tk",
    "2019-06-01",
    "Aşgabat şäheri, 2019-njy ýylyň 1-nji iýuny, № 150-VI",
    "2. Türkmenistanyň 2009-njy ýylyň 2-nji martyndaky № 31-IV Kanuny güýjüni ýitiren diýip "
    "ykrar edilsin.",
)


def test_repealing_words_name_the_repealed_law_in_three_languages() -> None:
    for doc in (NEW_EN, NEW_RU, NEW_TK):
        refs = repeal_refs(doc.sections[1].text)
        assert [(r.number, r.year) for r in refs] == [("31-IV", "2009")], doc.id
    assert repeal_refs("Section 5 of the Act is amended as follows.") == []
    assert law_identity(OLD_EN) == ("31-IV", "2009")


def test_a_repealed_law_names_its_successor_and_editions_are_linked() -> None:
    statuses = edition_statuses([OLD_EN, NEW_EN, NEW_RU, NEW_TK])
    old = statuses["ctip-2009-en"]
    assert old.status == "repealed"
    assert old.repealed_by == "ctip-2019-en"  # the repealing edition in its own language
    assert "declared invalid" in old.reason
    assert all(
        statuses[i].status == "in_force" for i in ("ctip-2019-en", "ctip-2019-ru", "ctip-2019-tk")
    )
    # Every edition and translation lists the others, newest first.
    assert set(statuses["ctip-2019-en"].editions) == {
        "ctip-2019-ru",
        "ctip-2019-tk",
        "ctip-2009-en",
    }
    assert statuses["ctip-2019-en"].editions[-1] == "ctip-2009-en"
    assert set(old.editions) == {"ctip-2019-en", "ctip-2019-ru", "ctip-2019-tk"}


def test_manifest_hints_mark_a_law_repealed(tmp_path: Path) -> None:
    manifest = tmp_path / "sources.toml"
    (tmp_path / "new.md").write_text("x", encoding="utf-8")
    manifest.write_text(
        '[[source]]\npath = "new.md"\ndoctype = "legislation"\n'
        'supersedes = ["ctip-2009-en"]\nin_force_from = "2019-10-15"\n',
        encoding="utf-8",
    )
    (entry,) = read_manifest(manifest)
    assert (entry.supersedes, entry.in_force_from) == ("ctip-2009-en", "2019-10-15")
    plain_new = law(
        "ctip-2019-en", "en", "2019-06-01", "No. 150-VI", "It enters into force.",
        supersedes=entry.supersedes, in_force_from=entry.in_force_from,
    )  # fmt: skip
    statuses = edition_statuses([OLD_EN, plain_new])
    assert statuses["ctip-2009-en"].status == "repealed"
    assert statuses["ctip-2009-en"].reason == "manifest: supersedes = 'ctip-2009-en'"
    assert statuses["ctip-2019-en"].in_force_from == "2019-10-15"


# --- on the bundled corpus: the 2016 law repeals the 2007 one ----------------------------


def _search(home: Path, *args: str) -> dict[str, Any]:
    code, out = invoke("search", *args, "--json", "--home", str(home))
    assert code == 0, out
    return json.loads(out)


def test_search_ranks_the_law_in_force_first_and_marks_the_repealed_one(corpus_home: Path) -> None:
    data = _search(corpus_home, "trafficking in persons", "--type", "legislation")
    order = [g["doc_id"] for g in data["groups"]]
    assert order.index("law-ctip-2016-en") < order.index("law-ctip-2007-en")
    old = next(h for h in data["hits"] if h["doc_id"] == "law-ctip-2007-en")
    assert (old["status"], old["repealed_by"]) == ("repealed", "law-ctip-2016-en")
    assert {h["status"] for h in data["hits"] if h["doc_id"] != "law-ctip-2007-en"} == {"in_force"}
    narrowed = _search(corpus_home, "trafficking in persons", "--type", "legislation", "--in-force")
    assert "law-ctip-2007-en" not in {h["doc_id"] for h in narrowed["hits"]}
    assert narrowed["filters"]["in_force"] == "yes"
    code, out = invoke("search", "trafficking in persons", "--type", "legislation",
                       "--home", str(corpus_home))  # fmt: skip
    assert code == 0 and "REPEALED by law-ctip-2016-en" in out


def test_web_pages_say_which_law_is_in_force(corpus_home: Path) -> None:
    client = web_client(corpus_home)
    old = client.get("/doc/law-ctip-2007-en").text
    assert 'class="banner repealed"' in old
    assert '<a href="/doc/law-ctip-2016-en">' in old
    assert "declared invalid" in old
    new = client.get("/doc/law-ctip-2016-en").text
    assert 'class="banner repealed"' not in new
    editions = new.split('<section class="editions">', 1)[1].split("</section>", 1)[0]
    assert editions.index("law-ctip-2016-ru") < editions.index("law-ctip-2007-en")
    found = client.get(
        "/search", params={"q": "trafficking in persons", "type": "legislation"}
    ).text
    assert "status-removed" in found  # the repealed law's badge


def test_a_provision_only_the_repealed_law_has_stays_on_the_first_page(corpus_home: Path) -> None:
    # The 2016 law dropped the 2007 article on licensing employment agencies: the old article
    # is still what a legal advisor needs to see (marked repealed), not pushed off the page
    # below every section of the law in force.
    data = _search(corpus_home, "licensing of private employment agencies", "--flat")
    ids = [f"{h['doc_id']}#{h['section_id']}" for h in data["hits"][:10]]
    assert "law-ctip-2007-en#art-14" in ids
    old = next(h for h in data["hits"] if h["doc_id"] == "law-ctip-2007-en")
    assert old["status"] == "repealed"
    in_force = [i for i, h in enumerate(data["hits"]) if h["doc_id"] == "law-ctip-2016-en"]
    repealed = [i for i, h in enumerate(data["hits"]) if h["doc_id"] == "law-ctip-2007-en"]
    assert in_force and min(in_force) < min(repealed)


def test_statuses_hold_no_law_while_reading_the_next() -> None:
    """A full build reads every law of the store to write the statuses: each one is let
    go once the next is read (a loop holds its last item until then), so a store of many
    long laws is not held at once."""
    import gc
    import weakref

    alive: list[weakref.ref[Document]] = []

    def laws_one_at_a_time() -> Any:
        for template in (OLD_EN, NEW_EN, NEW_RU, NEW_TK):
            gc.collect()
            assert not [ref for ref in alive[:-1] if ref() is not None], "earlier laws held"
            doc = Document(**{**template.__dict__, "sections": list(template.sections)})
            alive.append(weakref.ref(doc))
            yield doc
            del doc

    statuses = edition_statuses(laws_one_at_a_time())
    assert statuses["ctip-2009-en"].status == "repealed"
    assert statuses["ctip-2009-en"].repealed_by == "ctip-2019-en"
    assert len(alive) == 4
