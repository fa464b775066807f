"""Shared fixtures. The end-to-end fixtures build the bundled corpus once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import kb.ingest.pipeline

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def corpus_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus built once per session (library functions, no Prefect). Read-only!"""
    from kb.ingest.sequence import run_ingest

    home = tmp_path_factory.mktemp("corpus-home")
    changes = run_ingest(home, sources=CORPUS / "sources.toml")
    assert not changes.failures, changes.failures
    return home


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real Prefect server for the whole session; flows run against it. Yields its API URL.

    `prefect server start` on a free 127.0.0.1 port with its own PREFECT_HOME in
    tmp (a real server, unlike a temporary one, can also schedule). Set for this
    process (Prefect settings) and for subprocesses (environment), so a `kb`
    started by a test connects here instead of starting a server of its own.
    """
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_LOCAL_STORAGE_PATH,
        PREFECT_LOGGING_TO_API_ENABLED,
        temporary_settings,
    )

    from flows.schedule import api_url_for, free_port, start_server, stop_server

    prefect_home = tmp_path_factory.mktemp("prefect-server")
    # KB_TEST_PREFECT_API_URL: a server you keep running, to skip the ~20-60 s start-up.
    api_url = os.environ.get("KB_TEST_PREFECT_API_URL", "")
    server = None
    if not api_url:
        port = free_port()
        server = start_server(prefect_home, port, log_path=prefect_home / "server.log")
        api_url = api_url_for(port)
    storage = prefect_home / "results"
    saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "PREFECT_LOCAL_STORAGE_PATH")}
    os.environ["PREFECT_API_URL"] = api_url
    os.environ["PREFECT_LOCAL_STORAGE_PATH"] = str(storage)
    try:
        with temporary_settings(
            updates={
                PREFECT_API_URL: api_url,
                PREFECT_LOCAL_STORAGE_PATH: storage,
                PREFECT_LOGGING_TO_API_ENABLED: False,
            }
        ):
            yield api_url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if server is not None:
            stop_server(server)


@pytest.fixture
def extracted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Locations of the sources extracted, in order (a spy on the extractor entry point)."""
    seen: list[str] = []
    real = kb.ingest.pipeline.extract_bytes

    def spy(ref, data, content_type=""):  # type: ignore[no-untyped-def]
        seen.append(ref.location)
        return real(ref, data, content_type)

    monkeypatch.setattr(kb.ingest.pipeline, "extract_bytes", spy)
    return seen


@pytest.fixture
def restore_environment() -> Iterator[None]:
    """`kb build` in-process sets Prefect variables in os.environ; put them back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def closing_searchers() -> Iterator[None]:
    """Closes, after the test, the searchers it opened on its own homes (tests that build
    and search in tmp_path use it: `pytestmark = pytest.mark.usefixtures(...)`)."""
    yield
    from search.query import searchers

    searchers.close()


@pytest.fixture
def site() -> Iterator[object]:
    """A web site served from 127.0.0.1 for the test (tests/nightly_helpers.py)."""
    from nightly_helpers import serve_site

    with serve_site() as running:
        yield running
