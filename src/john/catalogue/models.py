"""Tables of the catalogue: the Open Referral UK (HSDS 3.0) directory, courses,
funding sources, learning venues, the search index, revisions and import reports.

Directory tables follow the HSDS 3.0 names (``organization``, ``service``,
``location``, ``service_at_location`` …) with a ``catalogue_`` prefix. Their ids
are the UUIDs that ORUK requires. An id that a feed sends in another shape is
replaced on import by a UUID derived from it, and the original is kept in
``source_id``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from john.db import Base, UTCDateTime, utcnow

UUID_LENGTH = 36


class Organization(Base):
    """An organisation that provides services or courses (HSDS ``organization``)."""

    __tablename__ = "catalogue_organizations"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(320))
    website: Mapped[str | None] = mapped_column(Text)
    logo: Mapped[str | None] = mapped_column(Text)
    uri: Mapped[str | None] = mapped_column(Text)
    parent_organization_id: Mapped[str | None] = mapped_column(String(UUID_LENGTH))
    ukprn: Mapped[str | None] = mapped_column(String(8), index=True)
    source: Mapped[str | None] = mapped_column(String(200), index=True)
    source_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Service(Base):
    """A service as published in an ORUK feed, with its full ORUK JSON."""

    __tablename__ = "catalogue_services"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_organizations.id"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default="active")
    fees: Mapped[str | None] = mapped_column(Text)
    accreditations: Mapped[str | None] = mapped_column(Text)
    eligibility: Mapped[str | None] = mapped_column(Text)
    minimum_age: Mapped[float | None] = mapped_column(Float)
    maximum_age: Mapped[float | None] = mapped_column(Float)
    assured_date: Mapped[date | None] = mapped_column(Date)
    alert: Mapped[str | None] = mapped_column(Text)
    # Comma-separated subset of in_person, online, hybrid, phone, home_visit.
    delivery_modes: Mapped[str] = mapped_column(String(80), default="")
    # The ORUK 3.0 document served at /oruk/services/{id}; rebuilt on every edit.
    oruk_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The record exactly as the feed sent it, before any fix.
    source_json: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(200), index=True)
    source_id: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The service this one was merged into as a duplicate; its id then serves
    # the kept service's document and it leaves search.
    merged_into: Mapped[str | None] = mapped_column(String(UUID_LENGTH), index=True)


class Location(Base):
    """A place where services or courses are delivered; a learning venue if flagged.

    ``coordinate_source`` records where the latitude and longitude came from:
    ``feed``, ``postcode`` or ``local_authority_centroid``.
    """

    __tablename__ = "catalogue_locations"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_organizations.id"), index=True
    )
    location_type: Mapped[str] = mapped_column(String(10), default="physical")
    name: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    coordinate_source: Mapped[str | None] = mapped_column(String(30))
    address_1: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    postal_code: Mapped[str | None] = mapped_column(String(10), index=True)
    country: Mapped[str] = mapped_column(String(2), default="GB")
    local_authority: Mapped[str | None] = mapped_column(Text)
    local_authority_code: Mapped[str | None] = mapped_column(String(9))
    external_identifier: Mapped[str | None] = mapped_column(String(40))
    external_identifier_type: Mapped[str | None] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(320))
    is_venue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    study_spaces: Mapped[int | None] = mapped_column(Integer)
    public_devices: Mapped[int | None] = mapped_column(Integer)
    # Free text such as "free Wi-Fi, 100 Mbit/s"; null when unknown.
    connectivity: Mapped[str | None] = mapped_column(Text)
    wifi: Mapped[bool | None] = mapped_column(Boolean)
    safeguarding: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200), index=True)
    source_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceAtLocation(Base):
    """A service delivered at one location (HSDS ``service_at_location``)."""

    __tablename__ = "catalogue_service_at_locations"
    __table_args__ = (UniqueConstraint("service_id", "location_id"),)

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_services.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_locations.id"), index=True
    )


class Contact(Base):
    """A named person or role to contact about a service."""

    __tablename__ = "catalogue_contacts"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    service_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_services.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(320))


class Phone(Base):
    """A telephone number of a service, location or contact."""

    __tablename__ = "catalogue_phones"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    service_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_services.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_contacts.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_locations.id"), index=True
    )
    number: Mapped[str] = mapped_column(String(40))
    type: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)


class Schedule(Base):
    """A recurring opening time (RFC 5545 style ``freq``/``byday``) of a service
    or location; times are local ``HH:MM``."""

    __tablename__ = "catalogue_schedules"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    service_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_services.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_locations.id"), index=True
    )
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    dtstart: Mapped[date | None] = mapped_column(Date)
    freq: Mapped[str | None] = mapped_column(String(10))
    interval: Mapped[int | None] = mapped_column(Integer)
    byday: Mapped[str | None] = mapped_column(String(40))
    bymonthday: Mapped[str | None] = mapped_column(String(100))
    opens_at: Mapped[str | None] = mapped_column(String(5))
    closes_at: Mapped[str | None] = mapped_column(String(5))
    description: Mapped[str | None] = mapped_column(Text)
    attending_type: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class ScheduleException(Base):
    """A holiday or other dated change to a service's or location's hours."""

    __tablename__ = "catalogue_schedule_exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_services.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_locations.id"), index=True
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=True)
    opens_at: Mapped[str | None] = mapped_column(String(5))
    closes_at: Mapped[str | None] = mapped_column(String(5))
    description: Mapped[str | None] = mapped_column(Text)


class CostOption(Base):
    """A price of a service, in pounds sterling unless ``currency`` is another."""

    __tablename__ = "catalogue_cost_options"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    service_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_services.id", ondelete="CASCADE"), index=True
    )
    option: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    amount_description: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class Language(Base):
    """A language a service is delivered in (ISO 639 code where known)."""

    __tablename__ = "catalogue_languages"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    service_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_services.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)


class Accessibility(Base):
    """An accessibility arrangement at a location."""

    __tablename__ = "catalogue_accessibility"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    location_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_locations.id"), index=True
    )
    description: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)


class Taxonomy(Base):
    """A vocabulary of terms: ORUK service types, ESCO, SOC 2020, RQF levels."""

    __tablename__ = "catalogue_taxonomies"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    uri: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(String(40))


class TaxonomyTerm(Base):
    """One term of a taxonomy; ``code`` is the vocabulary's own code or URI."""

    __tablename__ = "catalogue_taxonomy_terms"
    __table_args__ = (
        Index("ix_catalogue_taxonomy_terms_taxonomy_code", "taxonomy_id", "code"),
    )

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    taxonomy_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_taxonomies.id"), index=True
    )
    code: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[str | None] = mapped_column(String(UUID_LENGTH), index=True)
    term_uri: Mapped[str | None] = mapped_column(Text)


class Attribute(Base):
    """A link from a service, course or location to a taxonomy term."""

    __tablename__ = "catalogue_attributes"
    __table_args__ = (UniqueConstraint("link_type", "link_id", "taxonomy_term_id"),)

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    link_type: Mapped[str] = mapped_column(String(20))
    link_id: Mapped[str] = mapped_column(String(UUID_LENGTH), index=True)
    taxonomy_term_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_taxonomy_terms.id"), index=True
    )


class Course(Base):
    """A course or, with ``parent_id`` set, a module of a course."""

    __tablename__ = "catalogue_courses"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_courses.id"), index=True
    )
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    provider_ukprn: Mapped[str | None] = mapped_column(String(8), index=True)
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_organizations.id"), index=True
    )
    location_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalogue_locations.id"), index=True
    )
    qualification_number: Mapped[str | None] = mapped_column(String(12))
    # "RQF" (England, Wales, Northern Ireland) or "FHEQ" (higher education).
    level_framework: Mapped[str | None] = mapped_column(String(4))
    # RQF levels are entry (0) to 8; FHEQ levels are 4 to 8.
    level: Mapped[int | None] = mapped_column(Integer)
    credits: Mapped[int | None] = mapped_column(Integer)
    guided_learning_hours: Mapped[int | None] = mapped_column(Integer)
    delivery_modes: Mapped[str] = mapped_column(String(80), default="in_person")
    online_equipment: Mapped[str | None] = mapped_column(Text)
    # Minimum download speed an online learner needs, in Mbit/s.
    online_min_mbps: Mapped[float | None] = mapped_column(Float)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    start_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    prerequisites: Mapped[str | None] = mapped_column(Text)
    minimum_age: Mapped[float | None] = mapped_column(Float)
    maximum_age: Mapped[float | None] = mapped_column(Float)
    url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FundingSource(Base):
    """A funding scheme: the funder, what it pays for, its rules, cap and dates.

    Empty rule lists mean no restriction on that rule.
    """

    __tablename__ = "catalogue_funding_sources"

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    funder: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    # Any of tuition, exam_fees, devices, connectivity, travel, childcare.
    pays_for: Mapped[list[str]] = mapped_column(JSON, default=list)
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    # Nations (england, scotland, wales, northern_ireland) or GSS codes.
    residency: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The learner's highest prior level must be below this to qualify.
    prior_attainment_below: Mapped[int | None] = mapped_column(Integer)
    employment_statuses: Mapped[list[str]] = mapped_column(JSON, default=list)
    benefits: Mapped[list[str]] = mapped_column(JSON, default=list)
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    course_level_min: Mapped[int | None] = mapped_column(Integer)
    course_level_max: Mapped[int | None] = mapped_column(Integer)
    delivery_modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    cap_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    how_to_apply: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchEntry(Base):
    """One searchable service or course, flattened for fast text and distance search.

    SQLite indexes ``title`` and ``body`` in the FTS5 table
    ``catalogue_search_fts`` and the coordinates in the R*Tree
    ``catalogue_search_rtree``. PostgreSQL adds a generated ``search_vector``
    tsvector column with a GIN index, and a GiST index on
    ``point(longitude, latitude)``. The migrations alone create these.
    """

    __tablename__ = "catalogue_search_entries"
    __table_args__ = (UniqueConstraint("kind", "entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    entry_id: Mapped[str] = mapped_column(String(UUID_LENGTH))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_name: Mapped[str | None] = mapped_column(Text)
    minimum_age: Mapped[float | None] = mapped_column(Float)
    maximum_age: Mapped[float | None] = mapped_column(Float)
    delivery_modes: Mapped[str] = mapped_column(String(80), default="")
    cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    is_free: Mapped[bool | None] = mapped_column(Boolean)
    level: Mapped[int | None] = mapped_column(Integer)


class Revision(Base):
    """One change to a catalogue entry, with the values before and after."""

    __tablename__ = "catalogue_revisions"
    __table_args__ = (
        Index("ix_catalogue_revisions_entity", "entity_type", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(UUID_LENGTH))
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportReport(Base):
    """The outcome of one import: counts that add up and every problem by field.

    ``records_read`` equals ``records_valid + records_fixed + records_rejected``.
    """

    __tablename__ = "catalogue_import_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(Text)
    records_read: Mapped[int] = mapped_column(Integer, default=0)
    records_valid: Mapped[int] = mapped_column(Integer, default=0)
    records_fixed: Mapped[int] = mapped_column(Integer, default=0)
    records_rejected: Mapped[int] = mapped_column(Integer, default=0)
    # {field: {reason: count}} for fixed and rejected records.
    by_field: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The first problems in full: record id, field, reason, action taken.
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    coordinate_sources: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DuplicateCandidate(Base):
    """A pair of services that look like the same service published twice."""

    __tablename__ = "catalogue_duplicate_candidates"
    __table_args__ = (UniqueConstraint("first_service_id", "second_service_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    first_service_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_services.id", ondelete="CASCADE")
    )
    second_service_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_services.id", ondelete="CASCADE")
    )
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # pending, merged or kept_apart.
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What a merge added to the kept service, by table, so it can be undone:
    # {"service_at_locations": [ids], "contacts": [ids], "phones": [ids],
    # "attributes": [ids]}.
    merge_record: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
