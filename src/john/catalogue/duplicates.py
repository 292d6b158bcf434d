"""Likely duplicates across feeds: the same service published by two bodies.

Pairs are only compared when they share something cheap to index: an e-mail
address, a web host, a postcode or an uncommon name word. The work therefore
grows with the number of plausible pairs, not with the square of the catalogue.
A pair is proposed when the names are similar and the two records also share
a way to reach or find the service; similar names alone are common among
unrelated local groups ("Lunch Club").
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any
from urllib.parse import urlsplit

import jellyfish
from sqlalchemy import select
from sqlalchemy.orm import Session

from john.catalogue import merging
from john.catalogue.geocode import haversine_km
from john.catalogue.models import (
    DuplicateCandidate,
    Location,
    Service,
    ServiceAtLocation,
)
from john.db import utcnow
from john.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

# A word found in more services than this is too common to pair on.
MAX_BLOCK_SIZE = 40
NAME_THRESHOLD = 0.8
SAME_PLACE_KM = 0.2
STOPWORDS = {
    "the",
    "and",
    "for",
    "with",
    "group",
    "service",
    "services",
    "support",
    "club",
    "centre",
    "center",
    "community",
    "of",
    "in",
    "at",
    "ltd",
}
# Council and platform hosts serve many unrelated services, so a shared host
# there is no evidence.
SHARED_HOSTS = (
    "gov.uk",
    "facebook.com",
    "openplace.directory",
    "nhs.uk",
    "linktr.ee",
    "eventbrite.co.uk",
)


@dataclass
class _Record:
    id: str
    source: str
    name: str
    email: str | None
    host: str | None
    postcode: str | None
    point: tuple[float, float] | None
    phones: set[str]


def normalise_name(name: str) -> str:
    """Lower-case a service name and drop punctuation and filler words."""
    words = re.findall(r"[a-z0-9]+", name.lower().replace("&", " and "))
    return " ".join(word for word in words if word not in STOPWORDS)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    if not host or any(host == h or host.endswith("." + h) for h in SHARED_HOSTS):
        return None
    return host


def _records(session: Session) -> list[_Record]:
    places: dict[str, tuple[str | None, tuple[float, float] | None]] = {}
    rows = session.execute(
        select(
            ServiceAtLocation.service_id,
            Location.postal_code,
            Location.latitude,
            Location.longitude,
        ).join(Location, Location.id == ServiceAtLocation.location_id)
    )
    for service_id, postcode, latitude, longitude in rows:
        point = (
            (latitude, longitude)
            if latitude is not None and longitude is not None
            else None
        )
        places.setdefault(service_id, (postcode, point))

    records = []
    for row in session.execute(
        select(
            Service.id,
            Service.source,
            Service.name,
            Service.email,
            Service.url,
            Service.oruk_json,
        )
    ):
        postcode, point = places.get(row.id, (None, None))
        phones = {
            re.sub(r"\D", "", str(phone.get("number", "")))[-10:]
            for contact in row.oruk_json.get("contacts", [])
            for phone in contact.get("phones", [])
        }
        records.append(
            _Record(
                row.id,
                row.source or "",
                row.name,
                (row.email or "").lower() or None,
                _host(row.url),
                postcode,
                point,
                phones - {""},
            )
        )
    return records


def _blocks(records: list[_Record]) -> Iterable[list[_Record]]:
    keys: dict[str, list[_Record]] = defaultdict(list)
    for record in records:
        if record.email:
            keys["email:" + record.email].append(record)
        if record.host:
            keys["host:" + record.host].append(record)
        if record.postcode:
            keys["postcode:" + record.postcode].append(record)
        for phone in record.phones:
            keys["phone:" + phone].append(record)
        for word in set(normalise_name(record.name).split()):
            if len(word) >= 4:
                keys["word:" + word].append(record)
    for block in keys.values():
        if 1 < len(block) <= MAX_BLOCK_SIZE:
            yield block


def score_pair(first: _Record, second: _Record) -> tuple[float, list[str]] | None:
    """Return a score and reasons if two records look like one service."""
    name_a, name_b = normalise_name(first.name), normalise_name(second.name)
    if not name_a or not name_b:
        return None
    # Jaro-Winkler alone rewards a shared first word too much ("Independent
    # Mental Health Advocacy" against "Independent Health Complaints
    # Advocacy"), so it is averaged with the overlap of the word sets.
    words_a, words_b = set(name_a.split()), set(name_b.split())
    jaccard = len(words_a & words_b) / len(words_a | words_b)
    similarity = (jellyfish.jaro_winkler_similarity(name_a, name_b) + jaccard) / 2
    reasons = [f"names {similarity:.0%} similar"]
    overlaps = []
    if first.email and first.email == second.email:
        overlaps.append(f"same e-mail {first.email}")
    if first.host and first.host == second.host:
        overlaps.append(f"same website {first.host}")
    if first.phones & second.phones:
        overlaps.append("same phone number")
    if first.postcode and first.postcode == second.postcode:
        overlaps.append(f"same postcode {first.postcode}")
    elif (
        first.point
        and second.point
        and haversine_km(*first.point, *second.point) <= SAME_PLACE_KM
    ):
        overlaps.append("locations within 200 m")
    if overlaps and similarity >= NAME_THRESHOLD:
        score = round(min(1.0, 0.7 * similarity + 0.15 * len(overlaps)), 3)
        return score, reasons + overlaps
    return None


def find_duplicates(session: Session) -> int:
    """Propose pairs of services from different sources that look alike.

    Pairs already proposed keep their status, so a curator's decision
    survives a re-run. Returns the number of new candidates.
    """
    records = _records(session)
    known = {
        (row.first_service_id, row.second_service_id)
        for row in session.scalars(select(DuplicateCandidate))
    }
    compared: set[tuple[str, str]] = set()
    created = 0
    for block in _blocks(records):
        for first, second in combinations(block, 2):
            if first.source == second.source:
                continue
            a, b = sorted((first, second), key=lambda record: record.id)
            key = (a.id, b.id)
            if key in compared:
                continue
            compared.add(key)
            scored = score_pair(a, b)
            if scored is None or key in known:
                continue
            session.add(
                DuplicateCandidate(
                    first_service_id=a.id,
                    second_service_id=b.id,
                    score=scored[0],
                    reasons=scored[1],
                )
            )
            created += 1
    session.flush()
    log.info(
        "duplicate search: %d services, %d pairs compared, %d new candidates",
        len(records),
        len(compared),
        created,
    )
    return created


@dataclass
class CandidateView:
    """A duplicate candidate with both services' names and sources."""

    candidate: DuplicateCandidate
    first: Service
    second: Service

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON shape used by the API."""
        return {
            "id": self.candidate.id,
            "score": self.candidate.score,
            "reasons": self.candidate.reasons,
            "status": self.candidate.status,
            "decided_by": self.candidate.decided_by,
            "added": self.candidate.merge_record,
            "first": {
                "id": self.first.id,
                "name": self.first.name,
                "source": self.first.source,
            },
            "second": {
                "id": self.second.id,
                "name": self.second.name,
                "source": self.second.source,
            },
        }


def list_candidates(session: Session, status: str = "pending") -> list[CandidateView]:
    """Return candidates with ``status``, highest score first."""
    if status not in ("pending", "merged", "kept_apart"):
        raise InvalidInput(
            f"status {status!r} is unknown; use pending, merged or kept_apart"
        )
    views = []
    rows = session.scalars(
        select(DuplicateCandidate)
        .where(DuplicateCandidate.status == status)
        .order_by(DuplicateCandidate.score.desc(), DuplicateCandidate.id)
    )
    for row in rows:
        first = session.get(Service, row.first_service_id)
        second = session.get(Service, row.second_service_id)
        if first is not None and second is not None:
            views.append(CandidateView(row, first, second))
    return views


def decide(
    session: Session, candidate_id: int, decision: str, actor: str
) -> CandidateView:
    """Record a curator's decision on a candidate.

    Merging keeps the first service and merges the second into it (see
    :mod:`john.catalogue.merging`); :func:`undo_merge` takes it back.
    """
    row = _candidate(session, candidate_id)
    if row.status != "pending":
        raise Conflict(f"duplicate candidate {candidate_id} is already {row.status}")
    if decision not in ("merged", "kept_apart"):
        raise InvalidInput(
            f"decision {decision!r} is unknown; use merged or kept_apart"
        )
    first, second = _pair(session, row)
    if decision == "merged":
        row.merge_record = merging.merge_services(session, first, second, actor)
    row.status = decision
    row.decided_by = actor
    row.decided_at = utcnow()
    session.flush()
    return CandidateView(row, first, second)


def undo_merge(session: Session, candidate_id: int, actor: str) -> CandidateView:
    """Undo a merge: the pair is pending again and both services stand alone.

    Raises Conflict unless the candidate is merged.
    """
    row = _candidate(session, candidate_id)
    if row.status != "merged":
        raise Conflict(
            f"duplicate candidate {candidate_id} is {row.status}, not merged; "
            "only a merge can be undone"
        )
    first, second = _pair(session, row)
    merging.undo_merge(session, first, second, row.merge_record, actor)
    row.status = "pending"
    row.decided_by = None
    row.decided_at = None
    row.merge_record = None
    session.flush()
    return CandidateView(row, first, second)


def _candidate(session: Session, candidate_id: int) -> DuplicateCandidate:
    row = session.get(DuplicateCandidate, candidate_id)
    if row is None:
        raise NotFound(
            f"duplicate candidate {candidate_id} not found; list them "
            "with 'john catalogue duplicates'"
        )
    return row


def _pair(session: Session, row: DuplicateCandidate) -> tuple[Service, Service]:
    first = session.get(Service, row.first_service_id)
    second = session.get(Service, row.second_service_id)
    # Deleting a service deletes its candidates, so both exist.
    assert first is not None and second is not None
    return first, second
