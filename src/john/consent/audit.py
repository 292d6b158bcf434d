"""The tamper-evident audit trail: typed events chained by SHA-256.

Each entry stores the hash of the one before it, and its own hash covers
all its columns and that previous hash. ``verify_chain`` recomputes every
hash, so an edited entry, a deleted entry (a gap in ``seq``) or deleted newest
entries (the head row is ahead of the last entry) are all found. Someone able
to rewrite the whole table and the head row could rebuild a consistent chain;
publishing the head hash elsewhere (``john audit verify`` prints it) closes that.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from john.auth.principal import Principal
from john.consent.models import AuditEntry, AuditHead
from john.db import utcnow

log = logging.getLogger(__name__)

GENESIS_SHA256 = "0" * 64


class EventType(StrEnum):
    """Kinds of audited event; consent, verification and access are all here."""

    RECORD_READ = "record_read"
    RECORD_CHANGED = "record_changed"
    ACCESS_DENIED = "access_denied"
    CONSENT_GRANTED = "consent_granted"
    CONSENT_REVOKED = "consent_revoked"
    CONSENT_REQUESTED = "consent_requested"
    CONSENT_APPROVED = "consent_approved"
    CONSENT_DECLINED = "consent_declined"
    VERIFICATION_ANSWERED = "verification_answered"
    EXEMPTION_EVALUATED = "exemption_evaluated"
    RIGHT_TO_WORK_RECORDED = "right_to_work_recorded"
    RIGHT_TO_WORK_CONFIRMED = "right_to_work_confirmed"
    FRAUD_SIGNALLED = "fraud_signalled"
    SUBJECT_ACCESS_EXPORTED = "subject_access_exported"
    RECTIFICATION_REQUESTED = "rectification_requested"
    ERASURE_COMPLETED = "erasure_completed"
    CREDENTIAL_ISSUED = "credential_issued"
    CREDENTIAL_REVOKED = "credential_revoked"


@dataclass(frozen=True)
class AuditEvent:
    """One audited happening, before it is written to the trail."""

    event_type: EventType
    actor: str
    role: str
    action: str
    learner_id: str | None = None
    purpose: str | None = None
    object_ids: tuple[str, ...] = ()
    outcome: str = "allowed"
    organisation: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def by(
        cls, principal: Principal, event_type: EventType, action: str, **values: Any
    ) -> AuditEvent:
        """Build an event whose actor is ``principal``."""
        values.setdefault("organisation", principal.organisation or principal.ukprn)
        return cls(
            event_type=event_type,
            actor=principal.actor,
            role=principal.role,
            action=action,
            **values,
        )


def _entry_hash(fields: Mapping[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    at: datetime = entry.at
    return {
        "seq": entry.seq,
        "at": at.isoformat(timespec="microseconds"),
        "event_type": entry.event_type,
        "actor": entry.actor,
        "role": entry.role,
        "organisation": entry.organisation,
        "action": entry.action,
        "learner_id": entry.learner_id,
        "purpose": entry.purpose,
        "object_ids": list(entry.object_ids),
        "outcome": entry.outcome,
        "detail": dict(entry.detail),
        "prev_sha256": entry.prev_sha256,
    }


_ADVANCE_HEAD = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(seq=AuditHead.seq + 1)
    .returning(AuditHead.seq, AuditHead.sha256)
)
_SET_HEAD_SHA256 = (
    update(AuditHead).where(AuditHead.id == 1).values(sha256=bindparam("new_sha256"))
)
_INSERT_ENTRY = insert(AuditEntry)

_ENTRY_COLUMNS = (
    "seq",
    "at",
    "event_type",
    "actor",
    "role",
    "organisation",
    "action",
    "learner_id",
    "purpose",
    "object_ids",
    "outcome",
    "detail",
    "prev_sha256",
    "sha256",
)


def append(session: Session, event: AuditEvent) -> AuditEntry:
    """Append ``event`` to the trail in the caller's transaction.

    The head row is updated first: on PostgreSQL the row lock, and on SQLite
    the database write lock, keep other appenders waiting until this
    transaction ends, so the chain never forks, whatever the number of server
    processes. The statements are built once and run on the session's
    connection, because this runs on every audited request.
    """
    connection = session.connection()
    head = connection.execute(_ADVANCE_HEAD).one()
    entry = AuditEntry(
        seq=head.seq,
        at=utcnow(),
        event_type=str(event.event_type),
        actor=event.actor,
        role=event.role,
        organisation=event.organisation,
        action=event.action,
        learner_id=event.learner_id,
        purpose=event.purpose,
        object_ids=[str(item) for item in event.object_ids],
        outcome=event.outcome,
        detail=dict(event.detail),
        prev_sha256=head.sha256,
    )
    entry.sha256 = _entry_hash(_hashed_fields(entry))
    row = {column: getattr(entry, column) for column in _ENTRY_COLUMNS}
    connection.execute(_INSERT_ENTRY, row)
    connection.execute(_SET_HEAD_SHA256, {"new_sha256": entry.sha256})
    return entry


@dataclass
class ChainReport:
    """The result of checking the trail: entries read and problems found."""

    entries: int = 0
    head_seq: int = 0
    head_sha256: str = GENESIS_SHA256
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Return whether no problem was found."""
        return not self.problems


def _entries(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last)
            .order_by(AuditEntry.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash and report edited, deleted or reordered entries."""
    head = session.get(AuditHead, 1)
    report = ChainReport()
    if head is None:
        report.problems.append("the audit head row is missing")
        return report
    report.head_seq, report.head_sha256 = head.seq, head.sha256

    expected_seq, previous = 1, GENESIS_SHA256
    for entry in _entries(session):
        report.entries += 1
        if entry.seq != expected_seq:
            report.problems.append(
                f"entries {expected_seq} to {entry.seq - 1} are missing"
            )
        if entry.prev_sha256 != previous:
            report.problems.append(
                f"entry {entry.seq} does not follow the entry before it"
            )
        if _entry_hash(_hashed_fields(entry)) != entry.sha256:
            report.problems.append(f"entry {entry.seq} was changed after writing")
        expected_seq, previous = entry.seq + 1, entry.sha256

    last_seq = expected_seq - 1
    if head.seq != last_seq:
        report.problems.append(
            f"the trail ends at entry {last_seq} but the head records {head.seq}; "
            "the newest entries were deleted"
        )
    elif head.sha256 != previous:
        report.problems.append("the head hash does not match the last entry")
    if report.problems:
        log.error("audit trail check found %d problems", len(report.problems))
    return report


def entries_for_learner(
    session: Session, learner_id: str, limit: int = 200
) -> list[AuditEntry]:
    """Return the newest entries about one learner, newest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.learner_id == learner_id)
            .order_by(AuditEntry.seq.desc())
            .limit(limit)
        )
    )
