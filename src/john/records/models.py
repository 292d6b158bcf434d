"""Tables for feeds, quarantined rows, achievements and experiences.

Every achievement and experience keeps its provenance: the source
organisation, the feed, the row number and when it arrived.
"""

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


class Feed(Base):
    """One file of records received from a source organisation."""

    __tablename__ = "feeds"
    __table_args__ = (UniqueConstraint("source_ukprn", "feed_type", "content_sha256"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source_ukprn: Mapped[str] = mapped_column(String(8), index=True)
    feed_type: Mapped[str] = mapped_column(String(20))
    file_format: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    mapping: Mapped[str] = mapped_column(String(60))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    encoding: Mapped[str | None] = mapped_column(String(20))
    delimiter: Mapped[str | None] = mapped_column(String(4))
    # The report's parts that cannot be recounted from stored rows: columns the
    # mapping ignored, quarantine reasons counted by field, notes on registers.
    columns_ignored: Mapped[list[str] | None] = mapped_column(JSON)
    quarantine_reasons: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    notes: Mapped[list[str] | None] = mapped_column(JSON)


class QuarantinedRow(Base):
    """A feed row that was not accepted, with the field and the reason."""

    __tablename__ = "quarantined_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feed_id: Mapped[str] = mapped_column(ForeignKey("feeds.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)


class Achievement(Base):
    """A qualification, award or unit with its grade and date."""

    __tablename__ = "achievements"
    __table_args__ = (UniqueConstraint("source_ukprn", "row_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_record_id: Mapped[int] = mapped_column(
        ForeignKey("person_records.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    qualification_number: Mapped[str | None] = mapped_column(String(12), index=True)
    title: Mapped[str] = mapped_column(Text)
    level: Mapped[str | None] = mapped_column(String(40))
    grade: Mapped[str | None] = mapped_column(String(40))
    awarded_on: Mapped[date | None] = mapped_column(Date)
    awarding_body: Mapped[str | None] = mapped_column(String(300))
    provider_ukprn: Mapped[str | None] = mapped_column(String(8))
    source_ukprn: Mapped[str] = mapped_column(String(8))
    # Not indexed: no query selects records by feed, and feeds are never
    # deleted, so each large feed would only build the index again.
    feed_id: Mapped[str] = mapped_column(ForeignKey("feeds.id"))
    row_number: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    row_key: Mapped[str] = mapped_column(String(64))


class Experience(Base):
    """Employment, work experience, volunteering, an apprenticeship or CPD."""

    __tablename__ = "experiences"
    __table_args__ = (UniqueConstraint("source_ukprn", "row_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_record_id: Mapped[int] = mapped_column(
        ForeignKey("person_records.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    organisation: Mapped[str] = mapped_column(String(300))
    role: Mapped[str | None] = mapped_column(String(300))
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    hours: Mapped[float | None] = mapped_column(Float)
    source_ukprn: Mapped[str] = mapped_column(String(8))
    # Not indexed: no query selects records by feed, and feeds are never
    # deleted, so each large feed would only build the index again.
    feed_id: Mapped[str] = mapped_column(ForeignKey("feeds.id"))
    row_number: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    row_key: Mapped[str] = mapped_column(String(64))
