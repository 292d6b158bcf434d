"""Catalogue pages driven in a real Chromium, without relying on JavaScript."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from catalogue_samples import aberdeen_service
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from john.auth.testing import TEST_PASSWORD, add_user
from john.catalogue.geocode import Geocoder
from john.catalogue.oruk import import_oruk
from john.catalogue.schemas import CourseInput, FundingSourceInput
from john.catalogue.service import save_course, save_funding_source
from john.config import Settings

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def base_url(
    settings: Settings,
    engine: Engine,
    session: Session,
    session_factory: Any,
    geocoder: Geocoder,
) -> Iterator[str]:
    """Serve the application with a small catalogue on a loopback port."""
    import uvicorn

    from john.web.app import create_app

    import_oruk(
        session, [aberdeen_service(1), aberdeen_service(2)], "Example Trust", geocoder
    )
    course = save_course(
        session,
        CourseInput(
            title="Bookkeeping level 2",
            level=2,
            level_framework="RQF",
            cost=Decimal("300"),
        ),
        "tester",
    )
    save_funding_source(
        session,
        FundingSourceInput(
            name="Adult skills fund", funder="Combined authority", minimum_age=19
        ),
        "tester",
    )
    session.commit()
    add_user(session_factory, "curator", "curator")
    app = create_app(settings, engine=engine)
    app.state.catalogue_geocoder = geocoder
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    session.info["course"] = course.id
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join()


@pytest.fixture
def page(base_url: str) -> Iterator[Any]:
    """Return a Chromium page with JavaScript disabled."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed; apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        context = browser.new_context(java_script_enabled=False, base_url=base_url)
        opened = context.new_page()
        yield opened
        context.close()
        browser.close()


def test_search_by_text_and_postcode(page: Any) -> None:
    page.goto("/catalogue")
    page.get_by_label("What are you looking for?").fill("digital")
    page.get_by_label("Postcode").fill("AB16 9WL")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("heading", name="2 results").is_visible()
    first = page.locator("li.result").first
    assert first.get_by_text("3.1 km from AB16 9WL").is_visible()
    assert first.get_by_text("matches “digital” in the title").is_visible()


def test_error_summary_links_to_field(page: Any) -> None:
    page.goto("/catalogue")
    page.get_by_label("Age of the person").fill("old")
    page.get_by_role("button", name="Search").click()
    summary = page.get_by_role("alert")
    assert summary.get_by_text("There is a problem").is_visible()
    summary.get_by_role("link", name="Enter age as a number").click()
    assert page.url.endswith("#age")


def _sign_in(page: Any) -> None:
    page.goto("/signin")
    page.locator("input[name=username]").fill("curator")
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.locator("form button[type=submit]").first.click()


def test_curator_edits_service(page: Any) -> None:
    _sign_in(page)
    page.goto("/catalogue/services/00000000-0000-4000-8000-000000000001")
    page.get_by_label("Name").fill("Digital skills cafe")
    page.get_by_role("button", name="Save changes").click()
    assert page.get_by_role("heading", name="Digital skills cafe", level=1).is_visible()
    assert page.get_by_role("status").inner_text() == "Your changes have been saved."
    history = page.get_by_role("table", name="Changes to this service")
    assert "user:" in history.inner_text()


def test_course_funding_check(page: Any, session: Session) -> None:
    page.goto(f"/catalogue/courses/{session.info['course']}")
    page.get_by_label("Age", exact=True).fill("17")
    page.get_by_role("button", name="Check funding").click()
    verdict = page.locator(".funding-verdict")
    assert "Adult skills fund: does not fit" in verdict.inner_text()
    assert "age 17 is outside 19 or over" in verdict.inner_text()


def test_skip_link_reaches_main(page: Any) -> None:
    page.goto("/catalogue")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    assert focused.inner_text() == "Skip to main content"
    assert focused.get_attribute("href") == "#main-content"
