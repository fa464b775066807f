"""A whole build over the hostile corpus: every readable source indexed, one clear failure per bad one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hostile.fixtures import hostile_corpus
from hostile.make_hostile import Expected
from typer.testing import CliRunner

from kb.cli import app
from kb.home import paths as home_paths
from kb.ingest.report import run_report_markdown
from kb.ingest.sequence import run_ingest
from kb.store import Store
from search.query import search

pytestmark = pytest.mark.usefixtures("closing_searchers")

runner = CliRunner()

# A phrase from each readable hostile file: search must find its document.
FINDABLE = {
    "good-manual.pdf": "withheld passports",
    "broken-xref.pdf": "withheld passports",
    "encrypted-empty-password.pdf": "withheld passports",
    "outline-missing-pages.pdf": "withheld passports",
    "charset-says-1251-is-utf8.html": "собираются работать",
    "charset-says-utf8-is-1251.html": "собираются работать",
    "no-body.html": "opened in Mary",
    "deeply-nested.html": "buried under many layers",
    "Отчёт о семинаре 'Мары' \"2018\".html": "миграционной службы",
    "project-ctip-2008-2009.html": "information campaigns",
    "hotline leaflet.pdf": "visa rules",
    "copies/hotline leaflet (copy).pdf": "visa rules",
}


def _failures_by_source(failures: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for failure in failures:
        grouped.setdefault(failure["source"], []).append(failure)
    return grouped


def _check_failures(failures: list[dict[str, str]], expected: dict[str, Expected]) -> None:
    """One failure per bad source, with its stage and reason; none for the others."""
    grouped = _failures_by_source(failures)
    bad = {name for name, want in expected.items() if not want.indexed}
    assert set(grouped) == bad
    for name in bad:
        [failure] = grouped[name]
        assert failure["stage"] == expected[name].stage, name
        assert failure["reason"].startswith(expected[name].reason), (name, failure["reason"])


def test_build_indexes_every_readable_source_and_reports_the_rest(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    folder, expected = hostile_corpus(tmp_path_factory)
    home = tmp_path / "home"
    changes = run_ingest(home, corpus=folder)
    _check_failures([f.as_dict() for f in changes.failures], expected)
    assert changes.sources["duplicate"] == 1

    with Store(home_paths(home).store) as store:
        records = {r.location: r for r in store.sources()}
        for name, want in expected.items():
            record = records[name]
            if not want.indexed:
                assert record.status == "failed" and record.doc_id is None, name
                assert record.error == next(f.reason for f in changes.failures if f.source == name)
                continue
            if want.same_as:
                assert record.status in ("ok", "duplicate"), name
                continue
            assert record.status == "ok" and store.load_document(record.doc_id or "") is not None, (
                name
            )

        # The same leaflet twice: indexed once, both places recorded.
        pair = [records["hotline leaflet.pdf"], records["copies/hotline leaflet (copy).pdf"]]
        [original] = [r for r in pair if r.status == "ok"]
        [copy] = [r for r in pair if r.status == "duplicate"]
        assert copy.duplicate_of == original.key and copy.doc_id is None

    for name, phrase in FINDABLE.items():
        hits = search(f'"{phrase}"', home=home, limit=50).hits
        assert hits, f"{name}: nothing found for {phrase!r}"
    leaflet_docs = {h.doc_id for h in search('"visa rules"', home=home, limit=50).hits}
    assert leaflet_docs == {original.doc_id}

    shown = runner.invoke(app, ["show", original.doc_id or "", "--json", "--home", str(home)])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["duplicates"] == [copy.location]
    text = runner.invoke(
        app, ["show", original.doc_id or "", "--home", str(home)], terminal_width=200
    )
    assert "also at" in text.output and copy.location in text.output

    # A second run over the same files: the same failures again (still bad), nothing else moves.
    again = run_ingest(home, corpus=folder)
    _check_failures([f.as_dict() for f in again.failures], expected)
    assert again.documents == {"added": 0, "updated": 0, "removed": 0}
    assert again.sections == {"added": 0, "updated": 0, "removed": 0}


def _prefect_artifact(api_url: str, key: str) -> str:
    """The newest Prefect artifact with this key, read back from the server."""
    import httpx

    body = {"artifacts": {"key": {"any_": [key]}}, "sort": "CREATED_DESC", "limit": 1}
    found = httpx.post(f"{api_url}/artifacts/filter", json=body)
    found.raise_for_status()
    return str(found.json()[0]["data"]) if found.json() else ""


@pytest.mark.flow
@pytest.mark.slow
def test_kb_build_shows_each_failure_in_summary_status_and_artifact(
    prefect_api: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    folder, expected = hostile_corpus(tmp_path_factory, large=True)
    home = tmp_path / "home"
    built = runner.invoke(app, ["build", "--corpus", str(folder), "--json", "--home", str(home)])
    assert built.exit_code == 0, built.output
    summary: dict[str, Any] = json.loads(built.stdout[built.stdout.index("{") :])
    _check_failures(summary["failures"], expected)
    assert summary["sources"]["failed"] == len([e for e in expected.values() if not e.indexed])

    status = runner.invoke(app, ["status", "--json", "--home", str(home)])
    assert status.exit_code == 0, status.output
    _check_failures(json.loads(status.output)["runs"][0]["failures"], expected)

    artifact = _prefect_artifact(prefect_api, "ingest-report")
    assert artifact == run_report_markdown(summary | {"id": summary["id"]})
    for name, want in expected.items():
        if not want.indexed:
            assert f"- `{name}` ({want.stage}): {want.reason}" in artifact, name

    # What `kb build` prints after its progress bars, from the same summary.
    from kb.cli import core

    with core.console.capture() as printed:
        core._print_summary(summary)
    shown = " ".join(printed.get().split())
    for name, want in expected.items():
        if not want.indexed:
            assert f"failed {name} ({want.stage}): {want.reason}" in shown, name


def test_a_source_that_breaks_tagging_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tagging bug on one source: that source fails with the stage named, the others are indexed."""
    import kb.tagging.tagger as tagger
    from kb.acquire.sources import discover, folder_manifest
    from kb.ingest.pipeline import Outcome, build_many, extract_many, take_build_failures

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.html").write_text(
        "<html><body><h1>Shelter</h1><p>A shelter opened.</p></body></html>"
    )
    (docs / "cursed.html").write_text(
        "<html><body><h1>Cursed</h1><p>This one breaks.</p></body></html>"
    )
    real = tagger.tag_document

    def flaky(doc, vocabulary=None):  # type: ignore[no-untyped-def]
        if doc.title == "Cursed":
            raise ValueError("unexpected input")
        return real(doc, vocabulary)

    monkeypatch.setattr(tagger, "tag_document", flaky)

    # The flow's way: build_many (maybe in another process), then take_build_failures.
    from kb.acquire.fetch import fetch_file

    refs = discover(folder_manifest(docs), root=docs)
    outcomes = [
        Outcome(r, "new", fetched=fetch_file(r, size=None, mtime_ns=None, known_sha=None))
        for r in refs
    ]
    extract_many(outcomes)
    documents = take_build_failures(outcomes, build_many([(o, o.ref.location) for o in outcomes]))
    assert [d.title for d in documents] == ["Shelter"]
    [cursed] = [o for o in outcomes if o.ref.location == "cursed.html"]
    assert cursed.state == "failed" and cursed.failure is not None
    assert cursed.failure.as_dict() == {
        "source": "cursed.html",
        "stage": "tag",
        "reason": "tagging failed (a bug; please report it): ValueError: unexpected input",
    }

    # The library runner's way.
    changes = run_ingest(tmp_path / "home", corpus=docs)
    assert [f.as_dict()["stage"] for f in changes.failures] == ["tag"]
    assert changes.documents["added"] == 1
