"""Pages for the match review queue: list, compare a pair, decide."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from john.auth.deps import require
from john.auth.principal import Principal
from john.consent.access import STAFF_ROLES
from john.deps import DatabaseId, get_session
from john.errors import InvalidInput
from john.identity import service
from john.identity.api import review_detail
from john.web.templating import templates

SessionDep = Annotated[Session, Depends(get_session)]

StaffDep = Annotated[Principal, Depends(require(roles=sorted(STAFF_ROLES)))]

router = APIRouter(include_in_schema=False)

FIELD_LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "dob": "Date of birth",
    "postcode": "Postcode",
    "email": "Email",
    "identifiers": "Identifiers",
    "address": "Address line 1",
    "locality": "Town or city, county",
    "other_identifier": "Other identifier",
    "overall": "Overall",
}


@router.get(
    "/reviews",
    response_class=HTMLResponse,
    dependencies=[
        Depends(require("linkage:write", roles=("curator", "administrator")))
    ],
)
def review_queue(
    request: Request, session: SessionDep, staff: StaffDep, status: str = "pending"
) -> HTMLResponse:
    """Render the queue of match reviews with one status."""
    reviews = service.list_reviews(session, status, limit=200)
    return templates.TemplateResponse(
        request,
        "reviews/list.html",
        {"title": "Match reviews", "reviews": reviews, "status": status},
    )


@router.get("/reviews/{review_id}", response_class=HTMLResponse)
def review_page(
    request: Request, review_id: DatabaseId, session: SessionDep, staff: StaffDep
) -> HTMLResponse:
    """Render both records of a review side by side with accept and reject."""
    detail = review_detail(session, review_id)
    return templates.TemplateResponse(
        request,
        "reviews/detail.html",
        {
            "title": f"Match review {review_id}",
            "review": detail,
            "labels": FIELD_LABELS,
            "rows": [
                ("Provider (UKPRN)", "source_ukprn"),
                ("Provider's reference", "source_person_ref"),
                ("Given name", "given_name"),
                ("Family name", "family_name"),
                ("Date of birth", "date_of_birth"),
                ("Postcode", "postcode"),
                ("Email", "email"),
                ("ULN", "uln"),
                ("UPN", "upn"),
                ("NI number", "ni_number"),
                ("UCAS Personal ID", "ucas_id"),
                ("HUSID", "husid"),
                ("Address line 1", "address_line_1"),
                ("Address line 2", "address_line_2"),
                ("Town or city", "locality"),
                ("County or region", "region"),
                ("Other identifier", "other_identifier"),
                ("Other identifier scheme", "other_identifier_scheme"),
                ("Learner", "learner_id"),
            ],
        },
    )


@router.post(
    "/reviews/{review_id}/decision",
    dependencies=[
        Depends(require("linkage:write", roles=("curator", "administrator")))
    ],
)
def decide_from_form(
    request: Request,
    review_id: DatabaseId,
    staff: StaffDep,
    decision: str = Form(...),
    reason: str = Form(""),
) -> RedirectResponse:
    """Apply the decision posted by the review page and return to the queue."""
    if decision not in service.DECISIONS:
        raise InvalidInput(f"decision {decision!r} is invalid; use accept or reject")
    service.decide_review(
        request.app.state.sessions,
        review_id,
        decision,
        staff.actor,
        reason.strip() or None,
    )
    return RedirectResponse(f"/reviews?decided={review_id}", status_code=303)
