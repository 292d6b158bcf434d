"""Curators add and edit courses, funding sources and venues in the pages."""

from __future__ import annotations

from typing import Any

import pytest
from catalogue_samples import aberdeen_service
from sqlalchemy import select
from sqlalchemy.orm import Session

from john.auth.testing import add_user, page_csrf, sign_in
from john.catalogue.duplicates import find_duplicates, list_candidates
from john.catalogue.geocode import Geocoder
from john.catalogue.models import Course, FundingSource, Location, Service
from john.catalogue.oruk import import_oruk
from john.catalogue.service import list_revisions


@pytest.fixture
def curator(client: Any, session_factory: Any, geocoder: Geocoder) -> Any:
    """Return a test client signed in as a curator."""
    client.app.state.catalogue_geocoder = geocoder
    client.user_id = add_user(session_factory, "cara", "curator")
    sign_in(client, "cara")
    return client


def _post(client: Any, form_path: str, target: str, **fields: Any) -> Any:
    data = {"csrf_token": page_csrf(client, form_path), **fields}
    return client.post(target, data=data, follow_redirects=False)


def test_course_form_adds_course(curator: Any, session: Session) -> None:
    response = _post(
        curator,
        "/catalogue/courses/new",
        "/catalogue/courses",
        title="Welding level 2",
        level_framework="RQF",
        level="2",
        delivery_modes=["in_person", "hybrid"],
        cost="450",
        start_dates="2027-01-11, 2027-04-19",
    )
    course = session.scalars(select(Course)).one()
    history = list_revisions(session, "course", course.id)
    page = curator.get(response.headers["location"])
    assert response.status_code == 303
    assert response.headers["location"] == f"/catalogue/courses/{course.id}"
    assert course.delivery_modes == "hybrid,in_person"
    assert course.start_dates == ["2027-01-11", "2027-04-19"]
    assert "Welding level 2" in page.text
    assert history[0].action == "create"
    assert history[0].actor == f"user:{curator.user_id}"
    assert "create:" in page.text


def test_course_form_reports_every_error(curator: Any) -> None:
    response = _post(
        curator,
        "/catalogue/courses/new",
        "/catalogue/courses",
        title="",
        level="two",
    )
    assert response.status_code == 422
    assert "Enter the title of the course" in response.text
    assert "Enter level as a number" in response.text
    assert "Choose at least one way the course is delivered" in response.text


def test_course_form_explains_ukprn(curator: Any) -> None:
    response = _post(
        curator,
        "/catalogue/courses/new",
        "/catalogue/courses",
        title="Welding level 2",
        delivery_modes="in_person",
        provider_ukprn="123",
    )
    assert response.status_code == 422
    assert "Enter the provider UKPRN as the hint shows" in response.text


def test_course_edit_writes_history(curator: Any, session: Session) -> None:
    created = _post(
        curator,
        "/catalogue/courses/new",
        "/catalogue/courses",
        title="Welding level 2",
        delivery_modes="in_person",
    )
    path = created.headers["location"]
    form = curator.get(f"{path}/edit")
    edited = _post(
        curator,
        f"{path}/edit",
        path,
        title="Welding and fabrication level 2",
        delivery_modes="in_person",
    )
    page = curator.get(edited.headers["location"])
    assert form.status_code == 200
    assert 'value="Welding level 2"' in form.text
    assert edited.status_code == 303
    assert "Your changes have been saved." in page.text
    assert (
        "title from “Welding level 2” to “Welding and fabrication level 2”" in page.text
    )


def test_funding_form_adds_and_edits(curator: Any, session: Session) -> None:
    created = _post(
        curator,
        "/catalogue/funding/new",
        "/catalogue/funding",
        name="Adult skills fund",
        funder="Combined authority",
        minimum_age="19",
        residency="england",
        benefits="universal credit, jobseekers allowance",
        opens_on="2027-04-01",
    )
    source = session.scalars(select(FundingSource)).one()
    path = created.headers["location"]
    edited = _post(
        curator,
        f"{path}/edit",
        path,
        name="Adult skills fund",
        funder="Combined authority",
        minimum_age="24",
    )
    session.refresh(source)
    page = curator.get(path)
    assert created.status_code == 303
    assert edited.status_code == 303
    assert source.minimum_age == 24
    assert source.benefits == []
    assert "minimum_age from “19” to “24”" in page.text


def test_funding_form_rejects_bad_date(curator: Any) -> None:
    response = _post(
        curator,
        "/catalogue/funding/new",
        "/catalogue/funding",
        name="Adult skills fund",
        funder="Combined authority",
        opens_on="April",
    )
    assert response.status_code == 422
    assert "Enter opens for applications as a date such as 2027-01-11" in (
        response.text
    )


def test_venue_form_places_venue(curator: Any, session: Session) -> None:
    response = _post(
        curator,
        "/catalogue/venues/new",
        "/catalogue/venues",
        name="Airyhall Library",
        postal_code="ab16 9wl",
        wifi="yes",
        public_devices="6",
    )
    venue = session.scalars(select(Location).where(Location.is_venue)).one()
    assert response.status_code == 303
    assert venue.postal_code == "AB16 9WL"
    assert venue.coordinate_source == "postcode"
    assert venue.wifi is True
    assert venue.public_devices == 6


def test_venue_form_rejects_bad_postcode(curator: Any) -> None:
    response = _post(
        curator,
        "/catalogue/venues/new",
        "/catalogue/venues",
        name="Airyhall Library",
        postal_code="nowhere",
    )
    assert response.status_code == 422
    assert "is malformed" in response.text


def test_forms_need_csrf_token(curator: Any, session: Session) -> None:
    response = curator.post(
        "/catalogue/courses",
        data={"title": "Welding", "delivery_modes": "in_person"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert session.scalars(select(Course)).first() is None


def test_learner_cannot_add_venue(
    client: Any, session_factory: Any, session: Session
) -> None:
    add_user(session_factory, "lee", "learner", learner_id="L-lee")
    sign_in(client, "lee")
    response = _post(client, "/catalogue", "/catalogue/venues", name="Airyhall Library")
    assert response.status_code == 403
    assert session.scalars(select(Location)).first() is None


def test_edit_link_only_for_staff(
    curator: Any, client: Any, session_factory: Any
) -> None:
    created = _post(
        curator,
        "/catalogue/courses/new",
        "/catalogue/courses",
        title="Welding level 2",
        delivery_modes="in_person",
    )
    path = created.headers["location"]
    staff_page = curator.get(path)
    curator.post("/signout", data={"csrf_token": page_csrf(curator, path)})
    public_page = curator.get(path)
    assert "Edit this course" in staff_page.text
    assert "Edit this course" not in public_page.text


def test_duplicates_page_undoes_merge(
    curator: Any, session: Session, geocoder: Geocoder
) -> None:
    twin = aberdeen_service(2, name="Digital skills drop-in 1")
    import_oruk(session, [aberdeen_service(1)], "Trust A", geocoder)
    import_oruk(session, [twin], "Trust B", geocoder)
    find_duplicates(session)
    session.commit()
    candidate = list_candidates(session)[0].candidate
    merged = _post(
        curator,
        "/catalogue/duplicates",
        f"/catalogue/duplicates/{candidate.id}",
        decision="merged",
    )
    listing = curator.get("/catalogue/duplicates")
    service_page = curator.get(f"/catalogue/services/{twin['id']}")
    undone = _post(
        curator,
        "/catalogue/duplicates",
        f"/catalogue/duplicates/{candidate.id}/undo",
    )
    session.expire_all()
    assert merged.status_code == 303
    assert "merged into Digital skills drop-in 1" in listing.text
    assert "Undo merge" in listing.text
    assert "This service was merged into" in service_page.text
    assert undone.status_code == 303
    assert session.get(Service, twin["id"]).merged_into is None
    assert list_candidates(session)[0].candidate.status == "pending"
