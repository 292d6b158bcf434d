"""The learner's own pages: consent, requests, receipts, who looked, export."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from john.auth.deps import require
from john.auth.principal import Principal
from john.consent import audit, service
from john.consent import subject_access as sar
from john.consent.access import (
    require_visibility,
    visible_achievements,
    visible_experiences,
)
from john.deps import get_session
from john.errors import InvalidInput
from john.web.templating import templates

router = APIRouter(include_in_schema=False)

Learner = Annotated[Principal, Depends(require("consent:write", roles=["learner"]))]
DB = Annotated[Session, Depends(get_session)]


def _account_context(db: Session, principal: Principal) -> dict[str, Any]:
    learner_id = str(principal.learner_id)
    seen = require_visibility(db, principal, learner_id, "open own page")
    grants = service.grants_of(db, learner_id)
    return {
        "title": "Your record and who can see it",
        "learner_id": learner_id,
        "achievements": [a for a, _ in visible_achievements(db, seen)],
        "experiences": [e for e, _ in visible_experiences(db, seen)],
        "grants": [(g, service.grant_state(g)) for g in grants],
        "requests": service.requests_for(db, learner_id),
        "entries": audit.entries_for_learner(db, learner_id, limit=100),
        "today": date.today().isoformat(),
    }


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, db: DB, principal: Learner) -> HTMLResponse:
    """Show the learner's record, consents, requests and who looked at it."""
    return templates.TemplateResponse(
        request, "account/home.html", _account_context(db, principal)
    )


@router.post("/account/consents")
def grant_from_form(
    request: Request,
    db: DB,
    principal: Learner,
    grantee: Annotated[str, Form()] = "",
    grantee_role: Annotated[str, Form()] = "verifier",
    part: Annotated[str, Form()] = "record",
    purpose: Annotated[str, Form()] = "",
    valid_until: Annotated[str, Form()] = "",
) -> Response:
    """Grant consent from the form, then show the receipt."""
    scope, _, value = part.partition(":")
    try:
        until = date.fromisoformat(valid_until)
        grant = service.grant_consent(
            db,
            principal,
            grantee=grantee,
            grantee_role=grantee_role,
            terms=service.GrantTerms(scope, value or None, purpose, until),
        )
    except (InvalidInput, ValueError) as error:
        context = _account_context(db, principal)
        context["error"] = getattr(error, "detail", f"valid_until: {error}")
        context["title"] = "Error: " + context["title"]
        return templates.TemplateResponse(
            request, "account/home.html", context, status_code=422
        )
    db.commit()
    return RedirectResponse(f"/account/consents/{grant.id}", status_code=303)


@router.get("/account/consents/{grant_id}", response_class=HTMLResponse)
def receipt_page(
    request: Request, grant_id: str, db: DB, principal: Learner
) -> HTMLResponse:
    """Show a grant's consent receipt."""
    grant = service.own_grant(db, principal, grant_id)
    return templates.TemplateResponse(
        request,
        "account/receipt.html",
        {
            "title": "Consent receipt",
            "grant": grant,
            "state": service.grant_state(grant),
            "receipt": service.consent_receipt(grant),
        },
    )


@router.post("/account/consents/{grant_id}/revoke")
def revoke_from_form(grant_id: str, db: DB, principal: Learner) -> Response:
    """Revoke a grant at once."""
    service.revoke_consent(db, principal, grant_id)
    db.commit()
    return RedirectResponse("/account", status_code=303)


@router.post("/account/requests/{request_id}/{decision}")
def decide_from_form(
    request_id: str, decision: str, db: DB, principal: Learner
) -> Response:
    """Approve or decline a consent request."""
    if decision not in ("approve", "decline"):
        raise InvalidInput(f"decision {decision!r} is unknown; use approve or decline")
    service.decide_request(db, principal, request_id, approve=decision == "approve")
    db.commit()
    return RedirectResponse("/account", status_code=303)


@router.get("/account/export", response_class=HTMLResponse)
def export_page(request: Request, db: DB, principal: Learner) -> HTMLResponse:
    """Show everything held about the learner, table by table."""
    data = sar.export_learner(db, principal, str(principal.learner_id))
    return templates.TemplateResponse(
        request,
        "account/export.html",
        {"title": "Everything we hold about you", "data": data},
    )
