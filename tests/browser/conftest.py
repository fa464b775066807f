"""Browser tests: the web interface served by uvicorn on a free local port, driven by
Playwright through Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# The closed network here refuses Chromium's background connections; these keep it quiet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)
    # Playwright's sync API keeps an event loop running in the main thread for the rest of
    # the session, where Prefect's sync-compatible calls would then return coroutines:
    # the browser tests go last.
    items.sort(key=lambda item: Path(str(item.fspath)).parent == here)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(corpus_home: Path) -> Iterator[str]:
    """The app on the bundled corpus, served by uvicorn in a thread; yields its base URL."""
    import uvicorn

    from kb.web import create_app

    port = _free_port()
    config = uvicorn.Config(
        create_app(corpus_home), host="127.0.0.1", port=port, log_level="warning"
    )
    uv_server = uvicorn.Server(config)
    thread = threading.Thread(target=uv_server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv_server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip(
            "Debian's Chromium is not installed (/usr/bin/chromium): `make test` installs it when run as root"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: run `make install`"
    )
    playwright = sync_api.sync_playwright().start()
    try:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh --user-data-dir
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            locale="en-GB",
        )
    except Exception as exc:
        playwright.stop()
        pytest.skip(f"Chromium did not start under Playwright: {exc}")
    yield context
    context.close()
    playwright.stop()


@pytest.fixture()
def page(browser_context: Any, server: str) -> Iterator[Any]:
    page = browser_context.new_page()
    page.set_default_timeout(15_000)
    yield page
    page.close()
    browser_context.clear_cookies()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
