"""Consent grants, receipts and consent requests.

A learner grants a named organisation access to part of the record for a
stated purpose until a date. Revocation takes effect at once, because every
read checks the grants live (see :mod:`john.consent.access`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from john.auth.principal import Principal
from john.consent import retries
from john.consent.access import CATEGORIES, grantee_key
from john.consent.audit import AuditEvent, EventType, append
from john.consent.matching import match_identity
from john.consent.models import ConsentGrant, ConsentRequest
from john.db import new_public_id, utcnow
from john.errors import Conflict, Forbidden, InvalidInput, NotFound
from john.identity.models import PersonRecord
from john.records.models import Achievement, Experience

log = logging.getLogger(__name__)

SCOPES = ("record", "category", "achievement", "experience")
GRANTEE_ROLES = ("verifier", "adviser", "provider")
MAX_GRANT_DAYS = 5 * 366
MAX_PURPOSE_LENGTH = 500


@dataclass
class GrantTerms:
    """What a grant or request covers: scope, purpose and end date."""

    scope: str
    scope_value: str | None
    purpose: str
    valid_until: date


def check_terms(terms: GrantTerms, today: date | None = None) -> None:
    """Raise :class:`InvalidInput` naming every problem with the terms."""
    today = today or utcnow().date()
    problems = []
    if terms.scope not in SCOPES:
        problems.append(f"scope {terms.scope!r} is unknown; use {', '.join(SCOPES)}")
    if terms.scope == "category" and terms.scope_value not in CATEGORIES:
        problems.append(
            f"category {terms.scope_value!r} is unknown; use {', '.join(CATEGORIES)}"
        )
    if terms.scope in ("achievement", "experience") and not (
        terms.scope_value and terms.scope_value.isdigit()
    ):
        problems.append(f"a {terms.scope} grant needs the {terms.scope}'s numeric id")
    if not terms.purpose.strip() or len(terms.purpose) > MAX_PURPOSE_LENGTH:
        problems.append(
            f"purpose must be 1 to {MAX_PURPOSE_LENGTH} characters, saying why"
        )
    if terms.valid_until < today:
        problems.append(f"valid_until {terms.valid_until} is in the past")
    if terms.valid_until > today + timedelta(days=MAX_GRANT_DAYS):
        problems.append(
            "valid_until is more than five years away; choose an earlier date"
        )
    if problems:
        raise InvalidInput("; ".join(problems))


def _check_object_owner(session: Session, learner_id: str, terms: GrantTerms) -> None:
    if terms.scope not in ("achievement", "experience"):
        return
    model = Achievement if terms.scope == "achievement" else Experience
    owner = session.scalar(
        select(PersonRecord.learner_id)
        .join(model, model.person_record_id == PersonRecord.id)
        .where(model.id == int(terms.scope_value or 0))
    )
    if owner != learner_id:
        raise NotFound(f"{terms.scope} {terms.scope_value} is not in your record")


def grant_consent(
    session: Session,
    learner: Principal,
    *,
    grantee: str,
    grantee_role: str,
    terms: GrantTerms,
    request_id: str | None = None,
) -> ConsentGrant:
    """Record a learner's grant and audit it; the caller commits."""
    if learner.role != "learner" or not learner.learner_id:
        raise Forbidden("only the learner can grant consent to their own record")
    if grantee_role not in GRANTEE_ROLES:
        raise InvalidInput(
            f"grantee_role {grantee_role!r} is unknown; use {', '.join(GRANTEE_ROLES)}"
        )
    if not grantee.strip():
        raise InvalidInput("grantee must name the organisation to grant access to")
    check_terms(terms)
    _check_object_owner(session, learner.learner_id, terms)

    grant = ConsentGrant(
        id=new_public_id("G"),
        learner_id=learner.learner_id,
        grantee=grantee.strip(),
        grantee_role=grantee_role,
        scope=terms.scope,
        scope_value=terms.scope_value,
        purpose=terms.purpose.strip(),
        valid_until=terms.valid_until,
        created_at=utcnow(),
        request_id=request_id,
    )
    session.add(grant)
    session.flush()
    append(
        session,
        AuditEvent.by(
            learner,
            EventType.CONSENT_GRANTED,
            "grant consent",
            learner_id=grant.learner_id,
            purpose=grant.purpose,
            object_ids=(grant.id,),
            detail={
                "grantee": grant.grantee,
                "scope": grant.scope,
                "scope_value": grant.scope_value,
                "valid_until": grant.valid_until.isoformat(),
            },
        ),
    )
    log.info("consent %s granted by learner %s", grant.id, grant.learner_id)
    return grant


def own_grant(session: Session, learner: Principal, grant_id: str) -> ConsentGrant:
    """Return one of the learner's grants; staff may read any."""
    grant = session.get(ConsentGrant, grant_id)
    if grant is None or (
        learner.role not in ("curator", "administrator")
        and grant.learner_id != learner.learner_id
    ):
        raise NotFound(f"consent grant {grant_id} not found")
    return grant


def revoke_consent(session: Session, learner: Principal, grant_id: str) -> ConsentGrant:
    """Revoke a grant at once and audit it; the caller commits."""
    grant = own_grant(session, learner, grant_id)
    if learner.role != "learner":
        raise Forbidden("only the learner can revoke their consent")
    if grant.revoked_at is not None:
        raise Conflict(f"consent grant {grant_id} was already revoked")
    grant.revoked_at = utcnow()
    append(
        session,
        AuditEvent.by(
            learner,
            EventType.CONSENT_REVOKED,
            "revoke consent",
            learner_id=grant.learner_id,
            purpose=grant.purpose,
            object_ids=(grant.id,),
        ),
    )
    return grant


def grants_of(session: Session, learner_id: str) -> list[ConsentGrant]:
    """Return every grant a learner made, newest first."""
    return list(
        session.scalars(
            select(ConsentGrant)
            .where(ConsentGrant.learner_id == learner_id)
            .order_by(ConsentGrant.created_at.desc())
        )
    )


def grant_state(grant: ConsentGrant, today: date | None = None) -> str:
    """Return ``active``, ``revoked`` or ``expired``."""
    today = today or utcnow().date()
    if grant.revoked_at is not None:
        return "revoked"
    if grant.valid_until < today:
        return "expired"
    return "active"


def consent_receipt(
    grant: ConsentGrant, controller: str = "JOHN learner record hub"
) -> dict[str, Any]:
    """Build a consent receipt after the Kantara Consent Receipt Specification 1.1.

    Field names follow that specification; ``piiPrincipalId`` is the hub's
    learner id, never a name or identifier.
    """
    if grant.scope == "record":
        categories = ["whole learner record"]
    elif grant.scope == "category":
        categories = [str(grant.scope_value)]
    else:
        categories = [f"{grant.scope} {grant.scope_value}"]
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "GB",
        "consentTimestamp": int(grant.created_at.timestamp()),
        "collectionMethod": "learner record hub consent page or API",
        "consentReceiptID": grant.id,
        "language": "en-GB",
        "piiPrincipalId": grant.learner_id,
        "piiControllers": [{"piiController": controller, "onBehalf": False}],
        "policyUrl": "/docs/data-protection",
        "services": [
            {
                "service": "learner record verification and advice",
                "purposes": [
                    {
                        "purpose": grant.purpose,
                        "purposeCategory": [grant.grantee_role],
                        "consentType": "EXPLICIT",
                        "piiCategory": categories,
                        "primaryPurpose": True,
                        "termination": f"on revocation or at the end of "
                        f"{grant.valid_until.isoformat()}",
                        "thirdPartyDisclosure": True,
                        "thirdPartyName": grant.grantee,
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        "status": grant_state(grant),
        "revokedAt": grant.revoked_at.isoformat() if grant.revoked_at else None,
    }


def request_consent(
    session: Session,
    session_factory: sessionmaker[Session],
    requester: Principal,
    *,
    identity: dict[str, Any],
    terms: GrantTerms,
    idempotency_key: str | None = None,
) -> ConsentRequest:
    """Store a request for consent; the learner sees it on their page.

    The answer is the same whether or not the identity matched a learner, so
    a request cannot be used to find out who is in the hub. With an
    ``idempotency_key`` sent before with the same request, the first request
    is returned and nothing is stored again, matched or not.
    """
    check_terms(terms)
    digest = retries.body_sha256({"identity": identity, "terms": asdict(terms)})
    if idempotency_key is not None:
        earlier = retries.find_retried(
            session, ConsentRequest, grantee_key(requester), idempotency_key, digest
        )
        if earlier is not None:
            return earlier
    match = match_identity(session_factory, **identity)
    request = ConsentRequest(
        id=new_public_id("R"),
        learner_id=match.learner_id,
        requester=grantee_key(requester),
        requester_role=requester.role,
        requester_subject=requester.subject,
        scope=terms.scope if terms.scope in ("record", "category") else "record",
        scope_value=terms.scope_value if terms.scope == "category" else None,
        purpose=terms.purpose.strip(),
        valid_until=terms.valid_until,
        status="pending",
        created_at=utcnow(),
        idempotency_key=idempotency_key,
        request_sha256=digest,
    )
    session.add(request)
    session.flush()
    append(
        session,
        AuditEvent.by(
            requester,
            EventType.CONSENT_REQUESTED,
            "request consent",
            learner_id=match.learner_id,
            purpose=request.purpose,
            object_ids=(request.id,),
            outcome="matched" if match.learner_id else "unmatched",
        ),
    )
    return request


def requests_for(session: Session, learner_id: str) -> list[ConsentRequest]:
    """Return a learner's pending consent requests, oldest first."""
    return list(
        session.scalars(
            select(ConsentRequest)
            .where(
                ConsentRequest.learner_id == learner_id,
                ConsentRequest.status == "pending",
            )
            .order_by(ConsentRequest.created_at)
        )
    )


def requester_request(
    session: Session, requester: Principal, request_id: str
) -> ConsentRequest:
    """Return a request to the organisation that made it."""
    request = session.get(ConsentRequest, request_id)
    if request is None or request.requester != grantee_key(requester):
        raise NotFound(f"consent request {request_id} not found")
    return request


def decide_request(
    session: Session, learner: Principal, request_id: str, *, approve: bool
) -> ConsentRequest:
    """Approve (creating a grant) or decline a request; the caller commits."""
    request = session.get(ConsentRequest, request_id)
    if (
        request is None
        or learner.role != "learner"
        or request.learner_id != learner.learner_id
    ):
        raise NotFound(f"consent request {request_id} not found")
    if request.status != "pending":
        raise Conflict(f"consent request {request_id} was already {request.status}")

    request.decided_at = utcnow()
    if approve:
        grant = grant_consent(
            session,
            learner,
            grantee=request.requester,
            grantee_role=request.requester_role,
            terms=GrantTerms(
                request.scope, request.scope_value, request.purpose, request.valid_until
            ),
            request_id=request.id,
        )
        request.status = "approved"
        request.grant_id = grant.id
    else:
        request.status = "declined"
    append(
        session,
        AuditEvent.by(
            learner,
            EventType.CONSENT_APPROVED if approve else EventType.CONSENT_DECLINED,
            "decide consent request",
            learner_id=request.learner_id,
            purpose=request.purpose,
            object_ids=(request.id,),
            outcome=request.status,
        ),
    )
    return request
