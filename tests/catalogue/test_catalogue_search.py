"""Search over services, courses and venues, each result with its reasons."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from catalogue_samples import ABERDEEN_WEST, aberdeen_service
from sqlalchemy.orm import Session

from john.catalogue.funding import Person
from john.catalogue.geocode import Geocoder
from john.catalogue.oruk import import_oruk
from john.catalogue.schemas import (
    CourseInput,
    FundingSourceInput,
    ScheduleExceptionInput,
    VenueInput,
)
from john.catalogue.search import SearchQuery, search
from john.catalogue.service import (
    add_schedule_exception,
    save_course,
    save_funding_source,
    save_venue,
)
from john.errors import InvalidInput

MANCHESTER = "M1 1AD"


@pytest.fixture
def catalogue(session: Session, geocoder: Geocoder) -> Session:
    """Return a session on two services, a venue, three courses and two funds."""
    import_oruk(
        session,
        [
            aberdeen_service(1),
            aberdeen_service(
                2,
                name="Money advice surgery",
                minimum_age=25,
                description="Debt and budgeting advice.",
                cost_options=[
                    {"id": "80000000-0000-4000-8000-0000000000ff", "amount": 15}
                ],
            ),
        ],
        "synthetic",
        geocoder,
    )
    venue = save_venue(
        session,
        VenueInput(
            name="Manchester Central Library",
            postal_code=MANCHESTER,
            wifi=True,
            public_devices=40,
        ),
        "tester",
        geocoder,
    )
    save_course(
        session,
        CourseInput(
            title="Python coding bootcamp",
            level=3,
            level_framework="RQF",
            delivery_modes=["online"],
            cost=Decimal("450"),
            description="Learn Python.",
        ),
        "tester",
    )
    save_course(
        session,
        CourseInput(
            title="Spreadsheets for work",
            level=2,
            level_framework="RQF",
            delivery_modes=["in_person"],
            cost=Decimal("0"),
            location_id=venue.id,
        ),
        "tester",
    )
    save_course(
        session,
        CourseInput(
            title="Data science degree module",
            level=6,
            level_framework="FHEQ",
            delivery_modes=["hybrid"],
            cost=Decimal("1200"),
            location_id=venue.id,
        ),
        "tester",
    )
    save_funding_source(
        session,
        FundingSourceInput(
            name="Adult skills fund",
            funder="Combined authority",
            minimum_age=19,
            residency=["england"],
            prior_attainment_below=3,
            course_level_max=3,
            pays_for=["tuition"],
        ),
        "tester",
    )
    save_funding_source(
        session,
        FundingSourceInput(
            name="Online learning grant",
            funder="Digital inclusion charity",
            benefits=["universal credit"],
            delivery_modes=["online"],
            pays_for=["tuition", "devices"],
        ),
        "tester",
    )
    session.commit()
    return session


def _titles(result: object) -> list[str]:
    return [hit.title for hit in result.hits]  # type: ignore[attr-defined]


def test_text_matches_title(catalogue: Session) -> None:
    result = search(catalogue, SearchQuery(text="python"))
    assert _titles(result) == ["Python coding bootcamp"]
    assert result.hits[0].reasons == ["matches “python” in the title"]


def test_text_matches_description(catalogue: Session) -> None:
    result = search(catalogue, SearchQuery(text="budgeting"))
    assert _titles(result) == ["Money advice surgery"]
    assert result.hits[0].reasons == ["matches “budgeting” in the description"]


def test_near_postcode_sorted_by_distance(
    catalogue: Session, geocoder: Geocoder
) -> None:
    result = search(
        catalogue, SearchQuery(postcode=ABERDEEN_WEST, radius_km=10), geocoder
    )
    assert result.total == 2
    assert [hit.kind for hit in result.hits] == ["service", "service"]
    assert result.hits[0].distance_km == pytest.approx(3.1, abs=0.1)
    assert result.hits[0].reasons == ["3.1 km from AB16 9WL"]


def test_radius_excludes_far_entries(catalogue: Session, geocoder: Geocoder) -> None:
    result = search(
        catalogue, SearchQuery(postcode=ABERDEEN_WEST, radius_km=2), geocoder
    )
    assert result.total == 0


def test_text_and_distance_together(catalogue: Session, geocoder: Geocoder) -> None:
    result = search(
        catalogue, SearchQuery(text="spreadsheets", postcode=MANCHESTER), geocoder
    )
    assert _titles(result) == ["Spreadsheets for work"]
    assert result.hits[0].location_name == "Manchester Central Library"
    assert result.hits[0].reasons[1] == "0.0 km from M1 1AD"


def test_open_on_day_and_time(catalogue: Session) -> None:
    monday = search(catalogue, SearchQuery(day="MO", time="11:00"))
    friday = search(catalogue, SearchQuery(day="FR", time="11:00"))
    evening = search(catalogue, SearchQuery(day="MO", time="18:00"))
    assert monday.total == 2
    assert monday.hits[0].reasons == ["open on Monday at 11:00"]
    assert friday.total == 0
    assert evening.total == 0


def test_holiday_exception_closes_service(catalogue: Session) -> None:
    add_schedule_exception(
        catalogue,
        "00000000-0000-4000-8000-000000000001",
        ScheduleExceptionInput(starts_on=date(2026, 12, 21), ends_on=date(2027, 1, 4)),
        "tester",
    )
    # 28 December 2026 is a Monday.
    holiday = search(catalogue, SearchQuery(on_date=date(2026, 12, 28), time="11:00"))
    normal = search(catalogue, SearchQuery(on_date=date(2027, 1, 11), time="11:00"))
    assert _titles(holiday) == ["Money advice surgery"]
    assert holiday.hits[0].reasons == ["open on 2026-12-28 at 11:00"]
    assert normal.total == 2


def test_age_limits_apply(catalogue: Session) -> None:
    result = search(catalogue, SearchQuery(age=18, kind="service"))
    assert _titles(result) == ["Digital skills drop-in 1"]
    assert result.hits[0].reasons == ["age 18 is within 16–99"]


def test_delivery_mode_filter(catalogue: Session) -> None:
    result = search(catalogue, SearchQuery(delivery_mode="online"))
    assert _titles(result) == ["Python coding bootcamp"]
    assert result.hits[0].reasons == ["delivered online"]


def test_free_only_filter(catalogue: Session) -> None:
    result = search(catalogue, SearchQuery(free_only=True, kind="course"))
    assert _titles(result) == ["Spreadsheets for work"]


def test_max_cost_filter(catalogue: Session) -> None:
    result = search(catalogue, SearchQuery(max_cost=Decimal("500"), kind="course"))
    assert _titles(result) == ["Python coding bootcamp", "Spreadsheets for work"]
    assert result.hits[0].reasons == ["costs £450.00"]


def test_level_filter(catalogue: Session) -> None:
    result = search(catalogue, SearchQuery(level=6))
    assert _titles(result) == ["Data science degree module"]


def test_funding_fit_filter(catalogue: Session) -> None:
    person = Person(
        age=30,
        nation="england",
        highest_prior_level=2,
        employment_status="unemployed",
        benefits=["universal credit"],
    )
    result = search(catalogue, SearchQuery(person=person))
    assert _titles(result) == ["Python coding bootcamp", "Spreadsheets for work"]
    assert result.hits[0].reasons == [
        "funding that fits: Adult skills fund, Online learning grant"
    ]
    assert result.hits[1].reasons == ["funding that fits: Adult skills fund"]


def test_funding_fit_none_for_graduate(catalogue: Session) -> None:
    person = Person(age=30, nation="england", highest_prior_level=6)
    result = search(catalogue, SearchQuery(person=person))
    assert result.total == 0


def test_paging_splits_results(catalogue: Session) -> None:
    first = search(catalogue, SearchQuery(per_page=2, page=1))
    second = search(catalogue, SearchQuery(per_page=2, page=3))
    assert first.total == 6
    assert len(first.hits) == 2
    assert len(second.hits) == 2


def test_unknown_postcode_rejected(catalogue: Session, geocoder: Geocoder) -> None:
    with pytest.raises(InvalidInput, match="postcode 'ZZ99 9ZZ' is not known"):
        search(catalogue, SearchQuery(postcode="ZZ99 9ZZ"), geocoder)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (SearchQuery(day="XX", time="10:00"), "day 'XX' is unknown"),
        (SearchQuery(day="MO", time="25:00"), "time '25:00' is not HH:MM"),
        (SearchQuery(delivery_mode="carrier pigeon"), "delivery mode"),
        (SearchQuery(kind="event"), "kind 'event' is unknown"),
        (SearchQuery(per_page=500), "out of range"),
    ],
)
def test_bad_queries_rejected(
    catalogue: Session, query: SearchQuery, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        search(catalogue, query)
