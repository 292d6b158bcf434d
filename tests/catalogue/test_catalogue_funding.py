"""Funding fit: which funding sources fit a person and a course, and why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from john.catalogue.funding import Person, course_fits, fit_funding, person_fits
from john.catalogue.models import Course, FundingSource

TODAY = date(2026, 12, 4)


def _source(**rules: Any) -> FundingSource:
    values: dict[str, Any] = {
        "id": "f0000000-0000-4000-8000-000000000001",
        "name": "Test fund",
        "funder": "Test funder",
        "pays_for": ["tuition"],
        "residency": [],
        "employment_statuses": [],
        "benefits": [],
        "sectors": [],
        "delivery_modes": [],
    }
    values.update(rules)
    return FundingSource(**values)


PERSON_CASES = [
    # (rules, person, fits, reason) - one rule at a time.
    ({"minimum_age": 19}, Person(age=19), True, "age 19 is within 19 or over"),
    ({"minimum_age": 19}, Person(age=18), False, "age 18 is outside 19 or over"),
    (
        {"minimum_age": 16, "maximum_age": 24},
        Person(age=25),
        False,
        "age 25 is outside 16–24",
    ),
    ({"minimum_age": 19}, Person(), False, "age not given; needs 19 or over"),
    (
        {"residency": ["england"]},
        Person(nation="england"),
        True,
        "lives in an eligible area",
    ),
    (
        {"residency": ["E08000003"]},
        Person(nation="england", local_authority_code="E08000003"),
        True,
        "lives in an eligible area",
    ),
    ({"residency": ["wales"]}, Person(nation="scotland"), False, "lives outside wales"),
    (
        {"prior_attainment_below": 3},
        Person(highest_prior_level=2),
        True,
        "highest prior level 2 is below level 3",
    ),
    (
        {"prior_attainment_below": 3},
        Person(),
        True,
        "highest prior level none is below level 3",
    ),
    (
        {"prior_attainment_below": 3},
        Person(highest_prior_level=3),
        False,
        "already holds level 3, at or above 3",
    ),
    (
        {"employment_statuses": ["unemployed"]},
        Person(employment_status="unemployed"),
        True,
        "employment or benefit status qualifies",
    ),
    (
        {"employment_statuses": ["unemployed"], "benefits": ["universal credit"]},
        Person(employment_status="employed", benefits=["universal credit"]),
        True,
        "employment or benefit status qualifies",
    ),
    (
        {"employment_statuses": ["unemployed"]},
        Person(employment_status="employed"),
        False,
        "needs one of: unemployed",
    ),
    (
        {"sectors": ["construction"]},
        Person(sector="construction"),
        True,
        "works in construction",
    ),
    (
        {"sectors": ["construction"]},
        Person(sector="retail"),
        False,
        "sector must be one of construction",
    ),
    ({"opens_on": date(2027, 1, 1)}, Person(), False, "not open on 2026-12-04"),
    ({"closes_on": date(2026, 12, 31)}, Person(), True, "open for applications"),
]


@pytest.mark.parametrize(("rules", "person", "fits", "reason"), PERSON_CASES)
def test_person_rule_cases(
    rules: dict[str, Any], person: Person, fits: bool, reason: str
) -> None:
    assert person_fits(_source(**rules), person, TODAY) == (fits, [reason])


def test_no_rules_fit_everyone() -> None:
    assert person_fits(_source(), Person(), TODAY) == (True, [])


def test_every_failed_rule_is_named() -> None:
    source = _source(minimum_age=19, residency=["england"], sectors=["care"])
    fits, reasons = person_fits(
        source, Person(age=17, nation="wales", sector="care"), TODAY
    )
    assert fits is False
    assert reasons == [
        "age 17 is outside 19 or over",
        "lives outside england",
        "works in care",
    ]


COURSE_CASES = [
    ({"course_level_max": 3}, 3, "in_person", True, ["course level 3 is within 0–3"]),
    (
        {"course_level_min": 4, "course_level_max": 6},
        3,
        "in_person",
        False,
        ["course level 3 is outside 4–6"],
    ),
    (
        {"delivery_modes": ["online"]},
        2,
        "online,hybrid",
        True,
        ["delivery mode is funded"],
    ),
    ({"delivery_modes": ["online"]}, 2, "in_person", False, ["funds only online"]),
]


@pytest.mark.parametrize(("rules", "level", "modes", "fits", "reasons"), COURSE_CASES)
def test_course_rule_cases(
    rules: dict[str, Any], level: int, modes: str, fits: bool, reasons: list[str]
) -> None:
    course = Course(id="c", title="Course", level=level, delivery_modes=modes)
    assert course_fits(_source(**rules), course) == (fits, reasons)


def test_fit_funding_orders_fitting_first(session: Session) -> None:
    session.add(
        _source(
            id="f0000000-0000-4000-8000-00000000000a", name="A fund", minimum_age=25
        )
    )
    session.add(
        _source(
            id="f0000000-0000-4000-8000-00000000000b",
            name="B fund",
            course_level_max=3,
            cap_amount=Decimal("500"),
        )
    )
    course = Course(
        id="c0000000-0000-4000-8000-000000000001",
        title="Level 2 maths",
        level=2,
        delivery_modes="online",
        start_dates=[],
    )
    session.add(course)
    session.flush()
    verdicts = fit_funding(session, Person(age=20), course, TODAY)
    assert [(v.source.name, v.fits) for v in verdicts] == [
        ("B fund", True),
        ("A fund", False),
    ]
    assert verdicts[0].reasons == ["course level 2 is within 0–3"]
    assert verdicts[0].as_dict()["cap_amount"] == "500.00"
