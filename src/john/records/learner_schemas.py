"""API shapes for searching learners and reading a joined-up record."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from john.records.joined import (
    AchievementView,
    ExperienceView,
    LearnerMatch,
    LearnerRecord,
    LearnerSearch,
    PersonView,
    Provenance,
)


class ProvenanceOut(BaseModel):
    """The origin of a row: organisation, feed, row and arrival time."""

    source_ukprn: str = Field(description="UKPRN of the organisation that sent it.")
    source_name: str | None = Field(
        description="The organisation's name in the provider register, if loaded."
    )
    feed_id: str
    row_number: int = Field(
        description="Row in the feed file; 1 is the first data row."
    )
    received_at: datetime

    @classmethod
    def of(cls, provenance: Provenance) -> ProvenanceOut:
        """Build the API shape from the read model."""
        return cls(**provenance.__dict__)


class PersonOut(BaseModel):
    """One source's record of the learner, values as the source sent them."""

    id: int
    source_person_ref: str
    given_name: str | None
    family_name: str | None
    date_of_birth: date | None
    postcode: str | None
    email: str | None
    identifiers: dict[str, str] = Field(
        description="Identifier column (uln, upn, ni_number, ucas_id, husid) to value."
    )
    provenance: ProvenanceOut

    @classmethod
    def of(cls, person: PersonView) -> PersonOut:
        """Build the API shape from the read model."""
        values = {**person.__dict__, "provenance": ProvenanceOut.of(person.provenance)}
        return cls(**values)


class AchievementOut(BaseModel):
    """A qualification, award or unit."""

    id: int
    person_record_id: int
    kind: str
    qualification_number: str | None
    title: str
    level: str | None
    grade: str | None
    awarded_on: date | None
    awarding_body: str | None
    provider_ukprn: str | None
    provider_name: str | None
    provenance: ProvenanceOut

    @classmethod
    def of(cls, row: AchievementView) -> AchievementOut:
        """Build the API shape from the read model."""
        return cls(**{**row.__dict__, "provenance": ProvenanceOut.of(row.provenance)})


class ExperienceOut(BaseModel):
    """Employment, work experience, volunteering, an apprenticeship or CPD."""

    id: int
    person_record_id: int
    kind: str
    organisation: str
    role: str | None
    started_on: date | None
    ended_on: date | None
    hours: float | None
    provenance: ProvenanceOut

    @classmethod
    def of(cls, row: ExperienceView) -> ExperienceOut:
        """Build the API shape from the read model."""
        return cls(**{**row.__dict__, "provenance": ProvenanceOut.of(row.provenance)})


class LearnerOut(BaseModel):
    """The joined-up record of one learner across every source."""

    id: str = Field(description="The surviving learner's id.")
    requested_id: str = Field(description="The id named in the request.")
    merged: bool = Field(
        description="True when requested_id names a learner since merged into id; "
        "store id in place of requested_id."
    )
    merged_ids: list[str] = Field(description="Learner ids merged into this one.")
    status: str
    source_ukprns: list[str]
    disagreements: list[str] = Field(
        description="Identity fields on which the sources sent different values."
    )
    persons: list[PersonOut]
    achievements: list[AchievementOut]
    experiences: list[ExperienceOut]

    @classmethod
    def of(cls, record: LearnerRecord) -> LearnerOut:
        """Build the API shape from the read model."""
        return cls(
            id=record.learner_id,
            requested_id=record.requested_id,
            merged=record.was_merged,
            merged_ids=record.merged_ids,
            status=record.status,
            source_ukprns=record.source_ukprns,
            disagreements=record.disagreements,
            persons=[PersonOut.of(person) for person in record.persons],
            achievements=[AchievementOut.of(row) for row in record.achievements],
            experiences=[ExperienceOut.of(row) for row in record.experiences],
        )


class LearnerMatchOut(BaseModel):
    """One learner found by a search."""

    id: str
    names: list[str] = Field(description="Distinct names the sources sent.")
    dates_of_birth: list[date]
    source_ukprns: list[str]
    source_names: list[str]
    url: str = Field(description="Path of the learner's record in this API.")

    @classmethod
    def of(cls, match: LearnerMatch) -> LearnerMatchOut:
        """Build the API shape from the read model."""
        return cls(
            id=match.learner_id,
            names=match.names,
            dates_of_birth=match.dates_of_birth,
            source_ukprns=match.source_ukprns,
            source_names=match.source_names,
            url=f"/api/v1/learners/{match.learner_id}",
        )


class LearnerSearchOut(BaseModel):
    """One page of learners found by a search."""

    query: str
    matched_on: str = Field(
        description="'name', or the identifier schemes the query was matched in."
    )
    total: int
    limit: int
    offset: int
    items: list[LearnerMatchOut]

    @classmethod
    def of(cls, search: LearnerSearch) -> LearnerSearchOut:
        """Build the API shape from the read model."""
        return cls(
            query=search.query,
            matched_on=search.matched_on,
            total=search.total,
            limit=search.limit,
            offset=search.offset,
            items=[LearnerMatchOut.of(match) for match in search.learners],
        )
