"""Answer a verifier's claims about a person with a minimal, signed answer.

The claimed identity is matched to one learner, the verifier's consent is
checked, and each claim is answered ``verified``, ``not_verified``,
``pending_staff_check`` or ``consent_required`` with the names of the fields
that matched. When no learner matches, or the learner gave no consent, the
answer is the same ``consent_required``, so a verifier cannot learn who is in
the hub.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from joserfc.jwk import OKPKey
from pydantic import BaseModel, Field
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from john.auth.principal import Principal
from john.consent import claims as rules
from john.consent import retries
from john.consent.access import (
    Visibility,
    grantee_key,
    visibility,
    visible_achievements,
    visible_experiences,
)
from john.consent.audit import AuditEvent, EventType, append
from john.consent.fraud import institution_status, is_probing, raise_signal
from john.consent.matching import match_identity
from john.consent.models import Verification
from john.consent.retries import body_sha256
from john.consent.signing import sign_answer
from john.db import new_public_id, serialised_writes, utcnow
from john.errors import NotFound

log = logging.getLogger(__name__)

CONSENT_REQUIRED = "consent_required"


class ClaimedIdentity(BaseModel):
    """Who the verifier says the person is: the name they had at the time."""

    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    postcode: str | None = Field(default=None, max_length=10)
    identifiers: dict[str, str] | None = Field(
        default=None,
        description="Identifiers by scheme: uln, upn, ni_number, ucas_id, husid.",
    )


class VerificationRequest(BaseModel):
    """A verification question: one identity and up to twenty claims."""

    identity: ClaimedIdentity
    claims: list[rules.Claim] = Field(min_length=1, max_length=20)
    purpose: str = Field(min_length=1, max_length=500)


def _identity_digest(identity: ClaimedIdentity) -> str:
    canonical = json.dumps(identity.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _covers(seen: Visibility, category: str) -> bool:
    if seen.whole_record or category in seen.categories:
        return True
    if seen.own_source:
        return True
    if category == "achievements":
        return bool(seen.achievement_ids)
    return bool(seen.experience_ids)


def _answer_claims(
    session: Session,
    principal: Principal,
    seen: Visibility,
    request: VerificationRequest,
) -> list[rules.ClaimResult]:
    # Each query runs only when a claim needs its rows.
    kinds = {type(claim) for claim in request.claims}
    achievements = []
    if kinds - {rules.ExperienceClaim}:
        achievements = visible_achievements(session, seen)
    experiences = []
    if rules.ExperienceClaim in kinds:
        experiences = visible_experiences(session, seen)
    results = []
    for claim in request.claims:
        if isinstance(claim, rules.ExperienceClaim):
            category = "experiences"
        else:
            category = "achievements"
        if not _covers(seen, category):
            results.append(rules.ClaimResult(CONSENT_REQUIRED, category=category))
            continue
        if isinstance(claim, rules.QualificationClaim):
            results.append(rules.check_qualification(claim, achievements))
        elif isinstance(claim, rules.AwardClaim):
            results.append(rules.check_award(claim, achievements))
        elif isinstance(claim, rules.CourseClaim):
            results.append(rules.check_course(claim, achievements))
        else:
            results.append(rules.check_experience(claim, experiences))
    return results


@dataclass
class _Signal:
    kind: str
    learner_id: str | None = None
    detail: dict[str, Any] | None = None


def _flag_institutions(
    session: Session,
    request: VerificationRequest,
    results: list[rules.ClaimResult],
    learner_id: str | None,
) -> list[_Signal]:
    signals = []
    for index, claim in enumerate(request.claims):
        if not isinstance(claim, rules.AwardClaim):
            continue
        status = institution_status(session, claim.institution)
        if status == "registered":
            continue
        if status == "bogus" and index < len(results):
            results[index] = rules.ClaimResult(rules.NOT_VERIFIED)
        signals.append(
            _Signal(f"{status}_institution", learner_id, {"claim_index": index})
        )
    return signals


def answer_verification(
    session: Session,
    session_factory: sessionmaker[Session],
    principal: Principal,
    request: VerificationRequest,
    key: OKPKey,
    idempotency_key: str | None = None,
) -> Verification:
    """Match, check consent, answer every claim, sign and store; commits.

    Everything is read first; the fraud signals, the answer and its audit
    entry are then written in one short transaction. With an
    ``idempotency_key`` that this verifier sent before with the same request,
    the first answer is returned and nothing is written again.
    """
    request_digest = request_sha256(request)
    verification_id = new_public_id("V")
    identity = request.identity
    match = match_identity(
        session_factory,
        given_name=identity.given_name,
        family_name=identity.family_name,
        date_of_birth=identity.date_of_birth,
        postcode=identity.postcode,
        identifiers=identity.identifiers,
        session=session,
    )

    status = "answered"
    results: list[rules.ClaimResult]
    seen: Visibility | None = None
    signals: list[_Signal] = []
    if match.ambiguous:
        status = rules.PENDING
        results = [rules.ClaimResult(rules.PENDING) for _ in request.claims]
        signals.append(
            _Signal(
                "identity_matches_several_learners",
                detail={"learner_ids": match.ambiguous_learner_ids},
            )
        )
    elif match.learner_id is not None:
        seen = visibility(session, principal, match.learner_id)
        if seen.anything:
            results = _answer_claims(session, principal, seen, request)
        else:
            status = CONSENT_REQUIRED
    if status == CONSENT_REQUIRED or (match.learner_id is None and not match.ambiguous):
        status = CONSENT_REQUIRED
        results = [rules.ClaimResult(CONSENT_REQUIRED) for _ in request.claims]

    answered_learner = match.learner_id if status == "answered" else None
    signals += _flag_institutions(session, request, results, match.learner_id)

    requester = grantee_key(principal)
    if match.learner_id and is_probing(session, requester, match.learner_id):
        signals.append(_Signal("repeated_probing", match.learner_id))

    payload = _payload(verification_id, requester, request, status, match, results)
    verification = Verification(
        id=verification_id,
        requester=requester,
        requester_subject=principal.subject,
        learner_id=match.learner_id,
        identity_sha256=_identity_digest(identity),
        purpose=request.purpose,
        answer=payload,
        jws=sign_answer(key, payload),
        created_at=utcnow(),
        idempotency_key=idempotency_key,
        request_sha256=request_digest,
    )
    object_ids = [verification_id]
    for result in results:
        object_ids += [f"achievement:{i}" for i in result.achievement_ids]
        object_ids += [f"experience:{i}" for i in result.experience_ids]
    event = AuditEvent.by(
        principal,
        EventType.VERIFICATION_ANSWERED,
        "answer verification",
        learner_id=match.learner_id,
        purpose=request.purpose,
        object_ids=tuple(object_ids),
        outcome=status,
        detail={
            "claims": [r.status for r in results],
            "grants": seen.grant_ids if seen else [],
            "answered_learner": answered_learner is not None,
        },
    )

    with serialised_writes(session):
        if idempotency_key is not None:
            # Checked again under the write lock, because a concurrent retry may
            # have stored its answer meanwhile.
            earlier = find_retried(session, requester, idempotency_key, request_digest)
            if earlier is not None:
                session.rollback()
                return earlier
        for signal in signals:
            raise_signal(
                session,
                principal,
                signal.kind,
                learner_id=signal.learner_id,
                verification_id=verification_id,
                detail=signal.detail,
            )
        session.connection().execute(
            _INSERT_VERIFICATION,
            {column: getattr(verification, column) for column in _COLUMNS},
        )
        append(session, event)
        try:
            session.commit()
        except IntegrityError:
            # PostgreSQL takes no process lock, so two retries can both get
            # here. The unique key admits one, and the other reads its answer.
            session.rollback()
            if idempotency_key is None:
                raise
            earlier = find_retried(session, requester, idempotency_key, request_digest)
            if earlier is None:
                raise
            log.info(
                "verification %s not stored: retry of %s", verification_id, earlier.id
            )
            return earlier
    log.info("verification %s answered: %s", verification_id, status)
    return verification


def request_sha256(request: VerificationRequest) -> str:
    """Return the SHA-256 of the request's canonical JSON form."""
    return body_sha256(request.model_dump(mode="json"))


def find_retried(
    session: Session, requester: str, idempotency_key: str, digest: str
) -> Verification | None:
    """Return the answer stored under this verifier's key, if any.

    Raises Conflict when the key was used before with a different request.
    """
    return retries.find_retried(
        session, Verification, requester, idempotency_key, digest
    )


_INSERT_VERIFICATION = insert(Verification)
_COLUMNS = tuple(column.key for column in Verification.__table__.columns)


def _payload(
    verification_id: str,
    requester: str,
    request: VerificationRequest,
    status: str,
    match: Any,
    results: list[rules.ClaimResult],
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": verification_id,
        "iss": "john",
        "iat": int(utcnow().timestamp()),
        "verifier": requester,
        "purpose": request.purpose,
        "status": status,
        "claims": [
            {
                "index": index,
                "type": claim.type,
                "status": result.status,
                "matched_fields": result.matched_fields,
            }
            for index, (claim, result) in enumerate(
                zip(request.claims, results, strict=True)
            )
        ],
    }
    if status == "answered":
        payload["identity_matched_fields"] = match.matched_fields
    return payload


def fetch_verification(
    session: Session, principal: Principal, verification_id: str
) -> Verification:
    """Return a stored answer to the organisation that asked, or to staff."""
    found = session.get(Verification, verification_id)
    if found is None:
        raise NotFound(f"verification {verification_id} not found")
    if principal.role in ("curator", "administrator"):
        return found
    if found.requester != grantee_key(principal):
        raise NotFound(f"verification {verification_id} not found")
    return found
