"""Fixtures for the catalogue tests: the ORUK schemas, a geocoder on the public
postcode and local authority files, and small synthetic catalogues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogue_samples import BRISTOL, COUNCIL_FEEDS, NORTH_LINCS
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy.orm import Session

from john.catalogue.geocode import Geocoder, reference_geocoder


@pytest.fixture(scope="session")
def geocoder(shared_data: Path) -> Geocoder:
    """Return a geocoder on the public postcode and local authority files."""
    return reference_geocoder(None, shared_data)


@pytest.fixture(scope="session")
def oruk_validators(shared_data: Path) -> dict[str, Draft202012Validator]:
    """Return a validator per ORUK schema, keyed by file name without .json."""
    folder = shared_data / "oruk_profile_3.0" / "schema"
    validators = {}
    for path in [
        *folder.glob("compiled/*.json"),
        folder / "taxonomy.json",
        folder / "taxonomy_term.json",
    ]:
        schema = json.loads(path.read_text(encoding="utf-8"))
        validators[path.stem] = Draft202012Validator(
            schema, format_checker=FormatChecker()
        )
    return validators


@pytest.fixture
def council_services(
    session: Session, shared_data: Path, geocoder: Geocoder
) -> Session:
    """Return a session on a store holding both council feeds."""
    from john.catalogue.oruk import import_oruk, read_oruk_records

    folder = shared_data / COUNCIL_FEEDS
    import_oruk(
        session, read_oruk_records(folder / BRISTOL), "Bristol City Council", geocoder
    )
    import_oruk(
        session,
        read_oruk_records(folder / NORTH_LINCS),
        "North Lincolnshire Council",
        geocoder,
    )
    session.commit()
    return session
