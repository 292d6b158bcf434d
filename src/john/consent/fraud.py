"""Fraud signals raised while answering verifications.

Three patterns are flagged for curators: a claim naming an institution that
is on no register (or is on the curators' list of bogus institutions), an
identity that matches two learners, and one verifier asking about one learner
many times in a short window.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from john.auth.principal import Principal
from john.consent.audit import AuditEvent, EventType, append
from john.consent.claims import normalise_name
from john.consent.models import BogusInstitution, FraudSignal, Verification
from john.db import utcnow
from john.errors import Conflict, InvalidInput
from john.reference.models import RegisteredProvider

log = logging.getLogger(__name__)

PROBE_WINDOW = timedelta(hours=24)
PROBE_LIMIT = 5


def institution_status(session: Session, name: str) -> str:
    """Return ``bogus``, ``registered`` or ``unregistered`` for an institution."""
    folded = normalise_name(name)
    if session.scalar(
        select(BogusInstitution.id).where(BogusInstitution.normalised_name == folded)
    ):
        return "bogus"
    # The register holds a few thousand names, so one pass in Python keeps the
    # folding rules identical to the claim side without a stored folded column.
    for registered in session.scalars(select(RegisteredProvider.name)):
        if normalise_name(registered) == folded:
            return "registered"
    return "unregistered"


def raise_signal(
    session: Session,
    principal: Principal,
    kind: str,
    *,
    learner_id: str | None = None,
    verification_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> FraudSignal:
    """Store a fraud signal and audit it; the caller commits."""
    signal = FraudSignal(
        kind=kind,
        requester=principal.organisation or principal.subject,
        learner_id=learner_id,
        verification_id=verification_id,
        detail=detail or {},
        created_at=utcnow(),
    )
    session.add(signal)
    session.flush()
    append(
        session,
        AuditEvent.by(
            principal,
            EventType.FRAUD_SIGNALLED,
            kind,
            learner_id=learner_id,
            object_ids=tuple(x for x in (verification_id, str(signal.id)) if x),
            outcome="flagged",
        ),
    )
    log.warning("fraud signal %s (%s) raised", signal.id, kind)
    return signal


_RECENT_QUESTIONS = select(func.count(Verification.id)).where(
    Verification.requester == bindparam("requester"),
    Verification.learner_id == bindparam("learner_id"),
    Verification.created_at >= bindparam("since"),
)


def is_probing(session: Session, requester: str, learner_id: str) -> bool:
    """Return whether this is one request too many about one learner."""
    count = session.scalar(
        _RECENT_QUESTIONS,
        {
            "requester": requester,
            "learner_id": learner_id,
            "since": utcnow() - PROBE_WINDOW,
        },
    )
    return int(count or 0) == PROBE_LIMIT


def add_bogus_institution(
    session: Session, curator: Principal, name: str, reason: str
) -> BogusInstitution:
    """Add an institution to the curators' list of bogus institutions."""
    folded = normalise_name(name)
    if not folded or not reason.strip():
        raise InvalidInput("give the institution's name and the reason for listing it")
    if session.scalar(
        select(BogusInstitution.id).where(BogusInstitution.normalised_name == folded)
    ):
        raise Conflict(f"institution {name!r} is already on the list")
    entry = BogusInstitution(
        name=name.strip(),
        normalised_name=folded,
        reason=reason.strip(),
        added_by=curator.subject,
        created_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry
