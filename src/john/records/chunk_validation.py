"""Chunk validation: the rules of ``RowValidator.validate`` applied column by column.

Each field is checked over a whole column of a chunk with loops that run in C
(``map``, set operations, compiled patterns, numpy), not with one Python call
per value. Only the common case is settled here. A value that a column check
does not plainly accept sends its row to ``RowValidator.validate``: the check
adds the row's position to the set ``slow``. So every problem and message is
the row validator's own.
"""

from __future__ import annotations

import gc
import hashlib
import re
import string
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from itertools import repeat
from typing import Any, cast

import numpy as np

from john.errors import FieldProblem
from john.identity import identifiers
from john.records.mappings import PERSON_FIELDS, RECORD_FIELDS
from john.records.validation import (
    _EMAIL,
    _HOURS,
    CODE_CACHE_SIZE,
    MAX_AGE_YEARS,
    MAX_LENGTHS,
    MIN_AGE_YEARS,
    ROW_KEY_SEPARATOR,
    RowValidator,
    ValidRow,
)

# The plain forms of postcodes and email addresses that validate() stores
# unchanged, each also matching "". A value in any other form, valid or not,
# is left to validate().
_POSTCODE_PLAIN = re.compile(r"(?:[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}|GIR 0AA)?")
_EMAIL_OR_EMPTY = re.compile(f"(?:{_EMAIL.pattern})?")

_DIGITS = string.digits
_LETTERS = frozenset(string.ascii_uppercase)
_ULN_WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)
# One field's values over the rows of a chunk, in row order.
Column = Sequence[str]

_EMPTY_AS_NONE: dict[str, None] = {"": None}
# A date read as year * 10000 + month * 100 + day, so that comparing two such
# numbers compares the dates and (later - earlier) // 10000 is the age in
# whole years. An empty value reads as _NO_DATE.
_NO_DATE = -1
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_HASH_TYPE = type(hashlib.sha256())


class ChunkValidator:
    """Validate chunks of rows with the feed type, rules and registers of a row
    validator, handing the rows its column checks do not accept to that validator.
    """

    def __init__(self, validator: RowValidator, positions: Sequence[int | None]):
        self.validator = validator
        self.today = _date_number(validator.today)
        names = PERSON_FIELDS + RECORD_FIELDS[validator.feed_type]
        self._positions = dict(zip(names, positions, strict=True))
        # Hours repeat across rows and chunks, so each valid text is read once
        # into its number and the number's text in row keys.
        self._hour_numbers: dict[str, float | None] = {}
        self._hour_texts: dict[str, str] = {}

    def validate(
        self, numbers: list[int], rows: list[list[str]]
    ) -> tuple[list[ValidRow], dict[int, list[FieldProblem]]]:
        """Return the valid rows in order and the problems of the others by position."""
        if not rows:
            return [], {}
        # A chunk makes three tuples a row that live until it returns, and no
        # reference cycles. Collections started meanwhile would rescan the
        # chunk's rows and columns and promote them to older generations:
        # about 1.5 us a row of process time on 200,000 synthetic rows in
        # chunks of 5,000, measured on 2 shared cores.
        with collector_paused():
            return self._validate(numbers, rows)

    def _validate(
        self, numbers: list[int], rows: list[list[str]]
    ) -> tuple[list[ValidRow], dict[int, list[FieldProblem]]]:
        count = len(rows)
        # Transposing the whole chunk at once is faster than picking each
        # field's column, even with columns that no field reads.
        by_position = list(zip(*rows, strict=True))
        missing = ("",) * count
        columns: dict[str, Column] = {
            name: missing if position is None else by_position[position]
            for name, position in self._positions.items()
        }
        slow: set[int] = set()

        person, ref, birth = self._person(columns, slow)
        if self.validator.feed_type == "achievements":
            record, key_columns, record_date = self._achievement(columns, slow)
        else:
            record, key_columns, record_date = self._experience(columns, slow)
        self._check_birth(birth, record_date, slow)

        keys = _row_keys(ref, key_columns)
        results: list[Any] = list(
            map(
                tuple.__new__,
                repeat(ValidRow),
                zip(
                    numbers,
                    keys,
                    zip(*person, strict=False),
                    zip(*record, strict=False),
                    strict=True,
                ),
            )
        )
        return self._merge_slow_rows(numbers, rows, results, slow)

    def _merge_slow_rows(
        self,
        numbers: list[int],
        rows: list[list[str]],
        results: list[Any],
        slow: set[int],
    ) -> tuple[list[ValidRow], dict[int, list[FieldProblem]]]:
        """Replace the rows that the column checks did not accept by validate()'s."""
        if not slow:
            return results, {}
        problems_by_position: dict[int, list[FieldProblem]] = {}
        validate = self.validator.validate
        for position in sorted(slow):
            valid, problems = validate(numbers[position], rows[position])
            results[position] = valid
            if valid is None:
                problems_by_position[position] = problems
        return list(filter(None, results)), problems_by_position

    def _person(
        self, columns: dict[str, Column], slow: set[int]
    ) -> tuple[list[Iterable[Any]], Column, np.ndarray]:
        """Check the person fields; return the output columns, refs and births."""
        ref = _text(
            columns["source_person_ref"], "source_person_ref", slow, required=True
        )
        given_name = _text(columns["given_name"], "given_name", slow)
        family_name = _text(columns["family_name"], "family_name", slow)
        birth, birth_texts = _dates(columns["date_of_birth"], slow)
        postcode = _plain(columns["postcode"], _POSTCODE_PLAIN, slow)

        email = _text(columns["email"], "email", slow)
        _require_pattern(email, _EMAIL_OR_EMPTY, slow)
        identifiers_out = [
            _uln(columns["uln"], slow),
            _identifiers(columns["upn"], identifiers.validate_upn, slow),
            _nino(columns["ni_number"], slow),
            _identifiers(
                columns["ucas_id"], identifiers.validate_ucas_personal_id, slow
            ),
            _identifiers(columns["husid"], identifiers.validate_husid, slow),
        ]
        address = [
            _text(columns[name], name, slow)
            for name in ("address_line_1", "address_line_2", "locality", "region")
        ]
        other, scheme = self._other_identifier(columns, slow)

        person = [
            ref,
            _or_none(given_name),
            _or_none(family_name),
            _or_none(birth_texts),
            _or_none(postcode),
            _or_none(email),
            *map(_or_none, identifiers_out),
            *map(_or_none, address),
            _or_none(other),
            scheme,
        ]
        return person, ref, birth

    def _other_identifier(
        self, columns: dict[str, Column], slow: set[int]
    ) -> tuple[Column, Iterable[str | None]]:
        other = _text(columns["other_identifier"], "other_identifier", slow)
        scheme = _text(
            columns["other_identifier_scheme"], "other_identifier_scheme", slow
        )
        if not any(other):
            return other, repeat(None)
        # Without its scheme an identifier cannot be compared with anything.
        slow.update(
            position
            for position, (value, name) in enumerate(zip(other, scheme, strict=True))
            if value and not name
        )
        return other, [
            name if value else None for value, name in zip(other, scheme, strict=True)
        ]

    def _achievement(
        self, columns: dict[str, Column], slow: set[int]
    ) -> tuple[list[Iterable[Any]], list[Column], np.ndarray]:
        """Check the achievement fields; return the record and key columns and dates."""
        kind = self._kinds(columns["kind"], slow)
        number = self._qualification_numbers(columns["qualification_number"], slow)
        title = _text(columns["title"], "title", slow, required=True)
        level = _text(columns["level"], "level", slow)
        grade = _text(columns["grade"], "grade", slow)
        awarded, awarded_texts = _dates(columns["awarded_on"], slow)
        _add_positions(slow, awarded > self.today)
        body = _text(columns["awarding_body"], "awarding_body", slow)
        provider = self._providers(columns["provider_ukprn"], slow)

        record: list[Iterable[Any]] = [
            kind,
            _or_none(number),
            title,
            _or_none(level),
            _or_none(grade),
            _or_none(awarded_texts),
            _or_none(body),
            _or_none(provider),
        ]
        key_columns: list[Column] = [
            kind,
            number,
            title,
            level,
            grade,
            awarded_texts,
            body,
            provider,
        ]
        return record, key_columns, awarded

    def _experience(
        self, columns: dict[str, Column], slow: set[int]
    ) -> tuple[list[Iterable[Any]], list[Column], np.ndarray]:
        """Check the experience fields; return the record and key columns and dates."""
        kind = self._kinds(columns["kind"], slow)
        organisation = _text(
            columns["organisation"], "organisation", slow, required=True
        )
        role = _text(columns["role"], "role", slow)
        started, started_texts = _dates(columns["started_on"], slow)
        ended, ended_texts = _dates(columns["ended_on"], slow)
        _add_positions(slow, started > self.today)
        _add_positions(slow, (started > 0) & (ended > 0) & (ended < started))
        hours, hours_texts = self._hours(columns["hours"], slow)

        record: list[Iterable[Any]] = [
            kind,
            organisation,
            _or_none(role),
            _or_none(started_texts),
            _or_none(ended_texts),
            hours,
        ]
        key_columns = [
            kind,
            organisation,
            role,
            started_texts,
            ended_texts,
            hours_texts,
        ]
        return record, key_columns, started

    def _check_birth(
        self, birth: np.ndarray, record_date: np.ndarray, slow: set[int]
    ) -> None:
        """Send the rows whose date of birth breaks validate()'s age rules."""
        # Not in the future, and an age of 10 to 100 on the record's date or,
        # without one, today. A birth after the record's date gives an age
        # below 0, so the age test also catches it.
        today = self.today
        on = np.where(record_date > 0, record_date, today)
        age = (on - birth) // 10000
        outside = (age < MIN_AGE_YEARS) | (age > MAX_AGE_YEARS)
        _add_positions(slow, (birth > 0) & ((birth > today) | outside))

    def _hours(self, column: Column, slow: set[int]) -> tuple[list[Any], list[str]]:
        """Return the hours as numbers and as the text of those numbers in row keys."""
        numbers, texts = self._hour_numbers, self._hour_texts
        found = list(map(texts.get, column))
        if None not in found:
            return list(map(numbers.__getitem__, column)), cast("list[str]", found)

        unknown = {
            value for value, text in zip(column, found, strict=True) if text is None
        }
        if len(texts) + len(unknown) > CODE_CACHE_SIZE:
            numbers.clear()
            texts.clear()
        rejected = set()
        for value in unknown:
            text = value.strip()
            if text and not _HOURS.fullmatch(text):
                rejected.add(value)
                continue
            number = float(text) if text else None
            numbers[value] = number
            texts[value] = "" if number is None else str(number)
        _add_rows_with(slow, column, rejected)
        key_texts = list(map(texts.get, column, repeat("")))
        return list(map(numbers.get, column)), cast("list[str]", key_texts)

    def _kinds(self, column: Column, slow: set[int]) -> Column:
        """Return each kind as validate() stores it, sending those it rejects."""

        def normalise(text: str) -> str | None:
            problems: list[FieldProblem] = []
            kind = self.validator._kind(text, problems)
            return None if problems else kind

        return _convert_distinct(column, normalise, slow)

    def _providers(self, column: Column, slow: set[int]) -> Column:
        """Return each UKPRN as validate() stores it, "" when empty or rejected."""

        def check(text: str) -> str | None:
            if not text:
                return ""
            problems: list[FieldProblem] = []
            normalised = self.validator._code(
                "provider_ukprn", text, identifiers.validate_ukprn, problems
            )
            return None if problems else normalised

        return _convert_distinct(column, check, slow)

    def _qualification_numbers(self, column: Column, slow: set[int]) -> Column:
        """Return the column, sending numbers not plain NNN/NNNN/C or not registered."""
        codes, empty = _fixed_width(column, 10, slow)
        _add_positions(slow, ~(_matches(codes, _QN_CHARACTERS) | empty))
        register = self.validator.registers.qualifications
        if register:
            # register_key() of a number in NNN/NNNN/C form drops the slashes.
            keys = list(map(str.replace, column, repeat("/"), repeat("")))
            missing = set(keys).difference(register)
            missing.discard("")
            _add_rows_with(slow, keys, missing)
        return column


_collector_lock = threading.Lock()
_collector_pauses = 0
_collector_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block.

    Validation allocates millions of small tuples that hold no cycles; the
    collector would walk each chunk again at every generation. Blocks run at
    once in several threads share the pause, and the last one to end turns
    the collector back on if it was on before the first began.
    """
    global _collector_pauses, _collector_was_enabled
    with _collector_lock:
        if _collector_pauses == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _collector_pauses += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses -= 1
            if _collector_pauses == 0 and _collector_was_enabled:
                gc.enable()


def _date_number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _text(column: Column, name: str, slow: set[int], required: bool = False) -> Column:
    """Return the column stripped, sending values too long or missing."""
    if column.count("") == len(column):
        values = column
    else:
        values = list(map(str.strip, column))
    limit = MAX_LENGTHS.get(name)
    if limit is not None and max(map(len, values)) > limit:
        slow.update(i for i, value in enumerate(values) if len(value) > limit)
    if required and "" in values:
        slow.update(i for i, value in enumerate(values) if not value)
    return values


def _plain(column: Column, pattern: re.Pattern[str], slow: set[int]) -> Column:
    """Return the column, sending values not in the plain form ``pattern`` matches."""
    _require_pattern(column, pattern, slow)
    return column


def _require_pattern(
    column: Column, pattern: re.Pattern[str], slow: set[int]
) -> list[int]:
    """Send the values that ``pattern`` does not match in full; return their rows."""
    # all() drops each match as it goes, where a list of them would hold
    # a tracked object per row for the garbage collector to scan.
    if all(map(pattern.fullmatch, column)):
        return []
    failed = [i for i, value in enumerate(column) if not pattern.fullmatch(value)]
    slow.update(failed)
    return failed


def _uln(column: Column, slow: set[int]) -> Column:
    """Return the column, sending ULNs not in plain form or with a wrong check digit."""
    codes, empty = _fixed_width(column, 10, slow)
    digits = codes.astype(np.int64) - ord("0")
    remainder = (digits[:, :9] @ _ULN_WEIGHTS) % 11
    plain = _matches(codes, _ULN_CHARACTERS)
    # A remainder of 0 requires a check digit of 10, which no digit equals.
    checked = plain & (digits[:, 9] == 10 - remainder)
    _add_positions(slow, ~(checked | empty))
    return column


def _nino(column: Column, slow: set[int]) -> Column:
    """Return the column, sending NINOs not in plain form or with an unused prefix."""
    codes, empty = _fixed_width(column, 9, slow)
    prefixes = codes[:, 0].astype(np.int32) * 256 + codes[:, 1]
    used = ~np.isin(prefixes, _NINO_REJECTED_PREFIX_CODES)
    _add_positions(slow, ~((_matches(codes, _NINO_CHARACTERS) & used) | empty))
    return column


def _dates(column: Column, slow: set[int]) -> tuple[np.ndarray, Column]:
    """Return the dates as numbers, sending values not in YYYY-MM-DD form or invalid.

    A date in that form is its own ISO 8601 text, so the column is returned too.
    """
    codes, empty = _fixed_width(column, 10, slow)
    digits = codes.astype(np.int64) - ord("0")
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month = digits[:, 5] * 10 + digits[:, 6]
    day = digits[:, 8] * 10 + digits[:, 9]

    # The Gregorian calendar of datetime.date, from year 1 to 9999.
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    last_day = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + (leap & (month == 2))
    valid = _matches(codes, _DATE_CHARACTERS) & (year >= 1) & month_ok
    valid &= (day >= 1) & (day <= last_day)
    _add_positions(slow, ~(valid | empty))

    numbers = np.where(empty, _NO_DATE, year * 10000 + month * 100 + day)
    return numbers, column


def _fixed_width(
    column: Column, width: int, slow: set[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Return the values as rows of ASCII codes, and which values are empty.

    Each row of codes ends in a newline. A value of another width or with a
    non-ASCII character sends its row and reads as NUL characters, as does an
    empty value. The tables of _character_table() reject a newline inside a
    value, so a row of codes is always one whole value.
    """
    count = len(column)
    joined = "\n".join(column) + "\n"
    if len(joined) == (width + 1) * count and joined.isascii():
        return _codes(joined, width), np.zeros(count, dtype=bool)

    # A newline inside a value, or values too short and too long, can make the
    # total length right by chance, so lengths are checked value by value.
    lengths = np.fromiter(map(len, column), dtype=np.int64, count=count)
    empty = lengths == 0
    blank = "\0" * width
    filled = list(map({"": blank}.get, column, column))
    for position in np.flatnonzero(~empty & (lengths != width)).tolist():
        filled[position] = blank
        slow.add(position)
    joined = "\n".join(filled) + "\n"
    if not joined.isascii():
        for position, value in enumerate(filled):
            if not value.isascii():
                filled[position] = blank
                slow.add(position)
        joined = "\n".join(filled) + "\n"
    return _codes(joined, width), empty


def _codes(joined: str, width: int) -> np.ndarray:
    codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    return codes.reshape(-1, width + 1)


def _character_table(classes: Sequence[str]) -> np.ndarray:
    """Return which character codes each position of a value allows.

    The row after the value's own positions is for the newline that
    _fixed_width() puts after every value.
    """
    table = np.zeros((len(classes) + 1, 256), dtype=bool)
    for position, allowed in enumerate([*classes, "\n"]):
        table[position, [ord(character) for character in allowed]] = True
    return table


def _matches(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Return which rows of codes have an allowed character at every position."""
    return table[np.arange(table.shape[0]), codes].all(axis=1)


def _identifiers(column: Column, check: Callable[[str], str], slow: set[int]) -> Column:
    """Return each identifier as ``check`` normalises it, "" when empty or rejected."""
    if column.count("") == len(column):
        return column

    def normalise(text: str) -> str | None:
        try:
            return check(text) if text else ""
        except identifiers.InvalidIdentifier:
            return None

    return _convert_distinct(column, normalise, slow)


def _convert_distinct(
    column: Column, convert: Callable[[str], str | None], slow: set[int]
) -> Column:
    """Convert each distinct value, stripped, once; send those converted to None.

    Values repeat across rows (one provider, a few kinds), so this costs one
    call per distinct value. A rejected value reads as "".
    """
    table: dict[str, str] = {}
    rejected = set()
    for value in set(column):
        converted = convert(value.strip())
        if converted is None:
            rejected.add(value)
        table[value] = converted or ""
    _add_rows_with(slow, column, rejected)
    return list(map(table.__getitem__, column))


def _row_keys(ref: Column, key_columns: list[Column]) -> Iterator[str]:
    """Compute validate()'s row keys: SHA-256 of the ref and record fields joined."""
    joined = map(ROW_KEY_SEPARATOR.join, zip(ref, *key_columns, strict=False))
    return map(_HASH_TYPE.hexdigest, map(hashlib.sha256, map(str.encode, joined)))


def _or_none(values: Column) -> Iterable[str | None]:
    """Return the values with "" as None, as validate() stores empty fields."""
    if "" not in values:
        return values
    if values.count("") == len(values):
        return repeat(None)
    return map(_EMPTY_AS_NONE.get, values, values)


def _add_rows_with(slow: set[int], column: Column, values: set[str]) -> None:
    if values:
        slow.update(i for i, value in enumerate(column) if value in values)


def _add_positions(slow: set[int], mask: np.ndarray) -> None:
    if mask.any():
        slow.update(np.flatnonzero(mask).tolist())


# The plain forms that validate() returns unchanged, as allowed characters by
# position: ULN (10 digits, the first not 0), NINO (prefix letters that
# NIM39110 does not bar, 6 digits, suffix A to D), Ofqual number (NNN/NNNN/C)
# and ISO 8601 date (YYYY-MM-DD).
_ULN_CHARACTERS = _character_table(["123456789"] + [_DIGITS] * 9)
_NINO_CHARACTERS = _character_table(
    [
        "".join(sorted(_LETTERS - identifiers._NINO_BARRED_FIRST)),
        "".join(sorted(_LETTERS - identifiers._NINO_BARRED_SECOND)),
        *[_DIGITS] * 6,
        "ABCD",
    ]
)
# Prefixes whose letters pass the classes above but that are not allocated or
# mark administrative numbers, as two character codes in one number.
_NINO_REJECTED_PREFIX_CODES = np.array(
    [
        ord(prefix[0]) * 256 + ord(prefix[1])
        for prefix in identifiers._NINO_REJECTED_PREFIXES
    ]
)
_QN_CHARACTERS = _character_table(
    [_DIGITS] * 3 + ["/"] + [_DIGITS] * 4 + ["/", _DIGITS + "X"]
)
_DATE_CHARACTERS = _character_table(
    [_DIGITS] * 4 + ["-"] + [_DIGITS] * 2 + ["-"] + [_DIGITS] * 2
)
