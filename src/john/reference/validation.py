"""Checks and normal forms for the identifiers and values in register files.

Each ``parse_*`` function returns the value in its stored form or raises
:class:`ValueError` with a message naming what is wrong, and the loaders turn that
message into a rejection reason. These are the format rules the registers
themselves keep. The full identifier schemes belong to ``john.identity``.
"""

from __future__ import annotations

import re

# Royal Mail format: outward code (area, district, optional sub-district)
# then a space and the inward code (sector digit and two-letter unit).
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")
_UKPRN = re.compile(r"^1\d{7}$")
_URN = re.compile(r"^\d{6}$")
# Ofqual qualification number: 3-digit awarding prefix, 4-digit serial and a
# check character (a digit or X), e.g. 601/2977/3.
_QN = re.compile(r"^(\d{3})/?(\d{4})/?([0-9X])$")
_GSS = re.compile(r"^[A-Z]\d{8}$")
_LA_NUMBER = re.compile(r"^\d{3}$")
_SOC_CODE = re.compile(r"^\d{1,4}$")

# ONSPD writes this latitude (with longitude 0) for postcodes that have no
# grid reference, such as Channel Islands and some terminated postcodes.
ONSPD_NO_GRID_LATITUDE = 99.999999

# A box around the United Kingdom, the Channel Islands and the Isle of Man, in
# WGS84 degrees. A point outside it may have latitude and longitude swapped.
UK_LATITUDE = (49.0, 61.0)
UK_LONGITUDE = (-9.0, 2.0)


def normalise_postcode(raw: str) -> str:
    """Return ``raw`` upper-cased with one space before the inward code."""
    compact = "".join(raw.split()).upper()
    if len(compact) < 5:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def parse_postcode(raw: str) -> str:
    """Return the normal form of a UK postcode, or raise ValueError."""
    postcode = normalise_postcode(raw)
    if not _POSTCODE.match(postcode):
        raise ValueError(f"postcode {raw.strip()!r} is not in UK postcode format")
    return postcode


def parse_ukprn(raw: str) -> str:
    """Return a UKPRN (8 digits starting with 1), or raise ValueError."""
    value = raw.strip()
    if not _UKPRN.match(value):
        raise ValueError(f"UKPRN {value!r} is not 8 digits starting with 1")
    return value


def parse_urn(raw: str) -> str:
    """Return a GIAS unique reference number (6 digits), or raise ValueError."""
    value = raw.strip()
    if not _URN.match(value):
        raise ValueError(f"URN {value!r} is not 6 digits")
    return value


def parse_qualification_number(raw: str) -> str:
    """Return an Ofqual qualification number as ``NNN/NNNN/C``, or raise ValueError.

    The compact form without slashes (``60129773``) is accepted and rewritten.
    """
    value = raw.strip().upper()
    match = _QN.match(value)
    if not match:
        raise ValueError(
            f"qualification number {value!r} is not in the form NNN/NNNN/C"
        )
    return "/".join(match.groups())


def parse_gss_code(raw: str) -> str:
    """Return a GSS statistical code (a letter and 8 digits), or raise ValueError."""
    value = raw.strip().upper()
    if not _GSS.match(value):
        raise ValueError(f"GSS code {value!r} is not a letter followed by 8 digits")
    return value


def parse_la_number(raw: str) -> str:
    """Return a DfE local authority number (3 digits), or raise ValueError."""
    value = raw.strip()
    if not _LA_NUMBER.match(value):
        raise ValueError(f"local authority number {value!r} is not 3 digits")
    return value


def parse_soc_code(raw: str) -> str:
    """Return a SOC 2020 group code (1 to 4 digits), or raise ValueError."""
    value = raw.strip()
    if not _SOC_CODE.match(value):
        raise ValueError(f"SOC code {value!r} is not 1 to 4 digits")
    return value


def parse_coordinates(
    latitude: str, longitude: str
) -> tuple[float | None, float | None]:
    """Return WGS84 latitude and longitude in degrees, or raise ValueError.

    Both empty gives ``(None, None)``; one without the other is an error.
    """
    if not latitude.strip() and not longitude.strip():
        return None, None
    try:
        lat = float(latitude)
        long = float(longitude)
    except ValueError:
        raise ValueError(
            f"latitude {latitude!r} or longitude {longitude!r} is not a number"
        ) from None
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude '{lat}' is outside -90 to 90")
    if not -180.0 <= long <= 180.0:
        raise ValueError(f"longitude '{long}' is outside -180 to 180")
    return lat, long


def is_in_uk(latitude: float, longitude: float) -> bool:
    """Return whether a point lies in the box around the UK and Crown dependencies."""
    return (
        UK_LATITUDE[0] <= latitude <= UK_LATITUDE[1]
        and UK_LONGITUDE[0] <= longitude <= UK_LONGITUDE[1]
    )


def require_text(raw: str, field: str, max_length: int) -> str:
    """Return ``raw`` stripped, or raise ValueError if empty or too long."""
    value = raw.strip()
    if not value:
        raise ValueError(f"{field} is empty")
    if len(value) > max_length:
        raise ValueError(f"{field} is longer than {max_length} characters")
    return value


def optional_text(raw: str | None, field: str, max_length: int) -> str | None:
    """Return ``raw`` stripped, None when empty, or raise ValueError if too long."""
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > max_length:
        raise ValueError(f"{field} is longer than {max_length} characters")
    return value
