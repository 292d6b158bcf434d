"""Curator work on the catalogue: create and edit services, courses, funding
sources and venues, each change written to the revisions table."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from john.catalogue import search
from john.catalogue.cleaning import clean_email, clean_url, derived_uuid, is_uuid
from john.catalogue.geocode import Geocoder, normalise_postcode
from john.catalogue.models import (
    Attribute,
    Course,
    FundingSource,
    Location,
    Organization,
    Revision,
    Schedule,
    ScheduleException,
    Service,
    Taxonomy,
    TaxonomyTerm,
)
from john.catalogue.schemas import (
    CourseInput,
    FundingSourceInput,
    ScheduleExceptionInput,
    ScheduleInput,
    ServiceInput,
    VenueInput,
)
from john.db import utcnow
from john.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

ESCO_SKILLS_TAXONOMY = "ESCO skills"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def record_revision(
    session: Session,
    entity_type: str,
    entity_id: str,
    action: str,
    actor: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> Revision | None:
    """Store the fields that changed, with their old and new values.

    Returns None, and stores nothing, when an edit changes no value.
    """
    changes = {
        key: {"before": _plain(before.get(key)), "after": _plain(value)}
        for key, value in after.items()
        if _plain(before.get(key)) != _plain(value)
    }
    if not changes and action == "update":
        return None
    revision = Revision(
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=actor,
        changes=changes,
    )
    session.add(revision)
    return revision


def list_revisions(
    session: Session, entity_type: str, entity_id: str
) -> list[Revision]:
    """Return the history of one entry, newest first."""
    return list(
        session.scalars(
            select(Revision)
            .where(Revision.entity_type == entity_type, Revision.entity_id == entity_id)
            .order_by(Revision.id.desc())
        )
    )


def _apply(
    target: Any, values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    before = {key: getattr(target, key) for key in values}
    for key, value in values.items():
        setattr(target, key, value)
    return before, values


def _checked_links(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("url"):
        url, reason = clean_url(values["url"])
        if url is None:
            raise InvalidInput(
                f"url {values['url']!r} is {reason}; give an http or https address"
            )
        values["url"] = url
    if values.get("email"):
        email, reason = clean_email(values["email"])
        if email is None:
            raise InvalidInput(
                f"email {values['email']!r} is {reason}; give name@example.org"
            )
        values["email"] = email
    return values


def save_service(
    session: Session, data: ServiceInput, actor: str, service_id: str | None = None
) -> Service:
    """Create a service, or edit one, keeping its ORUK document in step."""
    values = _checked_links(data.model_dump(exclude_unset=True))
    modes = values.pop("delivery_modes", None)
    if modes is not None:
        values["delivery_modes"] = ",".join(sorted(set(modes)))
    if (
        values.get("organization_id")
        and session.get(Organization, values["organization_id"]) is None
    ):
        raise NotFound(
            f"organization {values['organization_id']} not found; "
            "create it first or leave organization_id out"
        )

    if service_id is None:
        if not values.get("name"):
            raise InvalidInput("name is missing; a service needs a name")
        service = Service(
            id=str(uuid.uuid4()),
            status="active",
            description="",
            delivery_modes="",
            oruk_json={},
            source="curator",
        )
        session.add(service)
        action = "create"
    else:
        found = session.get(Service, service_id)
        if found is None:
            raise NotFound(f"service {service_id} not found; check the id")
        service = found
        action = "update"

    before, after = _apply(service, values)
    minimum, maximum = service.minimum_age, service.maximum_age
    if minimum is not None and maximum is not None and minimum > maximum:
        raise InvalidInput(
            f"minimum_age {minimum:g} is above maximum_age "
            f"{maximum:g}; swap or correct them"
        )
    service.last_modified = utcnow()
    service.oruk_json = _service_document(session, service)
    session.flush()
    search.index_service(session, service)
    record_revision(session, "service", service.id, action, actor, before, after)
    log.info("service %s %sd by curator", service.id, action)
    return service


def _service_document(session: Session, service: Service) -> dict[str, Any]:
    doc = dict(service.oruk_json or {})
    fields = {
        "id": service.id,
        "name": service.name,
        "description": service.description,
        "url": service.url,
        "email": service.email,
        "status": service.status,
        "fees": service.fees,
        "minimum_age": service.minimum_age,
        "maximum_age": service.maximum_age,
        "organization_id": service.organization_id,
        "last_modified": service.last_modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    for key, value in fields.items():
        if value is None or value == "" and key != "description":
            doc.pop(key, None)
        else:
            doc[key] = value
    if service.organization_id:
        org = session.get(Organization, service.organization_id)
        if org is not None:
            doc["organization"] = {
                "id": org.id,
                "name": org.name,
                "description": org.description or "",
            }
    doc["schedules"] = [
        {
            "id": row.id,
            "service_id": service.id,
            "freq": row.freq or "WEEKLY",
            "byday": row.byday,
            "opens_at": f"{row.opens_at}:00",
            "closes_at": f"{row.closes_at}:00",
            "description": row.description or "",
        }
        for row in session.scalars(
            select(Schedule).where(Schedule.service_id == service.id)
        )
        if row.byday and row.opens_at and row.closes_at
    ] or doc.get("schedules", [])
    if not doc["schedules"]:
        del doc["schedules"]
    return doc


def set_service_schedules(
    session: Session, service_id: str, schedules: list[ScheduleInput], actor: str
) -> Service:
    """Replace a service's weekly opening times."""
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(f"service {service_id} not found; check the id")
    old = [
        f"{row.byday} {row.opens_at}-{row.closes_at}"
        for row in session.scalars(
            select(Schedule).where(Schedule.service_id == service_id)
        )
    ]
    session.execute(delete(Schedule).where(Schedule.service_id == service_id))
    for item in schedules:
        if item.closes_at <= item.opens_at:
            raise InvalidInput(
                f"closes_at {item.closes_at} is not after opens_at "
                f"{item.opens_at}; correct the times"
            )
        session.add(
            Schedule(
                id=str(uuid.uuid4()),
                service_id=service_id,
                freq="WEEKLY",
                interval=1,
                byday=item.byday,
                opens_at=item.opens_at,
                closes_at=item.closes_at,
                description=item.description,
            )
        )
    session.flush()
    service.oruk_json = {**service.oruk_json, "schedules": []}
    service.oruk_json = _service_document(session, service)
    new = [f"{item.byday} {item.opens_at}-{item.closes_at}" for item in schedules]
    record_revision(
        session,
        "service",
        service_id,
        "update",
        actor,
        {"schedules": old},
        {"schedules": new},
    )
    return service


def add_schedule_exception(
    session: Session, service_id: str, data: ScheduleExceptionInput, actor: str
) -> ScheduleException:
    """Add a holiday closure or changed hours to a service."""
    if session.get(Service, service_id) is None:
        raise NotFound(f"service {service_id} not found; check the id")
    if data.ends_on < data.starts_on:
        raise InvalidInput(
            f"ends_on {data.ends_on} is before starts_on "
            f"{data.starts_on}; correct the dates"
        )
    if not data.closed and not (data.opens_at and data.closes_at):
        raise InvalidInput(
            "opens_at and closes_at are missing; changed hours "
            "need both, or set closed to true"
        )
    exception = ScheduleException(service_id=service_id, **data.model_dump())
    session.add(exception)
    session.flush()
    record_revision(
        session,
        "service",
        service_id,
        "update",
        actor,
        {},
        {"schedule_exception": data.model_dump(mode="json")},
    )
    return exception


def _skill_terms(session: Session, skills: list[str]) -> list[TaxonomyTerm]:
    terms = []
    for skill in skills:
        term = session.get(TaxonomyTerm, skill) if is_uuid(skill) else None
        if term is None:
            term = session.scalars(
                select(TaxonomyTerm).where(TaxonomyTerm.term_uri == skill)
            ).first()
        if term is None:
            raise NotFound(
                f"skill {skill!r} not found; import ESCO with "
                "'john catalogue import esco' or give a term id"
            )
        terms.append(term)
    return terms


def save_course(
    session: Session, data: CourseInput, actor: str, course_id: str | None = None
) -> Course:
    """Create or edit a course or module and refresh its search entry."""
    values = _checked_links(data.model_dump(exclude_unset=True))
    skills = values.pop("skills", None)
    modes = values.pop("delivery_modes", None)
    if modes is not None:
        values["delivery_modes"] = ",".join(sorted(set(modes)))
    if "start_dates" in values and values["start_dates"] is not None:
        values["start_dates"] = [day.isoformat() for day in values["start_dates"]]
    for key, model in (
        ("parent_id", Course),
        ("location_id", Location),
        ("organization_id", Organization),
    ):
        if values.get(key) and session.get(model, values[key]) is None:
            raise NotFound(f"{key} {values[key]} not found; check the id")

    if course_id is None:
        if not values.get("title"):
            raise InvalidInput("title is missing; a course needs a title")
        course = Course(
            id=str(uuid.uuid4()),
            delivery_modes="in_person",
            start_dates=[],
            description="",
        )
        session.add(course)
        action = "create"
    else:
        found = session.get(Course, course_id)
        if found is None:
            raise NotFound(f"course {course_id} not found; check the id")
        course = found
        action = "update"
    before, after = _apply(course, values)
    if (
        course.level_framework == "FHEQ"
        and course.level is not None
        and not (4 <= course.level <= 8)
    ):
        raise InvalidInput(
            f"FHEQ level {course.level} does not exist; FHEQ levels run from 4 to 8"
        )
    course.updated_at = utcnow()
    session.flush()

    if skills is not None:
        terms = _skill_terms(session, skills)
        before["skills"] = [
            a.taxonomy_term_id
            for a in session.scalars(
                select(Attribute).where(
                    Attribute.link_type == "course", Attribute.link_id == course.id
                )
            )
        ]
        session.execute(
            delete(Attribute).where(
                Attribute.link_type == "course", Attribute.link_id == course.id
            )
        )
        for term in terms:
            session.add(
                Attribute(
                    id=derived_uuid("attribute", course.id, term.id),
                    link_type="course",
                    link_id=course.id,
                    taxonomy_term_id=term.id,
                )
            )
        after["skills"] = [term.id for term in terms]
        session.flush()
    reindex_course(session, course)
    record_revision(session, "course", course.id, action, actor, before, after)
    return course


def course_skills(session: Session, course_id: str) -> list[TaxonomyTerm]:
    """Return the skill terms a course teaches."""
    return list(
        session.scalars(
            select(TaxonomyTerm)
            .join(Attribute, Attribute.taxonomy_term_id == TaxonomyTerm.id)
            .where(Attribute.link_type == "course", Attribute.link_id == course_id)
            .order_by(TaxonomyTerm.name)
        )
    )


def reindex_course(session: Session, course: Course) -> None:
    """Refresh a course's search entry from its row, location and skills."""
    location = session.get(Location, course.location_id) if course.location_id else None
    names = [term.name for term in course_skills(session, course.id)]
    search.index_course(session, course, location, names)


def save_funding_source(
    session: Session, data: FundingSourceInput, actor: str, source_id: str | None = None
) -> FundingSource:
    """Create or edit a funding source."""
    values = _checked_links(data.model_dump(exclude_unset=True))
    if source_id is None:
        if not values.get("name") or not values.get("funder"):
            raise InvalidInput("name or funder is missing; a funding source needs both")
        source = FundingSource(
            id=str(uuid.uuid4()),
            pays_for=[],
            residency=[],
            employment_statuses=[],
            benefits=[],
            sectors=[],
            delivery_modes=[],
            description="",
            how_to_apply="",
        )
        session.add(source)
        action = "create"
    else:
        found = session.get(FundingSource, source_id)
        if found is None:
            raise NotFound(f"funding source {source_id} not found; check the id")
        source = found
        action = "update"
    for key in (
        "pays_for",
        "residency",
        "employment_statuses",
        "benefits",
        "sectors",
        "delivery_modes",
    ):
        if key in values and values[key] is None:
            values[key] = []
    before, after = _apply(source, values)
    if (
        source.minimum_age is not None
        and source.maximum_age is not None
        and source.minimum_age > source.maximum_age
    ):
        raise InvalidInput("minimum_age is above maximum_age; correct the age range")
    if source.opens_on and source.closes_on and source.closes_on < source.opens_on:
        raise InvalidInput(
            f"closes_on {source.closes_on} is before opens_on "
            f"{source.opens_on}; correct the dates"
        )
    source.updated_at = utcnow()
    session.flush()
    record_revision(session, "funding_source", source.id, action, actor, before, after)
    return source


def save_venue(
    session: Session,
    data: VenueInput,
    actor: str,
    geocoder: Geocoder | None = None,
    venue_id: str | None = None,
) -> Location:
    """Create or edit a learning venue, placing it by postcode or authority."""
    values = _checked_links(data.model_dump(exclude_unset=True))
    if "postal_code" in values and values["postal_code"]:
        postcode = normalise_postcode(values["postal_code"])
        if postcode is None:
            raise InvalidInput(
                f"postcode {values['postal_code']!r} is malformed; "
                "give a UK postcode such as AB10 1AA"
            )
        values["postal_code"] = postcode
    if venue_id is None:
        if not values.get("name"):
            raise InvalidInput("name is missing; a venue needs a name")
        venue = Location(
            id=str(uuid.uuid4()),
            location_type="physical",
            is_venue=True,
            country="GB",
            source="curator",
        )
        session.add(venue)
        action = "create"
    else:
        found = session.get(Location, venue_id)
        if found is None:
            raise NotFound(f"venue {venue_id} not found; check the id")
        venue = found
        action = "update"
    before, after = _apply(venue, values)
    venue.is_venue = True
    if "postal_code" in values or "local_authority" in values or action == "create":
        found_point = (geocoder or Geocoder(session)).locate(
            venue.postal_code, venue.local_authority
        )
        venue.latitude = found_point.latitude if found_point else None
        venue.longitude = found_point.longitude if found_point else None
        venue.coordinate_source = found_point.source if found_point else None
    session.flush()
    search.index_venue(session, venue)
    record_revision(session, "venue", venue.id, action, actor, before, after)
    return venue


def venue_schedules(session: Session, venue_id: str) -> list[Schedule]:
    """Return a venue's opening times."""
    return list(
        session.scalars(
            select(Schedule)
            .where(Schedule.location_id == venue_id)
            .order_by(Schedule.opens_at)
        )
    )


def get_or_create_taxonomy(
    session: Session,
    name: str,
    description: str,
    uri: str | None = None,
    version: str | None = None,
) -> Taxonomy:
    """Return the taxonomy called ``name``, creating it if needed."""
    taxonomy_id = derived_uuid("taxonomy", name)
    taxonomy = session.get(Taxonomy, taxonomy_id)
    if taxonomy is None:
        taxonomy = Taxonomy(
            id=taxonomy_id, name=name, description=description, uri=uri, version=version
        )
        session.add(taxonomy)
        session.flush()
    return taxonomy


def get_entity(
    session: Session, model: type[Any], entity_id: str | int, label: str
) -> Any:
    """Return one row by id or raise NotFound naming ``label``."""
    row = session.get(model, entity_id)
    if row is None:
        raise NotFound(f"{label} {entity_id} not found; check the id")
    return row
