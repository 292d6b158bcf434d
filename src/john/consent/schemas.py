"""Request and response shapes of the consent API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from john.consent.verification import ClaimedIdentity


class GrantIn(BaseModel):
    """A learner's grant of access to part of their record."""

    grantee: str = Field(
        min_length=1,
        max_length=300,
        description="Organisation granted access, as its client is registered; "
        "a provider is named ukprn:NNNNNNNN.",
    )
    grantee_role: Literal["verifier", "adviser", "provider"]
    scope: Literal["record", "category", "achievement", "experience"]
    scope_value: str | None = Field(
        default=None,
        max_length=60,
        description="achievements or experiences for a category; the row id for "
        "one achievement or experience.",
    )
    purpose: str = Field(min_length=1, max_length=500)
    valid_until: date


class GrantOut(BaseModel):
    """A consent grant as its learner sees it."""

    id: str
    grantee: str
    grantee_role: str
    scope: str
    scope_value: str | None
    purpose: str
    valid_until: date
    created_at: datetime
    revoked_at: datetime | None
    status: str


class GrantWithReceipt(BaseModel):
    """A new grant with its consent receipt."""

    grant: GrantOut
    receipt: dict[str, Any]


class ConsentRequestIn(BaseModel):
    """A verifier's or adviser's request for consent."""

    identity: ClaimedIdentity
    scope: Literal["record", "category"] = "record"
    scope_value: Literal["achievements", "experiences"] | None = None
    purpose: str = Field(min_length=1, max_length=500)
    valid_until: date


class ConsentRequestOut(BaseModel):
    """A consent request's state; the learner id appears once it is approved."""

    id: str
    status: str
    requester: str
    scope: str
    scope_value: str | None
    purpose: str
    valid_until: date
    created_at: datetime
    learner_id: str | None = None
    grant_id: str | None = None


class VerificationOut(BaseModel):
    """A signed verification answer."""

    id: str
    answer: dict[str, Any]
    jws: str = Field(description="The answer as a compact JWS signed with Ed25519.")


class AuditEntryOut(BaseModel):
    """One audit entry as shown to a learner or auditor."""

    seq: int
    at: datetime
    event_type: str
    actor: str
    role: str
    organisation: str | None
    action: str
    purpose: str | None
    object_ids: list[str]
    outcome: str


class ChainReportOut(BaseModel):
    """The result of checking the audit trail."""

    intact: bool
    entries: int
    head_seq: int
    head_sha256: str
    problems: list[str]


class BogusInstitutionIn(BaseModel):
    """An institution to list as bogus."""

    name: str = Field(min_length=1, max_length=300)
    reason: str = Field(min_length=1, max_length=1000)


class RectificationIn(BaseModel):
    """A learner's correction request for one row of their record."""

    object_kind: Literal["achievement", "experience", "person"]
    object_id: int = Field(ge=1)
    message: str = Field(min_length=1, max_length=2000)
