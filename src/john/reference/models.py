"""Tables for the public registers that feeds are checked against."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from john.db import Base, UTCDateTime, utcnow


class RegisteredProvider(Base):
    """A learning provider or awarding institution with a UKPRN."""

    __tablename__ = "registered_providers"

    ukprn: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    hesa_code: Mapped[str | None] = mapped_column(String(8), index=True)
    postcode: Mapped[str | None] = mapped_column(String(10))
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    register: Mapped[str] = mapped_column(String(40))


class RegisteredQualification(Base):
    """A regulated qualification from the Ofqual register."""

    __tablename__ = "registered_qualifications"

    qualification_number: Mapped[str] = mapped_column(String(12), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    level: Mapped[str | None] = mapped_column(String(40))
    awarding_organisation: Mapped[str | None] = mapped_column(String(300))
    qualification_type: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str | None] = mapped_column(String(60))


class School(Base):
    """An establishment from Get Information About Schools, keyed by URN."""

    __tablename__ = "schools"

    urn: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    la_code: Mapped[str | None] = mapped_column(String(3))
    ukprn: Mapped[str | None] = mapped_column(String(8), index=True)
    postcode: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str | None] = mapped_column(String(60))
    phase: Mapped[str | None] = mapped_column(String(60))


class Postcode(Base):
    """A postcode with its coordinates and local authority (ONS Postcode Directory)."""

    __tablename__ = "postcodes"

    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    local_authority_code: Mapped[str | None] = mapped_column(String(9), index=True)
    country_code: Mapped[str | None] = mapped_column(String(9))
    terminated: Mapped[bool] = mapped_column(Boolean, default=False)


class LocalAuthority(Base):
    """A local authority with its GSS code and centroid."""

    __tablename__ = "local_authorities"

    gss_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    nation: Mapped[str | None] = mapped_column(String(40))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    current: Mapped[bool] = mapped_column(Boolean, default=True)


class Occupation(Base):
    """A group of the ONS Standard Occupational Classification 2020."""

    __tablename__ = "occupations"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    level: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(Text)


class RegisterLoad(Base):
    """One load of a register file, with its counts."""

    __tablename__ = "register_loads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    register: Mapped[str] = mapped_column(String(40), index=True)
    source_file: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_loaded: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    # Rows that are well formed but carry no key for this register (a DfE
    # institution without a UKPRN); rows_read = loaded + rejected + skipped.
    rows_skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Counts by reason: {"rejected": {...}, "skipped": {...}, "notes": {...}}.
    reasons: Mapped[dict[str, dict[str, int]] | None] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
