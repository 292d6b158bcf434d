"""Verification claims and how each is checked against a learner's record.

Each claim gets ``verified``, ``not_verified`` or ``pending_staff_check`` (when
the record cannot settle it by rule, such as a grade on an unknown scale),
with the names of the fields that matched and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from john.identity.models import PersonRecord
from john.records.models import Achievement, Experience

VERIFIED = "verified"
NOT_VERIFIED = "not_verified"
PENDING = "pending_staff_check"

# Grade scales, best first. A claim "at grade X or above" compares ranks only
# within the scale X belongs to.
GRADE_SCALES: dict[str, list[str]] = {
    "letter": ["A*", "A", "B", "C", "D", "E", "F", "G", "U"],
    "number": ["9", "8", "7", "6", "5", "4", "3", "2", "1", "U"],
    "btec": ["D*", "D", "M", "P", "U"],
    "vocational": ["DISTINCTION*", "DISTINCTION", "MERIT", "PASS", "FAIL"],
    "degree": ["FIRST", "2:1", "2:2", "THIRD", "PASS"],
}
_GRADE_ALIASES = {
    "1ST": "FIRST",
    "FIRST CLASS": "FIRST",
    "FIRST CLASS HONOURS": "FIRST",
    "UPPER SECOND": "2:1",
    "UPPER SECOND CLASS": "2:1",
    "2.1": "2:1",
    "LOWER SECOND": "2:2",
    "LOWER SECOND CLASS": "2:2",
    "2.2": "2:2",
    "3RD": "THIRD",
    "THIRD CLASS": "THIRD",
    "DISTINCTION STAR": "DISTINCTION*",
}


def grade_rank(grade: str | None) -> tuple[str, int] | None:
    """Return ``(scale, rank)`` for a grade, rank 0 best, or ``None`` if unknown."""
    if not grade:
        return None
    text = re.sub(r"\s+", " ", grade.strip().upper())
    text = _GRADE_ALIASES.get(text, text)
    for scale, grades in GRADE_SCALES.items():
        if text in grades:
            return scale, grades.index(text)
    return None


def level_number(level: str | int | None) -> int | None:
    """Return the RQF/FHEQ level as a number (``"Level 3"`` gives 3)."""
    if level is None:
        return None
    if isinstance(level, int):
        return level
    if "entry" in level.lower():
        return 0
    found = re.search(r"\d+", level)
    return int(found.group()) if found else None


def normalise_name(name: str | None) -> str:
    """Return a name folded for comparison: lower case, no punctuation or 'the'."""
    if not name:
        return ""
    text = re.sub(r"[^a-z0-9 ]+", " ", name.lower())
    words = [word for word in text.split() if word not in ("the", "of", "and")]
    return " ".join(words)


class QualificationClaim(BaseModel):
    """Holds a qualification, by number or title, at a grade or level or above."""

    type: Literal["qualification"]
    qualification_number: str | None = Field(default=None, max_length=12)
    title: str | None = Field(default=None, max_length=300)
    min_grade: str | None = Field(default=None, max_length=40)
    min_level: int | None = Field(default=None, ge=0, le=8)


class AwardClaim(BaseModel):
    """Holds an award with a classification from an institution in a year."""

    type: Literal["award"]
    title: str = Field(max_length=300)
    institution: str = Field(max_length=300)
    classification: str | None = Field(default=None, max_length=40)
    year: int | None = Field(default=None, ge=1900, le=2100)


class CourseClaim(BaseModel):
    """Completed a course within a period."""

    type: Literal["course"]
    title: str = Field(max_length=300)
    completed_from: date | None = None
    completed_to: date | None = None


class ExperienceClaim(BaseModel):
    """Worked or volunteered at an organisation between dates."""

    type: Literal["experience"]
    organisation: str = Field(max_length=300)
    kind: Literal["employment", "volunteering", "work_experience", "apprenticeship"]
    started_on: date | None = None
    ended_on: date | None = None


Claim = Annotated[
    QualificationClaim | AwardClaim | CourseClaim | ExperienceClaim,
    Field(discriminator="type"),
]


@dataclass
class ClaimResult:
    """The answer to one claim."""

    status: str
    matched_fields: list[str] = field(default_factory=list)
    category: str = "achievements"
    achievement_ids: list[int] = field(default_factory=list)
    experience_ids: list[int] = field(default_factory=list)
    institution: str | None = None


def _title_matches(claimed: str | None, held: str | None) -> bool:
    left, right = normalise_name(claimed), normalise_name(held)
    return bool(left) and (left == right or left in right)


def _grade_at_least(held: str | None, minimum: str) -> bool | None:
    held_rank, min_rank = grade_rank(held), grade_rank(minimum)
    if held_rank is None or min_rank is None or held_rank[0] != min_rank[0]:
        return None
    return held_rank[1] <= min_rank[1]


def check_qualification(
    claim: QualificationClaim, held: Sequence[tuple[Achievement, PersonRecord]]
) -> ClaimResult:
    """Check a qualification claim against the visible achievements."""
    if not claim.qualification_number and not claim.title:
        return ClaimResult(PENDING)
    best = ClaimResult(NOT_VERIFIED)
    for achievement, _ in held:
        fields = []
        if claim.qualification_number:
            wanted = claim.qualification_number.replace("/", "").upper()
            if (achievement.qualification_number or "").replace(
                "/", ""
            ).upper() != wanted:
                continue
            fields.append("qualification_number")
        elif _title_matches(claim.title, achievement.title):
            fields.append("title")
        else:
            continue

        status = VERIFIED
        if claim.min_level is not None:
            level = level_number(achievement.level)
            if level is None:
                status = PENDING
            elif level >= claim.min_level:
                fields.append("level")
            else:
                continue
        if claim.min_grade:
            outcome = _grade_at_least(achievement.grade, claim.min_grade)
            if outcome is None:
                status = PENDING
            elif outcome:
                fields.append("grade")
            else:
                continue
        result = ClaimResult(status, fields, achievement_ids=[achievement.id])
        if status == VERIFIED:
            return result
        best = result
    return best


def check_award(
    claim: AwardClaim, held: Sequence[tuple[Achievement, PersonRecord]]
) -> ClaimResult:
    """Check an award, classification, institution and year."""
    best = ClaimResult(NOT_VERIFIED, institution=claim.institution)
    for achievement, _ in held:
        if not _title_matches(claim.title, achievement.title):
            continue
        if normalise_name(claim.institution) != normalise_name(
            achievement.awarding_body
        ):
            continue
        fields = ["title", "institution"]
        if claim.year is not None:
            if (
                achievement.awarded_on is None
                or achievement.awarded_on.year != claim.year
            ):
                continue
            fields.append("year")
        status = VERIFIED
        if claim.classification:
            outcome = _grade_at_least(achievement.grade, claim.classification)
            if outcome is None:
                status = PENDING
            elif outcome:
                fields.append("classification")
            else:
                continue
        result = ClaimResult(
            status,
            fields,
            achievement_ids=[achievement.id],
            institution=claim.institution,
        )
        if status == VERIFIED:
            return result
        best = result
    return best


def check_course(
    claim: CourseClaim, held: Sequence[tuple[Achievement, PersonRecord]]
) -> ClaimResult:
    """Check a course completed (awarded) within a period."""
    for achievement, _ in held:
        if not _title_matches(claim.title, achievement.title):
            continue
        done = achievement.awarded_on
        if claim.completed_from or claim.completed_to:
            if done is None:
                return ClaimResult(PENDING, ["title"], achievement_ids=[achievement.id])
            if claim.completed_from and done < claim.completed_from:
                continue
            if claim.completed_to and done > claim.completed_to:
                continue
            return ClaimResult(
                VERIFIED, ["title", "completed_on"], achievement_ids=[achievement.id]
            )
        return ClaimResult(VERIFIED, ["title"], achievement_ids=[achievement.id])
    return ClaimResult(NOT_VERIFIED)


def check_experience(
    claim: ExperienceClaim, held: Sequence[tuple[Experience, PersonRecord]]
) -> ClaimResult:
    """Check work or volunteering at an organisation covering the claimed dates."""
    for experience, _ in held:
        if normalise_name(claim.organisation) != normalise_name(
            experience.organisation
        ):
            continue
        if experience.kind != claim.kind:
            continue
        fields = ["organisation", "kind"]
        if claim.started_on:
            if (
                experience.started_on is None
                or experience.started_on > claim.started_on
            ):
                continue
            fields.append("started_on")
        if claim.ended_on:
            # An open-ended experience (no end date) is still going on.
            if experience.ended_on is not None and experience.ended_on < claim.ended_on:
                continue
            fields.append("ended_on")
        return ClaimResult(
            VERIFIED, fields, category="experiences", experience_ids=[experience.id]
        )
    return ClaimResult(NOT_VERIFIED, category="experiences")
