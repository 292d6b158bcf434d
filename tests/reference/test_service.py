"""Register lookups: loaded state, provider names and postcode locations."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

import john.reference
from john.errors import InvalidInput, NotFound
from john.reference import (
    LOCAL_AUTHORITIES,
    POSTCODES,
    PROVIDERS,
    QUALIFICATIONS,
    SCHOOLS,
    SOURCE_LA_CENTROID,
    SOURCE_POSTCODE,
    SOURCE_UNKNOWN,
    load_all,
    load_register,
    locate_postcode,
    provider_name,
    register_is_loaded,
)
from john.reference.service import find_register_file

Factory = sessionmaker[Session]


@pytest.fixture
def public_places(session_factory: Factory, shared_data: Path) -> None:
    """Load the public postcode subset and the local authority register."""
    for register in (POSTCODES, LOCAL_AUTHORITIES):
        path = find_register_file(shared_data, register)
        assert path is not None
        load_register(session_factory, register, path)


def test_public_names_pinned() -> None:
    assert sorted(john.reference.__all__) == [
        "LOCAL_AUTHORITIES",
        "LoadReport",
        "Location",
        "OCCUPATIONS",
        "POSTCODES",
        "PROVIDERS",
        "QUALIFICATIONS",
        "REGISTERS",
        "SCHOOLS",
        "SOURCE_LA_CENTROID",
        "SOURCE_POSTCODE",
        "SOURCE_UNKNOWN",
        "load_all",
        "load_register",
        "locate_postcode",
        "provider_name",
        "register_is_loaded",
    ]


def test_postcode_located_by_grid_reference(
    session: Session, public_places: None
) -> None:
    location = locate_postcode(session, "ab10 1aa")
    assert location.source == SOURCE_POSTCODE
    assert location.postcode == "AB10 1AA"
    assert location.latitude == pytest.approx(57.14, abs=0.05)
    assert location.local_authority_code == "S12000033"


def test_terminated_postcode_flagged(session: Session, public_places: None) -> None:
    location = locate_postcode(session, "SE1 9ZZ")
    assert location.source == SOURCE_POSTCODE
    assert location.terminated


def test_no_grid_falls_back_to_la(session: Session, public_places: None) -> None:
    # AB11 3AG has no grid reference and no local authority in the directory,
    # so the caller's local authority supplies the centre.
    location = locate_postcode(session, "AB11 3AG", local_authority_code="S12000033")
    assert location.source == SOURCE_LA_CENTROID
    assert location.latitude == pytest.approx(57.1557751807)
    assert location.longitude == pytest.approx(-2.1736362602)
    assert location.terminated


def test_unlisted_postcode_uses_given_la(session: Session, public_places: None) -> None:
    location = locate_postcode(session, "SE1 7PB", local_authority_code="e09000028")
    assert location.source == SOURCE_LA_CENTROID
    assert location.local_authority_code == "E09000028"
    assert location.latitude == pytest.approx(51.4742296672)


def test_unlisted_postcode_without_la_unknown(
    session: Session, public_places: None
) -> None:
    location = locate_postcode(session, "SE1 7PB")
    assert location.source == SOURCE_UNKNOWN
    assert location.latitude is None
    assert location.longitude is None


def test_postcode_la_fallback_from_directory(
    session_factory: Factory, session: Session, samples_dir: Path
) -> None:
    # The sample directory has ZZ2 2AB without a grid reference but with its
    # local authority, whose centroid the sample register gives.
    for register in (POSTCODES, LOCAL_AUTHORITIES):
        path = find_register_file(samples_dir, register)
        assert path is not None
        load_register(session_factory, register, path)
    location = locate_postcode(session, "ZZ2 2AB")
    assert location.source == SOURCE_LA_CENTROID
    assert location.local_authority_code == "E06999902"
    assert location.latitude == pytest.approx(53.12)
    assert location.longitude == pytest.approx(-1.23)


def test_malformed_postcode_raises(session: Session) -> None:
    with pytest.raises(InvalidInput, match="not in UK postcode format"):
        locate_postcode(session, "NOT A POSTCODE")


def test_provider_name_found(
    session_factory: Factory, session: Session, shared_data: Path
) -> None:
    path = find_register_file(shared_data, PROVIDERS)
    assert path is not None
    load_register(session_factory, PROVIDERS, path)
    assert provider_name(session, "10007822") == "Cranfield University"
    assert provider_name(session, "10099999") is None


def test_provider_name_malformed_raises(session: Session) -> None:
    with pytest.raises(InvalidInput, match="8-digit UKPRN"):
        provider_name(session, "1234")


def test_register_loaded_after_load(
    session_factory: Factory, session: Session, samples_dir: Path
) -> None:
    assert not register_is_loaded(session, SCHOOLS)
    path = find_register_file(samples_dir, SCHOOLS)
    assert path is not None
    load_register(session_factory, SCHOOLS, path)
    assert register_is_loaded(session, SCHOOLS)
    assert not register_is_loaded(session, QUALIFICATIONS)


def test_unknown_register_raises(session: Session) -> None:
    with pytest.raises(InvalidInput, match="register 'pupils' is unknown"):
        register_is_loaded(session, "pupils")


def test_load_all_skips_absent_files(
    session_factory: Factory, shared_data: Path
) -> None:
    reports = {
        report.register: report for report in load_all(session_factory, shared_data)
    }
    assert reports[QUALIFICATIONS].status == "skipped"
    assert reports[SCHOOLS].status == "skipped"
    message = reports[SCHOOLS].message
    assert message is not None
    assert "get-information-schools.service.gov.uk" in message
    assert reports[PROVIDERS].rows_loaded == 311
    assert all(report.adds_up for report in reports.values())


def test_load_all_loads_samples(session_factory: Factory, samples_dir: Path) -> None:
    reports = load_all(session_factory, samples_dir)
    assert [report.status for report in reports] == ["loaded"] * 6
    assert sum(report.rows_loaded for report in reports) == 23


def test_load_all_missing_folder_raises(
    session_factory: Factory, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="JOHN_REFERENCE_DIR"):
        load_all(session_factory, tmp_path / "absent")
