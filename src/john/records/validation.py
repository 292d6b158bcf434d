"""Row validation: every problem in a row, by field, with messages free of values.

A validator is built once per feed, with the registers loaded into memory, and
then called for every row. Messages never contain the value they reject, so
reports and logs can show them without disclosing personal data.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from john.errors import FieldProblem
from john.records.mappings import PERSON_FIELDS, RECORD_FIELDS, BoundMapping
from john.reference.models import RegisteredProvider, RegisteredQualification

try:
    from john.identity import identifiers
except ImportError:  # the identity module is built on another branch
    from john.records import _interim_identifiers as identifiers  # type: ignore[no-redef]

KINDS: dict[str, frozenset[str]] = {
    "achievements": frozenset({"qualification", "award", "unit"}),
    "experiences": frozenset(
        {"employment", "work_experience", "volunteering", "apprenticeship", "cpd"}
    ),
}

# Column widths of the store; a longer value is quarantined rather than cut.
MAX_LENGTHS: dict[str, int] = {
    "source_person_ref": 100,
    "given_name": 200,
    "family_name": 200,
    "email": 320,
    "level": 40,
    "grade": 40,
    "awarding_body": 300,
    "organisation": 300,
    "role": 300,
}

MIN_AGE_YEARS = 10
MAX_AGE_YEARS = 100

# UK postcode shape (outward code, space, inward code) from the Royal Mail PAF
# format; the GIR 0AA special case is accepted too.
_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})|GIR ?0AA")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

_IDENTIFIER_CHECKS: dict[str, Callable[[str], str]] = {
    "uln": identifiers.validate_uln,
    "upn": identifiers.validate_upn,
    "ni_number": identifiers.validate_ni_number,
    "ucas_id": identifiers.validate_ucas_id,
    "husid": identifiers.validate_husid,
}


def register_key(value: str) -> str:
    """Return the form in which register codes are compared (no separators, upper)."""
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


@dataclass
class Registers:
    """The provider and qualification registers as in-memory sets.

    An empty register is taken as not loaded: codes are then checked for
    format only, and the report says so.
    """

    providers: frozenset[str] = field(default_factory=frozenset)
    qualifications: frozenset[str] = field(default_factory=frozenset)

    @property
    def providers_loaded(self) -> bool:
        """Return whether the provider register has rows."""
        return bool(self.providers)

    @property
    def qualifications_loaded(self) -> bool:
        """Return whether the qualification register has rows."""
        return bool(self.qualifications)

    def notes(self) -> list[str]:
        """Return report notes for registers that are not loaded."""
        notes = []
        if not self.providers_loaded:
            notes.append(
                "provider register not loaded: UKPRNs were checked for format only"
            )
        if not self.qualifications_loaded:
            notes.append(
                "qualification register not loaded: qualification numbers were "
                "checked for format only"
            )
        return notes


def load_registers(session: Session) -> Registers:
    """Load the provider UKPRNs and qualification numbers into memory."""
    providers = frozenset(session.scalars(select(RegisteredProvider.ukprn)))
    numbers = session.scalars(select(RegisteredQualification.qualification_number))
    return Registers(
        providers=providers,
        qualifications=frozenset(register_key(number) for number in numbers),
    )


@dataclass(slots=True)
class ValidRow:
    """A row that passed validation, in the store's column order."""

    number: int
    row_key: str
    person: tuple[object, ...]
    record: tuple[object, ...]


class RowValidator:
    """Validate rows of one feed against the mapping, the rules and the registers."""

    def __init__(
        self,
        feed_type: str,
        bound: BoundMapping,
        registers: Registers,
        today: date,
    ):
        self.feed_type = feed_type
        self.registers = registers
        self.today = today
        self.kinds = KINDS[feed_type]
        self.record_fields = RECORD_FIELDS[feed_type]
        positions = bound.positions
        self._person_positions = [positions.get(name) for name in PERSON_FIELDS]
        self._record_positions = [positions.get(name) for name in self.record_fields]

    def validate(
        self, number: int, values: list[str]
    ) -> tuple[ValidRow | None, list[FieldProblem]]:
        """Return the normalised row, or None and every problem found in it."""
        problems: list[FieldProblem] = []
        raw_person = [
            values[p].strip() if p is not None else "" for p in self._person_positions
        ]
        raw_record = [
            values[p].strip() if p is not None else "" for p in self._record_positions
        ]

        record = dict(zip(self.record_fields, raw_record, strict=True))
        if self.feed_type == "achievements":
            normalised_record, record_date = self._achievement(record, problems)
        else:
            normalised_record, record_date = self._experience(record, problems)
        person = self._person(
            dict(zip(PERSON_FIELDS, raw_person, strict=True)), record_date, problems
        )
        if problems:
            return None, problems

        key_parts = [str(person[0])]
        key_parts.extend("" if v is None else str(v) for v in normalised_record)
        row_key = hashlib.sha256("\x1f".join(key_parts).encode()).hexdigest()
        return ValidRow(number, row_key, person, normalised_record), []

    def _person(
        self, values: dict[str, str], record_date: date | None, problems: list
    ) -> tuple[object, ...]:
        ref = values["source_person_ref"]
        if not ref:
            problems.append(FieldProblem("source_person_ref", "is required"))
        for name in ("source_person_ref", "given_name", "family_name", "email"):
            _check_length(name, values[name], problems)

        birth = _parse_date("date_of_birth", values["date_of_birth"], problems)
        if birth is not None:
            _check_birth(birth, record_date or self.today, self.today, problems)

        postcode = values["postcode"].upper() or None
        if postcode is not None:
            match = _POSTCODE.fullmatch(postcode)
            if match is None:
                problems.append(FieldProblem("postcode", "is not a UK postcode"))
            elif match.group(1):
                postcode = f"{match.group(1)} {match.group(2)}"
            else:
                postcode = "GIR 0AA"

        email = values["email"] or None
        if email is not None and not _EMAIL.fullmatch(email):
            problems.append(FieldProblem("email", "is not an email address"))

        checked: dict[str, str | None] = {}
        for name, check in _IDENTIFIER_CHECKS.items():
            checked[name] = _check_identifier(name, values[name], check, problems)

        return (
            ref,
            values["given_name"] or None,
            values["family_name"] or None,
            birth,
            postcode,
            email,
            checked["uln"],
            checked["upn"],
            checked["ni_number"],
            checked["ucas_id"],
            checked["husid"],
        )

    def _kind(self, value: str, problems: list) -> str:
        kind = value.lower().replace("-", "_").replace(" ", "_")
        if not kind:
            problems.append(FieldProblem("kind", "is required"))
        elif kind not in self.kinds:
            allowed = ", ".join(sorted(self.kinds))
            problems.append(FieldProblem("kind", f"is not one of {allowed}"))
        return kind

    def _achievement(
        self, values: dict[str, str], problems: list
    ) -> tuple[tuple[object, ...], date | None]:
        kind = self._kind(values["kind"], problems)
        if not values["title"]:
            problems.append(FieldProblem("title", "is required"))
        for name in ("level", "grade", "awarding_body"):
            _check_length(name, values[name], problems)

        awarded = _parse_date("awarded_on", values["awarded_on"], problems)
        if awarded is not None and awarded > self.today:
            problems.append(FieldProblem("awarded_on", "is in the future"))

        number = None
        if values["qualification_number"]:
            number = _check_identifier(
                "qualification_number",
                values["qualification_number"],
                identifiers.validate_qualification_number,
                problems,
            )
            qualifications = self.registers.qualifications
            if (
                number is not None
                and qualifications
                and register_key(number) not in qualifications
            ):
                problems.append(
                    FieldProblem(
                        "qualification_number", "is not on the qualification register"
                    )
                )

        provider = None
        if values["provider_ukprn"]:
            provider = _check_identifier(
                "provider_ukprn",
                values["provider_ukprn"],
                identifiers.validate_ukprn,
                problems,
            )
            providers = self.registers.providers
            if provider is not None and providers and provider not in providers:
                problems.append(
                    FieldProblem("provider_ukprn", "is not on the provider register")
                )

        record = (
            kind,
            number,
            values["title"],
            values["level"] or None,
            values["grade"] or None,
            awarded,
            values["awarding_body"] or None,
            provider,
        )
        return record, awarded

    def _experience(
        self, values: dict[str, str], problems: list
    ) -> tuple[tuple[object, ...], date | None]:
        kind = self._kind(values["kind"], problems)
        if not values["organisation"]:
            problems.append(FieldProblem("organisation", "is required"))
        for name in ("organisation", "role"):
            _check_length(name, values[name], problems)

        started = _parse_date("started_on", values["started_on"], problems)
        if started is not None and started > self.today:
            problems.append(FieldProblem("started_on", "is in the future"))
        ended = _parse_date("ended_on", values["ended_on"], problems)
        if started is not None and ended is not None and ended < started:
            problems.append(FieldProblem("ended_on", "is before started_on"))

        hours = None
        if values["hours"]:
            try:
                hours = float(values["hours"])
            except ValueError:
                problems.append(FieldProblem("hours", "is not a number"))
            else:
                if not math.isfinite(hours) or hours < 0:
                    problems.append(
                        FieldProblem("hours", "must be a non-negative number")
                    )

        record = (
            kind,
            values["organisation"],
            values["role"] or None,
            started,
            ended,
            hours,
        )
        return record, started


def _check_length(name: str, value: str, problems: list) -> None:
    limit = MAX_LENGTHS[name]
    if len(value) > limit:
        problems.append(FieldProblem(name, f"is longer than {limit} characters"))


def _check_identifier(
    name: str, value: str, check: Callable[[str], str], problems: list
) -> str | None:
    if not value:
        return None
    try:
        return check(value)
    except identifiers.InvalidIdentifier as error:
        problems.append(FieldProblem(name, error.safe_message))
        return None


def _parse_date(name: str, value: str, problems: list) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(FieldProblem(name, "is not an ISO 8601 date (YYYY-MM-DD)"))
        return None


def _check_birth(
    birth: date, on: date, today: date, problems: list[FieldProblem]
) -> None:
    if birth > today:
        problems.append(FieldProblem("date_of_birth", "is in the future"))
        return
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    if age < MIN_AGE_YEARS or age > MAX_AGE_YEARS:
        problems.append(
            FieldProblem(
                "date_of_birth",
                f"gives an age outside {MIN_AGE_YEARS} to {MAX_AGE_YEARS} years "
                "at the record's date",
            )
        )
