"""Learner search, the joined-up record and feeds, in a real Chromium."""

from __future__ import annotations

import re

import pytest

from john.auth.testing import TEST_PASSWORD, add_user
from sample_learners import seed

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(session_factory, page, live_server):
    # These pages are for staff; sign the browser in as a curator first.
    add_user(session_factory, "curator", "curator")
    page.goto(f"{live_server}/signin")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")
    return seed(session_factory)


def test_search_by_name_opens_learner(page, live_server, seeded, screenshot) -> None:
    page.goto(f"{live_server}/learners")
    screenshot("search")
    page.get_by_label("Name or identifier").fill("ada quell")
    page.get_by_role("button", name="Search").click()

    assert page.url.endswith("/learners?q=ada+quell")
    assert page.locator("caption").inner_text().startswith("1 learner found")
    screenshot("search-results")

    page.get_by_role("link", name="Ada Quellworth").click()
    assert page.url == f"{live_server}/learners/L-joined"
    assert page.get_by_role("heading", level=1).inner_text() == "Ada Quellworth"


def test_search_by_uln_finds_learner(page, live_server, seeded) -> None:
    page.goto(f"{live_server}/learners")
    page.get_by_label("Name or identifier").fill("999 000 0017")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*q=999"))

    links = page.locator("tbody a")
    assert links.count() == 1
    assert links.first.get_attribute("href") == "/learners/L-joined"


def test_learner_shows_two_providers(page, live_server, seeded, screenshot) -> None:
    page.goto(f"{live_server}/learners/L-joined")
    screenshot("learner")
    rows = page.locator("table").first.locator("tbody tr")

    assert rows.count() == 2
    newest = rows.nth(0).inner_text()
    oldest = rows.nth(1).inner_text()
    assert "MSc Aerospace Dynamics" in newest
    assert "Cranfield University (UKPRN 10007822)" in newest
    assert "feed F-b row 2" in newest
    assert "BSc (Hons) Mathematics" in oldest
    assert "The Open University (UKPRN 10007773)" in oldest
    assert "received 2 Nov 2026 09:30 UTC" in oldest


def test_learner_identity_marks_disagreement(page, live_server, seeded) -> None:
    page.goto(f"{live_server}/learners/L-joined")
    lists = page.locator("dl.summary-list")
    assert lists.count() == 2
    assert "14 March 2001" in lists.nth(0).inner_text()
    assert "14 April 2001" in lists.nth(1).inner_text()
    assert page.locator(".tag--warning").count() == 2


def test_tab_reaches_skip_link_first(page, live_server, seeded) -> None:
    page.goto(f"{live_server}/learners")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    assert page.locator(".skip-link").is_visible()

    page.keyboard.press("Enter")
    assert page.url.endswith("#main-content")


def test_keyboard_only_search_and_open(page, live_server, seeded) -> None:
    page.goto(f"{live_server}/learners")
    # Skip link, the header name, three menu links and the sign-out button,
    # then the field.
    for _ in range(7):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"

    page.keyboard.type("quayle")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*q=quayle"))
    page.keyboard.press("Tab")
    for _ in range(10):
        if page.evaluate("document.activeElement.getAttribute('href')") == (
            "/learners/L-single"
        ):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/learners/L-single")
    assert page.get_by_role("heading", level=1).inner_text() == "Bramwell Quayle"


def test_focus_is_visible_on_links(page, live_server, seeded) -> None:
    page.goto(f"{live_server}/learners/L-joined")
    link = page.locator("main a").first
    link.focus()
    background = link.evaluate("element => getComputedStyle(element).backgroundColor")
    assert background == "rgb(255, 221, 0)"


def test_short_query_shows_error_summary(page, live_server, seeded, screenshot) -> None:
    page.goto(f"{live_server}/learners?q=a")
    screenshot("search-error")
    summary = page.locator(".error-summary")
    assert summary.get_by_role("heading").inner_text() == "There is a problem"
    assert page.title().startswith("Error:")

    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "q"


PAGES = [
    "/",
    "/learners",
    "/learners?q=ada",
    "/learners?q=zzzz",
    "/learners?q=a",
    "/learners/L-joined",
    "/learners/L-old",
    "/learners/L-nobody",
    "/feeds",
    "/feeds/F-b",
]


@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_axe_violations(
    page, live_server, seeded, axe_violations, screenshot, path
) -> None:
    page.goto(f"{live_server}{path}")
    screenshot(re.sub(r"\W+", "-", path).strip("-") or "home")
    assert axe_violations() == []
