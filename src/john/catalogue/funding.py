"""Funding fit: the funding sources that fit a person and a course, with reasons.

A funding source states its rules about the person (age, residency, prior
attainment, employment or benefit status, sector) and about the course
(level range, delivery mode), plus the dates it is open. Every rule is
checked and explained, so a refusal names the rule that failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from john.catalogue.models import Course, FundingSource, SearchEntry

NATIONS = ("england", "scotland", "wales", "northern_ireland")
EMPLOYMENT_STATUSES = (
    "employed",
    "self_employed",
    "unemployed",
    "student",
    "economically_inactive",
    "retired",
)


@dataclass
class Person:
    """The facts about a learner that funding rules ask for; no identifiers."""

    age: int | None = None
    nation: str | None = None
    local_authority_code: str | None = None
    highest_prior_level: int | None = None
    employment_status: str | None = None
    benefits: list[str] = field(default_factory=list)
    sector: str | None = None


@dataclass
class FundingFit:
    """The verdict on one funding source, with a reason per rule checked."""

    source: FundingSource
    fits: bool
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON shape used by the API."""
        return {
            "funding_source_id": self.source.id,
            "name": self.source.name,
            "funder": self.source.funder,
            "fits": self.fits,
            "reasons": self.reasons,
            "pays_for": self.source.pays_for,
            "cap_amount": None
            if self.source.cap_amount is None
            else str(self.source.cap_amount),
            "how_to_apply": self.source.how_to_apply,
        }


def _check(ok: bool, reasons: list[str], yes: str, no: str) -> bool:
    reasons.append(yes if ok else no)
    return ok


def person_fits(
    source: FundingSource, person: Person, today: date | None = None
) -> tuple[bool, list[str]]:
    """Check the dates and the person rules of ``source``; return verdict and reasons.

    A rule whose fact the person does not give counts as not met, because the
    funder would ask for it.
    """
    today = today or date.today()
    reasons: list[str] = []
    results = []
    if source.opens_on or source.closes_on:
        open_now = (source.opens_on is None or source.opens_on <= today) and (
            source.closes_on is None or today <= source.closes_on
        )
        results.append(
            _check(
                open_now,
                reasons,
                "open for applications",
                f"not open on {today.isoformat()}",
            )
        )
    if source.minimum_age is not None or source.maximum_age is not None:
        low = source.minimum_age if source.minimum_age is not None else 0
        high = source.maximum_age if source.maximum_age is not None else 200
        span = f"{low}–{high}" if source.maximum_age is not None else f"{low} or over"
        results.append(
            _check(
                person.age is not None and low <= person.age <= high,
                reasons,
                f"age {person.age} is within {span}",
                f"age {person.age} is outside {span}"
                if person.age is not None
                else f"age not given; needs {span}",
            )
        )
    if source.residency:
        places = {person.nation, person.local_authority_code} - {None}
        results.append(
            _check(
                bool(places & set(source.residency)),
                reasons,
                "lives in an eligible area",
                "lives outside " + ", ".join(source.residency),
            )
        )
    if source.prior_attainment_below is not None:
        prior = person.highest_prior_level
        limit = source.prior_attainment_below
        results.append(
            _check(
                prior is None or prior < limit,
                reasons,
                f"highest prior level {prior if prior is not None else 'none'}"
                f" is below level {limit}",
                f"already holds level {prior}, at or above {limit}",
            )
        )
    if source.employment_statuses or source.benefits:
        by_status = person.employment_status in source.employment_statuses
        by_benefit = bool(set(person.benefits) & set(source.benefits))
        wanted = ", ".join(source.employment_statuses + source.benefits)
        results.append(
            _check(
                by_status or by_benefit,
                reasons,
                "employment or benefit status qualifies",
                f"needs one of: {wanted}",
            )
        )
    if source.sectors:
        results.append(
            _check(
                person.sector in source.sectors,
                reasons,
                f"works in {person.sector}",
                "sector must be one of " + ", ".join(source.sectors),
            )
        )
    return all(results), reasons


def course_fits(source: FundingSource, course: Course) -> tuple[bool, list[str]]:
    """Check the course rules of ``source`` (level range, delivery mode)."""
    reasons: list[str] = []
    results = []
    if source.course_level_min is not None or source.course_level_max is not None:
        low = source.course_level_min if source.course_level_min is not None else 0
        high = source.course_level_max if source.course_level_max is not None else 8
        results.append(
            _check(
                course.level is not None and low <= course.level <= high,
                reasons,
                f"course level {course.level} is within {low}–{high}",
                f"course level {course.level} is outside {low}–{high}",
            )
        )
    if source.delivery_modes:
        modes = set(course.delivery_modes.split(","))
        results.append(
            _check(
                bool(modes & set(source.delivery_modes)),
                reasons,
                "delivery mode is funded",
                "funds only " + ", ".join(source.delivery_modes),
            )
        )
    return all(results), reasons


def fitting_for_person(
    session: Session, person: Person, today: date | None = None
) -> list[FundingFit]:
    """Return the funding sources whose dates and person rules ``person`` meets."""
    fits = []
    for source in session.scalars(select(FundingSource).order_by(FundingSource.name)):
        ok, reasons = person_fits(source, person, today)
        if ok:
            fits.append(FundingFit(source, True, reasons))
    return fits


def course_condition(fits: list[FundingFit]) -> ColumnElement[bool]:
    """Return a search condition: a course that one of ``fits`` pays for."""
    options = []
    for fit in fits:
        source = fit.source
        parts: list[ColumnElement[bool]] = [SearchEntry.kind == "course"]
        if source.course_level_min is not None:
            parts.append(SearchEntry.level >= source.course_level_min)
        if source.course_level_max is not None:
            parts.append(SearchEntry.level <= source.course_level_max)
        if source.delivery_modes:
            parts.append(
                or_(
                    *[
                        SearchEntry.delivery_modes.like(f"%{mode}%")
                        for mode in source.delivery_modes
                    ]
                )
            )
        options.append(and_(*parts))
    return or_(*options) if options else false()


def fit_funding(
    session: Session,
    person: Person,
    course: Course | None = None,
    today: date | None = None,
) -> list[FundingFit]:
    """Judge every funding source for ``person`` (and ``course`` if given).

    Fitting sources come first; each verdict lists the reason for every rule.
    """
    verdicts = []
    for source in session.scalars(select(FundingSource).order_by(FundingSource.name)):
        ok, reasons = person_fits(source, person, today)
        if course is not None:
            course_ok, course_reasons = course_fits(source, course)
            ok = ok and course_ok
            reasons += course_reasons
        verdicts.append(FundingFit(source, ok, reasons))
    verdicts.sort(key=lambda fit: not fit.fits)
    return verdicts
