"""Incremental re-indexing with the library functions (no Prefect): what a nightly run redoes, and what not."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from nightly_helpers import run_plain, write_manifest
from pdf_fixtures import make_pdf

import kb.acquire.fetch
import kb.ingest.pipeline
from kb.extract import EXTRACTOR_VERSIONS
from kb.ingest.commit import pending_index_changes
from kb.runtime.lock import BusyError, ingest_lock
from kb.store import Store
from search.query import search

pytestmark = pytest.mark.usefixtures("closing_searchers")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Two PDFs, a web page saved as HTML and a Markdown note, listed by folder."""
    docs = tmp_path / "docs"
    docs.mkdir()
    make_pdf(
        docs / "manual.pdf",
        [["Module 1 Identification", "Indicators of trafficking: the quokka case."]],
    )
    make_pdf(
        docs / "newsletter.pdf",
        [["Newsletter December", "A training in Mary on the platypus method."]],
    )
    (docs / "page.html").write_text(
        "<!doctype html><html><head><title>Hotline campaign</title></head><body><h1>Hotline campaign</h1>"
        "<p>The hotline answered calls about the wombat scheme in Ashgabat.</p></body></html>",
        encoding="utf-8",
    )
    (docs / "note.md").write_text(
        "# Referral note\n\nShelters accept referrals from the numbat desk.\n", encoding="utf-8"
    )
    return write_manifest(tmp_path / "sources.toml", [{"folder": "docs", "collection": "docs"}])


def _hits(home: Path, query: str) -> set[str]:
    return {h.doc_id for h in search(query, home=home).hits}


def test_second_run_with_nothing_changed_extracts_nothing(
    tmp_path: Path, corpus: Path, extracted: list[str]
) -> None:
    home = tmp_path / "home"
    first = run_plain(home, corpus)
    assert first.sources["new"] == 4 and not first.failures
    extracted.clear()

    second = run_plain(home, corpus)

    assert extracted == []
    assert second.sources["unchanged"] == 4
    assert (second.changed_docs, second.removed_docs) == ([], [])
    assert _hits(home, "quokka") == {"manual"}


def test_touching_a_file_without_changing_it_extracts_nothing(
    tmp_path: Path, corpus: Path, extracted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    run_plain(home, corpus)
    newsletter = corpus.parent / "docs" / "newsletter.pdf"
    later = time.time() + 60
    os.utime(newsletter, (later, later))
    extracted.clear()

    touched = run_plain(home, corpus)

    assert extracted == []
    assert touched.sources["unchanged"] == 4 and touched.sources["changed"] == 0
    # The new time is remembered: the next run does not even hash the file again.
    hashed: list[int] = []
    real_sha = kb.acquire.fetch.sha256
    monkeypatch.setattr(
        kb.acquire.fetch, "sha256", lambda data: hashed.append(len(data)) or real_sha(data)
    )
    run_plain(home, corpus)
    assert hashed == []


def test_changing_one_pdf_re_extracts_only_it_and_search_sees_the_new_text(
    tmp_path: Path, corpus: Path, extracted: list[str]
) -> None:
    home = tmp_path / "home"
    run_plain(home, corpus)
    assert _hits(home, "platypus") == {"newsletter"}
    make_pdf(
        corpus.parent / "docs" / "newsletter.pdf",
        [
            ["Newsletter December", "A training in Mary on the echidna method."],
            ["Annex", "List of participants."],
        ],
    )
    extracted.clear()

    changes = run_plain(home, corpus)

    assert extracted == ["docs/newsletter.pdf"]
    assert changes.sources["changed"] == 1 and changes.sources["unchanged"] == 3
    assert changes.changed_docs == ["newsletter"]
    [updated] = changes.digest["updated"]
    assert updated["id"] == "newsletter" and updated["title"].startswith("Newsletter December")
    assert _hits(home, "echidna") == {"newsletter"}
    assert _hits(home, "platypus") == set()


def test_deleting_a_file_removes_its_sections_from_search(tmp_path: Path, corpus: Path) -> None:
    home = tmp_path / "home"
    run_plain(home, corpus)
    assert _hits(home, "wombat") == {"page"}
    (corpus.parent / "docs" / "page.html").unlink()

    changes = run_plain(home, corpus)

    assert changes.sources["removed"] == 1
    assert changes.removed_docs == ["page"]
    assert changes.digest["removed"] == [{"id": "page", "title": "Hotline campaign"}]
    assert _hits(home, "wombat") == set()
    with Store(home / "kb.sqlite") as store:
        assert store.load_document("page") is None
        assert store.source(str(corpus.parent / "docs" / "page.html")) is None


def test_a_file_gone_from_the_manifest_is_removed(tmp_path: Path, corpus: Path) -> None:
    home = tmp_path / "home"
    run_plain(home, corpus)
    only_manual = write_manifest(corpus, [{"path": "docs/manual.pdf"}])

    changes = run_plain(home, only_manual)

    assert sorted(changes.removed_docs) == ["newsletter", "note", "page"]
    assert _hits(home, "numbat") == set()
    assert _hits(home, "quokka") == {"manual"}


def test_new_documents_are_listed_with_their_titles(tmp_path: Path, corpus: Path) -> None:
    changes = run_plain(tmp_path / "home", corpus)
    titles = {d["id"]: d["title"] for d in changes.digest["new"]}
    assert sorted(titles) == ["manual", "newsletter", "note", "page"]
    assert titles["manual"].startswith("Module 1 Identification")
    assert titles["newsletter"].startswith("Newsletter December")
    assert (titles["page"], titles["note"]) == ("Hotline campaign", "Referral note")


def test_bumping_the_html_extractor_version_re_extracts_html_sources_only(
    tmp_path: Path, corpus: Path, extracted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    run_plain(home, corpus)
    extracted.clear()
    monkeypatch.setitem(EXTRACTOR_VERSIONS, "html", EXTRACTOR_VERSIONS["html"] + "-next")

    changes = run_plain(home, corpus)

    assert extracted == ["docs/page.html"]
    assert changes.sources["changed"] == 1
    extracted.clear()
    run_plain(home, corpus)  # recorded with the new version: nothing more to do
    assert extracted == []


def test_legislation_digest_says_which_articles_were_added_removed_and_amended(
    tmp_path: Path,
) -> None:
    laws = tmp_path / "laws"
    laws.mkdir()
    law = laws / "law.md"
    law.write_text(
        "# Law on Combating Trafficking in Persons\n\n"
        "## Article 1. Definitions\n\nTrafficking means the recruitment of persons.\n\n"
        "## Article 2. Scope\n\nThis Law applies in Turkmenistan.\n\n"
        "## Article 3. Protection\n\nVictims receive shelter.\n",
        encoding="utf-8",
    )
    manifest = write_manifest(
        tmp_path / "sources.toml", [{"folder": "laws", "doctype": "legislation", "lang": "en"}]
    )
    home = tmp_path / "home"
    run_plain(home, manifest)
    law.write_text(
        "# Law on Combating Trafficking in Persons\n\n"
        "## Article 1. Definitions\n\nTrafficking means the recruitment or transfer of persons.\n\n"
        "## Article 3. Protection\n\nVictims receive shelter.\n\n"
        "## Article 4. Compensation\n\nVictims may claim compensation.\n",
        encoding="utf-8",
    )

    changes = run_plain(home, manifest)

    [entry] = changes.digest["legislation"]
    assert entry["title"] == "Law on Combating Trafficking in Persons"
    assert entry["added"] == ["Article 4. Compensation"]
    assert entry["removed"] == ["Article 2. Scope"]
    assert entry["amended"] == ["Article 1. Definitions"]
    assert changes.sections == {"added": 1, "updated": 1, "removed": 1}


def test_index_catches_up_when_a_run_died_between_store_commit_and_index_swap(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    run_plain(home, corpus)
    make_pdf(
        corpus.parent / "docs" / "manual.pdf",
        [["Module 1 Identification", "Indicators: the bilby case."]],
    )

    import search.indexer

    def killed(*args: object, **kwargs: object) -> int:
        raise SystemExit("killed while indexing")

    with monkeypatch.context() as patch:
        patch.setattr(search.indexer, "update_index", killed)
        with pytest.raises(SystemExit):
            run_plain(home, corpus)

    # The store has the new text, the live index still the old: search answers as before.
    with Store(home / "kb.sqlite") as store:
        assert "bilby" in store.load_document("manual").text  # type: ignore[union-attr]
        assert pending_index_changes(store) == (["manual"], [])
    assert _hits(home, "quokka") == {"manual"}
    assert _hits(home, "bilby") == set()

    changes = run_plain(home, corpus)  # nothing changed on disk since the store commit

    assert changes.changed_docs == []
    assert _hits(home, "bilby") == {"manual"}
    assert _hits(home, "quokka") == set()
    with Store(home / "kb.sqlite") as store:
        assert pending_index_changes(store) == ([], [])


def test_a_second_ingest_exits_with_a_clear_message_or_waits(tmp_path: Path) -> None:
    lock = tmp_path / "ingest.lock"
    busy = r"another ingest is running on .* \(pid \d+\).*--wait"
    with ingest_lock(lock), pytest.raises(BusyError, match=busy), ingest_lock(lock):
        pass

    released = threading.Event()

    def hold_briefly() -> None:
        with ingest_lock(lock):
            released.wait(5)
            time.sleep(0.3)

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    time.sleep(0.1)
    released.set()
    started = time.monotonic()
    with ingest_lock(lock, wait_seconds=10):
        waited = time.monotonic() - started
    holder.join()
    assert 0.1 < waited < 5
