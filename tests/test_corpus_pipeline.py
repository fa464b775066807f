"""What a user checks on the bundled corpus, through extraction, tagging, store, index and search."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kb.cli import app
from kb.store import Store
from search.query import search

runner = CliRunner()


def test_labour_exploitation_query_finds_the_manual_section_with_its_pages(
    corpus_home: Path,
) -> None:
    results = search("indicators of labour exploitation", home=corpus_home)
    top = results.hits[0]
    assert (top.doc_id, top.section_id) == ("training-manual-victim-identification", "s-3-2")
    assert top.heading_path[-1] == "3.2 Indicators of labour exploitation"
    assert top.pages == [15, 16]
    assert top.doctype == "training_manual"
    assert "**" in top.snippet


def test_russian_page_is_russian_and_found_with_another_word_form(corpus_home: Path) -> None:
    with Store(corpus_home / "kb.sqlite") as store:
        doc = store.load_document("ru-hotline-campaign")
    assert doc is not None and doc.lang == "ru"
    assert all(s.lang == "ru" for s in doc.sections)
    # The page says "жертвам/жертв торговли людьми"; the query uses the nominative singular.
    hits = search("жертва торговли", home=corpus_home, lang="ru").hits
    assert any(h.doc_id == "ru-hotline-campaign" for h in hits)


def test_windows_1251_page_text_is_decoded(corpus_home: Path) -> None:
    with Store(corpus_home / "kb.sqlite") as store:
        doc = store.load_document("ru-hotline-campaign")
    assert doc is not None
    assert "торговли людьми" in doc.text and "Ð" not in doc.text


def test_site_boilerplate_is_in_no_indexed_section(corpus_home: Path) -> None:
    banner = [
        "Позвоните на Горячую Линию",
        "Do you plan to travel abroad",
        "the migration agency",
        "Site map",
    ]
    with Store(corpus_home / "kb.sqlite") as store:
        web_docs = [d for d in store.iter_documents() if d.format == "html"]
        assert len(web_docs) >= 6
        for doc in web_docs:
            for section in doc.sections:
                for phrase in banner:
                    assert phrase not in section.text, (doc.id, section.id, phrase)
    assert search('"Позвоните на Горячую Линию"', home=corpus_home).total == 0


def test_pdf_running_headers_and_page_numbers_are_gone(corpus_home: Path) -> None:
    with Store(corpus_home / "kb.sqlite") as store:
        manual = store.load_document("training-manual-victim-identification")
    assert manual is not None and manual.page_count >= 30
    section = manual.section("s-3-2")
    assert section is not None
    assert "Page 15" not in section.text and "IOM Turkmenistan ·" not in section.text


def test_every_source_became_a_document_with_sections(corpus_home: Path) -> None:
    with Store(corpus_home / "kb.sqlite") as store:
        counts = store.counts()
        docs = store.documents()
    assert counts["documents"] == 14 and counts["sections"] > 100
    assert all(d["sections"] > 0 for d in docs)


def test_turkmen_page_is_tagged_tk(corpus_home: Path) -> None:
    with Store(corpus_home / "kb.sqlite") as store:
        doc = store.load_document("tk-habarlar-2024")
    assert doc is not None and doc.lang == "tk"


def test_cli_search_json_shape(corpus_home: Path) -> None:
    result = runner.invoke(app, ["search", "indicators of labour exploitation", "--json", "--limit", "3",
                                 "--home", str(corpus_home)])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"query", "total", "hits"} <= data.keys()
    hit = data["hits"][0]
    expected = {
        "doc_id",
        "section_id",
        "title",
        "heading",
        "pages",
        "lang",
        "doctype",
        "date",
        "score",
        "snippet",
        "source",
    }
    assert expected <= hit.keys()
    assert hit["source"] == "manuals/training-manual-victim-identification.pdf"
    assert hit["pages"] == [15, 16]


def test_cli_show_document_and_section(corpus_home: Path) -> None:
    result = runner.invoke(
        app, ["show", "training-manual-victim-identification", "--json", "--home", str(corpus_home)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["doctype"] == "training_manual"
    assert any(s["id"] == "s-3-2" and s["pages"] == [15, 16] for s in data["sections"])
    one = runner.invoke(
        app, ["show", "training-manual-victim-identification#s-3-2", "--home", str(corpus_home)]
    )
    assert one.exit_code == 0 and "Indicators of labour exploitation" in one.output


def test_cli_errors_are_one_line_not_tracebacks(corpus_home: Path, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["show", "no-such-doc", "--home", str(corpus_home)])
    assert missing.exit_code == 1 and "no document 'no-such-doc'" in missing.output
    assert "Traceback" not in missing.output
    empty_home = runner.invoke(app, ["search", "hotline", "--home", str(tmp_path / "empty")])
    assert empty_home.exit_code == 1 and "run `kb build` first" in empty_home.output


def test_law_structure_is_stored_and_shown(corpus_home: Path) -> None:
    with Store(corpus_home / "kb.sqlite") as store:
        saved = store.load_artifact("law-ctip-2016-en", "structure")
    assert saved is not None
    result = runner.invoke(
        app, ["show", "law-ctip-2016-en", "--structure", "--json", "--home", str(corpus_home)]
    )
    assert result.exit_code == 0, result.output
    tree = json.loads(result.output)["structure"]
    ids = []

    def walk(unit: dict) -> None:
        ids.append(unit["id"])
        for child in unit.get("children", []):
            walk(child)

    walk(tree)
    assert "chp_1__art_1__para_1__point_a" in ids


def test_kb_facts_lists_project_facts_with_their_sentences(corpus_home: Path) -> None:
    result = runner.invoke(app, ["facts", "--json", "--home", str(corpus_home)])
    assert result.exit_code == 0, result.output
    projects = {p["doc_id"]: p for p in json.loads(result.output)["projects"]}
    old = projects["project-ctip-2008-2009"]
    period = next(f for f in old["facts"] if f["name"] == "period")
    assert period["data"]["start"] == "2008-12" and period["data"]["end"] == "2009-11"
    assert "31 November 2009" in period["sentence"]
    ids = [
        f["value"]
        for f in projects["project-legal-framework"]["facts"]
        if f["name"] == "project_id"
    ]
    assert "TM10P0524" in ids
    timeline = runner.invoke(app, ["facts", "--timeline", "--json", "--home", str(corpus_home)])
    starts = [p["start"] for p in json.loads(timeline.output)["projects"] if p["start"]]
    assert starts == sorted(starts) and starts[0] == "2008-12"


# Read off the documents: what a person would call each one.
EXPECTED_TYPES = {
    "law-ctip-2007-en": "legislation",
    "law-ctip-2016-en": "legislation",
    "law-ctip-2016-ru": "legislation",
    "national-action-plan-2025-2029": "action_plan",
    "news-tot-mary-2018": "event_report",
    "newsletter-2011-12-en": "newsletter",
    "newsletter-2011-12-ru": "newsletter",
    "project-ctip-2008-2009": "project_page",
    "project-legal-framework": "project_page",
    "ru-hotline-campaign": "event_report",
    "tk-habarlar-2024": "event_report",
    "training-manual-victim-identification": "training_manual",
    "training-workshop-2025": "event_report",
}


def test_document_types_are_detected_without_the_manifest_hints(corpus_home: Path) -> None:
    import dataclasses

    from kb.tagging.doctype import detect_doctype

    with Store(corpus_home / "kb.sqlite") as store:
        docs = {d.id: d for d in store.iter_documents()}
    detected = {}
    for doc_id in EXPECTED_TYPES:
        doc = docs[doc_id]
        doc.source = dataclasses.replace(doc.source, doctype_hint="")
        detected[doc_id], reason = detect_doctype(doc)
        assert reason, doc_id
    right = sum(detected[d] == t for d, t in EXPECTED_TYPES.items())
    assert right == len(EXPECTED_TYPES), {
        d: t for d, t in detected.items() if t != EXPECTED_TYPES[d]
    }


def test_a_documents_own_tags_are_kept_once_and_read_back(
    corpus_home: Path, tmp_path: Path
) -> None:
    """A document's own tags are rows of the tags table, not also copies in its stored JSON
    (which every load used to parse only to replace them), and they load back the same; a
    store written before, with the copies, loads the same too."""
    with Store(corpus_home / "kb.sqlite") as store:
        doc = store.load_document("ru-hotline-campaign")
        assert doc is not None and doc.tags
        (data,) = store.db.execute("SELECT data FROM documents WHERE id = ?", (doc.id,)).fetchone()
    assert "tags" not in json.loads(data)
    with Store(tmp_path / "kb.sqlite") as copy:
        with copy.transaction() as db:
            copy.save_document(doc, db)
        assert copy.load_document(doc.id) == doc
        head = {**json.loads(data), "tags": [{"kind": "entity", "value": "stale.copy"}]}
        with copy.transaction() as db:
            db.execute("UPDATE documents SET data = ? WHERE id = ?", (json.dumps(head), doc.id))
        assert copy.load_document(doc.id) == doc
