"""Curator forms of the catalogue in a real Chromium, checked with axe-core."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from john.auth.testing import TEST_PASSWORD, add_user
from john.catalogue.duplicates import find_duplicates, list_candidates
from john.catalogue.models import Course, FundingSource, Location
from john.catalogue.oruk import import_oruk
from john.catalogue.schemas import FundingSourceInput, VenueInput
from john.catalogue.service import save_funding_source, save_venue

pytestmark = pytest.mark.browser


def _service(number: int, name: str) -> dict[str, object]:
    return {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "name": name,
        "description": "Help with computers and online forms.",
        "status": "active",
        "email": "dropin@example.org",
        "contacts": [
            {
                "id": f"60000000-0000-4000-8000-{number:012d}",
                "name": "Front desk",
                "email": f"desk{number}@example.org",
            }
        ],
    }


@pytest.fixture
def catalogue(session_factory, page, live_server) -> dict[str, str]:
    """Sign the browser in as a curator over a catalogue with one of each entry."""
    user_id = add_user(session_factory, "curator", "curator")
    with session_factory() as db:
        import_oruk(db, [_service(1, "Digital drop-in")], "Trust A")
        import_oruk(db, [_service(2, "Digital drop-in")], "Trust B")
        find_duplicates(db)
        venue = save_venue(db, VenueInput(name="Airyhall Library"), "tester")
        fund = save_funding_source(
            db,
            FundingSourceInput(name="Adult skills fund", funder="Combined authority"),
            "tester",
        )
        candidate = list_candidates(db)[0].candidate.id
        db.commit()
        ids = {"venue": venue.id, "fund": fund.id, "candidate": str(candidate)}
    page.goto(f"{live_server}/signin")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")
    return {**ids, "user": user_id}


def test_curator_adds_course(page, live_server, catalogue, session_factory) -> None:
    page.goto(f"{live_server}/catalogue/courses/new")
    page.get_by_label("Title").fill("Welding level 2")
    page.get_by_label("Level", exact=True).fill("2")
    page.get_by_label("in person").check()
    page.get_by_label("Cost in pounds").fill("450")
    page.get_by_role("button", name="Add course").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Welding level 2"
    history = page.get_by_role("table", name="Changes to this course")
    assert f"user:{catalogue['user']}" in history.inner_text()
    with session_factory() as db:
        course = db.scalars(select(Course)).one()
        assert course.level == 2


def test_course_errors_link_to_fields(page, live_server, catalogue) -> None:
    page.goto(f"{live_server}/catalogue/courses/new")
    page.get_by_label("Level", exact=True).fill("two")
    page.get_by_role("button", name="Add course").click()

    summary = page.get_by_role("alert")
    assert summary.get_by_text("There is a problem").is_visible()
    summary.get_by_role("link", name="Enter level as a number").click()
    assert page.url.endswith("#level")


def test_curator_edits_funding(page, live_server, catalogue, session_factory) -> None:
    page.goto(f"{live_server}/catalogue/funding/{catalogue['fund']}")
    page.get_by_role("link", name="Edit this funding source").click()
    page.get_by_label("Youngest age").fill("19")
    page.get_by_role("button", name="Save changes").click()

    assert page.get_by_role("status").inner_text() == "Your changes have been saved."
    history = page.get_by_role("table", name="Changes to this funding source")
    assert "minimum_age from “None” to “19”" in history.inner_text()
    with session_factory() as db:
        assert db.get(FundingSource, catalogue["fund"]).minimum_age == 19


def test_curator_edits_venue(page, live_server, catalogue, session_factory) -> None:
    page.goto(f"{live_server}/catalogue/venues/{catalogue['venue']}/edit")
    page.get_by_label("Wi-Fi").select_option("yes")
    page.get_by_label("Study spaces").fill("12")
    page.get_by_role("button", name="Save changes").click()

    assert page.get_by_role("status").is_visible()
    with session_factory() as db:
        venue = db.get(Location, catalogue["venue"])
        assert venue.wifi is True
        assert venue.study_spaces == 12


def test_curator_merges_and_undoes(page, live_server, catalogue) -> None:
    page.goto(f"{live_server}/catalogue/duplicates")
    page.get_by_role("button", name="Merge").click()
    merged = page.get_by_role(
        "region", name="Digital drop-in merged into Digital drop-in"
    )
    assert "gained 0 locations, 1 contact, 0 taxonomy terms" in merged.inner_text()

    page.get_by_role("button", name="Undo merge of Digital drop-in").click()
    assert page.get_by_text("No pairs have been merged.").is_visible()
    assert page.get_by_role("button", name="Merge").is_visible()


PAGES = [
    "/catalogue/courses/new",
    "/catalogue/funding/new",
    "/catalogue/venues/new",
    "/catalogue/funding/{fund}",
    "/catalogue/funding/{fund}/edit",
    "/catalogue/venues/{venue}",
    "/catalogue/venues/{venue}/edit",
    "/catalogue/duplicates",
]


@pytest.mark.parametrize("path", PAGES)
def test_catalogue_page_passes_axe(
    page, live_server, catalogue, axe_violations, screenshot, path
) -> None:
    page.goto(f"{live_server}{path.format(**catalogue)}")
    screenshot("catalogue-" + re.sub(r"\W+", "-", path).strip("-"))
    assert axe_violations() == []


def test_course_form_errors_pass_axe(
    page, live_server, catalogue, axe_violations
) -> None:
    page.goto(f"{live_server}/catalogue/courses/new")
    page.get_by_role("button", name="Add course").click()
    assert page.get_by_role("alert").is_visible()
    assert axe_violations() == []
