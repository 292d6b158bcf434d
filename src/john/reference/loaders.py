"""Loaders that read one public register file each into the store.

Every loader streams its CSV with the :mod:`csv` module, checks each row,
upserts the good rows in batches by the register's key and records one
:class:`RegisterLoad`, all in one transaction per file. Loading the same file
twice leaves the same register rows. Rows are counted three ways, and
``rows_read = rows_loaded + rows_rejected + rows_skipped``:

- loaded: stored or refreshed;
- rejected: malformed (a bad identifier, postcode or coordinate, a duplicate key);
- skipped: well formed but without a key for this register, such as a DfE
  institution that has no UKPRN.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker

from john.db import translate_errors
from john.errors import FeedError, FieldProblem
from john.reference import validation as check
from john.reference.models import (
    LocalAuthority,
    Occupation,
    Postcode,
    RegisteredProvider,
    RegisteredQualification,
    RegisterLoad,
    School,
)

log = logging.getLogger(__name__)

PROVIDERS = "providers"
QUALIFICATIONS = "qualifications"
SCHOOLS = "schools"
POSTCODES = "postcodes"
LOCAL_AUTHORITIES = "local_authorities"
OCCUPATIONS = "occupations"
REGISTERS = (
    PROVIDERS,
    QUALIFICATIONS,
    SCHOOLS,
    POSTCODES,
    LOCAL_AUTHORITIES,
    OCCUPATIONS,
)

BATCH_SIZE = 2000
MAX_PROBLEMS = 50


class SkipRow(Exception):
    """Raised by a row parser when a well-formed row has no key for the register."""


@dataclass
class LoadReport:
    """Counts and reasons from loading one register file, or why it was skipped."""

    register: str
    source: Path | None
    status: str = "loaded"
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    problems: list[FieldProblem] = field(default_factory=list)
    layout: str | None = None
    message: str | None = None
    seconds: float = 0.0

    def reject(self, row: int, column: str, reason: str) -> None:
        """Count a rejected row and keep the first problems with their row number."""
        self.rows_rejected += 1
        self.rejected[_reason_key(reason)] += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(FieldProblem(field=column, message=reason, row=row))

    def skip(self, reason: str) -> None:
        """Count a well-formed row that the register does not hold."""
        self.rows_skipped += 1
        self.skipped[reason] += 1

    @property
    def adds_up(self) -> bool:
        """Return whether read = loaded + rejected + skipped."""
        total = self.rows_loaded + self.rows_rejected + self.rows_skipped
        return self.rows_read == total


_QUOTED_VALUE = re.compile(r"""\s*(?:'[^']*'|"[^"]*")(?=\s|$|,|;)""")


def _reason_key(reason: str) -> str:
    # Group "postcode 'X1' is not ..." and "postcode 'Y2' is not ..." under one
    # reason by dropping the quoted values.
    return _QUOTED_VALUE.sub("", reason).strip()


Row = dict[str, str]
Parser = Callable[[Row, LoadReport], dict[str, Any]]


@dataclass(frozen=True)
class Layout:
    """One published column layout of a register file and how to read its rows."""

    name: str
    required: tuple[str, ...]
    parse: Parser
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def matches(self, header: Iterable[str]) -> bool:
        """Return whether a header has every required column (or an alias)."""
        present = set(header)
        return all(
            column in present
            or any(alias in present for alias in self.aliases.get(column, ()))
            for column in self.required
        )


@dataclass(frozen=True)
class Register:
    """A register: its table, its key and the layouts its files come in."""

    name: str
    model: type[Any]
    key: str
    layouts: tuple[Layout, ...]

    @property
    def table(self) -> Table:
        """Return the register's table."""
        table: Table = self.model.__table__
        return table


# --- row parsers ------------------------------------------------------------


def _cell(row: Row, column: str, aliases: tuple[str, ...] = ()) -> str:
    for name in (column, *aliases):
        value = row.get(name)
        if value is not None:
            return value
    return ""


def _parse_dfe_institution(row: Row, report: LoadReport) -> dict[str, Any]:
    if not row["ukprn"].strip():
        raise SkipRow("no UKPRN")
    postcode = row.get("postcode", "")
    hesa = row.get("hesa_itt_code", "").strip()
    return {
        "ukprn": check.parse_ukprn(row["ukprn"]),
        "name": check.require_text(row["name"], "name", 300),
        "hesa_code": check.optional_text(hesa, "hesa_itt_code", 8),
        "postcode": check.parse_postcode(postcode) if postcode.strip() else None,
        # The DfE list gives the year an institution closed, blank if open.
        "closed": bool(row.get("closed", "").strip()),
        "register": "dfe_degree_institutions",
    }


_UKRLP_ALIASES = {
    "UKPRN": ("UKPROVIDERREFERENCENUMBER", "UnitedKingdomProviderReferenceNumber"),
    "ProviderName": ("PROVIDER_NAME", "Provider Name", "PROVIDERNAME"),
    "Postcode": ("POSTCODE", "PostCode"),
    "ProviderStatus": ("PROVIDER_STATUS", "Provider Status", "PROVIDERSTATUS"),
}
_UKRLP_CLOSED = {"closed", "inactive", "deactivated", "pd1", "pd2"}


def _parse_ukrlp_provider(row: Row, report: LoadReport) -> dict[str, Any]:
    ukprn = _cell(row, "UKPRN", _UKRLP_ALIASES["UKPRN"])
    name = _cell(row, "ProviderName", _UKRLP_ALIASES["ProviderName"])
    postcode = _cell(row, "Postcode", _UKRLP_ALIASES["Postcode"])
    status = _cell(row, "ProviderStatus", _UKRLP_ALIASES["ProviderStatus"])
    return {
        "ukprn": check.parse_ukprn(ukprn),
        "name": check.require_text(name, "ProviderName", 300),
        "postcode": check.parse_postcode(postcode) if postcode.strip() else None,
        "closed": status.strip().lower() in _UKRLP_CLOSED,
        "register": "ukrlp",
    }


_OFQUAL_ALIASES = {"Qualification Status": ("Status",)}


def _parse_ofqual_qualification(row: Row, report: LoadReport) -> dict[str, Any]:
    status = _cell(row, "Qualification Status", _OFQUAL_ALIASES["Qualification Status"])
    return {
        "qualification_number": check.parse_qualification_number(
            row["Qualification Number"]
        ),
        "title": check.require_text(row["Qualification Title"], "title", 2000),
        "level": check.optional_text(row.get("Qualification Level"), "level", 40),
        "awarding_organisation": check.optional_text(
            row.get("Owner Organisation Name"), "Owner Organisation Name", 300
        ),
        "qualification_type": check.optional_text(
            row.get("Qualification Type"), "Qualification Type", 120
        ),
        "status": check.optional_text(status, "Qualification Status", 60),
    }


def _parse_gias_establishment(row: Row, report: LoadReport) -> dict[str, Any]:
    ukprn = row.get("UKPRN", "")
    la_code = row.get("LA (code)", "")
    postcode = row.get("Postcode", "")
    return {
        "urn": check.parse_urn(row["URN"]),
        "name": check.require_text(row["EstablishmentName"], "EstablishmentName", 300),
        "la_code": check.parse_la_number(la_code) if la_code.strip() else None,
        "ukprn": check.parse_ukprn(ukprn) if ukprn.strip() else None,
        "postcode": check.parse_postcode(postcode) if postcode.strip() else None,
        "status": check.optional_text(
            row.get("EstablishmentStatus (name)"), "EstablishmentStatus (name)", 60
        ),
        "phase": check.optional_text(
            row.get("PhaseOfEducation (name)"), "PhaseOfEducation (name)", 60
        ),
    }


def _onspd_code(raw: str) -> str | None:
    # ONSPD fills a missing geography with a pseudo code such as S99999999.
    value = raw.strip().upper()
    if not value or value.endswith("99999999"):
        return None
    return check.parse_gss_code(value)


def _parse_onspd_postcode(row: Row, report: LoadReport) -> dict[str, Any]:
    postcode = check.parse_postcode(row.get("pcds") or row.get("pcd") or "")
    lat_text, long_text = row["lat"].strip(), row["long"].strip()
    no_grid = lat_text == f"{check.ONSPD_NO_GRID_LATITUDE:.6f}"
    if no_grid:
        lat_text = long_text = ""
    latitude, longitude = check.parse_coordinates(lat_text, long_text)
    country = row.get("ctry", "").strip().upper()
    values = {
        "postcode": postcode,
        "latitude": latitude,
        "longitude": longitude,
        "local_authority_code": _onspd_code(row.get("oslaua", "")),
        "country_code": check.parse_gss_code(country) if country else None,
        "terminated": bool(row.get("doterm", "").strip()),
    }

    if no_grid:
        report.notes["no grid reference, stored without coordinates"] += 1
    if values["terminated"]:
        report.notes["terminated (doterm set), kept and flagged"] += 1
    return values


def _parse_local_authority(row: Row, report: LoadReport) -> dict[str, Any]:
    if not row["gss-code"].strip():
        raise SkipRow("no GSS code (council abolished before GSS codes)")
    gss_code = check.parse_gss_code(row["gss-code"])
    name = row.get("official-name") or row.get("nice-name") or ""
    latitude, longitude = check.parse_coordinates(row["lat"], row["long"])
    swapped = False
    if latitude is not None and longitude is not None:
        if not check.is_in_uk(latitude, longitude):
            if not check.is_in_uk(longitude, latitude):
                raise ValueError(
                    f"centroid '{latitude}, {longitude}' is outside the UK"
                )
            # The 2023 copy of mySociety's register vendored by Libraries Hacked
            # has its lat and long columns swapped, so a point that lands in
            # the UK only the other way round is swapped back.
            latitude, longitude = longitude, latitude
            swapped = True
    values = {
        "gss_code": gss_code,
        "name": check.require_text(name, "official-name", 200),
        "nation": check.optional_text(row.get("nation"), "nation", 40),
        "latitude": latitude,
        "longitude": longitude,
        "current": row.get("current-authority", "True").strip().lower() != "false",
    }

    if swapped:
        report.notes["latitude and longitude swapped back"] += 1
    if latitude is None:
        report.notes["no centroid, stored without coordinates"] += 1
    return values


_SOC_LEVELS = {
    "major_group": 1,
    "sub_major_group": 2,
    "minor_group": 3,
    "unit_group": 4,
}


def _parse_soc_group(row: Row, report: LoadReport) -> dict[str, Any]:
    code = check.parse_soc_code(row["code"])
    level = row["level"].strip()
    if _SOC_LEVELS.get(level) != len(code):
        raise ValueError(f"level {level!r} does not fit a {len(code)}-digit code")
    parent = row.get("parent_code", "").strip() or None
    expected_parent = code[:-1] or None
    if parent != expected_parent:
        raise ValueError(f"parent_code {parent!r} is not the code's prefix")
    return {
        "code": code,
        "level": level,
        "parent_code": parent,
        "title": check.require_text(row["title"], "title", 2000),
    }


# --- the registers ------------------------------------------------------------

REGISTER_DEFINITIONS: dict[str, Register] = {
    PROVIDERS: Register(
        PROVIDERS,
        RegisteredProvider,
        "ukprn",
        (
            Layout(
                "dfe_degree_institutions", ("ukprn", "name"), _parse_dfe_institution
            ),
            Layout(
                "ukrlp",
                ("UKPRN", "ProviderName"),
                _parse_ukrlp_provider,
                _UKRLP_ALIASES,
            ),
        ),
    ),
    QUALIFICATIONS: Register(
        QUALIFICATIONS,
        RegisteredQualification,
        "qualification_number",
        (
            Layout(
                "ofqual_register",
                ("Qualification Number", "Qualification Title"),
                _parse_ofqual_qualification,
                _OFQUAL_ALIASES,
            ),
        ),
    ),
    SCHOOLS: Register(
        SCHOOLS,
        School,
        "urn",
        (
            Layout(
                "gias_edubasealldata",
                ("URN", "EstablishmentName"),
                _parse_gias_establishment,
            ),
        ),
    ),
    POSTCODES: Register(
        POSTCODES,
        Postcode,
        "postcode",
        (
            Layout(
                "onspd",
                ("pcds", "lat", "long"),
                _parse_onspd_postcode,
                {"pcds": ("pcd",)},
            ),
        ),
    ),
    LOCAL_AUTHORITIES: Register(
        LOCAL_AUTHORITIES,
        LocalAuthority,
        "gss_code",
        (
            Layout(
                "mysociety_local_authorities",
                ("gss-code", "official-name", "lat", "long"),
                _parse_local_authority,
            ),
        ),
    ),
    OCCUPATIONS: Register(
        OCCUPATIONS,
        Occupation,
        "code",
        (
            Layout(
                "ons_soc2020",
                ("code", "level", "parent_code", "title"),
                _parse_soc_group,
            ),
        ),
    ),
}


# --- reading and storing ------------------------------------------------------


def _inspect_file(path: Path) -> tuple[str, str]:
    """Return the file's SHA-256 and its text encoding, in one pass over the bytes.

    Register downloads come as UTF-8, often with a byte-order mark, but the
    GIAS download is Windows-1252. A file that is not valid UTF-8 is read as
    Windows-1252.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    utf8 = True
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
    except FileNotFoundError:
        raise FeedError(
            f"register file {path} not found; check the path or download the file"
        ) from None
    except IsADirectoryError:
        raise FeedError(f"register file {path} is a folder; give a CSV file") from None
    return digest.hexdigest(), "utf-8-sig" if utf8 else "cp1252"


def _choose_layout(register: Register, header: list[str], path: Path) -> Layout:
    for layout in register.layouts:
        if layout.matches(header):
            return layout
    expected = "; or ".join(", ".join(layout.required) for layout in register.layouts)
    raise FeedError(
        f"{path.name} is not a {register.name} file: its header lacks the columns "
        f"{expected}"
    )


def _read_rows(
    register: Register, path: Path, encoding: str, report: LoadReport
) -> Iterator[tuple[int, Row, Layout]]:
    with path.open("r", encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        if not header:
            raise FeedError(f"{path.name} is empty; expected a CSV header row")
        reader.fieldnames = header
        layout = _choose_layout(register, header, path)
        report.layout = layout.name

        # Rows are numbered as a spreadsheet shows them: the header is row 1.
        for number, row in enumerate(reader, start=2):
            yield number, row, layout


def _upsert(session: Session, register: Register, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect_module
    elif dialect == "sqlite":
        from sqlalchemy.dialects import sqlite as dialect_module  # type: ignore[no-redef]
    else:  # make_engine accepts only these two
        raise NotImplementedError(f"upsert on {dialect}")

    statement = dialect_module.insert(register.table)
    # Update only the columns this layout supplies, so a UKRLP file does not
    # blank the HESA codes that the DfE list gave.
    columns = [name for name in rows[0] if name != register.key]
    statement = statement.on_conflict_do_update(
        index_elements=[register.key],
        set_={name: statement.excluded[name] for name in columns},
    )
    session.execute(statement, rows)


def load_register_file(
    session_factory: sessionmaker[Session], register_name: str, path: Path
) -> LoadReport:
    """Load one register file into the store and return its counts.

    Raises FeedError when the file is missing, empty or not in a known layout
    for the register; row problems are counted in the report instead.
    """
    register = REGISTER_DEFINITIONS[register_name]
    report = LoadReport(register=register_name, source=path)
    started = time.perf_counter()
    sha256, encoding = _inspect_file(path)

    seen: set[str] = set()
    batch: list[dict[str, Any]] = []
    with translate_errors(), session_factory() as session, session.begin():
        for number, row, layout in _read_rows(register, path, encoding, report):
            report.rows_read += 1
            values = _parse_row(layout, row, number, report)
            if values is None:
                continue
            key = values[register.key]
            if key in seen:
                report.reject(number, register.key, f"duplicate key '{key}' in file")
                continue
            seen.add(key)
            batch.append(values)
            if len(batch) >= BATCH_SIZE:
                _upsert(session, register, batch)
                report.rows_loaded += len(batch)
                batch = []
        _upsert(session, register, batch)
        report.rows_loaded += len(batch)
        session.add(_load_record(report, sha256))

    report.seconds = time.perf_counter() - started
    log.info(
        "loaded register %s from %s: read %d, loaded %d, rejected %d, skipped %d "
        "in %.1f s",
        register_name,
        path.name,
        report.rows_read,
        report.rows_loaded,
        report.rows_rejected,
        report.rows_skipped,
        report.seconds,
    )
    return report


def _parse_row(
    layout: Layout, row: Row, number: int, report: LoadReport
) -> dict[str, Any] | None:
    if None in row or any(value is None for value in row.values()):
        report.reject(number, "row", "row has a different number of cells")
        return None
    try:
        return layout.parse(row, report)
    except SkipRow as skip:
        report.skip(str(skip))
    except ValueError as error:
        report.reject(number, _field_of(str(error)), str(error))
    return None


def _field_of(message: str) -> str:
    # Messages from john.reference.validation and the parsers start with the
    # name of the value at fault ("postcode 'X' is not ...").
    return message.split(" ", 1)[0]


def _load_record(report: LoadReport, sha256: str) -> RegisterLoad:
    return RegisterLoad(
        register=report.register,
        source_file=str(report.source),
        content_sha256=sha256,
        rows_read=report.rows_read,
        rows_loaded=report.rows_loaded,
        rows_rejected=report.rows_rejected,
        rows_skipped=report.rows_skipped,
        reasons={
            "rejected": dict(report.rejected),
            "skipped": dict(report.skipped),
            "notes": dict(report.notes),
        },
    )
