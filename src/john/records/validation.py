"""Row validation: every problem in a row, by field, with messages free of values.

A validator is built once per feed, with the registers loaded into memory, and
then called for every row. Messages never contain the value they reject, so
reports and logs can show them without disclosing personal data.
"""

from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from john.errors import FieldProblem
from john.identity import identifiers
from john.records.mappings import PERSON_FIELDS, RECORD_FIELDS, BoundMapping
from john.reference.models import RegisteredProvider, RegisteredQualification

if TYPE_CHECKING:
    from john.records.chunk_validation import ChunkValidator

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
    "address_line_1": 200,
    "address_line_2": 200,
    "locality": 100,
    "region": 100,
    "other_identifier": 40,
    "other_identifier_scheme": 40,
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
# Digits with an optional decimal part: float() would also take "1_000",
# "1e23", "inf" and "nan", which no provider means as hours.
_HOURS = re.compile(r"[0-9]{1,6}(\.[0-9]{1,4})?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# The person's identifier fields, in PERSON_FIELDS order, with their checks.
_IDENTIFIER_CHECKS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("uln", identifiers.validate_uln),
    ("upn", identifiers.validate_upn),
    ("ni_number", identifiers.validate_nino),
    ("ucas_id", identifiers.validate_ucas_personal_id),
    ("husid", identifiers.validate_husid),
)
_ADDRESS_FIELDS = ("address_line_1", "address_line_2", "locality", "region")
CODE_CACHE_SIZE = 100_000
# A row key is the SHA-256 (hex) of the person reference and the record's
# fields, joined by this unit separator and encoded as UTF-8.
ROW_KEY_SEPARATOR = "\x1f"


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


class ValidRow(NamedTuple):
    """A row that passed validation, in the store's column order.

    Dates are ISO 8601 text (YYYY-MM-DD), the form in which both stores take
    them, so the writer binds the values as they are.
    """

    number: int
    row_key: str
    person: tuple[Any, ...]
    record: tuple[Any, ...]


class RowValidator:
    """Validate rows of one feed against the mapping, the rules and the registers.

    The code is written for speed (unpacked locals, no per-row dicts) because
    it runs once per row of feeds of millions of rows.
    """

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
        # The date that the age check measures the learner's age on.
        self.record_date_field = (
            "awarded_on" if feed_type == "achievements" else "started_on"
        )
        positions = bound.positions
        self._positions = [
            positions.get(name) for name in PERSON_FIELDS + RECORD_FIELDS[feed_type]
        ]
        self._chunk_validator: ChunkValidator | None = None
        self._person_values = _field_reader(self._positions[: len(PERSON_FIELDS)])
        self._record_values = _field_reader(self._positions[len(PERSON_FIELDS) :])
        # Register codes repeat across rows (one provider, a few qualifications),
        # so their checks are remembered; person identifiers are not.
        self._code_results: dict[tuple[str, str], tuple[str | None, str | None]] = {}

    def validate(
        self, number: int, values: list[str]
    ) -> tuple[ValidRow | None, list[FieldProblem]]:
        """Return the normalised row, or None and every problem found in it."""
        problems: list[FieldProblem] = []
        record_values = self._record_values(values)
        if self.feed_type == "achievements":
            record, record_date = self._achievement(record_values, problems)
        else:
            record, record_date = self._experience(record_values, problems)

        person = self._person(self._person_values(values), record_date, problems)
        if problems:
            return None, problems

        key_parts = [person[0], *["" if v is None else str(v) for v in record]]
        row_key = hashlib.sha256(ROW_KEY_SEPARATOR.join(key_parts).encode()).hexdigest()
        return ValidRow(number, row_key, person, record), []

    def validate_chunk(
        self, numbers: list[int], rows: list[list[str]]
    ) -> tuple[list[ValidRow], dict[int, list[FieldProblem]]]:
        """Validate many rows at once: the valid rows in order, and the problems
        of the others keyed by their position in ``rows``.

        The result is what :meth:`validate` gives for ``numbers[i]`` and
        ``rows[i]`` at each i, at about a third of the cost per row on synthetic
        feeds. Every row must have the width of the feed's header.
        """
        if self._chunk_validator is None:
            # Imported here because chunk_validation imports this module.
            from john.records.chunk_validation import ChunkValidator

            self._chunk_validator = ChunkValidator(self, self._positions)
        return self._chunk_validator.validate(numbers, rows)

    def _person(
        self, values: list[str], record_date: date | None, problems: list
    ) -> tuple[Any, ...]:
        ref, given, family, birth_text, postcode, email = values[:6]
        identifier_values = values[6:11]
        address = values[11:15]
        other_identifier, other_scheme = values[15:17]
        if not ref:
            problems.append(FieldProblem("source_person_ref", "is required"))
        elif len(ref) > 100:
            _check_length("source_person_ref", ref, problems)
        if len(given) > 200 or len(family) > 200 or len(email) > 320:
            for name, value in (
                ("given_name", given),
                ("family_name", family),
                ("email", email),
            ):
                _check_length(name, value, problems)

        birth = None
        if birth_text:
            birth = _parse_date("date_of_birth", birth_text, problems)
            if birth is not None:
                _check_birth(
                    birth, record_date, self.record_date_field, self.today, problems
                )

        postcode_value = None
        if postcode:
            # upper() turns some other letters into ASCII ones ("\ufb00" into
            # "FF"), so a postcode must be ASCII before it is compared.
            match = (
                _POSTCODE.fullmatch(postcode.upper()) if postcode.isascii() else None
            )
            if match is None:
                problems.append(FieldProblem("postcode", "is not a UK postcode"))
            elif match.group(1):
                postcode_value = f"{match.group(1)} {match.group(2)}"
            else:
                postcode_value = "GIR 0AA"

        if email and not _EMAIL.fullmatch(email):
            problems.append(FieldProblem("email", "is not an email address"))

        checked = [
            _check_identifier(name, value, check, problems) if value else None
            for (name, check), value in zip(
                _IDENTIFIER_CHECKS, identifier_values, strict=True
            )
        ]
        # One cheap test per row; the exact limits are checked only past it.
        if max(map(len, address)) > 100 or len(other_identifier + other_scheme) > 40:
            for name, value in zip(_ADDRESS_FIELDS, address, strict=True):
                _check_length(name, value, problems)
            _check_length("other_identifier", other_identifier, problems)
            _check_length("other_identifier_scheme", other_scheme, problems)
        # Without its scheme an identifier cannot be compared with anything.
        if other_identifier and not other_scheme:
            problems.append(
                FieldProblem(
                    "other_identifier_scheme", "is required with other_identifier"
                )
            )
        return (
            ref,
            given or None,
            family or None,
            None if birth is None else birth.isoformat(),
            postcode_value,
            email or None,
            *checked,
            *(value or None for value in address),
            other_identifier or None,
            other_scheme if other_identifier else None,
        )

    def _kind(self, value: str, problems: list) -> str:
        if value in self.kinds:
            return value
        kind = value.lower().replace("-", "_").replace(" ", "_")
        if not kind:
            problems.append(FieldProblem("kind", "is required"))
        elif kind not in self.kinds:
            allowed = ", ".join(sorted(self.kinds))
            problems.append(FieldProblem("kind", f"is not one of {allowed}"))
        return kind

    def _code(
        self, name: str, value: str, check: Callable[[str], str], problems: list
    ) -> str | None:
        """Check a register code (UKPRN, qualification number), remembering results."""
        result = self._code_results.get((name, value))
        if result is None:
            result = self._check_code(name, value, check)
            if len(self._code_results) < CODE_CACHE_SIZE:
                self._code_results[(name, value)] = result
        normalised, message = result
        if message is not None:
            problems.append(FieldProblem(name, message))
        return normalised

    def _check_code(
        self, name: str, value: str, check: Callable[[str], str]
    ) -> tuple[str | None, str | None]:
        try:
            normalised = check(value)
        except identifiers.InvalidIdentifier as error:
            return None, error.safe_message
        if name == "provider_ukprn":
            providers = self.registers.providers
            if providers and normalised not in providers:
                return normalised, "is not on the provider register"
        else:
            qualifications = self.registers.qualifications
            if qualifications and register_key(normalised) not in qualifications:
                return normalised, "is not on the qualification register"
        return normalised, None

    def _achievement(
        self, values: list[str], problems: list
    ) -> tuple[tuple[Any, ...], date | None]:
        kind, number, title, level, grade, awarded_text, body, provider = values
        kind = self._kind(kind, problems)
        if not title:
            problems.append(FieldProblem("title", "is required"))
        if len(level) > 40 or len(grade) > 40 or len(body) > 300:
            for name, value in (
                ("level", level),
                ("grade", grade),
                ("awarding_body", body),
            ):
                _check_length(name, value, problems)

        awarded = None
        if awarded_text:
            awarded = _parse_date("awarded_on", awarded_text, problems)
            if awarded is not None and awarded > self.today:
                problems.append(FieldProblem("awarded_on", "is in the future"))

        number_value = None
        if number:
            number_value = self._code(
                "qualification_number",
                number,
                identifiers.validate_qn,
                problems,
            )
        provider_value = None
        if provider:
            provider_value = self._code(
                "provider_ukprn", provider, identifiers.validate_ukprn, problems
            )

        record = (
            kind,
            number_value,
            title,
            level or None,
            grade or None,
            None if awarded is None else awarded.isoformat(),
            body or None,
            provider_value,
        )
        return record, awarded

    def _experience(
        self, values: list[str], problems: list
    ) -> tuple[tuple[Any, ...], date | None]:
        kind, organisation, role, started_text, ended_text, hours_text = values
        kind = self._kind(kind, problems)
        if not organisation:
            problems.append(FieldProblem("organisation", "is required"))
        _check_length("organisation", organisation, problems)
        _check_length("role", role, problems)

        started = _parse_date("started_on", started_text, problems)
        if started is not None and started > self.today:
            problems.append(FieldProblem("started_on", "is in the future"))
        ended = _parse_date("ended_on", ended_text, problems)
        if started is not None and ended is not None and ended < started:
            problems.append(FieldProblem("ended_on", "is before started_on"))

        hours = None
        if hours_text:
            if _HOURS.fullmatch(hours_text):
                hours = float(hours_text)
            else:
                problems.append(
                    FieldProblem(
                        "hours", "is not a plain non-negative number such as 37.5"
                    )
                )

        record = (
            kind,
            organisation,
            role or None,
            None if started is None else started.isoformat(),
            None if ended is None else ended.isoformat(),
            hours,
        )
        return record, started


def _field_reader(positions: list[int | None]) -> Callable[[list[str]], list[str]]:
    """Return a function that picks the fields at ``positions`` from a row, stripped.

    A field whose column the feed lacks reads as empty.
    """
    if len(positions) > 1 and None not in positions:
        pick = operator.itemgetter(*positions)
        return lambda values: [value.strip() for value in pick(values)]
    return lambda values: [
        values[p].strip() if p is not None else "" for p in positions
    ]


def _check_length(name: str, value: str, problems: list) -> None:
    limit = MAX_LENGTHS[name]
    if len(value) > limit:
        problems.append(FieldProblem(name, f"is longer than {limit} characters"))


def _check_identifier(
    name: str, value: str, check: Callable[[str], str], problems: list
) -> str | None:
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


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _check_birth(
    birth: date,
    record_date: date | None,
    record_field: str,
    today: date,
    problems: list[FieldProblem],
) -> None:
    if birth > today:
        problems.append(FieldProblem("date_of_birth", "is in the future"))
        return
    if record_date is not None and record_date < birth:
        # A record dated before its learner was born: the record's own date is
        # the likely mistake (0001-01-01 for a missing date, say).
        problems.append(
            FieldProblem(record_field, "is before the learner's date_of_birth")
        )
        return
    age = _age(birth, record_date or today)
    if age < MIN_AGE_YEARS or age > MAX_AGE_YEARS:
        where = record_field if record_date is not None else "today"
        problems.append(
            FieldProblem(
                "date_of_birth",
                f"gives an age outside {MIN_AGE_YEARS} to {MAX_AGE_YEARS} years "
                f"on {where}",
            )
        )
