"""kb.library in-process: the objects both shells print are the library's own answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from web_support import build_small_home

from kb.cli import app
from kb.errors import NotFoundError
from kb.library import KnowledgeBase, document_dict, section_dict

runner = CliRunner()


def cli_json(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_search_is_the_one_kb_search_prints(corpus_home: Path) -> None:
    results = KnowledgeBase(corpus_home).search("hotline", limit=3)
    cli = cli_json("search", "hotline", "--limit", "3", "--json", "--home", str(corpus_home))
    assert [h.key for h in results.hits] == [
        f"{h['doc_id']}#{h['section_id']}" for h in cli["hits"]
    ]
    assert results.total == cli["total"] > 0


def test_a_law_with_its_editions_and_the_dictionaries_kb_show_prints(corpus_home: Path) -> None:
    view = KnowledgeBase(corpus_home).document("law-ctip-2007-en")
    # The 2007 law was replaced by the 2016 one, in two languages: its page says so.
    assert view.edition is not None and view.edition.status == "repealed"
    assert {"law-ctip-2016-en", "law-ctip-2016-ru"} <= {e["id"] for e in view.editions}
    assert view.in_force_id == "law-ctip-2016-en"
    home = str(corpus_home)
    assert document_dict(view.document, view.duplicates) == cli_json(
        "show", "law-ctip-2007-en", "--json", "--home", home
    )
    first = view.document.sections[1]
    assert {
        "doc_id": view.document.id,
        "title": view.document.title,
        **section_dict(first, with_text=True),
    } == cli_json("show", f"law-ctip-2007-en#{first.id}", "--json", "--home", home)


def test_an_unknown_document_is_named_with_the_callers_hint(corpus_home: Path) -> None:
    with pytest.raises(NotFoundError, match=r"^no document 'nope'; `kb docs` lists them$"):
        KnowledgeBase(corpus_home).document("nope", hint="`kb docs` lists them")


def test_files_are_read_only_when_the_caller_allows_them(corpus_home: Path, tmp_path: Path) -> None:
    law = tmp_path / "law.md"
    law.write_text(
        "# Law on Trafficking\n\n## Article 1. Trafficking in persons\n\n"
        "The recruitment of a person by force for the purpose of exploitation.\n",
        encoding="utf-8",
    )
    kb = KnowledgeBase(corpus_home)
    assert kb.legal_source(str(law), files=True).name == "law.md"
    # The web passes no `files`: a path on the server is never opened.
    with pytest.raises(NotFoundError, match="is neither a file nor a document"):
        kb.legal_source(str(law))


def test_a_comparison_is_kb_compare_json_plus_each_national_definition(corpus_home: Path) -> None:
    result = KnowledgeBase(corpus_home).compare("law-ctip-2007-en", "law-ctip-2016-en")
    data = result.as_dict()
    assert set(data.pop("definition")) == {"a", "b"}
    cli = cli_json(
        "compare", "law-ctip-2007-en", "law-ctip-2016-en", "--json", "--home", str(corpus_home)
    )
    assert data == cli


def test_a_folder_without_a_store_gets_a_clear_error_and_no_new_store(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path)
    for ask in (kb.documents, kb.status, lambda: kb.document("x")):
        with pytest.raises(NotFoundError, match=r"no knowledge base in .*: run `kb build` first"):
            ask()
    assert list(tmp_path.iterdir()) == []


def test_the_status_with_totals_adds_run_ids_and_the_counts(tmp_path: Path) -> None:
    kb = KnowledgeBase(build_small_home(tmp_path))
    plain = kb.status(ask_server=False)
    full = kb.status(ask_server=False, totals=True)
    assert full["totals"]["documents"] == len(kb.documents()) == 2
    assert [r["started"] for r in full["runs"]] == [r["started"] for r in plain["runs"]]
    assert [r["id"] for r in full["runs"]] == [2, 1]
    assert "totals" not in plain and "id" not in plain["runs"][0]
