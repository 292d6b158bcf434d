"""Request and response shapes of the catalogue API (curator edits, search)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DeliveryMode = Literal["in_person", "online", "hybrid", "phone", "home_visit"]
Status = Literal["active", "inactive", "defunct", "temporarily closed"]


class ServiceInput(BaseModel):
    """A service as a curator creates or edits it; unset fields stay unchanged."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = None
    organization_id: str | None = None
    url: str | None = None
    email: str | None = None
    status: Status | None = None
    fees: str | None = None
    eligibility: str | None = None
    minimum_age: float | None = Field(default=None, ge=0, le=130)
    maximum_age: float | None = Field(default=None, ge=0, le=130)
    delivery_modes: list[DeliveryMode] | None = None


class ScheduleInput(BaseModel):
    """A weekly opening time: days as RFC 5545 codes and local ``HH:MM`` times."""

    model_config = ConfigDict(extra="forbid")

    byday: str = Field(pattern=r"^(MO|TU|WE|TH|FR|SA|SU)(,(MO|TU|WE|TH|FR|SA|SU))*$")
    opens_at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    closes_at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    description: str | None = None


class ScheduleExceptionInput(BaseModel):
    """A holiday closure or changed hours for a range of dates."""

    model_config = ConfigDict(extra="forbid")

    starts_on: date
    ends_on: date
    closed: bool = True
    opens_at: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    closes_at: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    description: str | None = None


class CourseInput(BaseModel):
    """A course or module; ``skills`` are ESCO skill URIs or taxonomy term ids."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = None
    parent_id: str | None = None
    provider_ukprn: str | None = Field(default=None, pattern=r"^1\d{7}$")
    organization_id: str | None = None
    location_id: str | None = None
    qualification_number: str | None = Field(
        default=None, pattern=r"^\d{3}/\d{4}/[0-9A-Z]$"
    )
    level_framework: Literal["RQF", "FHEQ"] | None = None
    level: int | None = Field(default=None, ge=0, le=8)
    credits: int | None = Field(default=None, ge=0, le=1000)
    guided_learning_hours: int | None = Field(default=None, ge=0, le=10000)
    delivery_modes: list[DeliveryMode] | None = None
    online_equipment: str | None = None
    online_min_mbps: float | None = Field(default=None, ge=0)
    cost: Decimal | None = Field(default=None, ge=0)
    start_dates: list[date] | None = None
    prerequisites: str | None = None
    minimum_age: float | None = Field(default=None, ge=0, le=130)
    maximum_age: float | None = Field(default=None, ge=0, le=130)
    url: str | None = None
    skills: list[str] | None = None


class FundingSourceInput(BaseModel):
    """A funding scheme and its rules; empty lists mean no restriction."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1)
    funder: str | None = Field(default=None, min_length=1)
    description: str | None = None
    pays_for: list[str] | None = None
    minimum_age: int | None = Field(default=None, ge=0, le=130)
    maximum_age: int | None = Field(default=None, ge=0, le=130)
    residency: list[str] | None = None
    prior_attainment_below: int | None = Field(default=None, ge=0, le=9)
    employment_statuses: list[str] | None = None
    benefits: list[str] | None = None
    sectors: list[str] | None = None
    course_level_min: int | None = Field(default=None, ge=0, le=8)
    course_level_max: int | None = Field(default=None, ge=0, le=8)
    delivery_modes: list[DeliveryMode] | None = None
    cap_amount: Decimal | None = Field(default=None, ge=0)
    opens_on: date | None = None
    closes_on: date | None = None
    how_to_apply: str | None = None
    url: str | None = None


class VenueInput(BaseModel):
    """A learning venue: where it is and what a learner finds there."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1)
    description: str | None = None
    address_1: str | None = None
    city: str | None = None
    postal_code: str | None = None
    local_authority: str | None = None
    study_spaces: int | None = Field(default=None, ge=0)
    public_devices: int | None = Field(default=None, ge=0)
    connectivity: str | None = None
    wifi: bool | None = None
    safeguarding: str | None = None
    url: str | None = None
    email: str | None = None


class PersonInput(BaseModel):
    """The facts a funding check needs; no names or identifiers."""

    model_config = ConfigDict(extra="forbid")

    age: int | None = Field(default=None, ge=0, le=130)
    nation: Literal["england", "scotland", "wales", "northern_ireland"] | None = None
    local_authority_code: str | None = Field(default=None, pattern=r"^[ENSW]\d{8}$")
    highest_prior_level: int | None = Field(default=None, ge=0, le=8)
    employment_status: str | None = None
    benefits: list[str] = Field(default_factory=list)
    sector: str | None = None

    @field_validator("benefits")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        return [value.strip().lower() for value in values if value.strip()]


class FundingFitRequest(BaseModel):
    """A person and, optionally, the course they want."""

    model_config = ConfigDict(extra="forbid")

    person: PersonInput
    course_id: str | None = None


class DuplicateDecision(BaseModel):
    """A curator's decision on a duplicate candidate."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["merged", "kept_apart"]
