"""Load the public registers and look values up in them.

Other capabilities check feeds through these functions: whether a register is
loaded, a provider's name by UKPRN, and where a postcode lies.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from john.errors import InvalidInput, NotFound
from john.reference import validation as check
from john.reference.loaders import (
    LOCAL_AUTHORITIES,
    OCCUPATIONS,
    POSTCODES,
    PROVIDERS,
    QUALIFICATIONS,
    REGISTERS,
    SCHOOLS,
    LoadReport,
    load_register_file,
)
from john.reference.models import (
    LocalAuthority,
    Postcode,
    RegisteredProvider,
    RegisterLoad,
)

log = logging.getLogger(__name__)

SOURCE_POSTCODE = "postcode"
SOURCE_LA_CENTROID = "local_authority_centroid"
SOURCE_UNKNOWN = "unknown"


@dataclass(frozen=True)
class RegisterSource:
    """The paths of a register's file in the reference folder, and its publisher."""

    patterns: tuple[str, ...]
    sample: str
    download: str


# Patterns are tried in order, relative to the reference folder. Where a
# pattern matches several dated downloads, the last by name is the newest.
SOURCES: dict[str, RegisterSource] = {
    LOCAL_AUTHORITIES: RegisterSource(
        ("public_libraries_uk/uk_local_authorities.csv",),
        "uk_local_authorities.csv",
        "mySociety's 'UK local authority names and codes' CSV "
        "(https://pages.mysociety.org/uk_local_authority_names_and_codes/)",
    ),
    POSTCODES: RegisterSource(
        ("onspd_postcodes_subset/*.csv", "onspd/Data/ONSPD_*_UK.csv", "onspd/*.csv"),
        "onspd_postcodes.csv",
        "the ONS Postcode Directory CSV from the ONS Open Geography Portal "
        "(https://geoportal.statistics.gov.uk/, search 'ONSPD')",
    ),
    PROVIDERS: RegisterSource(
        (
            "uk_he_institutions_ukprn/dfe_degree_institutions.csv",
            "ukrlp/*.csv",
        ),
        "dfe_degree_institutions.csv",
        "DfE's degree institutions list (GitHub DFE-Digital/dfe-reference-data) "
        "or a UKRLP provider download (https://www.ukrlp.co.uk/)",
    ),
    QUALIFICATIONS: RegisterSource(
        ("ofqual_register/*.csv",),
        "ofqual_qualifications.csv",
        "the Ofqual Register of Regulated Qualifications 'download the data' CSV "
        "(https://register.ofqual.gov.uk/)",
    ),
    SCHOOLS: RegisterSource(
        ("gias_establishments/edubasealldata*.csv",),
        "gias_edubasealldata.csv",
        "the Get Information About Schools 'all establishment data' CSV "
        "(https://get-information-schools.service.gov.uk/Downloads)",
    ),
    OCCUPATIONS: RegisterSource(
        ("uk_soc2020/soc2020_structure_descriptions.csv",),
        "soc2020_structure_descriptions.csv",
        "ONS SOC 2020 Volume 1 structure and descriptions, saved as CSV "
        "(https://www.ons.gov.uk/methodology/classificationsandstandards/"
        "standardoccupationalclassificationsoc/soc2020)",
    ),
}


@dataclass(frozen=True)
class Location:
    """A point for a postcode and which source gave it.

    ``source`` is ``postcode`` (the postcode's own grid reference),
    ``local_authority_centroid`` (the centre of its local authority) or
    ``unknown`` (no coordinates found).
    """

    latitude: float | None
    longitude: float | None
    source: str
    postcode: str
    local_authority_code: str | None = None
    terminated: bool = False


def find_register_file(reference_dir: Path, register: str) -> Path | None:
    """Return the register's file in the reference folder, or None if absent."""
    for pattern in SOURCES[register].patterns:
        found = sorted(path for path in reference_dir.glob(pattern) if path.is_file())
        if found:
            return found[-1]
    return None


def load_register(
    session_factory: sessionmaker[Session], register: str, path: Path
) -> LoadReport:
    """Load one register file into the store and return its counts.

    Raises InvalidInput for an unknown register name and FeedError for a
    file that is missing or not in the register's layout.
    """
    if register not in REGISTERS:
        raise InvalidInput(
            f"register {register!r} is unknown; use one of {', '.join(REGISTERS)}"
        )
    return load_register_file(session_factory, register, path)


def load_all(
    session_factory: sessionmaker[Session], reference_dir: Path
) -> list[LoadReport]:
    """Load every register whose file is in ``reference_dir``, one report each.

    A register whose file is absent gets a report with status ``skipped`` and
    a message saying where to download the file.
    """
    if not reference_dir.is_dir():
        raise NotFound(
            f"reference folder {reference_dir} does not exist; download the register "
            "files (docs/reference-data.md) and set JOHN_REFERENCE_DIR"
        )
    reports = []
    for register, source in SOURCES.items():
        path = find_register_file(reference_dir, register)
        if path is None:
            log.warning(
                "register %s skipped: no file in the reference folder", register
            )
            reports.append(
                LoadReport(
                    register=register,
                    source=None,
                    status="skipped",
                    message=f"file absent; download {source.download}",
                )
            )
            continue
        reports.append(load_register_file(session_factory, register, path))
    return reports


def register_is_loaded(session: Session, register: str) -> bool:
    """Return whether a load of ``register`` has stored at least one row."""
    if register not in REGISTERS:
        raise InvalidInput(
            f"register {register!r} is unknown; use one of {', '.join(REGISTERS)}"
        )
    found = session.scalar(
        select(RegisterLoad.id)
        .where(RegisterLoad.register == register, RegisterLoad.rows_loaded > 0)
        .limit(1)
    )
    return found is not None


def provider_name(session: Session, ukprn: str) -> str | None:
    """Return the registered name for a UKPRN, or None when it is not registered.

    Raises InvalidInput when ``ukprn`` is not 8 digits starting with 1.
    """
    try:
        key = check.parse_ukprn(ukprn)
    except ValueError as error:
        raise InvalidInput(f"{error}; give the provider's 8-digit UKPRN") from None
    return session.scalar(
        select(RegisteredProvider.name).where(RegisteredProvider.ukprn == key)
    )


def locate_postcode(
    session: Session, postcode: str, local_authority_code: str | None = None
) -> Location:
    """Return coordinates for a postcode, falling back to a local authority centre.

    The postcode's own grid reference is used when the postcode directory has
    one. Otherwise the centroid of the postcode's local authority is used, or
    of ``local_authority_code`` (a GSS code) when the postcode is not in the
    directory. Raises InvalidInput when ``postcode`` is not in UK postcode format.
    """
    try:
        key = check.parse_postcode(postcode)
    except ValueError as error:
        raise InvalidInput(f"{error}; give a full UK postcode") from None

    row = session.get(Postcode, key)
    if row is not None and row.latitude is not None and row.longitude is not None:
        return Location(
            latitude=row.latitude,
            longitude=row.longitude,
            source=SOURCE_POSTCODE,
            postcode=key,
            local_authority_code=row.local_authority_code,
            terminated=row.terminated,
        )

    la_code = (row.local_authority_code if row is not None else None) or (
        local_authority_code.strip().upper() if local_authority_code else None
    )
    terminated = row.terminated if row is not None else False
    authority = session.get(LocalAuthority, la_code) if la_code else None
    if (
        authority is not None
        and authority.latitude is not None
        and authority.longitude is not None
    ):
        return Location(
            latitude=authority.latitude,
            longitude=authority.longitude,
            source=SOURCE_LA_CENTROID,
            postcode=key,
            local_authority_code=la_code,
            terminated=terminated,
        )
    return Location(
        latitude=None,
        longitude=None,
        source=SOURCE_UNKNOWN,
        postcode=key,
        local_authority_code=la_code,
        terminated=terminated,
    )


def write_samples(output_dir: Path) -> list[Path]:
    """Write the shipped sample files in the reference folder's layout.

    The samples are small files in each register's published column layout,
    written by this project; they are not the registers. Returns the paths
    written, which ``load_all(output_dir)`` then finds.
    """
    written = []
    package = resources.files("john.reference") / "samples"
    for source in SOURCES.values():
        target = output_dir / source.patterns[0].replace("*", "sample")
        target.parent.mkdir(parents=True, exist_ok=True)
        with resources.as_file(package / source.sample) as sample:
            shutil.copyfile(sample, target)
        written.append(target)
    return written
