"""Routers of the catalogue: the Open Referral UK API under ``/oruk/`` and the
curator and search API under ``/api/v1/catalogue``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from john.catalogue import duplicates, funding, oruk_export, service
from john.catalogue.geocode import Geocoder
from john.catalogue.models import (
    Course,
    FundingSource,
    ImportReport,
    Location,
    Service,
)
from john.catalogue.oruk_openapi import oruk_openapi
from john.catalogue.report import report_as_dict
from john.catalogue.schemas import (
    CourseInput,
    DuplicateDecision,
    FundingFitRequest,
    FundingSourceInput,
    ScheduleExceptionInput,
    ScheduleInput,
    ServiceInput,
    VenueInput,
)
from john.catalogue.search import SearchQuery
from john.catalogue.search import search as run_search
from john.deps import DatabaseId, access_check, get_session
from john.errors import Forbidden

CORS = {"Access-Control-Allow-Origin": "*"}
SessionDep = Annotated[Session, Depends(get_session)]

oruk_router = APIRouter(prefix="/oruk", tags=["oruk"])
router = APIRouter(prefix="/api/v1/catalogue", tags=["catalogue"])


def _oruk(body: Any) -> JSONResponse:
    return JSONResponse(body, headers=CORS)


def _filter(
    search: str | None = None,
    taxonomy_term_id: str | None = None,
    taxonomy_id: str | None = None,
    organization_id: str | None = None,
    minimum_age: float | None = None,
    maximum_age: float | None = None,
    start_time: str | None = None,
    end_time: str | None = None,
    day: str | None = None,
) -> oruk_export.ServiceFilter:
    return oruk_export.ServiceFilter(
        search=search,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        organization_id=organization_id,
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        start_time=start_time,
        end_time=end_time,
        day=day,
    )


@oruk_router.get("/", summary="Information about this API")
def oruk_root(request: Request) -> JSONResponse:
    """Return the HSDS version, the profile and where the OpenAPI document is."""
    base = str(request.url_for("oruk_openapi_document"))
    return _oruk(
        {
            "version": oruk_export.HSDS_VERSION,
            "profile": oruk_export.ORUK_PROFILE,
            "openapi_url": base,
        }
    )


@oruk_router.get("/openapi.json", name="oruk_openapi_document", include_in_schema=False)
def oruk_openapi_document(request: Request) -> JSONResponse:
    """Return the OpenAPI document of the ORUK endpoints."""
    server = str(request.url_for("oruk_root")).rstrip("/")
    return _oruk(oruk_openapi(server))


@oruk_router.get("/services", summary="Paged list of services")
def oruk_services(
    *,
    query: Annotated[oruk_export.ServiceFilter, Depends(_filter)],
    page: int = 1,
    per_page: int = 50,
    session: SessionDep,
) -> JSONResponse:
    """Return one page of services with their one-to-one fields."""
    return _oruk(oruk_export.list_services(session, query, page, per_page))


@oruk_router.get("/services/{service_id}", summary="A fully nested service")
def oruk_service(service_id: str, session: SessionDep) -> JSONResponse:
    """Return a service with all its parts."""
    return _oruk(oruk_export.service_document(session, service_id))


@oruk_router.get("/service_at_locations", summary="Paged list of services at locations")
def oruk_service_at_locations(
    *,
    request: Request,
    query: Annotated[oruk_export.ServiceFilter, Depends(_filter)],
    postcode: str | None = None,
    proximity: Annotated[float | None, Query(ge=0, description="metres")] = None,
    page: int = 1,
    per_page: int = 50,
    session: SessionDep,
) -> JSONResponse:
    """Return one page of service-at-location links, optionally near a postcode."""
    query.postcode, query.proximity = postcode, proximity
    return _oruk(
        oruk_export.list_service_at_locations(
            session, query, page, per_page, request_geocoder(request, session)
        )
    )


@oruk_router.get(
    "/service_at_locations/{link_id}", summary="A service at a location, fully nested"
)
def oruk_service_at_location(link_id: str, session: SessionDep) -> JSONResponse:
    """Return a service-at-location link with its location and service."""
    return _oruk(oruk_export.service_at_location_document(session, link_id))


@oruk_router.get("/taxonomies", summary="Paged list of taxonomies")
def oruk_taxonomies(
    *, page: int = 1, per_page: int = 50, session: SessionDep
) -> JSONResponse:
    """Return one page of taxonomies."""
    return _oruk(oruk_export.list_taxonomies(session, page, per_page))


@oruk_router.get("/taxonomies/{taxonomy_id}", summary="A taxonomy")
def oruk_taxonomy(taxonomy_id: str, session: SessionDep) -> JSONResponse:
    """Return one taxonomy."""
    return _oruk(oruk_export.get_taxonomy(session, taxonomy_id))


@oruk_router.get("/taxonomy_terms", summary="Paged list of taxonomy terms")
def oruk_taxonomy_terms(
    *,
    page: int = 1,
    per_page: int = 50,
    taxonomy_id: str | None = None,
    search: str | None = None,
    session: SessionDep,
) -> JSONResponse:
    """Return one page of taxonomy terms, optionally of one taxonomy."""
    return _oruk(
        oruk_export.list_taxonomy_terms(session, page, per_page, taxonomy_id, search)
    )


@oruk_router.get("/taxonomy_terms/{term_id}", summary="A taxonomy term")
def oruk_taxonomy_term(term_id: str, session: SessionDep) -> JSONResponse:
    """Return one taxonomy term."""
    return _oruk(oruk_export.get_taxonomy_term(session, term_id))


@oruk_router.get("/organizations", summary="Paged list of organizations")
def oruk_organizations(
    *, page: int = 1, per_page: int = 50, session: SessionDep
) -> JSONResponse:
    """Return one page of organisations."""
    return _oruk(oruk_export.list_organizations(session, page, per_page))


@oruk_router.get("/organizations/{org_id}", summary="An organization with services")
def oruk_organization(org_id: str, session: SessionDep) -> JSONResponse:
    """Return an organisation with its services."""
    return _oruk(oruk_export.organization_document(session, org_id))


def request_geocoder(request: Request, session: Session) -> Geocoder:
    """Return the application's prepared geocoder, else one on the store."""
    # The geocoder reads the registers from the store; a test or deployment
    # may hang a prepared one (with register files added) on the app state.
    prepared = getattr(request.app.state, "catalogue_geocoder", None)
    return prepared if isinstance(prepared, Geocoder) else Geocoder(session)


def _actor(request: Request) -> str:
    # The "staff" access check, which runs before this, stores who is calling
    # on request.state. The catalogue sits below auth, so it reads the
    # principal's actor by attribute rather than importing its class.
    principal = getattr(request.state, "principal", None)
    actor = getattr(principal, "actor", None)
    if not isinstance(actor, str) or not actor:
        raise Forbidden("catalogue changes need a signed-in curator or a token")
    return actor[:100]


ActorDep = Annotated[str, Depends(_actor)]


def person_from_query(
    fits_age: int | None = None,
    fits_nation: str | None = None,
    fits_local_authority: str | None = None,
    fits_prior_level: int | None = None,
    fits_employment_status: str | None = None,
    fits_benefit: Annotated[list[str] | None, Query()] = None,
    fits_sector: str | None = None,
) -> funding.Person | None:
    """Build the person for a funding-fit search from ``fits_*`` parameters."""
    values = [
        fits_age,
        fits_nation,
        fits_local_authority,
        fits_prior_level,
        fits_employment_status,
        fits_sector,
    ]
    fits_benefit = fits_benefit or []
    if all(value is None for value in values) and not fits_benefit:
        return None
    return funding.Person(
        age=fits_age,
        nation=fits_nation,
        local_authority_code=fits_local_authority,
        highest_prior_level=fits_prior_level,
        employment_status=fits_employment_status,
        benefits=[b.lower() for b in fits_benefit],
        sector=fits_sector,
    )


def search_query(
    person: Annotated[funding.Person | None, Depends(person_from_query)],
    text: str | None = None,
    kind: str | None = None,
    taxonomy_term_id: str | None = None,
    age: Annotated[float | None, Query(ge=0, le=130)] = None,
    postcode: str | None = None,
    radius_km: Annotated[float, Query(gt=0, le=1000)] = 10.0,
    day: str | None = None,
    time: str | None = None,
    on_date: Annotated[date | None, Query(alias="date")] = None,
    delivery_mode: str | None = None,
    free: bool = False,
    max_cost: Annotated[Decimal | None, Query(ge=0)] = None,
    level: Annotated[int | None, Query(ge=0, le=8)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchQuery:
    """Build a search from query parameters; empty ones are no restriction."""
    return SearchQuery(
        text=text or None,
        kind=kind or None,
        taxonomy_term_id=taxonomy_term_id or None,
        age=age,
        postcode=postcode or None,
        radius_km=radius_km,
        day=(day or None) and day.upper(),
        time=time or None,
        on_date=on_date,
        delivery_mode=delivery_mode or None,
        free_only=free,
        max_cost=max_cost,
        level=level,
        person=person,
        page=page,
        per_page=per_page,
    )


@router.get("/search")
def search_catalogue(
    request: Request,
    query: Annotated[SearchQuery, Depends(search_query)],
    session: SessionDep,
) -> dict[str, Any]:
    """Search services, courses and venues, with the reasons for each result."""
    result = run_search(session, query, request_geocoder(request, session))
    return {
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "results": [hit.as_dict() for hit in result.hits],
    }


@router.post(
    "/services",
    status_code=201,
    dependencies=[Depends(access_check("staff"))],
)
def create_service(
    data: ServiceInput,
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Add a service to the catalogue."""
    created = service.save_service(session, data, actor)
    session.commit()
    return created.oruk_json


@router.patch(
    "/services/{service_id}",
    dependencies=[Depends(access_check("staff"))],
)
def edit_service(
    service_id: str,
    data: ServiceInput,
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Change fields of a service; the change is kept in its history."""
    edited = service.save_service(session, data, actor, service_id)
    session.commit()
    return edited.oruk_json


@router.put(
    "/services/{service_id}/schedules",
    dependencies=[Depends(access_check("staff"))],
)
def replace_schedules(
    service_id: str,
    data: list[ScheduleInput],
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Replace a service's weekly opening times."""
    edited = service.set_service_schedules(session, service_id, data, actor)
    session.commit()
    return edited.oruk_json


@router.post(
    "/services/{service_id}/exceptions",
    status_code=201,
    dependencies=[Depends(access_check("staff"))],
)
def add_exception(
    service_id: str,
    data: ScheduleExceptionInput,
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Add a holiday closure or changed hours to a service."""
    added = service.add_schedule_exception(session, service_id, data, actor)
    session.commit()
    return {"id": added.id, **data.model_dump(mode="json")}


@router.get(
    "/revisions/{entity_type}/{entity_id}",
    dependencies=[Depends(access_check("staff"))],
)
def revisions(
    entity_type: str, entity_id: str, session: SessionDep
) -> list[dict[str, Any]]:
    """Return the history of an entry, newest first."""
    return [
        {
            "id": row.id,
            "action": row.action,
            "actor": row.actor,
            "at": row.at.isoformat(),
            "changes": row.changes,
        }
        for row in service.list_revisions(session, entity_type, entity_id)
    ]


def course_as_dict(session: Session, course: Course) -> dict[str, Any]:
    """Return a course with its skills, as the API shows it."""
    return {
        "id": course.id,
        "parent_id": course.parent_id,
        "title": course.title,
        "description": course.description,
        "provider_ukprn": course.provider_ukprn,
        "organization_id": course.organization_id,
        "location_id": course.location_id,
        "qualification_number": course.qualification_number,
        "level_framework": course.level_framework,
        "level": course.level,
        "credits": course.credits,
        "guided_learning_hours": course.guided_learning_hours,
        "delivery_modes": [m for m in course.delivery_modes.split(",") if m],
        "online_equipment": course.online_equipment,
        "online_min_mbps": course.online_min_mbps,
        "cost": None if course.cost is None else str(course.cost),
        "start_dates": course.start_dates,
        "prerequisites": course.prerequisites,
        "minimum_age": course.minimum_age,
        "maximum_age": course.maximum_age,
        "url": course.url,
        "skills": [
            {"id": t.id, "name": t.name, "uri": t.term_uri}
            for t in service.course_skills(session, course.id)
        ],
    }


@router.post(
    "/courses",
    status_code=201,
    dependencies=[Depends(access_check("staff"))],
)
def create_course(
    data: CourseInput,
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Add a course or module."""
    created = service.save_course(session, data, actor)
    session.commit()
    return course_as_dict(session, created)


@router.patch(
    "/courses/{course_id}",
    dependencies=[Depends(access_check("staff"))],
)
def edit_course(
    course_id: str,
    data: CourseInput,
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Change fields of a course."""
    edited = service.save_course(session, data, actor, course_id)
    session.commit()
    return course_as_dict(session, edited)


@router.get("/courses/{course_id}")
def get_course(course_id: str, session: SessionDep) -> dict[str, Any]:
    """Return one course with its skills."""
    return course_as_dict(
        session, service.get_entity(session, Course, course_id, "course")
    )


def funding_as_dict(source: FundingSource) -> dict[str, Any]:
    """Return a funding source as the API shows it."""
    out = {
        column.name: getattr(source, column.name)
        for column in FundingSource.__table__.columns
    }
    for key, value in out.items():
        if isinstance(value, Decimal):
            out[key] = str(value)
        elif isinstance(value, date):
            out[key] = value.isoformat()
    return out


@router.get("/funding-sources")
def list_funding(session: SessionDep) -> list[dict[str, Any]]:
    """Return every funding source."""
    rows = session.scalars(select(FundingSource).order_by(FundingSource.name))
    return [funding_as_dict(row) for row in rows]


@router.post(
    "/funding-sources",
    status_code=201,
    dependencies=[Depends(access_check("staff"))],
)
def create_funding(
    data: FundingSourceInput,
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Add a funding source."""
    created = service.save_funding_source(session, data, actor)
    session.commit()
    return funding_as_dict(created)


@router.patch(
    "/funding-sources/{source_id}",
    dependencies=[Depends(access_check("staff"))],
)
def edit_funding(
    source_id: str,
    data: FundingSourceInput,
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Change a funding source's rules."""
    edited = service.save_funding_source(session, data, actor, source_id)
    session.commit()
    return funding_as_dict(edited)


@router.get("/funding-sources/{source_id}")
def get_funding(source_id: str, session: SessionDep) -> dict[str, Any]:
    """Return one funding source."""
    return funding_as_dict(
        service.get_entity(session, FundingSource, source_id, "funding source")
    )


@router.post("/funding-fit")
def funding_fit(data: FundingFitRequest, session: SessionDep) -> list[dict[str, Any]]:
    """Judge every funding source for a person and optional course, with reasons."""
    course = (
        service.get_entity(session, Course, data.course_id, "course")
        if data.course_id
        else None
    )
    person = funding.Person(**data.person.model_dump())
    return [fit.as_dict() for fit in funding.fit_funding(session, person, course)]


def venue_as_dict(venue: Location) -> dict[str, Any]:
    """Return a learning venue as the API shows it."""
    keys = (
        "id",
        "name",
        "description",
        "address_1",
        "city",
        "postal_code",
        "local_authority",
        "latitude",
        "longitude",
        "coordinate_source",
        "study_spaces",
        "public_devices",
        "connectivity",
        "wifi",
        "safeguarding",
        "url",
        "email",
    )
    return {key: getattr(venue, key) for key in keys}


@router.post(
    "/venues",
    status_code=201,
    dependencies=[Depends(access_check("staff"))],
)
def create_venue(
    request: Request,
    data: VenueInput,
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Add a learning venue, placed by its postcode or local authority."""
    created = service.save_venue(
        session, data, actor, request_geocoder(request, session)
    )
    session.commit()
    return venue_as_dict(created)


@router.patch(
    "/venues/{venue_id}",
    dependencies=[Depends(access_check("staff"))],
)
def edit_venue(
    request: Request,
    venue_id: str,
    data: VenueInput,
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Change a learning venue."""
    edited = service.save_venue(
        session, data, actor, request_geocoder(request, session), venue_id
    )
    session.commit()
    return venue_as_dict(edited)


@router.get("/venues/{venue_id}")
def get_venue(venue_id: str, session: SessionDep) -> dict[str, Any]:
    """Return one learning venue."""
    return venue_as_dict(service.get_entity(session, Location, venue_id, "venue"))


@router.get(
    "/imports",
    dependencies=[Depends(access_check("staff"))],
)
def list_imports(session: SessionDep) -> list[dict[str, Any]]:
    """Return every import report, newest first, without the problem lists."""
    rows = session.scalars(select(ImportReport).order_by(ImportReport.id.desc()))
    return [
        {k: v for k, v in report_as_dict(row).items() if k != "problems"}
        for row in rows
    ]


@router.get(
    "/imports/{report_id}",
    dependencies=[Depends(access_check("staff"))],
)
def get_import(report_id: DatabaseId, session: SessionDep) -> dict[str, Any]:
    """Return one import report with its problems."""
    return report_as_dict(
        service.get_entity(session, ImportReport, report_id, "import report")
    )


@router.get(
    "/duplicates",
    dependencies=[Depends(access_check("staff"))],
)
def list_duplicates(
    *, status: str = "pending", session: SessionDep
) -> list[dict[str, Any]]:
    """Return duplicate candidates with the given status, best match first."""
    return [pair.as_dict() for pair in duplicates.list_candidates(session, status)]


@router.post(
    "/duplicates/{candidate_id}",
    dependencies=[Depends(access_check("staff"))],
)
def decide_duplicate(
    candidate_id: DatabaseId,
    data: DuplicateDecision,
    actor: ActorDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Merge a duplicate pair or keep the two services apart."""
    decided = duplicates.decide(session, candidate_id, data.decision, actor)
    session.commit()
    return decided.as_dict()


@router.post(
    "/duplicates/{candidate_id}/undo",
    dependencies=[Depends(access_check("staff"))],
)
def undo_duplicate_merge(
    candidate_id: DatabaseId, actor: ActorDep, session: SessionDep
) -> dict[str, Any]:
    """Undo a merge: take back what the kept service gained; the pair is pending."""
    undone = duplicates.undo_merge(session, candidate_id, actor)
    session.commit()
    return undone.as_dict()


@router.get("/services/{service_id}")
def get_service(
    service_id: str, response: Response, session: SessionDep
) -> dict[str, Any]:
    """Return a service's ORUK document."""
    found: Service = service.get_entity(session, Service, service_id, "service")
    return found.oruk_json
