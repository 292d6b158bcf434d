"""Catalogue pages rendered by the application, without a browser."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from catalogue_samples import aberdeen_service
from sqlalchemy.orm import Session

from john.auth.testing import add_user, sign_in
from john.catalogue.geocode import Geocoder
from john.catalogue.oruk import import_oruk
from john.catalogue.schemas import CourseInput, FundingSourceInput, VenueInput
from john.catalogue.service import save_course, save_funding_source, save_venue

SERVICE_ID = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
def site(
    client: Any, session: Session, session_factory: Any, geocoder: Geocoder
) -> dict[str, Any]:
    """Return the client and ids of a small catalogue."""
    client.app.state.catalogue_geocoder = geocoder
    # The curator forms need a signed-in curator.
    add_user(session_factory, "curator", "curator")
    sign_in(client, "curator")
    import_oruk(session, [aberdeen_service(1)], "Example Learning Trust", geocoder)
    venue = save_venue(
        session,
        VenueInput(
            name="Airyhall Library",
            postal_code="AB16 9WL",
            wifi=True,
            public_devices=6,
            study_spaces=12,
        ),
        "tester",
        geocoder,
    )
    course = save_course(
        session,
        CourseInput(
            title="Bookkeeping level 2",
            level=2,
            level_framework="RQF",
            cost=Decimal("300"),
            location_id=venue.id,
        ),
        "tester",
    )
    fund = save_funding_source(
        session,
        FundingSourceInput(
            name="Adult skills fund",
            funder="Combined authority",
            minimum_age=19,
            course_level_max=3,
            how_to_apply="Ask the college.",
        ),
        "tester",
    )
    session.commit()
    return {"client": client, "venue": venue.id, "course": course.id, "fund": fund.id}


def _labels_cover_inputs(html: str) -> bool:
    inputs = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html))
    hidden = set(re.findall(r'<input[^>]*type="hidden"[^>]*id="([^"]+)"', html))
    labels = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
    return (inputs - hidden) <= labels


def test_search_page_explains_results(site: dict[str, Any]) -> None:
    page = site["client"].get(
        "/catalogue", params={"text": "digital", "postcode": "AB16 9WL"}
    )
    assert page.status_code == 200
    assert "1 result" in page.text
    assert "matches “digital” in the title" in page.text
    assert "3.1 km from AB16 9WL" in page.text


def test_search_page_labels_every_input(site: dict[str, Any]) -> None:
    page = site["client"].get("/catalogue")
    assert _labels_cover_inputs(page.text)
    assert 'lang="en-GB"' in page.text


def test_search_page_shows_error_summary(site: dict[str, Any]) -> None:
    page = site["client"].get("/catalogue", params={"age": "old"})
    assert page.status_code == 422
    assert "There is a problem" in page.text
    assert '<a href="#age">Enter age as a number</a>' in page.text


def test_unknown_postcode_shown_as_error(site: dict[str, Any]) -> None:
    page = site["client"].get("/catalogue", params={"postcode": "ZZ99 9ZZ"})
    assert page.status_code == 422
    assert "postcode &#39;ZZ99 9ZZ&#39; is not known" in page.text


def test_service_page_shows_parts(site: dict[str, Any]) -> None:
    page = site["client"].get(f"/catalogue/services/{SERVICE_ID}")
    assert page.status_code == 200
    assert "Digital skills drop-in 1" in page.text
    assert "MO,WE" in page.text
    assert "01224 000000" in page.text
    assert _labels_cover_inputs(page.text)


def test_service_edit_form_saves(site: dict[str, Any]) -> None:
    client = site["client"]
    response = client.post(
        f"/catalogue/services/{SERVICE_ID}",
        data={
            "name": "Digital skills cafe",
            "description": "Help with computers.",
            "status": "active",
            "minimum_age": "16",
            "maximum_age": "",
        },
        follow_redirects=False,
    )
    page = client.get(response.headers["location"])
    assert response.status_code == 303
    assert "Your changes have been saved." in page.text
    assert "name from “Digital skills drop-in 1” to “Digital skills cafe”" in page.text


def test_service_edit_rejects_bad_email(site: dict[str, Any]) -> None:
    response = site["client"].post(
        f"/catalogue/services/{SERVICE_ID}",
        data={"name": "Digital skills cafe", "email": "nobody", "status": "active"},
    )
    assert response.status_code == 422
    assert "is not an e-mail address" in response.text


def test_add_service_form_requires_name(site: dict[str, Any]) -> None:
    response = site["client"].post("/catalogue/services", data={"name": " "})
    assert response.status_code == 422
    assert "Enter the name of the service" in response.text


def test_course_page_checks_funding(site: dict[str, Any]) -> None:
    page = site["client"].get(
        f"/catalogue/courses/{site['course']}", params={"check": "1", "age": "30"}
    )
    assert "Adult skills fund</a>: fits" in page.text
    assert "age 30 is within 19 or over" in page.text
    assert "course level 2 is within 0–3" in page.text


def test_venue_page_lists_facilities(site: dict[str, Any]) -> None:
    page = site["client"].get(f"/catalogue/venues/{site['venue']}")
    assert "Computers for public use</dt><dd>6" in page.text
    assert "from the postcode" in page.text


def test_funding_page_lists_rules(site: dict[str, Any]) -> None:
    page = site["client"].get(f"/catalogue/funding/{site['fund']}")
    assert "Adult skills fund" in page.text
    assert "Ask the college." in page.text
