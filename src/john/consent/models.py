"""Tables for consent, verification, exemptions, right to work, fraud signals,
subject access and the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from john.db import Base, UTCDateTime, utcnow
from john.identity.models import Learner, PersonRecord


class AuditEntry(Base):
    """One event in the append-only audit trail, chained by SHA-256.

    ``sha256`` covers every other column and the previous entry's hash, so an
    edited row no longer matches its hash and a deleted row breaks the
    sequence. Entries carry internal ids and purposes, never names.
    """

    __tablename__ = "consent_audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_type: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    organisation: Mapped[str | None] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(60))
    learner_id: Mapped[str | None] = mapped_column(String(40), index=True)
    purpose: Mapped[str | None] = mapped_column(Text)
    object_ids: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_sha256: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The last sequence number and hash of the trail (one row, id 1).

    Appenders lock this row first, which serialises the chain, and it lets
    ``verify`` notice when the newest entries are deleted.
    """

    __tablename__ = "consent_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))


class ConsentGrant(Base):
    """A learner's permission for one organisation to see part of the record.

    ``scope`` is ``record`` (everything), ``category`` (``scope_value`` names
    ``achievements`` or ``experiences``), ``achievement`` or ``experience``
    (``scope_value`` is the row id).
    """

    __tablename__ = "consent_grants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id"), index=True)
    grantee: Mapped[str] = mapped_column(String(300), index=True)
    grantee_role: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(20))
    scope_value: Mapped[str | None] = mapped_column(String(60))
    purpose: Mapped[str] = mapped_column(Text)
    valid_until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_id: Mapped[str | None] = mapped_column(String(40))


class ConsentRequest(Base):
    """A verifier's or adviser's request for consent, waiting for the learner."""

    __tablename__ = "consent_requests"
    # A retried request names the same key, and finds the first request.
    __table_args__ = (
        Index(
            "ux_consent_requests_requester_key",
            "requester",
            "idempotency_key",
            unique=True,
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    learner_id: Mapped[str | None] = mapped_column(
        ForeignKey("learners.id"), index=True
    )
    requester: Mapped[str] = mapped_column(String(300), index=True)
    requester_role: Mapped[str] = mapped_column(String(20))
    requester_subject: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(20))
    scope_value: Mapped[str | None] = mapped_column(String(60))
    purpose: Mapped[str] = mapped_column(Text)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    grant_id: Mapped[str | None] = mapped_column(String(40))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    request_sha256: Mapped[str | None] = mapped_column(String(64), default=None)


class Verification(Base):
    """A verification question and its signed answer, fetchable again by id.

    The claimed identity is kept only as a SHA-256 digest, so the store does
    not gain the verifier's copy of the learner's personal data.
    """

    __tablename__ = "consent_verifications"
    # The probing check counts one verifier's recent questions about one learner.
    __table_args__ = (
        Index(
            "ix_consent_verifications_requester_learner",
            "requester",
            "learner_id",
            "created_at",
        ),
        # A retried request names the same key, and finds the first answer.
        Index(
            "ux_consent_verifications_requester_key",
            "requester",
            "idempotency_key",
            unique=True,
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    requester: Mapped[str] = mapped_column(String(300), index=True)
    requester_subject: Mapped[str] = mapped_column(String(100))
    learner_id: Mapped[str | None] = mapped_column(String(40), index=True)
    identity_sha256: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(Text)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    jws: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    request_sha256: Mapped[str | None] = mapped_column(String(64), default=None)


class ExemptionRule(Base):
    """A provider's rule: a prior qualification or experience exempts a module.

    ``requirement`` is JSON: ``{"kind": "qualification", "min_level": 3,
    "title_contains": "...", "qualification_number": "...", "min_grade": "C"}``
    or ``{"kind": "experience", "experience_kind": "employment",
    "min_months": 12, "role_contains": "..."}``.
    """

    __tablename__ = "consent_exemption_rules"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_ukprn: Mapped[str] = mapped_column(String(8), index=True)
    module_code: Mapped[str] = mapped_column(String(40))
    module_title: Mapped[str] = mapped_column(Text)
    requirement: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RightToWorkCheck(Base):
    """An employer's record that it checked a learner's right to work.

    Holds who checked, when and until when. The immigration data behind the
    check (documents, share codes, nationality) is never stored.
    """

    __tablename__ = "consent_right_to_work_checks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id"), index=True)
    employer: Mapped[str] = mapped_column(String(300))
    checked_by: Mapped[str] = mapped_column(String(200))
    checked_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BogusInstitution(Base):
    """An institution the curators know to sell fake qualifications."""

    __tablename__ = "consent_bogus_institutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(300))
    normalised_name: Mapped[str] = mapped_column(String(300), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FraudSignal(Base):
    """A pattern worth a curator's look: bogus institution, twin, probing."""

    __tablename__ = "consent_fraud_signals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    requester: Mapped[str | None] = mapped_column(String(300))
    learner_id: Mapped[str | None] = mapped_column(String(40), index=True)
    verification_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RectificationRequest(Base):
    """A learner's request to correct a record, routed to the source provider."""

    __tablename__ = "consent_rectification_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id"), index=True)
    source_ukprn: Mapped[str] = mapped_column(String(8), index=True)
    object_kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Erasure(Base):
    """The report of one erasure: what was removed and what was kept, and why."""

    __tablename__ = "consent_erasures"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    learner_id: Mapped[str] = mapped_column(String(40), index=True)
    requested_by: Mapped[str] = mapped_column(String(100))
    removed: Mapped[dict[str, Any]] = mapped_column(JSON)
    kept: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Verification matches a claimed identity on date of birth and folded names;
# this index on the person records answers that lookup from the index alone.
# It is declared here, on the identity table, because verification needs it.
ix_person_records_dob_names = Index(
    "ix_consent_person_records_dob_names",
    PersonRecord.date_of_birth,
    func.lower(PersonRecord.family_name),
    func.lower(PersonRecord.given_name),
)

# Following merges to the learners merged into one; see the migration for why
# the index holds merged rows only.
ix_learners_merged = Index(
    "ix_consent_learners_merged_into",
    Learner.merged_into,
    sqlite_where=Learner.merged_into.is_not(None),
    postgresql_where=Learner.merged_into.is_not(None),
)


class RateBucket(Base):
    """A verifier's token bucket, shared by every server process of the store."""

    __tablename__ = "consent_rate_buckets"

    requester: Mapped[str] = mapped_column(String(300), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    # Seconds since the Unix epoch, so that processes on one host agree.
    refilled_at: Mapped[float] = mapped_column(Float)
