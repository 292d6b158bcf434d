"""ORUK 3.0 documents served under ``/oruk/``: paged lists and single objects.

List items carry only one-to-one fields, as the ORUK list schemas describe;
single objects are fully nested. Values that are unknown are left out rather
than sent as null, because the ORUK schemas type them as strings or numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from john.catalogue import search
from john.catalogue.cleaning import clean_time, derived_uuid
from john.catalogue.geocode import Geocoder, bounding_box, haversine_km
from john.catalogue.merging import resolve_merged
from john.catalogue.models import (
    Attribute,
    Location,
    Organization,
    Schedule,
    SearchEntry,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from john.db import page_offset
from john.errors import InvalidInput, NotFound

HSDS_VERSION = "3.0"
ORUK_PROFILE = "https://openreferraluk.org/"
MAX_PER_PAGE = 500
LIST_FIELDS = (
    "id",
    "organization_id",
    "name",
    "description",
    "url",
    "email",
    "status",
    "fees",
    "accreditations",
    "minimum_age",
    "maximum_age",
    "assured_date",
    "assurer_email",
    "alert",
    "last_modified",
)
ORGANIZATION_FIELDS = (
    "id",
    "name",
    "description",
    "email",
    "website",
    "logo",
    "uri",
    "parent_organization_id",
)
LOCATION_LIST_FIELDS = (
    "id",
    "location_type",
    "name",
    "description",
    "latitude",
    "longitude",
    "external_identifier",
    "external_identifier_type",
)
DAY_WORDS = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}


@dataclass
class ServiceFilter:
    """The ORUK query parameters of ``/services`` and ``/service_at_locations``."""

    search: str | None = None
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    organization_id: str | None = None
    minimum_age: float | None = None
    maximum_age: float | None = None
    start_time: str | None = None
    end_time: str | None = None
    day: str | None = None
    postcode: str | None = None
    proximity: float | None = None


def paged(
    contents: list[dict[str, Any]], total: int, page: int, per_page: int
) -> dict[str, Any]:
    """Wrap one page of items in the ORUK paging fields."""
    total_pages = max(1, math.ceil(total / per_page))
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": len(contents) == 0,
        "contents": contents,
    }


def check_paging(page: int, per_page: int) -> None:
    """Raise InvalidInput unless the page numbers are in range."""
    if page < 1:
        raise InvalidInput(f"page {page} is out of range; pages start at 1")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"per_page {per_page} is out of range; use 1-{MAX_PER_PAGE}")
    page_offset(page, per_page)


def service_list_item(doc: dict[str, Any]) -> dict[str, Any]:
    """Return the one-to-one fields of a service document, with its organisation."""
    item = {key: doc[key] for key in LIST_FIELDS if doc.get(key) is not None}
    if isinstance(doc.get("organization"), dict):
        org = doc["organization"]
        item["organization"] = {k: org[k] for k in ORGANIZATION_FIELDS if k in org}
    return item


def organization_item(org: Organization) -> dict[str, Any]:
    """Return the one-to-one fields of an organisation."""
    values = {
        "id": org.id,
        "name": org.name,
        "description": org.description or "",
        "email": org.email,
        "website": org.website,
        "logo": org.logo,
        "uri": org.uri,
        "parent_organization_id": org.parent_organization_id,
    }
    return {key: value for key, value in values.items() if value is not None}


def organization_document(session: Session, org_id: str) -> dict[str, Any]:
    """Return an organisation with its identifiers and its services."""
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(
            f"organization {org_id} not found; list them at /oruk/organizations"
        )
    doc = organization_item(org)
    if org.ukprn:
        doc["organization_identifiers"] = [
            {
                "id": derived_uuid("organization_identifier", org.id, org.ukprn),
                "identifier_scheme": "GB-UKPRN",
                "identifier_type": "UK Provider Reference Number",
                "identifier": org.ukprn,
            }
        ]
    services = session.scalars(
        select(Service)
        .where(Service.organization_id == org_id, Service.merged_into.is_(None))
        .order_by(Service.name)
    )
    doc["services"] = [service_list_item(service.oruk_json) for service in services]
    return doc


def taxonomy_document(taxonomy: Taxonomy) -> dict[str, Any]:
    """Return a taxonomy as ORUK describes it."""
    values = {
        "id": taxonomy.id,
        "name": taxonomy.name,
        "description": taxonomy.description or taxonomy.name,
        "uri": taxonomy.uri,
        "version": taxonomy.version,
    }
    return {key: value for key, value in values.items() if value is not None}


def taxonomy_term_document(term: TaxonomyTerm, taxonomy_name: str) -> dict[str, Any]:
    """Return a taxonomy term as ORUK describes it."""
    values = {
        "id": term.id,
        "name": term.name,
        "description": term.description or term.name,
        "parent_id": term.parent_id,
        "taxonomy": taxonomy_name,
        "taxonomy_id": term.taxonomy_id,
        "term_uri": term.term_uri,
        "term": term.code,
    }
    return {key: value for key, value in values.items() if value is not None}


def service_document(session: Session, service_id: str) -> dict[str, Any]:
    """Return the fully nested ORUK document of a service.

    The id of a service merged into another returns the kept service's document.
    """
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(f"service {service_id} not found; list them at /oruk/services")
    return resolve_merged(session, service).oruk_json


def _service_conditions(
    session: Session, query: ServiceFilter, geocoder: Geocoder | None
) -> list[ColumnElement[bool]]:
    # A merged service is listed through the service it was merged into.
    conditions: list[ColumnElement[bool]] = [Service.merged_into.is_(None)]
    if query.search and search.WORD.findall(query.search):
        text_condition = search.text_filter(
            session, search.WORD.findall(query.search.lower())[:12]
        )
        conditions.append(
            Service.id.in_(
                select(SearchEntry.entry_id).where(
                    SearchEntry.kind == "service", text_condition
                )
            )
        )
    if query.taxonomy_term_id:
        conditions.append(
            exists().where(
                Attribute.link_id == Service.id,
                Attribute.taxonomy_term_id == query.taxonomy_term_id,
            )
        )
    if query.taxonomy_id:
        conditions.append(
            exists().where(
                Attribute.link_id == Service.id,
                Attribute.taxonomy_term_id == TaxonomyTerm.id,
                TaxonomyTerm.taxonomy_id == query.taxonomy_id,
            )
        )
    if query.organization_id:
        conditions.append(Service.organization_id == query.organization_id)
    # ORUK: minimum_age keeps services whose minimum age is at or above the
    # value; maximum_age keeps those whose maximum age is at or below it.
    if query.minimum_age is not None:
        conditions.append(Service.minimum_age >= query.minimum_age)
    if query.maximum_age is not None:
        conditions.append(Service.maximum_age <= query.maximum_age)
    if query.day or query.start_time or query.end_time:
        conditions.append(_schedule_condition(query))
    return conditions


def _schedule_condition(query: ServiceFilter) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = [Schedule.service_id == Service.id]
    if query.day:
        code = DAY_WORDS.get(query.day.strip().lower(), query.day.strip().upper()[:2])
        if code not in DAY_WORDS.values():
            raise InvalidInput(
                f"day {query.day!r} is unknown; give a weekday name "
                "such as Monday or a code such as MO"
            )
        parts.append(Schedule.byday.like(f"%{code}%"))
    for value, column, compare in (
        (query.start_time, Schedule.opens_at, "ge"),
        (query.end_time, Schedule.closes_at, "le"),
    ):
        if value is None:
            continue
        cleaned = _time(value)
        parts.append(column >= cleaned if compare == "ge" else column <= cleaned)
    return exists().where(and_(*parts))


def _time(value: str) -> str:
    cleaned = clean_time(value)
    if cleaned is None:
        raise InvalidInput(f"time {value!r} is not a time; give HH:MM or HH:MM:SS")
    return cleaned


def list_services(
    session: Session, query: ServiceFilter, page: int, per_page: int
) -> dict[str, Any]:
    """Return one ORUK page of services matching ``query``."""
    check_paging(page, per_page)
    conditions = _service_conditions(session, query, None)
    total = (
        session.scalar(select(func.count()).select_from(Service).where(*conditions))
        or 0
    )
    rows = session.scalars(
        select(Service)
        .where(*conditions)
        .order_by(Service.name, Service.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return paged(
        [service_list_item(row.oruk_json) for row in rows], total, page, per_page
    )


def _location_item(location: Location) -> dict[str, Any]:
    values = {
        "id": location.id,
        "location_type": location.location_type,
        "name": location.name,
        "description": location.description,
        "latitude": location.latitude,
        "longitude": location.longitude,
        "external_identifier": location.external_identifier,
        "external_identifier_type": location.external_identifier_type,
    }
    return {key: value for key, value in values.items() if value is not None}


def list_service_at_locations(
    session: Session,
    query: ServiceFilter,
    page: int,
    per_page: int,
    geocoder: Geocoder | None = None,
) -> dict[str, Any]:
    """Return one ORUK page of service-at-location links matching ``query``.

    ``postcode`` with ``proximity`` (metres) keeps links whose location lies
    within that distance of the postcode's centroid.
    """
    check_paging(page, per_page)
    conditions = _service_conditions(session, query, geocoder)
    statement = (
        select(ServiceAtLocation, Service, Location)
        .join(Service, Service.id == ServiceAtLocation.service_id)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(*conditions)
    )
    if query.postcode:
        found = (geocoder or Geocoder(session)).postcode(query.postcode)
        if found is None:
            raise InvalidInput(f"postcode {query.postcode!r} is not known; check it")
        radius_km = (query.proximity or 10_000) / 1000
        min_lat, max_lat, min_lon, max_lon = bounding_box(
            found.latitude, found.longitude, radius_km
        )
        statement = statement.where(
            Location.latitude.between(min_lat, max_lat),
            Location.longitude.between(min_lon, max_lon),
        )
        rows = []
        for row in session.execute(statement).all():
            latitude, longitude = row[2].latitude, row[2].longitude
            if latitude is None or longitude is None:
                continue
            distance = haversine_km(
                found.latitude, found.longitude, latitude, longitude
            )
            if distance <= radius_km:
                rows.append(row)
        total = len(rows)
        rows = rows[(page - 1) * per_page : page * per_page]
    else:
        total = (
            session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        )
        rows = list(
            session.execute(
                statement.order_by(Service.name, ServiceAtLocation.id)
                .offset((page - 1) * per_page)
                .limit(per_page)
            )
        )
    contents = [
        {
            "id": link.id,
            "service_id": service.id,
            "location_id": location.id,
            "location": _location_item(location),
            "service": service_list_item(service.oruk_json),
        }
        for link, service, location in rows
    ]
    return paged(contents, total, page, per_page)


def service_at_location_document(session: Session, link_id: str) -> dict[str, Any]:
    """Return a service-at-location link with its full location and its service."""
    link = session.get(ServiceAtLocation, link_id)
    if link is None:
        raise NotFound(
            f"service_at_location {link_id} not found; list them at "
            "/oruk/service_at_locations"
        )
    service = session.get(Service, link.service_id)
    assert service is not None
    location = None
    for item in service.oruk_json.get("service_at_locations", []):
        if item.get("id") == link_id:
            location = item.get("location")
    if location is None:
        stored = session.get(Location, link.location_id)
        location = (
            _location_item(stored)
            if stored
            else {"id": link.location_id, "location_type": "physical"}
        )
    service_doc = {
        key: value
        for key, value in service.oruk_json.items()
        if key != "service_at_locations"
    }
    return {
        "id": link.id,
        "service_id": service.id,
        "location_id": link.location_id,
        "location": location,
        "service": service_doc,
    }


def list_taxonomies(session: Session, page: int, per_page: int) -> dict[str, Any]:
    """Return one ORUK page of taxonomies."""
    check_paging(page, per_page)
    total = session.scalar(select(func.count()).select_from(Taxonomy)) or 0
    rows = session.scalars(
        select(Taxonomy)
        .order_by(Taxonomy.name, Taxonomy.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return paged([taxonomy_document(row) for row in rows], total, page, per_page)


def get_taxonomy(session: Session, taxonomy_id: str) -> dict[str, Any]:
    """Return one taxonomy."""
    taxonomy = session.get(Taxonomy, taxonomy_id)
    if taxonomy is None:
        raise NotFound(
            f"taxonomy {taxonomy_id} not found; list them at /oruk/taxonomies"
        )
    return taxonomy_document(taxonomy)


def list_taxonomy_terms(
    session: Session,
    page: int,
    per_page: int,
    taxonomy_id: str | None = None,
    search_text: str | None = None,
) -> dict[str, Any]:
    """Return one ORUK page of taxonomy terms, optionally of one taxonomy."""
    check_paging(page, per_page)
    conditions: list[ColumnElement[bool]] = []
    if taxonomy_id:
        conditions.append(TaxonomyTerm.taxonomy_id == taxonomy_id)
    if search_text:
        conditions.append(
            or_(
                TaxonomyTerm.name.ilike(f"%{search_text}%"),
                TaxonomyTerm.code == search_text,
            )
        )
    total = (
        session.scalar(
            select(func.count()).select_from(TaxonomyTerm).where(*conditions)
        )
        or 0
    )
    rows = session.execute(
        select(TaxonomyTerm, Taxonomy.name)
        .join(Taxonomy, Taxonomy.id == TaxonomyTerm.taxonomy_id)
        .where(*conditions)
        .order_by(TaxonomyTerm.name, TaxonomyTerm.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return paged(
        [taxonomy_term_document(term, name) for term, name in rows],
        total,
        page,
        per_page,
    )


def get_taxonomy_term(session: Session, term_id: str) -> dict[str, Any]:
    """Return one taxonomy term."""
    term = session.get(TaxonomyTerm, term_id)
    if term is None:
        raise NotFound(
            f"taxonomy term {term_id} not found; list them at /oruk/taxonomy_terms"
        )
    taxonomy = session.get(Taxonomy, term.taxonomy_id)
    return taxonomy_term_document(term, taxonomy.name if taxonomy else "")


def list_organizations(session: Session, page: int, per_page: int) -> dict[str, Any]:
    """Return one ORUK page of organisations."""
    check_paging(page, per_page)
    total = session.scalar(select(func.count()).select_from(Organization)) or 0
    rows = session.scalars(
        select(Organization)
        .order_by(Organization.name, Organization.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return paged([organization_item(row) for row in rows], total, page, per_page)
