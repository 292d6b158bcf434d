"""Fixtures for the page tests in a real Chromium: a live server and a page.

The application runs under uvicorn on 127.0.0.1 on a free port, in a thread of
the test process, against the test's store. Debian's ``chromium`` is driven
by Playwright; axe-core comes from ``npm ci --prefix tests/browser``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("JOHN_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_server(settings, engine) -> Iterator[str]:
    """Serve the application on 127.0.0.1 and return its base URL."""
    import uvicorn

    from john.web.app import create_app

    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, engine=engine),
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # Wait for the socket rather than sleeping a fixed time.
    while not server.started:
        if not thread.is_alive():
            pytest.fail(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join()


# Module scope closes Playwright before other test modules start their own
# sync_playwright, which refuses to run while another instance is open.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Launch Debian's Chromium once per test module."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; install it with apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator[Any]:
    """Open a fresh browser context and page for one test."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def screenshot(page, tmp_path: Path):
    """Return a function that saves a full-page screenshot of the current page.

    Screenshots go to ``JOHN_SCREENSHOT_DIR`` when set, else the test's
    temporary folder.
    """
    folder = Path(os.environ.get("JOHN_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def axe_violations(page):
    """Return a function that runs axe-core on the page at WCAG 2.2 A and AA."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing; run npm ci --prefix tests/browser")
    source = AXE.read_text(encoding="utf-8")

    def run() -> list[dict[str, Any]]:
        page.add_script_tag(content=source)
        result = page.evaluate(
            """async () => {
                const found = await axe.run(document, {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                             'wcag22a', 'wcag22aa']}});
                return found.violations.map(v => ({id: v.id, impact: v.impact,
                    help: v.help, targets: v.nodes.map(n => n.target.join(' '))}));
            }"""
        )
        return list(result)

    return run
