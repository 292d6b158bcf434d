"""API shapes for linkage runs, match reviews and learner history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class LinkageReportOut(BaseModel):
    """Counts from one linkage run."""

    run_id: int
    records: int
    deterministic_links: int
    probabilistic_links: int
    reviews_created: int
    learners_created: int
    learners_merged: int
    seconds: float
    model_trained: bool


class LinkageRunOut(BaseModel):
    """A stored linkage run with its counts and thresholds."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    started_at: datetime
    finished_at: datetime | None
    records: int
    deterministic_links: int
    probabilistic_links: int
    reviews_created: int
    learners_created: int
    learners_merged: int
    match_threshold: float | None = None
    review_threshold: float | None = None
    model_trained: bool | None = None


class MatchReviewOut(BaseModel):
    """A pair of person records in the uncertain band."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    record_a_id: int
    record_b_id: int
    match_probability: float
    match_weight: float | None
    status: str
    run_id: int | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


class PersonRecordOut(BaseModel):
    """A provider's person record as shown to staff deciding a review."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    source_ukprn: str
    source_person_ref: str
    given_name: str | None
    family_name: str | None
    date_of_birth: date | None
    postcode: str | None
    email: str | None
    uln: str | None
    upn: str | None
    ni_number: str | None
    ucas_id: str | None
    husid: str | None
    address_line_1: str | None = None
    address_line_2: str | None = None
    locality: str | None = None
    region: str | None = None
    other_identifier: str | None = None
    other_identifier_scheme: str | None = None
    learner_id: str | None


class FieldComparison(BaseModel):
    """The model's comparison level and match weight for one field of a pair."""

    field: str
    level: str
    match_weight: float | None


class MatchReviewDetail(MatchReviewOut):
    """A review with both records side by side and the field comparisons."""

    record_a: PersonRecordOut
    record_b: PersonRecordOut
    comparison: list[FieldComparison]


class DecisionIn(BaseModel):
    """A staff decision on a match review."""

    decision: Literal["accept", "reject"]
    reason: str | None = Field(default=None, max_length=2000)


class LinkageEventOut(BaseModel):
    """One change to which learner a person record belongs."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    learner_id: str | None
    other_learner_id: str | None
    person_record_id: int | None
    run_id: int | None
    actor: str
    reason: str | None
    at: datetime


class LearnerHistoryOut(BaseModel):
    """A learner's status and the events that shaped it."""

    learner_id: str
    status: str
    resolved_id: str
    events: list[LinkageEventOut]


def run_out(run: Any) -> LinkageRunOut:
    """Build the API shape of a run, without the stored model."""
    out = LinkageRunOut.model_validate(run)
    settings = run.settings or {}
    out.match_threshold = settings.get("match_threshold")
    out.review_threshold = settings.get("review_threshold")
    out.model_trained = settings.get("model_trained")
    return out
