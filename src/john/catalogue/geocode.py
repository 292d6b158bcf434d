"""Coordinates for catalogue locations: from the postcode, else the local
authority's centroid, and always saying which one was used.

The postcode and local authority registers are read from the store's
``postcodes`` and ``local_authorities`` tables. Files of the ONS Postcode
Directory and of the UK local authority register can be added on top, which
lets an import run before the registers are loaded.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from john.reference.models import LocalAuthority, Postcode

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088
POSTCODE_PATTERN = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")

# A box around the United Kingdom, Channel Islands and Isle of Man; a feed's
# coordinate outside it is taken as wrong and replaced.
UK_LATITUDE = (49.0, 61.5)
UK_LONGITUDE = (-9.0, 2.5)

COUNCIL_WORDS = re.compile(
    r"\b(city|county|borough|district|metropolitan|council|royal|of|the|and)\b"
)


@dataclass(frozen=True)
class Coordinates:
    """A point with the name of the register it came from."""

    latitude: float
    longitude: float
    source: str


def normalise_postcode(value: str | None) -> str | None:
    """Return a UK postcode in upper case with one space, or None if malformed."""
    if not value:
        return None
    compact = re.sub(r"\s+", "", value).upper()
    if len(compact) < 5 or len(compact) > 7:
        return None
    spaced = f"{compact[:-3]} {compact[-3:]}"
    return spaced if POSTCODE_PATTERN.match(spaced) else None


def is_in_uk(latitude: float | None, longitude: float | None) -> bool:
    """Return whether a point lies in the box around the United Kingdom."""
    if latitude is None or longitude is None:
        return False
    return (
        UK_LATITUDE[0] <= latitude <= UK_LATITUDE[1]
        and UK_LONGITUDE[0] <= longitude <= UK_LONGITUDE[1]
    )


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = (
        math.sin(dphi / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def bounding_box(
    latitude: float, longitude: float, radius_km: float
) -> tuple[float, float, float, float]:
    """Return (min_lat, max_lat, min_lon, max_lon) enclosing a circle."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = max(math.cos(math.radians(latitude)), 0.01)
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat))
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon


def authority_key(name: str) -> str:
    """Reduce a council name to a key that matches its register entry."""
    lowered = name.lower().replace("&", " and ")
    lowered = re.sub(r"[^a-z ]", " ", lowered)
    return " ".join(COUNCIL_WORDS.sub(" ", lowered).split())


class Geocoder:
    """Find coordinates for a postcode or a local authority."""

    def __init__(self, session: Session | None = None) -> None:
        self._session = session
        self._postcodes: dict[str, tuple[float, float, str | None]] = {}
        self._authorities: dict[str, tuple[float, float, str]] = {}
        self._authority_names: dict[str, str] = {}
        if session is not None:
            self._load_authorities_from_store(session)

    def _load_authorities_from_store(self, session: Session) -> None:
        rows = session.execute(select(LocalAuthority)).scalars()
        for row in rows:
            if row.latitude is None or row.longitude is None:
                continue
            self._authorities[row.gss_code] = (row.latitude, row.longitude, row.name)
            self._authority_names.setdefault(authority_key(row.name), row.gss_code)

    def add_postcode_file(self, path: Path) -> int:
        """Read an ONS Postcode Directory CSV (``pcds``, ``lat``, ``long``)."""
        count = 0
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                postcode = normalise_postcode(row.get("pcds") or row.get("pcd7"))
                try:
                    latitude = float(row["lat"])
                    longitude = float(row["long"])
                except (KeyError, TypeError, ValueError):
                    continue
                # ONSPD marks postcodes without a grid reference with 99.999999.
                if postcode is None or not is_in_uk(latitude, longitude):
                    continue
                self._postcodes[postcode] = (latitude, longitude, row.get("oslaua"))
                count += 1
        log.info("postcode file read: %d postcodes with coordinates", count)
        return count

    def add_authority_file(self, path: Path) -> int:
        """Read the UK local authority register CSV with centroids."""
        count = 0
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        # Current authorities first, so a name shared with an abolished
        # predecessor ("Dorset") maps to the authority that exists today.
        rows.sort(key=lambda row: bool(row.get("end-date")))
        for row in rows:
            code = row.get("gss-code") or ""
            try:
                latitude = float(row["lat"])
                longitude = float(row["long"])
            except (KeyError, TypeError, ValueError):
                continue
            # Some copies of the register carry the centroids under swapped
            # "long" and "lat" headers, and only one order gives a point in the UK.
            if not is_in_uk(latitude, longitude) and is_in_uk(longitude, latitude):
                latitude, longitude = longitude, latitude
            name = row.get("nice-name") or row.get("official-name") or code
            self._authorities.setdefault(code, (latitude, longitude, name))
            names = [row.get("official-name", ""), row.get("nice-name", "")]
            names += (row.get("alt-names") or "").split(",")
            for alias in names:
                if alias.strip():
                    self._authority_names.setdefault(authority_key(alias), code)
            count += 1
        log.info("local authority file read: %d authorities", count)
        return count

    def authority_code(self, name_or_code: str | None) -> str | None:
        """Return the GSS code of a local authority given its name or code."""
        if not name_or_code:
            return None
        if name_or_code in self._authorities:
            return name_or_code
        return self._authority_names.get(authority_key(name_or_code))

    def postcode(self, value: str | None) -> Coordinates | None:
        """Return the coordinates of a postcode, or None if it is not known."""
        postcode = normalise_postcode(value)
        if postcode is None:
            return None
        found = self._postcodes.get(postcode)
        if found is None and self._session is not None:
            row = self._session.get(Postcode, postcode)
            if row is not None and is_in_uk(row.latitude, row.longitude):
                assert row.latitude is not None and row.longitude is not None
                found = (row.latitude, row.longitude, row.local_authority_code)
                self._postcodes[postcode] = found
        if found is None:
            return None
        return Coordinates(found[0], found[1], "postcode")

    def postcode_authority(self, value: str | None) -> str | None:
        """Return the GSS code of the local authority a postcode lies in."""
        postcode = normalise_postcode(value)
        if postcode is None or self.postcode(postcode) is None:
            return None
        return self._postcodes[postcode][2]

    def locate(
        self, postcode: str | None, authority: str | None = None
    ) -> Coordinates | None:
        """Return coordinates from the postcode, else the authority's centroid."""
        found = self.postcode(postcode)
        if found is not None:
            return found
        code = self.authority_code(authority)
        if code is None:
            return None
        latitude, longitude, _name = self._authorities[code]
        return Coordinates(latitude, longitude, "local_authority_centroid")


def reference_geocoder(session: Session | None, reference_dir: Path | None) -> Geocoder:
    """Build a geocoder from the store plus the public register files, if present."""
    geocoder = Geocoder(session)
    if reference_dir is None:
        return geocoder
    postcode_dir = reference_dir / "onspd_postcodes_subset"
    for path in sorted(postcode_dir.glob("*.csv")) if postcode_dir.is_dir() else []:
        geocoder.add_postcode_file(path)
    authorities = reference_dir / "public_libraries_uk" / "uk_local_authorities.csv"
    if authorities.is_file():
        geocoder.add_authority_file(authorities)
    return geocoder
