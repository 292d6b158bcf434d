"""Tables for learners, the person records providers send, and linkage history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from john.db import Base, UTCDateTime, utcnow


class Learner(Base):
    """One person as the hub knows them: a cluster of linked person records.

    The id is random and never reused. When two learners merge, the one that
    disappears keeps its row with ``merged_into`` set, so old links resolve.
    """

    __tablename__ = "learners"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    merged_into: Mapped[str | None] = mapped_column(
        ForeignKey("learners.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PersonRecord(Base):
    """A provider's record of a person, as it arrived in a feed."""

    __tablename__ = "person_records"
    __table_args__ = (UniqueConstraint("source_ukprn", "source_person_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The unique constraint's index, which starts with this column, serves
    # lookups by source; a second index would only slow large feeds.
    source_ukprn: Mapped[str] = mapped_column(String(8))
    source_person_ref: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    postcode: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(320))
    uln: Mapped[str | None] = mapped_column(String(10), index=True)
    upn: Mapped[str | None] = mapped_column(String(13), index=True)
    ni_number: Mapped[str | None] = mapped_column(String(9), index=True)
    ucas_id: Mapped[str | None] = mapped_column(String(10), index=True)
    husid: Mapped[str | None] = mapped_column(String(13), index=True)
    # Address fields follow the GOV.UK address pattern. Locality and region
    # are the vCard and schema.org PostalAddress names for town and county.
    address_line_1: Mapped[str | None] = mapped_column(String(200))
    address_line_2: Mapped[str | None] = mapped_column(String(200))
    locality: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    # A person identifier outside the validated schemes (a candidate number,
    # another country's national number), compared only within its scheme.
    other_identifier: Mapped[str | None] = mapped_column(String(40))
    other_identifier_scheme: Mapped[str | None] = mapped_column(String(40))
    learner_id: Mapped[str | None] = mapped_column(
        ForeignKey("learners.id"), index=True, nullable=True
    )
    # No query selects person records by feed, so no index: each large feed
    # would build it over the whole table.
    feed_id: Mapped[str] = mapped_column(String(40))
    row_number: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkageRun(Base):
    """One run of record linkage over the store, with its counts."""

    __tablename__ = "linkage_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    records: Mapped[int] = mapped_column(Integer, default=0)
    deterministic_links: Mapped[int] = mapped_column(Integer, default=0)
    probabilistic_links: Mapped[int] = mapped_column(Integer, default=0)
    reviews_created: Mapped[int] = mapped_column(Integer, default=0)
    learners_created: Mapped[int] = mapped_column(Integer, default=0)
    learners_merged: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class MatchReview(Base):
    """A pair in the uncertain band, waiting for or carrying a staff decision."""

    __tablename__ = "match_reviews"
    __table_args__ = (UniqueConstraint("record_a_id", "record_b_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_a_id: Mapped[int] = mapped_column(ForeignKey("person_records.id"))
    record_b_id: Mapped[int] = mapped_column(ForeignKey("person_records.id"))
    match_probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("linkage_runs.id"))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkageEvent(Base):
    """One change to which learner a person record belongs (append-only history)."""

    __tablename__ = "linkage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    learner_id: Mapped[str | None] = mapped_column(String(40), index=True)
    other_learner_id: Mapped[str | None] = mapped_column(String(40))
    person_record_id: Mapped[int | None] = mapped_column(Integer, index=True)
    run_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100), default="linkage")
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
