"""The consent, verification and subject-access API under ``/api/v1``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from john.auth.deps import require
from john.auth.principal import Principal
from john.consent import audit, exemptions, fraud, right_to_work, service
from john.consent import subject_access as sar
from john.consent.access import (
    grantee_key,
    require_visibility,
    visible_achievements,
    visible_experiences,
)
from john.consent.models import FraudSignal
from john.consent.ratelimit import RateLimiter
from john.consent.schemas import (
    AuditEntryOut,
    BogusInstitutionIn,
    ChainReportOut,
    ConsentRequestIn,
    ConsentRequestOut,
    GrantIn,
    GrantOut,
    GrantWithReceipt,
    RectificationIn,
    VerificationOut,
)
from john.consent.settings import ConsentSettings
from john.consent.signing import load_signing_key, public_jwks
from john.consent.verification import (
    VerificationRequest,
    answer_verification,
    fetch_verification,
    find_retried,
    request_sha256,
)
from john.errors import PROBLEM_BASE, TooManyRequests

router = APIRouter(tags=["consent"])

STAFF = ("curator", "administrator")


def get_db(request: Request) -> Iterator[Session]:
    """Yield a session for one request; handlers commit what they write."""
    with request.app.state.sessions() as session:
        yield session


def session_factory(request: Request) -> sessionmaker[Session]:
    """Return the application's session factory."""
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


DB = Annotated[Session, Depends(get_db)]


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    if getattr(state, "verification_limiter", None) is None:
        settings = ConsentSettings()
        state.verification_limiter = RateLimiter(
            settings.verification_rate_per_minute, settings.verification_burst
        )
    limiter: RateLimiter = state.verification_limiter
    return limiter


def _grant_out(grant: Any) -> GrantOut:
    return GrantOut(
        id=grant.id,
        grantee=grant.grantee,
        grantee_role=grant.grantee_role,
        scope=grant.scope,
        scope_value=grant.scope_value,
        purpose=grant.purpose,
        valid_until=grant.valid_until,
        created_at=grant.created_at,
        revoked_at=grant.revoked_at,
        status=service.grant_state(grant),
    )


def _request_out(request: Any) -> ConsentRequestOut:
    approved = request.status == "approved"
    return ConsentRequestOut(
        id=request.id,
        status=request.status,
        requester=request.requester,
        scope=request.scope,
        scope_value=request.scope_value,
        purpose=request.purpose,
        valid_until=request.valid_until,
        created_at=request.created_at,
        learner_id=request.learner_id if approved else None,
        grant_id=request.grant_id,
    )


# --- signing keys ----------------------------------------------------------


@router.get("/.well-known/jwks.json")
@router.get("/api/v1/verifications/jwks.json")
def verification_jwks(request: Request) -> dict[str, Any]:
    """Return the public key that signs verification answers (RFC 7517)."""
    return public_jwks(load_signing_key(request.app.state.settings.data_dir))


# --- verification ----------------------------------------------------------

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[!-~]+$",
        description="Any printable ASCII text without spaces; a retry that "
        "sends the same key and body gets the first result back.",
    ),
]


@router.post("/api/v1/verifications", status_code=201, response_model=VerificationOut)
def create_verification(
    body: VerificationRequest,
    request: Request,
    response: Response,
    principal: Annotated[
        Principal, Depends(require("verifications:write", roles=["verifier"]))
    ],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Answer claims about a person with a minimal answer signed by the hub."""
    # One session serves the whole request, opened here rather than through a
    # generator dependency, which would cost two more thread hand-offs.
    factory = session_factory(request)
    with factory() as db:
        if idempotency_key is not None:
            # A retry spends no rate-limit token and adds no probing count.
            earlier = find_retried(
                db, grantee_key(principal), idempotency_key, request_sha256(body)
            )
            if earlier is not None:
                response.headers["Idempotent-Replayed"] = "true"
                return VerificationOut(
                    id=earlier.id, answer=earlier.answer, jws=earlier.jws
                )
        try:
            _limiter(request).take(db, principal.organisation or principal.subject)
        except TooManyRequests as error:
            return _too_many_requests(request, error)
        key = load_signing_key(request.app.state.settings.data_dir)
        verification = answer_verification(
            db, factory, principal, body, key, idempotency_key
        )
    return VerificationOut(
        id=verification.id, answer=verification.answer, jws=verification.jws
    )


def _too_many_requests(request: Request, error: TooManyRequests) -> JSONResponse:
    retry = str(getattr(error, "retry_after", 60))
    return JSONResponse(
        {
            "type": PROBLEM_BASE + error.problem,
            "title": error.title,
            "status": 429,
            "detail": error.detail,
            "instance": request.url.path,
        },
        status_code=429,
        media_type="application/problem+json",
        headers={"Retry-After": retry},
    )


@router.get("/api/v1/verifications/{verification_id}", response_model=VerificationOut)
def get_verification(
    verification_id: str,
    db: DB,
    principal: Annotated[
        Principal,
        Depends(require("verifications:read", roles=["verifier", *STAFF])),
    ],
) -> VerificationOut:
    """Return a signed answer again, to the organisation that asked."""
    found = fetch_verification(db, principal, verification_id)
    return VerificationOut(id=found.id, answer=found.answer, jws=found.jws)


# --- consent grants --------------------------------------------------------


@router.post("/api/v1/consents", status_code=201, response_model=GrantWithReceipt)
def create_grant(
    body: GrantIn,
    db: DB,
    principal: Annotated[
        Principal, Depends(require("consent:write", roles=["learner"]))
    ],
) -> GrantWithReceipt:
    """Grant an organisation access to part of your record until a date."""
    grant = service.grant_consent(
        db,
        principal,
        grantee=body.grantee,
        grantee_role=body.grantee_role,
        terms=service.GrantTerms(
            body.scope, body.scope_value, body.purpose, body.valid_until
        ),
    )
    db.commit()
    return GrantWithReceipt(
        grant=_grant_out(grant), receipt=service.consent_receipt(grant)
    )


@router.get("/api/v1/consents", response_model=list[GrantOut])
def list_grants(
    db: DB,
    principal: Annotated[
        Principal, Depends(require("consent:read", roles=["learner"]))
    ],
) -> list[GrantOut]:
    """List the grants you made, newest first."""
    return [_grant_out(g) for g in service.grants_of(db, str(principal.learner_id))]


@router.get("/api/v1/consents/{grant_id}/receipt")
def get_receipt(
    grant_id: str,
    db: DB,
    principal: Annotated[Principal, Depends(require(roles=["learner", *STAFF]))],
) -> dict[str, Any]:
    """Return the consent receipt of one grant."""
    return service.consent_receipt(service.own_grant(db, principal, grant_id))


@router.post("/api/v1/consents/{grant_id}/revoke", response_model=GrantOut)
def revoke_grant(
    grant_id: str,
    db: DB,
    principal: Annotated[
        Principal, Depends(require("consent:write", roles=["learner"]))
    ],
) -> GrantOut:
    """Revoke a grant; the grantee loses access at once."""
    grant = service.revoke_consent(db, principal, grant_id)
    db.commit()
    return _grant_out(grant)


# --- consent requests ------------------------------------------------------


@router.post(
    "/api/v1/consent-requests", status_code=202, response_model=ConsentRequestOut
)
def create_consent_request(
    body: ConsentRequestIn,
    request: Request,
    db: DB,
    principal: Annotated[
        Principal,
        Depends(require("consent:write", roles=["verifier", "adviser"])),
    ],
    idempotency_key: IdempotencyKey = None,
) -> ConsentRequestOut:
    """Ask a person for consent; they approve or decline on their page."""

    def make() -> Any:
        return service.request_consent(
            db,
            session_factory(request),
            principal,
            identity=body.identity.model_dump(),
            terms=service.GrantTerms(
                body.scope, body.scope_value, body.purpose, body.valid_until
            ),
            idempotency_key=idempotency_key,
        )

    try:
        made = make()
        db.commit()
    except IntegrityError:
        # A concurrent retry with the same key stored its request first.
        db.rollback()
        if idempotency_key is None:
            raise
        made = make()
    return _request_out(made)


@router.get("/api/v1/consent-requests", response_model=list[ConsentRequestOut])
def list_consent_requests(
    db: DB,
    principal: Annotated[
        Principal, Depends(require("consent:read", roles=["learner"]))
    ],
) -> list[ConsentRequestOut]:
    """List the consent requests waiting for your decision."""
    pending = service.requests_for(db, str(principal.learner_id))
    return [_request_out(r) for r in pending]


@router.get("/api/v1/consent-requests/{request_id}", response_model=ConsentRequestOut)
def get_consent_request(
    request_id: str,
    db: DB,
    principal: Annotated[
        Principal, Depends(require("consent:write", roles=["verifier", "adviser"]))
    ],
) -> ConsentRequestOut:
    """Return the state of a request you made."""
    return _request_out(service.requester_request(db, principal, request_id))


def _decide(db: Session, principal: Principal, request_id: str, approve: bool) -> Any:
    decided = service.decide_request(db, principal, request_id, approve=approve)
    db.commit()
    return _request_out(decided)


@router.post(
    "/api/v1/consent-requests/{request_id}/approve", response_model=ConsentRequestOut
)
def approve_consent_request(
    request_id: str,
    db: DB,
    principal: Annotated[
        Principal, Depends(require("consent:write", roles=["learner"]))
    ],
) -> ConsentRequestOut:
    """Approve a request, which creates a grant with its receipt."""
    return _decide(db, principal, request_id, True)  # type: ignore[no-any-return]


@router.post(
    "/api/v1/consent-requests/{request_id}/decline", response_model=ConsentRequestOut
)
def decline_consent_request(
    request_id: str,
    db: DB,
    principal: Annotated[
        Principal, Depends(require("consent:write", roles=["learner"]))
    ],
) -> ConsentRequestOut:
    """Decline a request."""
    return _decide(db, principal, request_id, False)  # type: ignore[no-any-return]


# --- consented record reads ------------------------------------------------


@router.get("/api/v1/learners/{learner_id}/shared-record")
def shared_record(
    learner_id: str,
    db: DB,
    principal: Annotated[
        Principal,
        Depends(require(roles=["learner", "provider", "verifier", "adviser", *STAFF])),
    ],
) -> dict[str, Any]:
    """Return the parts of a learner's record you may see, and audit the read."""
    seen = require_visibility(db, principal, learner_id, "read shared record")
    achievements = visible_achievements(db, seen)
    experiences = visible_experiences(db, seen)
    audit.append(
        db,
        audit.AuditEvent.by(
            principal,
            audit.EventType.RECORD_READ,
            "read shared record",
            learner_id=learner_id,
            purpose="; ".join(seen.purposes) or f"{principal.role} access",
            object_ids=tuple(
                [f"achievement:{a.id}" for a, _ in achievements]
                + [f"experience:{e.id}" for e, _ in experiences]
            ),
            detail={"grants": seen.grant_ids},
        ),
    )
    db.commit()
    return {
        "learner_id": learner_id,
        "achievements": [
            {
                "id": a.id,
                "kind": a.kind,
                "qualification_number": a.qualification_number,
                "title": a.title,
                "level": a.level,
                "grade": a.grade,
                "awarded_on": a.awarded_on,
                "awarding_body": a.awarding_body,
                "source_ukprn": a.source_ukprn,
            }
            for a, _ in achievements
        ],
        "experiences": [
            {
                "id": e.id,
                "kind": e.kind,
                "organisation": e.organisation,
                "role": e.role,
                "started_on": e.started_on,
                "ended_on": e.ended_on,
                "source_ukprn": e.source_ukprn,
            }
            for e, _ in experiences
        ],
    }


# --- exemptions ------------------------------------------------------------


@router.post("/api/v1/exemption-rules", status_code=201)
def publish_exemption_rule(
    body: exemptions.RuleIn,
    db: DB,
    principal: Annotated[
        Principal, Depends(require("exemptions:write", roles=["provider"]))
    ],
) -> dict[str, Any]:
    """Publish a rule: prior learning that exempts a learner from a module."""
    rule = exemptions.publish_rule(db, principal, body)
    db.commit()
    return {"id": rule.id, "provider_ukprn": rule.provider_ukprn}


class ExemptionRuleOut(BaseModel):
    """A published exemption rule."""

    id: str
    provider_ukprn: str
    module_code: str
    module_title: str
    requirement: dict[str, Any]


@router.get("/api/v1/exemption-rules", response_model=list[ExemptionRuleOut])
def list_exemption_rules(
    db: DB,
    principal: Annotated[Principal, Depends(require())],
    ukprn: Annotated[str, Query(pattern=r"^\d{8}$")],
) -> list[ExemptionRuleOut]:
    """List a provider's published exemption rules."""
    return [
        ExemptionRuleOut(
            id=r.id,
            provider_ukprn=r.provider_ukprn,
            module_code=r.module_code,
            module_title=r.module_title,
            requirement=r.requirement,
        )
        for r in exemptions.rules_of(db, ukprn)
    ]


@router.get("/api/v1/learners/{learner_id}/exemptions")
def evaluate_exemptions(
    learner_id: str,
    db: DB,
    principal: Annotated[
        Principal, Depends(require(roles=["learner", "provider", "adviser", *STAFF]))
    ],
    ukprn: Annotated[str, Query(pattern=r"^\d{8}$")],
) -> dict[str, Any]:
    """Evaluate a provider's rules against a learner's record, explaining each."""
    outcomes = exemptions.evaluate_rules(db, principal, learner_id, ukprn)
    db.commit()
    return {"learner_id": learner_id, "provider_ukprn": ukprn, "rules": outcomes}


# --- right to work ---------------------------------------------------------


@router.post("/api/v1/right-to-work-checks", status_code=201)
def record_right_to_work(
    body: right_to_work.RightToWorkIn,
    db: DB,
    principal: Annotated[
        Principal, Depends(require("right_to_work:write", roles=["verifier"]))
    ],
) -> dict[str, Any]:
    """Record that your organisation checked a person's right to work."""
    check = right_to_work.record_check(db, principal, body)
    db.commit()
    return {"id": check.id, "learner_id": check.learner_id}


@router.get("/api/v1/learners/{learner_id}/right-to-work")
def confirm_right_to_work(
    learner_id: str,
    db: DB,
    principal: Annotated[
        Principal, Depends(require("right_to_work:write", roles=["verifier"]))
    ],
) -> dict[str, Any]:
    """Confirm current right-to-work checks other employers recorded."""
    confirmed = right_to_work.confirm_checks(db, principal, learner_id)
    db.commit()
    return confirmed


# --- fraud -----------------------------------------------------------------


@router.post("/api/v1/bogus-institutions", status_code=201)
def add_bogus_institution(
    body: BogusInstitutionIn,
    db: DB,
    principal: Annotated[Principal, Depends(require("fraud:write", roles=STAFF))],
) -> dict[str, Any]:
    """List an institution as bogus; claims naming it are flagged."""
    entry = fraud.add_bogus_institution(db, principal, body.name, body.reason)
    db.commit()
    return {"id": entry.id, "name": entry.name}


@router.get("/api/v1/fraud-signals")
def list_fraud_signals(
    db: DB,
    principal: Annotated[Principal, Depends(require("fraud:write", roles=STAFF))],
) -> list[dict[str, Any]]:
    """List open fraud signals, newest first."""
    rows = db.scalars(
        select(FraudSignal)
        .where(FraudSignal.status == "open")
        .order_by(FraudSignal.id.desc())
        .limit(500)
    )
    return [
        {
            "id": s.id,
            "kind": s.kind,
            "requester": s.requester,
            "learner_id": s.learner_id,
            "verification_id": s.verification_id,
            "detail": s.detail,
            "created_at": s.created_at,
        }
        for s in rows
    ]


# --- audit -----------------------------------------------------------------


@router.get("/api/v1/learners/{learner_id}/audit", response_model=list[AuditEntryOut])
def learner_audit(
    learner_id: str,
    db: DB,
    principal: Annotated[Principal, Depends(require(roles=["learner", *STAFF]))],
) -> list[AuditEntryOut]:
    """Show who looked at or changed a learner's record, when and why."""
    require_visibility(db, principal, learner_id, "read audit trail")
    return [
        AuditEntryOut.model_validate(e, from_attributes=True)
        for e in audit.entries_for_learner(db, learner_id)
    ]


@router.get("/api/v1/audit/verify", response_model=ChainReportOut)
def verify_audit(
    db: DB,
    principal: Annotated[Principal, Depends(require("audit:read", roles=STAFF))],
) -> ChainReportOut:
    """Check the audit trail's hash chain for edits and deletions."""
    report = audit.verify_chain(db)
    return ChainReportOut(
        intact=report.intact,
        entries=report.entries,
        head_seq=report.head_seq,
        head_sha256=report.head_sha256,
        problems=report.problems,
    )


# --- subject access --------------------------------------------------------


@router.get("/api/v1/learners/{learner_id}/export")
def export_learner(
    learner_id: str,
    db: DB,
    principal: Annotated[
        Principal, Depends(require(roles=["learner", "administrator"]))
    ],
) -> dict[str, Any]:
    """Export everything the hub holds about a learner (UK GDPR Art. 15)."""
    return sar.export_learner(db, principal, learner_id)


@router.post("/api/v1/learners/{learner_id}/rectifications", status_code=201)
def request_rectification(
    learner_id: str,
    body: RectificationIn,
    db: DB,
    principal: Annotated[Principal, Depends(require(roles=["learner"]))],
) -> dict[str, Any]:
    """Ask the provider that sent a row to correct it (UK GDPR Art. 16)."""
    require_visibility(db, principal, learner_id, "request rectification")
    made = sar.request_rectification(
        db,
        principal,
        object_kind=body.object_kind,
        object_id=body.object_id,
        message=body.message,
    )
    db.commit()
    return {"id": made.id, "routed_to_ukprn": made.source_ukprn}


@router.get("/api/v1/rectifications")
def list_rectifications(
    db: DB,
    principal: Annotated[Principal, Depends(require(roles=["provider"]))],
) -> list[dict[str, Any]]:
    """List open correction requests routed to your organisation."""
    return [
        {
            "id": r.id,
            "learner_id": r.learner_id,
            "object_kind": r.object_kind,
            "object_id": r.object_id,
            "message": r.message,
            "created_at": r.created_at,
        }
        for r in sar.rectifications_for_provider(db, str(principal.ukprn))
    ]


@router.post("/api/v1/learners/{learner_id}/erasure", status_code=201)
def erase_learner(
    learner_id: str,
    db: DB,
    principal: Annotated[
        Principal,
        Depends(require("subject_access:write", roles=["administrator"])),
    ],
) -> dict[str, Any]:
    """Erase a learner's personal data and report what was removed and kept."""
    erasure = sar.erase_learner(db, principal, learner_id)
    return {
        "id": erasure.id,
        "learner_id": erasure.learner_id,
        "removed": erasure.removed,
        "kept": erasure.kept,
    }
