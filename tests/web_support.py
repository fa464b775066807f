"""A small knowledge base for the web tests: notes whose text carries markup, and two runs."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from kb.home import paths as home_paths
from kb.ingest.sequence import run_ingest
from kb.store import Store

SCRIPT = "<script>alert(1)</script>"

NOTES = {
    "shelter-notes.md": f"""# Shelter notes {SCRIPT}

## Hotline

Call the hotline when a victim of trafficking needs a shelter. {SCRIPT} must show as text.

## <b>Referral</b> of victims

Referral of victims to shelters in Mary and Ashgabat; the case worker keeps the file.
""",
    "outreach.md": """# Outreach plan

## Schools

Information sessions on safe migration for pupils in Dashoguz.
""",
}

FAILED_RUN: dict[str, Any] = {
    "sources": {"seen": 3, "new": 0, "changed": 1, "unchanged": 1, "removed": 0, "failed": 1},
    "sections": {"added": 1, "updated": 2, "removed": 0},
    "digest": {
        "new": [],
        "updated": [{"id": "shelter-notes", "title": "Shelter notes", "doctype": "other"}],
        "removed": [{"id": "old-leaflet", "title": f"Old leaflet {SCRIPT}"}],
        "legislation": [],
    },
    "seconds": {"check": 0.1, "extract": 0.4},
}
FAILURE = {
    "source": "web/broken.pdf",
    "stage": "extract",
    "reason": "encrypted PDF: a password is required",
}


def web_client(home: Path) -> Any:
    """FastAPI's TestClient over the app for `home` (Starlette warns about its httpx use)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from kb.web import create_app

    return TestClient(create_app(home))


def build_small_home(root: Path) -> Path:
    """Two Markdown notes ingested with the library (no Prefect), and two recorded runs."""
    corpus = root / "notes"
    corpus.mkdir(parents=True)
    for name, text in NOTES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    home = root / "home"
    changes = run_ingest(home, corpus=corpus, full=True)
    assert not changes.failures, changes.failures
    with Store(home_paths(home).store) as store:
        first = store.start_run("2026-11-20T02:00:00+00:00")
        store.finish_run(
            first, "2026-11-20T02:00:09+00:00", "completed", {"sources": {"seen": 2, "new": 2}}, []
        )
        second = store.start_run("2026-11-21T02:00:00+00:00")
        store.finish_run(second, "2026-11-21T02:00:07+00:00", "completed", FAILED_RUN, [FAILURE])
    return home
