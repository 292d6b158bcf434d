"""Imports of public registers: libraries as venues, ESCO, SOC 2020, HE providers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from john.catalogue.geocode import Geocoder
from john.catalogue.models import Location, Organization, Schedule, TaxonomyTerm
from john.catalogue.registers import (
    import_esco,
    import_he_institutions,
    import_libraries,
    import_soc2020,
)
from john.catalogue.search import SearchQuery, search

JOHN = [sys.executable, "-c", "from john.cli import main; main()"]
LIBRARIES = "public_libraries_uk/librarieshacked_uk_libraries_schema_2025-04.csv"


@pytest.fixture
def libraries(session: Session, shared_data: Path, geocoder: Geocoder) -> Session:
    """Return a session on a store holding the UK public libraries."""
    report = import_libraries(session, shared_data / LIBRARIES, geocoder)
    session.commit()
    session.info["report"] = report
    return session


def test_library_counts_add_up(libraries: Session) -> None:
    report = libraries.info["report"]
    assert report.records_read == 4231
    assert report.records_rejected == 478
    assert report.records_read == (
        report.records_valid + report.records_fixed + report.records_rejected
    )


def test_library_coordinate_sources(libraries: Session) -> None:
    report = libraries.info["report"]
    assert report.coordinate_sources == {
        "postcode": 7,
        "local_authority_centroid": 3648,
        "none": 98,
    }


def test_aberdeen_library_by_postcode(libraries: Session) -> None:
    venue = libraries.scalars(
        select(Location).where(Location.name == "Airyhall Library")
    ).one()
    hours = libraries.scalars(
        select(Schedule)
        .where(Schedule.location_id == venue.id, Schedule.byday == "SA")
        .order_by(Schedule.opens_at)
    ).all()
    assert venue.coordinate_source == "postcode"
    assert venue.is_venue is True
    assert [(h.opens_at, h.closes_at) for h in hours] == [
        ("10:00", "13:00"),
        ("14:00", "17:00"),
    ]


def test_closed_libraries_rejected(libraries: Session) -> None:
    by_field = libraries.info["report"].by_field["Year closed"]
    assert by_field["rejected: library closed in 2017"] == 62


def test_open_library_found_near_postcode(
    libraries: Session, geocoder: Geocoder
) -> None:
    result = search(
        libraries,
        SearchQuery(
            kind="venue", postcode="AB16 9WL", radius_km=3, day="SA", time="15:00"
        ),
        geocoder,
    )
    assert "Airyhall Library" in [hit.title for hit in result.hits]
    assert result.hits[0].reasons[1] == "open on Saturday at 15:00"


@pytest.mark.slow
def test_esco_taxonomies_loaded(session: Session, shared_data: Path) -> None:
    skills, occupations = import_esco(session, shared_data / "esco_v1.2.0_en")
    haskell = session.scalars(
        select(TaxonomyTerm).where(
            TaxonomyTerm.term_uri
            == "http://data.europa.eu/esco/skill/000f1d3d-220f-4789-9c0a-cc742521fb02"
        )
    ).one()
    assert skills.records_read == 14579
    assert skills.records_rejected == 8
    assert occupations.records_valid == 3658
    assert haskell.name == "Haskell"
    assert haskell.parent_id is not None


def test_soc2020_groups_loaded(session: Session, shared_data: Path) -> None:
    report = import_soc2020(
        session, shared_data / "uk_soc2020" / "soc2020_structure_descriptions.csv"
    )
    group = session.scalars(
        select(TaxonomyTerm).where(TaxonomyTerm.code == "2134")
    ).one()
    parent = session.get(TaxonomyTerm, group.parent_id)
    assert report.records_valid == 551
    assert group.name == "Programmers and software development professionals"
    assert parent is not None
    assert parent.code == "213"


def test_he_institutions_need_ukprn(session: Session, shared_data: Path) -> None:
    report = import_he_institutions(
        session,
        shared_data / "uk_he_institutions_ukprn" / "dfe_degree_institutions.csv",
    )
    open_university = session.scalars(
        select(Organization).where(Organization.ukprn == "10007773")
    ).one()
    assert report.records_valid == 311
    assert report.records_rejected == 279
    assert open_university.name == "The Open University"
    assert session.scalar(select(func.count()).select_from(Organization)) == 311


def test_cli_import_and_search(
    database_url: str, shared_data: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "JOHN_DATABASE_URL": database_url,
        "JOHN_REFERENCE_DIR": str(shared_data),
        "JOHN_DATA_DIR": str(tmp_path),
        "JOHN_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }
    feed = (
        shared_data
        / "oruk_council_service_feeds"
        / ("north_lincolnshire_council_services_2024-12-18.json")
    )
    imported = subprocess.run(
        [
            *JOHN,
            "catalogue",
            "import",
            "oruk",
            str(feed),
            "--source",
            "North Lincolnshire Council",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = subprocess.run(
        [
            *JOHN,
            "catalogue",
            "search",
            "advocacy",
            "--limit",
            "2",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    assert (
        "oruk import 1 from North Lincolnshire Council: read 738 = valid 0 + "
        "fixed 738 + rejected 0"
    ) in imported.stdout
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines()[0] == "9 results"
