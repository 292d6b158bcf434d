"""Pages of the catalogue: search, and one page per service, course, funding
source and venue, with curator forms to add and edit entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from john.auth.deps import current_principal, require
from john.catalogue import duplicates, funding, service
from john.catalogue.api import request_geocoder
from john.catalogue.models import (
    Course,
    FundingSource,
    ImportReport,
    Location,
    Organization,
    Schedule,
    ScheduleException,
    Service,
)
from john.catalogue.schemas import ServiceInput
from john.catalogue.search import DAY_CODES, DAY_NAMES, DELIVERY_MODES, SearchQuery
from john.catalogue.search import search as run_search
from john.deps import DatabaseId
from john.errors import Forbidden, UserError
from john.web.deps import get_session
from john.web.templating import templates

router = APIRouter(prefix="/catalogue", include_in_schema=False)
SessionDep = Annotated[Session, Depends(get_session)]
STATUSES = ("active", "inactive", "defunct", "temporarily closed")


def _actor(request: Request) -> str:
    principal = current_principal(request)
    if principal is None:
        raise Forbidden("sign in as a curator to change the catalogue")
    return principal.actor


def _render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, f"catalogue/{name}", context, status_code=status_code
    )


def _number(
    value: str | None, label: str, errors: dict[str, str], kind: type = float
) -> Any:
    if value is None or not value.strip():
        return None
    try:
        return kind(value.strip())
    except (ValueError, InvalidOperation):
        errors[label] = f"Enter {label.replace('_', ' ')} as a number"
        return None


@router.get("", response_class=HTMLResponse)
def search_page(request: Request, session: SessionDep) -> HTMLResponse:
    """Render the search form and, once asked, the results with reasons."""
    params = request.query_params
    errors: dict[str, str] = {}
    form = {
        key: params.get(key, "")
        for key in (
            "text",
            "postcode",
            "radius_km",
            "kind",
            "age",
            "day",
            "time",
            "delivery_mode",
            "level",
            "max_cost",
            "page",
        )
    }
    form["free"] = params.get("free", "")
    asked = any(value for key, value in form.items() if key != "page")
    result = None
    if asked:
        query = SearchQuery(
            text=form["text"] or None,
            kind=form["kind"] or None,
            postcode=form["postcode"] or None,
            radius_km=_number(form["radius_km"], "radius_km", errors) or 10.0,
            age=_number(form["age"], "age", errors),
            day=form["day"] or None,
            time=form["time"] or None,
            delivery_mode=form["delivery_mode"] or None,
            free_only=form["free"] == "yes",
            max_cost=_number(form["max_cost"], "max_cost", errors, Decimal),
            level=_number(form["level"], "level", errors, int),
            page=_number(form["page"], "page", errors, int) or 1,
        )
        if query.day and not query.time:
            query.time = "12:00"
        if not errors:
            try:
                result = run_search(session, query, request_geocoder(request, session))
            except UserError as error:
                errors["search"] = error.detail
    pages = 0
    if result is not None:
        pages = max(1, -(-result.total // result.per_page))
    base_query = "&".join(f"{k}={v}" for k, v in form.items() if v and k != "page")
    return _render(
        request,
        "search.html",
        {
            "title": "Find services, courses and places to learn",
            "form": form,
            "errors": errors,
            "result": result,
            "asked": asked,
            "pages": pages,
            "base_query": base_query,
            "days": list(zip(DAY_CODES, DAY_NAMES, strict=True)),
            "modes": DELIVERY_MODES,
        },
        status_code=422 if errors else 200,
    )


def _service_context(session: Session, found: Service) -> dict[str, Any]:
    doc = found.oruk_json
    exceptions = session.scalars(
        select(ScheduleException)
        .where(ScheduleException.service_id == found.id)
        .order_by(ScheduleException.starts_on)
    ).all()
    return {
        "title": found.name,
        "service": found,
        "doc": doc,
        "locations": [link["location"] for link in doc.get("service_at_locations", [])],
        "exceptions": exceptions,
        "terms": [
            a["taxonomy_term"]["name"]
            for a in doc.get("attributes", [])
            if isinstance(a.get("taxonomy_term"), dict)
        ],
        "revisions": service.list_revisions(session, "service", found.id),
        "statuses": STATUSES,
    }


@router.get(
    "/services/new",
    response_class=HTMLResponse,
    dependencies=[Depends(require(roles=("curator", "administrator")))],
)
def new_service_page(request: Request) -> HTMLResponse:
    """Render the form to add a service."""
    return _render(
        request,
        "service_form.html",
        {
            "title": "Add a service",
            "values": {},
            "errors": {},
            "statuses": STATUSES,
            "action": "/catalogue/services",
        },
    )


def _service_form(
    name: str,
    description: str,
    url: str,
    email: str,
    status: str,
    minimum_age: str,
    maximum_age: str,
    errors: dict[str, str],
) -> ServiceInput | None:
    values: dict[str, Any] = {
        "name": name.strip() or None,
        "description": description.strip(),
        "url": url.strip() or None,
        "email": email.strip() or None,
        "status": status or "active",
        "minimum_age": _number(minimum_age, "minimum_age", errors),
        "maximum_age": _number(maximum_age, "maximum_age", errors),
    }
    if not values["name"]:
        errors["name"] = "Enter the name of the service"
    if errors:
        return None
    try:
        return ServiceInput(**values)
    except ValidationError as error:
        for item in error.errors():
            errors[str(item["loc"][0])] = item["msg"]
        return None


FormText = Annotated[str, Form()]


@router.post(
    "/services",
    response_model=None,
    dependencies=[Depends(require(roles=("curator", "administrator")))],
)
def create_service_page(
    request: Request,
    session: SessionDep,
    name: FormText = "",
    description: FormText = "",
    url: FormText = "",
    email: FormText = "",
    status: FormText = "active",
    minimum_age: FormText = "",
    maximum_age: FormText = "",
) -> Response:
    """Add a service from the form, or show the form again with its errors."""
    errors: dict[str, str] = {}
    data = _service_form(
        name, description, url, email, status, minimum_age, maximum_age, errors
    )
    if data is not None:
        try:
            created = service.save_service(session, data, _actor(request))
            session.commit()
            return RedirectResponse(f"/catalogue/services/{created.id}", 303)
        except UserError as error:
            session.rollback()
            errors["form"] = error.detail
    return _render(
        request,
        "service_form.html",
        {
            "title": "Add a service",
            "values": locals_values(
                name, description, url, email, status, minimum_age, maximum_age
            ),
            "errors": errors,
            "statuses": STATUSES,
            "action": "/catalogue/services",
        },
        status_code=422,
    )


def locals_values(
    name: str,
    description: str,
    url: str,
    email: str,
    status: str,
    minimum_age: str,
    maximum_age: str,
) -> dict[str, str]:
    """Return the submitted form values for re-display."""
    return {
        "name": name,
        "description": description,
        "url": url,
        "email": email,
        "status": status,
        "minimum_age": minimum_age,
        "maximum_age": maximum_age,
    }


@router.get("/services/{service_id}", response_class=HTMLResponse)
def service_page(
    request: Request, service_id: str, session: SessionDep
) -> HTMLResponse:
    """Render one service with its parts, history and the curator's edit form."""
    found = service.get_entity(session, Service, service_id, "service")
    context = _service_context(session, found)
    context["errors"] = {}
    context["values"] = {
        "name": found.name,
        "description": found.description,
        "url": found.url or "",
        "email": found.email or "",
        "status": found.status,
        "minimum_age": "" if found.minimum_age is None else f"{found.minimum_age:g}",
        "maximum_age": "" if found.maximum_age is None else f"{found.maximum_age:g}",
    }
    return _render(request, "service.html", context)


@router.post(
    "/services/{service_id}",
    response_model=None,
    dependencies=[Depends(require(roles=("curator", "administrator")))],
)
def edit_service_page(
    request: Request,
    service_id: str,
    session: SessionDep,
    name: FormText = "",
    description: FormText = "",
    url: FormText = "",
    email: FormText = "",
    status: FormText = "active",
    minimum_age: FormText = "",
    maximum_age: FormText = "",
) -> Response:
    """Save a curator's edit and return to the service page."""
    found = service.get_entity(session, Service, service_id, "service")
    errors: dict[str, str] = {}
    data = _service_form(
        name, description, url, email, status, minimum_age, maximum_age, errors
    )
    if data is not None:
        try:
            service.save_service(session, data, _actor(request), service_id)
            session.commit()
            return RedirectResponse(f"/catalogue/services/{service_id}?saved=1", 303)
        except UserError as error:
            session.rollback()
            errors["form"] = error.detail
    context = _service_context(session, found)
    context["errors"] = errors
    context["values"] = locals_values(
        name, description, url, email, status, minimum_age, maximum_age
    )
    return _render(request, "service.html", context, status_code=422)


@router.get("/courses/{course_id}", response_class=HTMLResponse)
def course_page(request: Request, course_id: str, session: SessionDep) -> HTMLResponse:
    """Render one course and, if the person's facts are given, the funding that fits."""
    course = service.get_entity(session, Course, course_id, "course")
    params = request.query_params
    errors: dict[str, str] = {}
    verdicts = None
    if params.get("check"):
        person = funding.Person(
            age=_number(params.get("age"), "age", errors, int),
            nation=params.get("nation") or None,
            highest_prior_level=_number(
                params.get("prior_level"), "prior_level", errors, int
            ),
            employment_status=params.get("employment_status") or None,
            benefits=[params["benefit"].lower()] if params.get("benefit") else [],
        )
        if not errors:
            verdicts = funding.fit_funding(session, person, course)
    location = session.get(Location, course.location_id) if course.location_id else None
    provider = None
    if course.provider_ukprn:
        provider = session.scalars(
            select(Organization).where(Organization.ukprn == course.provider_ukprn)
        ).first()
    return _render(
        request,
        "course.html",
        {
            "title": course.title,
            "course": course,
            "location": location,
            "provider": provider,
            "skills": service.course_skills(session, course.id),
            "verdicts": verdicts,
            "errors": errors,
            "params": params,
            "modules": session.scalars(
                select(Course)
                .where(Course.parent_id == course.id)
                .order_by(Course.title)
            ).all(),
        },
        status_code=422 if errors else 200,
    )


@router.get("/funding/{source_id}", response_class=HTMLResponse)
def funding_page(request: Request, source_id: str, session: SessionDep) -> HTMLResponse:
    """Render one funding source and its rules."""
    source = service.get_entity(session, FundingSource, source_id, "funding source")
    return _render(
        request,
        "funding.html",
        {"title": source.name, "source": source, "today": date.today()},
    )


@router.get("/venues/{venue_id}", response_class=HTMLResponse)
def venue_page(request: Request, venue_id: str, session: SessionDep) -> HTMLResponse:
    """Render one learning venue with its facilities and opening hours."""
    venue = service.get_entity(session, Location, venue_id, "venue")
    hours = session.scalars(
        select(Schedule).where(Schedule.location_id == venue_id)
    ).all()
    by_day = [
        (
            day_name,
            [
                h
                for h in sorted(hours, key=lambda h: h.opens_at or "")
                if h.byday and code in h.byday.split(",")
            ],
        )
        for code, day_name in zip(DAY_CODES, DAY_NAMES, strict=True)
    ]
    return _render(
        request,
        "venue.html",
        {"title": venue.name or "Venue", "venue": venue, "by_day": by_day},
    )


@router.get(
    "/duplicates",
    response_class=HTMLResponse,
    dependencies=[Depends(require(roles=("curator", "administrator")))],
)
def duplicates_page(request: Request, session: SessionDep) -> HTMLResponse:
    """Render the pending duplicate candidates with merge and keep-apart buttons."""
    return _render(
        request,
        "duplicates.html",
        {
            "title": "Possible duplicates",
            "candidates": duplicates.list_candidates(session),
        },
    )


@router.post(
    "/duplicates/{candidate_id}",
    response_model=None,
    dependencies=[Depends(require(roles=("curator", "administrator")))],
)
def decide_duplicate_page(
    request: Request,
    candidate_id: DatabaseId,
    session: SessionDep,
    decision: FormText = "",
) -> Response:
    """Record the curator's decision and return to the list."""
    duplicates.decide(session, candidate_id, decision, _actor(request))
    session.commit()
    return RedirectResponse("/catalogue/duplicates", 303)


@router.get(
    "/imports",
    response_class=HTMLResponse,
    dependencies=[Depends(require(roles=("curator", "administrator")))],
)
def imports_page(request: Request, session: SessionDep) -> HTMLResponse:
    """Render every import report with its counts by field."""
    reports = session.scalars(select(ImportReport).order_by(ImportReport.id.desc()))
    return _render(
        request, "imports.html", {"title": "Imports", "reports": list(reports)}
    )
