"""Each register loader on the public files, the shipped samples and bad rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from john.errors import FeedError
from john.reference import (
    LOCAL_AUTHORITIES,
    OCCUPATIONS,
    POSTCODES,
    PROVIDERS,
    QUALIFICATIONS,
    SCHOOLS,
    load_register,
)
from john.reference.models import (
    LocalAuthority,
    Occupation,
    Postcode,
    RegisteredProvider,
    RegisteredQualification,
    RegisterLoad,
    School,
)
from john.reference.service import SOURCES, find_register_file

Factory = sessionmaker[Session]


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _public_file(shared_data: Path, register: str) -> Path:
    path = find_register_file(shared_data, register)
    assert path is not None, f"{register} file missing from the public data folder"
    return path


# --- the public files (row counts from each file's provenance notes) -----------


def test_dfe_list_loads_311_providers(
    session_factory: Factory, session: Session, shared_data: Path
) -> None:
    report = load_register(
        session_factory, PROVIDERS, _public_file(shared_data, PROVIDERS)
    )
    assert report.rows_read == 590
    assert report.rows_loaded == 311
    assert report.rows_skipped == 279
    assert report.rows_rejected == 0
    assert report.layout == "dfe_degree_institutions"
    assert _count(session, RegisteredProvider) == 311
    open_university = session.get(RegisteredProvider, "10007773")
    assert open_university is not None
    assert open_university.name == "The Open University"
    assert open_university.hesa_code == "0001"


def test_dfe_list_keeps_postcode_closed(
    session_factory: Factory, session: Session, shared_data: Path
) -> None:
    load_register(session_factory, PROVIDERS, _public_file(shared_data, PROVIDERS))
    with_postcode = session.scalar(
        select(func.count()).where(RegisteredProvider.postcode.is_not(None))
    )
    closed = session.scalar(select(func.count()).where(RegisteredProvider.closed))
    assert with_postcode is not None and with_postcode > 0
    assert closed is not None and closed > 0


def test_onspd_subset_loads_8048_postcodes(
    session_factory: Factory, session: Session, shared_data: Path
) -> None:
    report = load_register(
        session_factory, POSTCODES, _public_file(shared_data, POSTCODES)
    )
    assert report.rows_read == 8048
    assert report.rows_loaded == 8048
    assert report.rows_rejected == 0
    assert report.notes["terminated (doterm set), kept and flagged"] == 3811
    terminated = session.scalar(select(func.count()).where(Postcode.terminated))
    assert terminated == 3811
    aberdeen = session.scalar(
        select(func.count()).where(Postcode.local_authority_code == "S12000033")
    )
    assert aberdeen == 7585


def test_onspd_no_grid_sentinel_dropped(
    session_factory: Factory, session: Session, shared_data: Path
) -> None:
    load_register(session_factory, POSTCODES, _public_file(shared_data, POSTCODES))
    jersey = session.get(Postcode, "JE2 4WD")
    assert jersey is not None
    assert jersey.latitude is None
    assert jersey.longitude is None
    assert jersey.local_authority_code is None
    assert jersey.country_code == "L93000001"


def test_onspd_postcode_normalised(
    session_factory: Factory, session: Session, shared_data: Path
) -> None:
    load_register(session_factory, POSTCODES, _public_file(shared_data, POSTCODES))
    row = session.get(Postcode, "AB10 1AA")
    assert row is not None
    assert row.latitude == pytest.approx(57.14, abs=0.05)
    assert row.longitude == pytest.approx(-2.10, abs=0.1)
    assert session.get(Postcode, "M1 1AD") is not None


def test_local_authorities_load_441(
    session_factory: Factory, session: Session, shared_data: Path
) -> None:
    report = load_register(
        session_factory, LOCAL_AUTHORITIES, _public_file(shared_data, LOCAL_AUTHORITIES)
    )
    assert report.rows_read == 466
    assert report.rows_loaded == 441
    assert report.rows_skipped == 25
    assert report.rows_rejected == 0
    assert _count(session, LocalAuthority) == 441


def test_local_authority_centroid_unswapped(
    session_factory: Factory, session: Session, shared_data: Path
) -> None:
    report = load_register(
        session_factory, LOCAL_AUTHORITIES, _public_file(shared_data, LOCAL_AUTHORITIES)
    )
    aberdeenshire = session.get(LocalAuthority, "S12000034")
    assert aberdeenshire is not None
    assert aberdeenshire.latitude == pytest.approx(57.2411185295)
    assert aberdeenshire.longitude == pytest.approx(-2.6319909899)
    assert report.notes["latitude and longitude swapped back"] == 411


def test_soc2020_loads_551_groups(
    session_factory: Factory, session: Session, shared_data: Path
) -> None:
    report = load_register(
        session_factory, OCCUPATIONS, _public_file(shared_data, OCCUPATIONS)
    )
    assert report.rows_read == 551
    assert report.rows_loaded == 551
    levels = dict(
        session.execute(
            select(Occupation.level, func.count()).group_by(Occupation.level)
        ).all()
    )
    assert levels == {
        "major_group": 9,
        "sub_major_group": 26,
        "minor_group": 104,
        "unit_group": 412,
    }


def test_reload_is_idempotent(
    session_factory: Factory, session: Session, shared_data: Path
) -> None:
    path = _public_file(shared_data, PROVIDERS)
    first = load_register(session_factory, PROVIDERS, path)
    before = session.execute(
        select(RegisteredProvider).order_by(RegisteredProvider.ukprn)
    ).scalars()
    snapshot = [(p.ukprn, p.name, p.hesa_code, p.postcode, p.closed) for p in before]
    session.expire_all()

    second = load_register(session_factory, PROVIDERS, path)
    after = session.execute(
        select(RegisteredProvider).order_by(RegisteredProvider.ukprn)
    ).scalars()
    assert [(p.ukprn, p.name, p.hesa_code, p.postcode, p.closed) for p in after] == (
        snapshot
    )
    assert second.rows_loaded == first.rows_loaded
    assert _count(session, RegisterLoad) == 2


def test_load_records_register_load(
    session_factory: Factory, session: Session, shared_data: Path
) -> None:
    load_register(session_factory, PROVIDERS, _public_file(shared_data, PROVIDERS))
    record = session.scalars(select(RegisterLoad)).one()
    assert record.register == PROVIDERS
    assert record.rows_read == 590
    assert record.rows_loaded == 311
    assert record.rows_rejected == 0
    assert record.rows_skipped == 279
    assert len(record.content_sha256) == 64
    assert record.reasons == {"rejected": {}, "skipped": {"no UKPRN": 279}, "notes": {}}


# --- the shipped samples -------------------------------------------------------


@pytest.mark.parametrize(
    ("register", "model", "read", "loaded", "skipped"),
    [
        (PROVIDERS, RegisteredProvider, 4, 3, 1),
        (QUALIFICATIONS, RegisteredQualification, 4, 4, 0),
        (SCHOOLS, School, 4, 4, 0),
        (POSTCODES, Postcode, 6, 6, 0),
        (LOCAL_AUTHORITIES, LocalAuthority, 3, 2, 1),
        (OCCUPATIONS, Occupation, 4, 4, 0),
    ],
)
def test_sample_loads_cleanly(
    session_factory: Factory,
    session: Session,
    samples_dir: Path,
    register: str,
    model: type,
    read: int,
    loaded: int,
    skipped: int,
) -> None:
    path = find_register_file(samples_dir, register)
    assert path is not None
    report = load_register(session_factory, register, path)
    assert report.rows_read == read
    assert report.rows_loaded == loaded
    assert report.rows_skipped == skipped
    assert report.rows_rejected == 0
    assert _count(session, model) == loaded


def test_ofqual_sample_fields_stored(
    session_factory: Factory, session: Session, samples_dir: Path
) -> None:
    path = find_register_file(samples_dir, QUALIFICATIONS)
    assert path is not None
    load_register(session_factory, QUALIFICATIONS, path)
    row = session.get(RegisteredQualification, "999/0002/X")
    assert row is not None
    assert row.title == "Example Awards Level 2 Certificate in Customer Service"
    assert row.level == "Level 2"
    assert row.awarding_organisation == "Example Awards Ltd"
    assert row.qualification_type == "Occupational Qualification"
    assert row.status == "Available to learners"


def test_gias_sample_read_as_cp1252(
    session_factory: Factory, session: Session, samples_dir: Path
) -> None:
    path = find_register_file(samples_dir, SCHOOLS)
    assert path is not None
    load_register(session_factory, SCHOOLS, path)
    academy = session.get(School, "999002")
    assert academy is not None
    assert academy.name == "St Mary\u2019s Example Academy"
    assert academy.postcode == "ZZ1 1AD"
    assert academy.la_code == "999"
    assert academy.ukprn == "10099912"
    assert academy.phase == "Secondary"
    closed = session.get(School, "999003")
    assert closed is not None
    assert closed.status == "Closed"
    assert closed.ukprn is None


def test_samples_cover_every_register() -> None:
    assert set(SOURCES) == {
        PROVIDERS,
        QUALIFICATIONS,
        SCHOOLS,
        POSTCODES,
        LOCAL_AUTHORITIES,
        OCCUPATIONS,
    }


# --- bad rows and bad files ----------------------------------------------------

OFQUAL_HEADER = (
    "Qualification Number,Qualification Title,Owner Organisation Name,"
    "Qualification Level,Qualification Type,Qualification Status\n"
)


def test_ofqual_bad_rows_rejected(
    session_factory: Factory, session: Session, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        "ofqual.csv",
        OFQUAL_HEADER
        + "999/0001/1,Example Level 1 Award,Example Awards,Level 1,Other,Available\n"
        + "999/01/1,Short number,Example Awards,Level 1,Other,Available\n"
        + "999/0003/5,,Example Awards,Level 1,Other,Available\n"
        + "999/0001/1,Same number again,Example Awards,Level 1,Other,Available\n"
        + "999/0004/7,Too few cells\n",
    )
    report = load_register(session_factory, QUALIFICATIONS, path)
    assert report.rows_read == 5
    assert report.rows_loaded == 1
    assert report.rows_rejected == 4
    assert report.adds_up
    assert report.rejected == {
        "qualification number is not in the form NNN/NNNN/C": 1,
        "title is empty": 1,
        "duplicate key in file": 1,
        "row has a different number of cells": 1,
    }
    assert [problem.row for problem in report.problems] == [3, 4, 5, 6]
    assert _count(session, RegisteredQualification) == 1


def test_gias_bad_identifiers_rejected(
    session_factory: Factory, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        "gias.csv",
        "URN,LA (code),EstablishmentName,UKPRN,Postcode,EstablishmentStatus (name),"
        "PhaseOfEducation (name)\n"
        "99900,999,Short URN School,,ZZ1 1AA,Open,Primary\n"
        "999010,999,Bad UKPRN School,20099911,ZZ1 1AA,Open,Primary\n"
        "999011,999,Bad Postcode School,,ZZ1,Open,Primary\n"
        "999012,99,Bad LA School,,ZZ1 1AA,Open,Primary\n"
        "999013,999,Good School,10099911,zz11ab,Open,Primary\n",
    )
    report = load_register(session_factory, SCHOOLS, path)
    assert report.rows_loaded == 1
    assert report.rows_rejected == 4
    fields = [problem.field for problem in report.problems]
    assert fields == ["URN", "UKPRN", "postcode", "local"]


def test_postcode_bad_coordinates_rejected(
    session_factory: Factory, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        "onspd.csv",
        "pcds,doterm,oslaua,ctry,lat,long\n"
        "ZZ1 1AA,,E06999901,E92000001,152.5,-1.5\n"
        "ZZ1 1AB,,E06999901,E92000001,52.5,-1.5\n"
        "ZZ1 1AD,,E06999901,E92000001,52.5,\n",
    )
    report = load_register(session_factory, POSTCODES, path)
    assert report.rows_loaded == 1
    assert report.rows_rejected == 2
    assert report.rejected == {
        "latitude is outside -90 to 90": 1,
        "latitude or longitude is not a number": 1,
    }


def test_provider_bad_ukprn_rejected(
    session_factory: Factory, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        "dfe.csv",
        "name,ukprn,hesa_itt_code,postcode,closed\n"
        "Example University,1009990,9901,,\n"
        "Example College,10099902,9902,,\n",
    )
    report = load_register(session_factory, PROVIDERS, path)
    assert report.rows_loaded == 1
    assert report.rejected == {"UKPRN is not 8 digits starting with 1": 1}


def test_ukrlp_layout_keeps_hesa_code(
    session_factory: Factory,
    session: Session,
    samples_dir: Path,
    write_csv: Callable[..., Path],
) -> None:
    dfe = find_register_file(samples_dir, PROVIDERS)
    assert dfe is not None
    load_register(session_factory, PROVIDERS, dfe)
    ukrlp = write_csv(
        "ukrlp.csv",
        "UKPRN,ProviderName,Postcode,ProviderStatus\n"
        "10099901,Example University of the North (renamed),zz11aa,Active\n"
        "10099950,Example Training Ltd,ZZ2 2AA,Deactivated\n",
    )
    report = load_register(session_factory, PROVIDERS, ukrlp)
    assert report.layout == "ukrlp"
    assert report.rows_loaded == 2
    renamed = session.get(RegisteredProvider, "10099901")
    assert renamed is not None
    assert renamed.name == "Example University of the North (renamed)"
    assert renamed.hesa_code == "9901"
    assert renamed.register == "ukrlp"
    training = session.get(RegisteredProvider, "10099950")
    assert training is not None
    assert training.closed


def test_soc_inconsistent_level_rejected(
    session_factory: Factory, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        "soc.csv",
        "code,level,parent_code,title\n"
        "2,major_group,,Professional occupations\n"
        "21,minor_group,2,Wrong level\n"
        "213,minor_group,22,Wrong parent\n",
    )
    report = load_register(session_factory, OCCUPATIONS, path)
    assert report.rows_loaded == 1
    assert report.rejected == {
        "level does not fit a 2-digit code": 1,
        "parent_code is not the code's prefix": 1,
    }


def test_wrong_layout_raises_feed_error(
    session_factory: Factory, write_csv: Callable[..., Path]
) -> None:
    path = write_csv("other.csv", "id,label\n1,one\n")
    with pytest.raises(FeedError, match="lacks the columns URN, EstablishmentName"):
        load_register(session_factory, SCHOOLS, path)


def test_missing_file_raises_feed_error(
    session_factory: Factory, tmp_path: Path
) -> None:
    with pytest.raises(FeedError, match="not found"):
        load_register(session_factory, SCHOOLS, tmp_path / "absent.csv")


def test_empty_file_raises_feed_error(
    session_factory: Factory, write_csv: Callable[..., Path]
) -> None:
    path = write_csv("empty.csv", "")
    with pytest.raises(FeedError, match="is empty"):
        load_register(session_factory, SCHOOLS, path)


def test_failed_load_leaves_nothing(
    session_factory: Factory, session: Session, write_csv: Callable[..., Path]
) -> None:
    path = write_csv("other.csv", "id,label\n1,one\n")
    with pytest.raises(FeedError):
        load_register(session_factory, SCHOOLS, path)
    assert _count(session, RegisterLoad) == 0
