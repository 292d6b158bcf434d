"""Search over services and courses, with the reasons each result matched.

Text goes through the backend's full-text index (FTS5 on SQLite, a tsvector
with a GIN index on PostgreSQL). A distance search first keeps the rows in a
latitude/longitude bounding box through a two-dimensional index (an R*Tree on
SQLite, a GiST index on a point on PostgreSQL), and only then computes
great-circle distances for the rows left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    and_,
    column,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from john.catalogue import funding
from john.catalogue.bulk import upsert
from john.catalogue.geocode import Geocoder, bounding_box, haversine_km
from john.catalogue.models import (
    Attribute,
    Course,
    Location,
    Schedule,
    ScheduleException,
    SearchEntry,
    Service,
    TaxonomyTerm,
)
from john.db import page_offset
from john.errors import InvalidInput

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
DELIVERY_MODES = ("in_person", "online", "hybrid", "phone", "home_visit")
KINDS = ("service", "course", "venue")
DEFAULT_RADIUS_KM = 10.0
MAX_PER_PAGE = 100
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class SearchQuery:
    """A search request; every field left empty is no restriction."""

    text: str | None = None
    kind: str | None = None
    taxonomy_term_id: str | None = None
    age: float | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    day: str | None = None
    time: str | None = None
    on_date: date | None = None
    delivery_mode: str | None = None
    free_only: bool = False
    max_cost: Decimal | None = None
    level: int | None = None
    person: funding.Person | None = None
    page: int = 1
    per_page: int = 20


@dataclass
class SearchHit:
    """One result with the reasons it matched."""

    kind: str
    entry_id: str
    title: str
    location_name: str | None
    distance_km: float | None
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON shape of a result."""
        return {
            "kind": self.kind,
            "id": self.entry_id,
            "title": self.title,
            "location_name": self.location_name,
            "distance_km": None
            if self.distance_km is None
            else round(self.distance_km, 2),
            "reasons": self.reasons,
        }


@dataclass
class SearchResult:
    """A page of hits and the total count across pages."""

    hits: list[SearchHit]
    total: int
    page: int
    per_page: int


def service_entry(
    doc: dict[str, Any],
    modes: set[str] | str,
    location: dict[str, Any] | None,
    term_names: list[str],
) -> dict[str, Any]:
    """Return the search index row of a service from its ORUK document."""
    costs = [
        float(option["amount"])
        for option in doc.get("cost_options", [])
        if isinstance(option.get("amount"), int | float)
    ]
    fees = (doc.get("fees") or "").lower()
    if costs:
        is_free: bool | None = min(costs) == 0
    elif fees:
        is_free = "free" in fees and not any(ch.isdigit() for ch in fees)
    else:
        is_free = None
    org = (doc.get("organization") or {}).get("name", "")
    body = " ".join([doc.get("description") or "", org, " ".join(term_names)])
    location = location or {}
    return {
        "kind": "service",
        "entry_id": doc["id"],
        "title": doc["name"],
        "body": body,
        "latitude": location.get("latitude"),
        "longitude": location.get("longitude"),
        "location_name": location.get("name"),
        "minimum_age": doc.get("minimum_age"),
        "maximum_age": doc.get("maximum_age"),
        "delivery_modes": modes if isinstance(modes, str) else ",".join(sorted(modes)),
        "cost": Decimal(str(min(costs))) if costs else None,
        "is_free": is_free,
        "level": None,
    }


def index_service(session: Session, service: Service) -> None:
    """Refresh the search entry of a service from its stored ORUK document."""
    doc = service.oruk_json
    links = doc.get("service_at_locations") or [{}]
    terms = [
        attribute["taxonomy_term"]["name"]
        for attribute in doc.get("attributes", [])
        if isinstance(attribute.get("taxonomy_term"), dict)
    ]
    row = service_entry(doc, service.delivery_modes, links[0].get("location"), terms)
    upsert(session, SearchEntry.__table__, [row], ["kind", "entry_id"])


def index_course(
    session: Session, course: Course, location: Location | None, skill_names: list[str]
) -> None:
    """Create or refresh the search entry of a course or module."""
    upsert(
        session,
        SearchEntry.__table__,
        [course_entry(course, location, skill_names)],
        ["kind", "entry_id"],
    )


def course_entry(
    course: Course, location: Location | None, skill_names: list[str]
) -> dict[str, Any]:
    """Return the search index row of a course."""
    body = " ".join(
        [course.description or "", course.prerequisites or "", " ".join(skill_names)]
    )
    return {
        "kind": "course",
        "entry_id": course.id,
        "title": course.title,
        "body": body,
        "latitude": location.latitude if location else None,
        "longitude": location.longitude if location else None,
        "location_name": location.name if location else None,
        "minimum_age": course.minimum_age,
        "maximum_age": course.maximum_age,
        "delivery_modes": course.delivery_modes,
        "cost": course.cost,
        "is_free": None if course.cost is None else course.cost == 0,
        "level": course.level,
    }


def venue_entry(venue: Location) -> dict[str, Any]:
    """Return the search index row of a learning venue."""
    facilities = []
    if venue.wifi:
        facilities.append("wifi")
    if venue.public_devices:
        facilities.append("computers")
    if venue.study_spaces:
        facilities.append("study spaces")
    body = " ".join(
        filter(
            None,
            [
                venue.description,
                venue.address_1,
                venue.city,
                venue.local_authority,
                venue.connectivity,
                " ".join(facilities),
            ],
        )
    )
    return {
        "kind": "venue",
        "entry_id": venue.id,
        "title": venue.name or "",
        "body": body,
        "latitude": venue.latitude,
        "longitude": venue.longitude,
        "location_name": venue.name,
        "minimum_age": None,
        "maximum_age": None,
        "delivery_modes": "in_person",
        "cost": None,
        "is_free": True,
        "level": None,
    }


def index_venue(session: Session, venue: Location) -> None:
    """Create or refresh the search entry of a learning venue."""
    upsert(session, SearchEntry.__table__, [venue_entry(venue)], ["kind", "entry_id"])


def text_filter(session: Session, words: list[str]) -> ColumnElement[bool]:
    """Return a condition: the entry contains every one of ``words``."""
    if session.get_bind().dialect.name == "postgresql":
        query = func.plainto_tsquery("english", " ".join(words))
        vector: ColumnElement[Any] = literal_column(
            "catalogue_search_entries.search_vector"
        )
        return vector.op("@@")(query)
    return SearchEntry.id.in_(_fts_rowids(words))


def _fts_rowids(words: list[str]) -> Any:
    return (
        text(
            "SELECT rowid FROM catalogue_search_fts "
            "WHERE catalogue_search_fts MATCH :fts"
        )
        .bindparams(fts=_fts_query(words))
        .columns(rowid=Integer)
    )


def _fts_query(words: list[str]) -> str:
    # Quoting each word makes FTS5 read it as a string, never as an operator.
    return " ".join(f'"{word}"' for word in words)


def _ranked(session: Session, statement: Any, words: list[str]) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        query = func.plainto_tsquery("english", " ".join(words))
        vector: ColumnElement[Any] = literal_column(
            "catalogue_search_entries.search_vector"
        )
        return statement.where(vector.op("@@")(query)).order_by(
            func.ts_rank(vector, query).desc()
        )
    matches = (
        text(
            "SELECT rowid, bm25(catalogue_search_fts, 10.0, 1.0) AS rank "
            "FROM catalogue_search_fts WHERE catalogue_search_fts MATCH :fts"
        )
        .bindparams(fts=_fts_query(words))
        .columns(rowid=Integer, rank=Float)
        .subquery("fts")
    )
    # bm25 returns lower-is-better scores, hence ascending order.
    return statement.join(matches, matches.c.rowid == SearchEntry.id).order_by(
        matches.c.rank.asc()
    )


def _open_condition(
    day: str, at_time: str, on_date: date | None
) -> ColumnElement[bool]:
    # Services and venues both have schedules; courses have start dates instead.
    schedule_open = exists().where(
        or_(
            Schedule.service_id == SearchEntry.entry_id,
            Schedule.location_id == SearchEntry.entry_id,
        ),
        Schedule.byday.like(f"%{day}%"),
        Schedule.opens_at <= at_time,
        Schedule.closes_at > at_time,
        or_(
            Schedule.valid_from.is_(None), Schedule.valid_from <= (on_date or date.max)
        ),
        or_(Schedule.valid_to.is_(None), Schedule.valid_to >= (on_date or date.min)),
    )
    condition = and_(SearchEntry.kind != "course", schedule_open)
    if on_date is None:
        return condition
    closed_that_day = exists().where(
        or_(
            ScheduleException.service_id == SearchEntry.entry_id,
            ScheduleException.location_id == SearchEntry.entry_id,
        ),
        ScheduleException.starts_on <= on_date,
        ScheduleException.ends_on >= on_date,
        or_(
            ScheduleException.closed.is_(True),
            not_(
                and_(
                    ScheduleException.opens_at <= at_time,
                    ScheduleException.closes_at > at_time,
                )
            ),
        ),
    )
    return and_(condition, not_(closed_that_day))


def _validate(query: SearchQuery) -> None:
    if query.kind not in (None, *KINDS):
        raise InvalidInput(
            f"kind {query.kind!r} is unknown; use service, course or venue"
        )
    if query.day is not None and query.day not in DAY_CODES:
        raise InvalidInput(
            f"day {query.day!r} is unknown; use one of {', '.join(DAY_CODES)}"
        )
    if query.time is not None and not re.fullmatch(
        r"([01]\d|2[0-3]):[0-5]\d", query.time
    ):
        raise InvalidInput(f"time {query.time!r} is not HH:MM; give e.g. 14:30")
    if query.delivery_mode not in (None, *DELIVERY_MODES):
        raise InvalidInput(
            f"delivery mode {query.delivery_mode!r} is unknown; use "
            f"one of {', '.join(DELIVERY_MODES)}"
        )
    if not 0 < query.radius_km <= 1000:
        raise InvalidInput(f"radius {query.radius_km} km is out of range; give 0-1000")
    if query.page < 1 or not 1 <= query.per_page <= MAX_PER_PAGE:
        raise InvalidInput(
            f"page {query.page} of {query.per_page} is out of range; "
            f"pages start at 1 and hold 1-{MAX_PER_PAGE} results"
        )
    page_offset(query.page, query.per_page)


def search(
    session: Session, query: SearchQuery, geocoder: Geocoder | None = None
) -> SearchResult:
    """Find services and courses that meet every condition of ``query``."""
    _validate(query)
    if query.on_date is not None and query.day is None:
        query.day = DAY_CODES[query.on_date.weekday()]
    if query.postcode and query.latitude is None:
        found = (geocoder or Geocoder(session)).postcode(query.postcode)
        if found is None:
            raise InvalidInput(
                f"postcode {query.postcode!r} is not known; check it "
                "or search by place without a postcode"
            )
        query.latitude, query.longitude = found.latitude, found.longitude

    conditions: list[ColumnElement[bool]] = []
    words = WORD.findall((query.text or "").lower())[:12]
    if query.kind:
        conditions.append(SearchEntry.kind == query.kind)
    if query.taxonomy_term_id:
        conditions.append(
            exists().where(
                Attribute.link_id == SearchEntry.entry_id,
                Attribute.link_type == SearchEntry.kind,
                Attribute.taxonomy_term_id == query.taxonomy_term_id,
            )
        )
    if query.age is not None:
        conditions.append(
            or_(SearchEntry.minimum_age.is_(None), SearchEntry.minimum_age <= query.age)
        )
        conditions.append(
            or_(SearchEntry.maximum_age.is_(None), SearchEntry.maximum_age >= query.age)
        )
    if query.day and query.time:
        conditions.append(_open_condition(query.day, query.time, query.on_date))
    if query.delivery_mode:
        conditions.append(SearchEntry.delivery_modes.like(f"%{query.delivery_mode}%"))
    if query.free_only:
        conditions.append(SearchEntry.is_free.is_(True))
    if query.max_cost is not None:
        conditions.append(
            or_(SearchEntry.is_free.is_(True), SearchEntry.cost <= query.max_cost)
        )
    if query.level is not None:
        conditions.append(SearchEntry.level == query.level)
    fitting: list[funding.FundingFit] = []
    if query.person is not None:
        fitting = funding.fitting_for_person(session, query.person)
        conditions.append(funding.course_condition(fitting))

    if query.latitude is not None and query.longitude is not None:
        return _search_near(session, query, conditions, words, fitting)
    return _search_paged(session, query, conditions, words, fitting)


def _search_paged(
    session: Session,
    query: SearchQuery,
    conditions: list[ColumnElement[bool]],
    words: list[str],
    fitting: list[funding.FundingFit],
) -> SearchResult:
    if words:
        counted = session.scalar(
            select(func.count())
            .select_from(SearchEntry)
            .where(text_filter(session, words), *conditions)
        )
        statement = _ranked(session, select(SearchEntry).where(*conditions), words)
    else:
        counted = session.scalar(
            select(func.count()).select_from(SearchEntry).where(*conditions)
        )
        statement = select(SearchEntry).where(*conditions)
    total = counted or 0
    rows = session.scalars(
        statement.order_by(SearchEntry.title, SearchEntry.id)
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
    ).all()
    hits = [_hit(session, row, None, query, words, fitting) for row in rows]
    return SearchResult(hits, total, query.page, query.per_page)


def _search_near(
    session: Session,
    query: SearchQuery,
    conditions: list[ColumnElement[bool]],
    words: list[str],
    fitting: list[funding.FundingFit],
) -> SearchResult:
    assert query.latitude is not None and query.longitude is not None
    box = bounding_box(query.latitude, query.longitude, query.radius_km)
    statement = select(SearchEntry.id, SearchEntry.latitude, SearchEntry.longitude)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.where(_in_box_postgres(box))
        if words:
            conditions = [text_filter(session, words), *conditions]
    else:
        statement = _in_box_sqlite(statement, box, words)
    candidates = session.execute(statement.where(*conditions)).all()

    # The box is a prefilter only: the great-circle distance decides.
    near: list[tuple[float, int]] = []
    for entry_id, latitude, longitude in candidates:
        if latitude is None or longitude is None:
            continue
        distance = haversine_km(query.latitude, query.longitude, latitude, longitude)
        if distance <= query.radius_km:
            near.append((distance, entry_id))
    near.sort()

    start = (query.page - 1) * query.per_page
    page = near[start : start + query.per_page]
    rows = {
        row.id: row
        for row in session.scalars(
            select(SearchEntry).where(SearchEntry.id.in_([i for _d, i in page]))
        )
    }
    hits = [
        _hit(session, rows[entry_id], distance, query, words, fitting)
        for distance, entry_id in page
    ]
    return SearchResult(hits, len(near), query.page, query.per_page)


Box = tuple[float, float, float, float]
_RTREE = table(
    "catalogue_search_rtree",
    column("id", Integer),
    column("min_latitude", Float),
    column("max_latitude", Float),
    column("min_longitude", Float),
    column("max_longitude", Float),
)


def _in_box_postgres(box: Box) -> ColumnElement[bool]:
    # The expression must match the GiST index on point(longitude, latitude).
    min_lat, max_lat, min_lon, max_lon = box
    point = func.point(SearchEntry.longitude, SearchEntry.latitude)
    area = func.box(func.point(min_lon, min_lat), func.point(max_lon, max_lat))
    return point.op("<@")(area)


def _in_box_sqlite(statement: Any, box: Box, words: list[str]) -> Any:
    """Drive ``statement`` from the R*Tree, testing text matches per rowid.

    The R*Tree stores 32-bit floats rounded outwards, so an overlap test with
    the box keeps every point inside it. The text matches are tested on the
    R*Tree's ids before any row of the entries table is read.
    """
    min_lat, max_lat, min_lon, max_lon = box
    statement = statement.select_from(_RTREE).join(
        SearchEntry, SearchEntry.id == _RTREE.c.id
    )
    statement = statement.where(
        _RTREE.c.max_latitude >= min_lat,
        _RTREE.c.min_latitude <= max_lat,
        _RTREE.c.max_longitude >= min_lon,
        _RTREE.c.min_longitude <= max_lon,
    )
    if words:
        # "+ 0" keeps SQLite from looking up each text match in the R*Tree by
        # id, because the box is far more selective than a common word.
        statement = statement.where((_RTREE.c.id + 0).in_(_fts_rowids(words)))
    return statement


def _hit(
    session: Session,
    row: SearchEntry,
    distance: float | None,
    query: SearchQuery,
    words: list[str],
    fitting: list[funding.FundingFit],
) -> SearchHit:
    reasons = []
    if words:
        title = row.title.lower()
        in_title = [word for word in words if word in title]
        where = "title" if len(in_title) == len(words) else "description"
        reasons.append(f"matches “{' '.join(words)}” in the {where}")
    if distance is not None:
        place = query.postcode.upper() if query.postcode else "the point given"
        reasons.append(f"{distance:.1f} km from {place}")
    if query.taxonomy_term_id:
        term = session.get(TaxonomyTerm, query.taxonomy_term_id)
        reasons.append(f"tagged “{term.name if term else query.taxonomy_term_id}”")
    if query.age is not None:
        reasons.append(_age_reason(query.age, row.minimum_age, row.maximum_age))
    if query.day and query.time:
        day_name = DAY_NAMES[DAY_CODES.index(query.day)]
        when = query.on_date.isoformat() if query.on_date else day_name
        reasons.append(f"open on {when} at {query.time}")
    if query.delivery_mode:
        reasons.append(f"delivered {query.delivery_mode.replace('_', ' ')}")
    if query.free_only or query.max_cost is not None:
        reasons.append("free" if row.is_free else f"costs £{row.cost}")
    if query.level is not None:
        reasons.append(f"level {row.level}")
    if query.person is not None and row.kind == "course":
        course = session.get(Course, row.entry_id)
        if course is not None:
            names = [
                fit.source.name
                for fit in fitting
                if funding.course_fits(fit.source, course)[0]
            ]
            reasons.append("funding that fits: " + ", ".join(names))
    return SearchHit(
        row.kind, row.entry_id, row.title, row.location_name, distance, reasons
    )


def _age_reason(age: float, minimum: float | None, maximum: float | None) -> str:
    if minimum is None and maximum is None:
        return f"no age limits, so open to age {age:g}"
    low = "any age" if minimum is None else f"{minimum:g}"
    high = "" if maximum is None else f"{maximum:g}"
    return f"age {age:g} is within {low}–{high}".rstrip("–")
