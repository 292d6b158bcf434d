"""Imports of public registers into the catalogue: public libraries as learning
venues, ESCO skills and occupations, SOC 2020 and higher education providers.

Each import writes an import report whose counts add up, like the ORUK import.
"""

from __future__ import annotations

import csv
import gzip
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from john.catalogue.bulk import upsert
from john.catalogue.cleaning import clean_email, clean_url, derived_uuid, is_uuid
from john.catalogue.geocode import Geocoder, normalise_postcode
from john.catalogue.models import (
    ImportReport,
    Location,
    Organization,
    Schedule,
    SearchEntry,
    Taxonomy,
    TaxonomyTerm,
)
from john.catalogue.report import RecordCheck, ReportBuilder
from john.db import utcnow
from john.errors import FeedError

log = logging.getLogger(__name__)

LIBRARY_DAYS = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
HOURS = re.compile(r"(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})")
BATCH_SIZE = 2000
ESCO_SKILLS = "ESCO skills"
ESCO_OCCUPATIONS = "ESCO occupations"
SOC_2020 = "SOC 2020"


def _rows(path: Path) -> Iterator[dict[str, str]]:
    if not path.is_file():
        raise FeedError(f"file {path} not found; check the reference folder")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:  # type: ignore[operator]
        yield from csv.DictReader(handle)


def _taxonomy(
    session: Session, name: str, description: str, uri: str | None, version: str | None
) -> str:
    taxonomy_id = derived_uuid("taxonomy", name)
    upsert(
        session,
        Taxonomy.__table__,
        [
            {
                "id": taxonomy_id,
                "name": name,
                "description": description,
                "uri": uri,
                "version": version,
            }
        ],
        ["id"],
    )
    return taxonomy_id


def _write_terms(session: Session, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH_SIZE):
        upsert(
            session, TaxonomyTerm.__table__, rows[start : start + BATCH_SIZE], ["id"]
        )


def _term_id(taxonomy_id: str, code: str) -> str:
    return derived_uuid("term", taxonomy_id, code)


def parse_opening_hours(value: str | None) -> list[tuple[str, str]]:
    """Return (opens, closes) pairs from text such as ``10:00-13:00,14:00-17:00``."""
    pairs = []
    for match in HOURS.finditer(value or ""):
        opens = f"{int(match.group(1)):02d}:{match.group(2)}"
        closes = f"{int(match.group(3)):02d}:{match.group(4)}"
        if opens < closes <= "24:00":
            pairs.append((opens, closes))
    return pairs


def import_libraries(session: Session, path: Path, geocoder: Geocoder) -> ImportReport:
    """Import public libraries (Libraries Hacked schema CSV) as learning venues.

    Coordinates come from the postcode if the postcode register contains it, else
    from the centroid of the library's local authority; the report counts each.
    Closed libraries are rejected.
    """
    builder = ReportBuilder(kind="libraries", source=path.name)
    venues: list[dict[str, Any]] = []
    schedules: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for number, row in enumerate(_rows(path), start=2):
        check = RecordCheck(record_id=f"row {number}")
        venue = _library_venue(row, check, geocoder, builder)
        builder.add(check)
        if venue is None:
            continue
        venues.append(venue)
        for day_name, code in zip(LIBRARY_DAYS, DAY_CODES, strict=True):
            for opens, closes in parse_opening_hours(
                row.get(f"{day_name} staffed hours")
            ):
                schedules.append(
                    {
                        "id": derived_uuid("schedule", venue["id"], code, opens),
                        "service_id": None,
                        "location_id": venue["id"],
                        "valid_from": None,
                        "valid_to": None,
                        "dtstart": None,
                        "freq": "WEEKLY",
                        "interval": 1,
                        "byday": code,
                        "bymonthday": None,
                        "opens_at": opens,
                        "closes_at": closes,
                        "description": "staffed hours",
                        "attending_type": None,
                        "notes": None,
                    }
                )
        entries.append(
            {
                "kind": "venue",
                "entry_id": venue["id"],
                "title": venue["name"],
                "body": " ".join(
                    filter(
                        None,
                        [
                            "library",
                            venue["address_1"],
                            venue["city"],
                            venue["local_authority"],
                        ],
                    )
                ),
                "latitude": venue["latitude"],
                "longitude": venue["longitude"],
                "location_name": venue["name"],
                "minimum_age": None,
                "maximum_age": None,
                "delivery_modes": "in_person",
                "cost": None,
                "is_free": True,
                "level": None,
            }
        )

    ids = [venue["id"] for venue in venues]
    for start in range(0, len(ids), BATCH_SIZE):
        session.execute(
            delete(Schedule).where(
                Schedule.location_id.in_(ids[start : start + BATCH_SIZE])
            )
        )
    for rows, table, key in (
        (venues, Location.__table__, ["id"]),
        (schedules, Schedule.__table__, ["id"]),
        (entries, SearchEntry.__table__, ["kind", "entry_id"]),
    ):
        unique = list({tuple(r[k] for k in key): r for r in rows}.values())
        for start in range(0, len(unique), BATCH_SIZE):
            upsert(session, table, unique[start : start + BATCH_SIZE], key)
    report = builder.save(session)
    log.info(
        "libraries import %s: read %d, valid %d, fixed %d, rejected %d",
        report.id,
        report.records_read,
        report.records_valid,
        report.records_fixed,
        report.records_rejected,
    )
    return report


def _library_venue(
    row: dict[str, str], check: RecordCheck, geocoder: Geocoder, builder: ReportBuilder
) -> dict[str, Any] | None:
    name = " ".join((row.get("Library name") or "").split())
    authority = (row.get("Local authority") or "").strip()
    if not name:
        check.reject("Library name", "name missing")
        return None
    if (row.get("Year closed") or "").strip():
        check.reject("Year closed", f"library closed in {row['Year closed'].strip()}")
        return None

    raw_postcode = row.get("Postcode") or ""
    postcode = normalise_postcode(raw_postcode)
    if raw_postcode.strip() and postcode is None:
        check.fix("Postcode", "not a UK postcode; dropped")
    point = geocoder.locate(postcode, authority)
    if point is None:
        check.fix("Postcode", "no coordinates from the postcode or the local authority")
    elif point.source == "local_authority_centroid":
        check.fix(
            "Postcode",
            "postcode not in the postcode register; local authority centroid used",
        )
    builder.coordinate_sources[point.source if point else "none"] += 1

    url, reason = clean_url(row.get("URL"))
    if reason:
        check.fix("URL", reason)
    email, reason = clean_email(row.get("Email address"))
    if reason:
        check.fix("Email address", reason)
    uprn = (row.get("Unique property reference number") or "").strip()
    address = ", ".join(
        filter(
            None,
            [
                (row.get("Address 1") or "").strip(),
                (row.get("Address 2") or "").strip(),
            ],
        )
    )
    return {
        "id": derived_uuid("library", uprn or f"{authority}/{name}"),
        "organization_id": None,
        "location_type": "physical",
        "name": name,
        "description": f"Public library run by {authority}" if authority else None,
        "latitude": point.latitude if point else None,
        "longitude": point.longitude if point else None,
        "coordinate_source": point.source if point else None,
        "address_1": address or None,
        "city": (row.get("Address 3") or "").strip() or None,
        "region": None,
        "postal_code": postcode,
        "country": "GB",
        "local_authority": authority or None,
        "local_authority_code": geocoder.authority_code(authority),
        "external_identifier": uprn or None,
        "external_identifier_type": "UPRN" if uprn else None,
        "url": url,
        "email": email,
        "is_venue": True,
        "study_spaces": None,
        "public_devices": None,
        # Public libraries in the UK offer public computers and Wi-Fi as a
        # statutory-service norm, but the file does not say so per library.
        "connectivity": None,
        "wifi": None,
        "safeguarding": None,
        "source": "public libraries",
        "source_id": uprn or None,
        "created_at": utcnow(),
    }


def import_esco(session: Session, folder: Path) -> list[ImportReport]:
    """Import ESCO 1.2.0 skills and occupations as two taxonomies."""
    return [
        _import_esco_skills(session, folder),
        _import_esco_occupations(session, folder),
    ]


def _import_esco_skills(session: Session, folder: Path) -> ImportReport:
    builder = ReportBuilder(kind="esco_skills", source=str(folder.name))
    taxonomy_id = _taxonomy(
        session,
        ESCO_SKILLS,
        "ESCO skills, knowledge and competences (European Commission)",
        "http://data.europa.eu/esco/concept-scheme/skills",
        "1.2.0",
    )
    labels: dict[str, str] = {}
    for path in sorted(folder.glob("*SkillsCollection_en.csv")):
        for row in _rows(path):
            labels[row["conceptUri"]] = row["preferredLabel"]
    for row in _rows(folder / "derived" / "occupation_skill_relations_labelled.csv.gz"):
        labels.setdefault(row["skill_uri"], row["skill_label"])
    for row in _rows(folder / "skillGroups_en.csv"):
        labels.setdefault(row["conceptUri"], row["preferredLabel"])
    parents: dict[str, str] = {}
    for row in _rows(folder / "broaderRelationsSkillPillar_en.csv"):
        parents.setdefault(row["conceptUri"], row["broaderUri"])
    texts = {
        row["id"]: row["description"]
        for row in _rows(folder / "derived" / "skills_uri_text.csv")
    }

    terms = []
    for uri in sorted(
        set(texts) | {row for row in labels if "/skill/" in row or "isced" in row}
    ):
        check = RecordCheck(record_id=uri)
        label = labels.get(uri)
        if not label:
            check.reject("preferredLabel", "no preferred label in the ESCO files")
            builder.add(check)
            continue
        parent = parents.get(uri)
        terms.append(
            {
                "id": _term_id(taxonomy_id, uri),
                "taxonomy_id": taxonomy_id,
                "code": uri,
                "name": label,
                "description": texts.get(uri) or label,
                "parent_id": _term_id(taxonomy_id, parent) if parent else None,
                "term_uri": uri,
            }
        )
        builder.add(check)
    _write_terms(session, terms)
    return builder.save(session)


def _import_esco_occupations(session: Session, folder: Path) -> ImportReport:
    builder = ReportBuilder(kind="esco_occupations", source=str(folder.name))
    taxonomy_id = _taxonomy(
        session,
        ESCO_OCCUPATIONS,
        "ESCO occupations with their ISCO-08 groups (European Commission)",
        "http://data.europa.eu/esco/concept-scheme/occupations",
        "1.2.0",
    )
    parents: dict[str, str] = {}
    for row in _rows(folder / "broaderRelationsOccPillar_en.csv"):
        parents.setdefault(row["conceptUri"], row["broaderUri"])
    terms = []
    for path in ("ISCOGroups_en.csv", "occupations_en.csv"):
        for row in _rows(folder / path):
            uri = row["conceptUri"]
            check = RecordCheck(record_id=uri)
            if not row.get("preferredLabel"):
                check.reject("preferredLabel", "preferred label missing")
                builder.add(check)
                continue
            parent = parents.get(uri)
            terms.append(
                {
                    "id": _term_id(taxonomy_id, uri),
                    "taxonomy_id": taxonomy_id,
                    "code": row.get("code") or uri,
                    "name": row["preferredLabel"],
                    "description": row.get("description") or row["preferredLabel"],
                    "parent_id": _term_id(taxonomy_id, parent) if parent else None,
                    "term_uri": uri,
                }
            )
            builder.add(check)
    _write_terms(session, terms)
    return builder.save(session)


def import_soc2020(session: Session, path: Path) -> ImportReport:
    """Import the ONS SOC 2020 groups (tidy CSV) as a taxonomy."""
    builder = ReportBuilder(kind="soc2020", source=path.name)
    taxonomy_id = _taxonomy(
        session,
        SOC_2020,
        "UK Standard Occupational Classification 2020 (ONS)",
        "https://www.ons.gov.uk/methodology/classificationsandstandards/"
        "standardoccupationalclassificationsoc/soc2020",
        "2020",
    )
    terms = []
    for row in _rows(path):
        code = (row.get("code") or "").strip()
        check = RecordCheck(record_id=code or "?")
        if not re.fullmatch(r"\d{1,4}", code):
            check.reject("code", f"SOC code {code!r} is not 1-4 digits")
        elif not (row.get("title") or "").strip():
            check.reject("title", "title missing")
        builder.add(check)
        if check.rejected:
            continue
        parent = (row.get("parent_code") or "").strip()
        terms.append(
            {
                "id": _term_id(taxonomy_id, code),
                "taxonomy_id": taxonomy_id,
                "code": code,
                "name": row["title"].strip(),
                "description": (row.get("description") or row["title"]).strip(),
                "parent_id": _term_id(taxonomy_id, parent) if parent else None,
                "term_uri": None,
            }
        )
    _write_terms(session, terms)
    return builder.save(session)


def import_he_institutions(session: Session, path: Path) -> ImportReport:
    """Import degree-awarding institutions with a UKPRN as organisations."""
    builder = ReportBuilder(kind="he_institutions", source=path.name)
    rows = []
    now = utcnow()
    for row in _rows(path):
        ukprn = (row.get("ukprn") or "").strip()
        check = RecordCheck(record_id=row.get("id") or ukprn or "?")
        name = " ".join((row.get("name") or "").split())
        if not name:
            check.reject("name", "name missing")
        elif not ukprn:
            check.reject("ukprn", "UKPRN missing, so courses cannot name this provider")
        elif not re.fullmatch(r"1\d{7}", ukprn):
            check.reject("ukprn", f"UKPRN {ukprn!r} is not 8 digits starting with 1")
        elif (row.get("closed") or "").strip().lower() in ("true", "yes", "1"):
            check.reject("closed", "institution closed")
        org_id = row.get("id") or ""
        if not check.rejected and not is_uuid(org_id):
            check.fix("id", "id is not a UUID; a UUID was derived from the UKPRN")
            org_id = derived_uuid("ukprn", ukprn)
        builder.add(check)
        if check.rejected:
            continue
        rows.append(
            {
                "id": org_id.lower(),
                "name": name,
                "description": f"Degree-awarding institution, UKPRN {ukprn}",
                "ukprn": ukprn,
                "source": "he institutions",
                "source_id": ukprn,
                "created_at": now,
                "updated_at": now,
            }
        )
    unique = list({row["id"]: row for row in rows}.values())
    upsert(session, Organization.__table__, unique, ["id"])
    return builder.save(session)


def esco_skill_id(session: Session, uri: str) -> str:
    """Return the taxonomy term id of an ESCO skill URI."""
    return _term_id(derived_uuid("taxonomy", ESCO_SKILLS), uri)


__all__ = [
    "esco_skill_id",
    "import_esco",
    "import_he_institutions",
    "import_libraries",
    "import_soc2020",
    "parse_opening_hours",
]
