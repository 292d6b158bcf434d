"""Validate UK education and employment identifiers by their published rules.

Each scheme has ``validate_<scheme>(value)``, which returns the normalised value
or raises :class:`InvalidIdentifier`, and ``is_valid_<scheme>(value)``.
:data:`SCHEMES` maps each scheme name to its validator. Nothing here guesses the
scheme of a value, because schemes share shapes (a UCAS Personal ID and a ULN
are both 10 digits, a HUSID and a UPN are both 13 characters): the caller names
the scheme.

ULN and UPN publish a check character and are validated in full. The other
schemes publish a format only, so a well-formed number that was never issued
still passes. ``docs/identifiers.md`` gives every rule with its source.

Only the standard library and :mod:`john.errors` are imported.
"""

from __future__ import annotations

import operator
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NoReturn

from john.errors import InvalidInput

__all__ = [
    "SCHEMES",
    "InvalidIdentifier",
    "Reason",
    "Validator",
    "is_valid_hesa_instid",
    "is_valid_husid",
    "is_valid_nino",
    "is_valid_qn",
    "is_valid_ucas_personal_id",
    "is_valid_ukprn",
    "is_valid_uln",
    "is_valid_upn",
    "is_valid_urn",
    "validate_hesa_instid",
    "validate_husid",
    "validate_nino",
    "validate_qn",
    "validate_ucas_personal_id",
    "validate_ukprn",
    "validate_uln",
    "validate_upn",
    "validate_urn",
]

Validator = Callable[[str], str]


class Reason(StrEnum):
    """The rule that an invalid value breaks, for callers that branch or count."""

    LENGTH = "length"
    CHARACTERS = "characters"
    RANGE = "range"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    CHECK_CHARACTER = "check_character"


class InvalidIdentifier(InvalidInput, ValueError):
    """Raised when a value is not a valid identifier of the named scheme.

    ``str(error)`` and ``error.detail`` end with the rejected value, so the person
    who typed it can find the mistake, and the API returns that text to the
    caller who sent the value. Logs, audit events and feed reports must use
    :attr:`safe_message`, which leaves the value out, and must not log the
    exception itself or its traceback.
    """

    def __init__(
        self,
        scheme: str,
        label: str,
        value: str,
        reason: Reason,
        explanation: str,
        expected: str,
    ) -> None:
        self.scheme = scheme
        self.label = label
        self.value = value
        self.reason = reason
        self.explanation = explanation
        self.expected = expected
        super().__init__(f"{self.safe_message} Received {value!r}.")

    @property
    def safe_message(self) -> str:
        """Message with the scheme, the fault and the expected form, not the value."""
        return f"Invalid {self.label}: {self.explanation}. Expected {self.expected}."

    def __reduce__(self) -> tuple[Any, ...]:
        # The default reduction replays only the message, which does not fit
        # this constructor, so unpickling in another process would fail.
        arguments = (
            self.scheme,
            self.label,
            self.value,
            self.reason,
            self.explanation,
            self.expected,
        )
        return (type(self), arguments)


@dataclass(frozen=True)
class _Scheme:
    name: str
    label: str
    expected: str


_ULN = _Scheme(
    "uln",
    "ULN (Unique Learner Number)",
    "10 digits, the first not 0, the last a modulus 11 check digit",
)
_UPN = _Scheme(
    "upn",
    "UPN (Unique Pupil Number)",
    "13 characters: a check letter, 11 digits, then a digit or, for a temporary"
    " UPN, a letter; no letter may be I, O or S",
)
_NINO = _Scheme(
    "nino",
    "National Insurance number",
    "2 prefix letters, 6 digits and a suffix letter A, B, C or D",
)
_UCAS = _Scheme(
    "ucas_personal_id",
    "UCAS Personal ID",
    "10 digits, written either without separators or as 3-3-4 digits joined by hyphens",
)
_UKPRN = _Scheme(
    "ukprn",
    "UKPRN (UK Provider Reference Number)",
    "8 digits from 10000000 to 99999999",
)
_URN = _Scheme(
    "urn",
    "URN (school Unique Reference Number)",
    "6 digits from 100000 to 999999",
)
_QN = _Scheme(
    "qn",
    "Ofqual qualification number",
    "3 digits, 4 digits and a check character (a digit or X), written"
    " NNN/NNNN/C or without the slashes",
)
_HUSID = _Scheme(
    "husid",
    "HUSID (HESA unique student identifier)",
    "13 digits, not all of them 0",
)
_HESA_INSTID = _Scheme(
    "hesa_instid",
    "HESA institution identifier",
    "4 digits",
)

# ASCII only, because str.isdigit() and the regex \d also accept digits from
# other scripts, such as Arabic-Indic or full-width digits.
_DIGITS = frozenset(string.digits)
_LETTERS = frozenset(string.ascii_uppercase)


def _fail(scheme: _Scheme, value: str, reason: Reason, explanation: str) -> NoReturn:
    raise InvalidIdentifier(
        scheme.name, scheme.label, value, reason, explanation, scheme.expected
    )


def _prepare(scheme: _Scheme, value: str) -> str:
    """Strip surrounding whitespace, reject non-ASCII text and upper-case the rest."""
    if not isinstance(value, str):
        raise TypeError(
            f"{scheme.label} must be given as str, not {type(value).__name__}"
        )

    text = value.strip()
    # Checked before upper(), which maps some non-ASCII letters (such as the
    # ligature "ﬀ") to ASCII ones and would let them through.
    if not text.isascii():
        _fail(scheme, value, Reason.CHARACTERS, "it contains a non-ASCII character")
    return text.upper()


def _require_length(scheme: _Scheme, value: str, text: str, length: int) -> None:
    if len(text) != length:
        _fail(
            scheme,
            value,
            Reason.LENGTH,
            f"it has {len(text)} characters, not {length}",
        )


def _require_digits(
    scheme: _Scheme, value: str, text: str, start: int = 0, stop: int | None = None
) -> None:
    """Reject the value unless text[start:stop] is all ASCII digits."""
    stop = len(text) if stop is None else stop
    for index in range(start, stop):
        if text[index] not in _DIGITS:
            _fail(
                scheme,
                value,
                Reason.CHARACTERS,
                f"character {index + 1} must be a digit 0-9",
            )


def _check_separators(
    scheme: _Scheme,
    value: str,
    text: str,
    forms: tuple[str, str],
    explanation: str,
) -> None:
    """Reject text unless it is one of ``forms``: without or with all separators."""
    if text not in forms:
        _fail(scheme, value, Reason.CHARACTERS, explanation)


def _is_valid(validator: Validator, value: str) -> bool:
    try:
        validator(value)
    except InvalidIdentifier:
        return False
    return True


# --- ULN ------------------------------------------------------------------

_ULN_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
# The weighted sum of nine ASCII digit codes exceeds the weighted sum of the
# digits by this much, so the sum can be taken over the encoded bytes.
_ULN_CODE_EXCESS = ord("0") * sum(_ULN_WEIGHTS)
# A ULN in the form the validator returns. A value already in this form skips
# the slower steps.
_ULN_PLAIN = re.compile(r"[1-9][0-9]{9}")


def _uln_remainder(uln: str) -> int:
    codes = uln.encode("ascii")
    return (sum(map(operator.mul, codes, _ULN_WEIGHTS)) - _ULN_CODE_EXCESS) % 11


def validate_uln(value: str) -> str:
    """Validate a Unique Learner Number and return it stripped.

    The Learning Records Service rule weights the first nine digits 10 down to
    2 and divides the sum by 11. A remainder of 0 leaves no valid check digit,
    and any other remainder r requires a tenth digit of 10 - r.
    """
    if isinstance(value, str) and _ULN_PLAIN.fullmatch(value):
        remainder = _uln_remainder(value)
        if remainder and ord(value[9]) - 48 == 10 - remainder:
            return value

    uln = _prepare(_ULN, value)
    _require_length(_ULN, value, uln, 10)
    _require_digits(_ULN, value, uln)
    if uln[0] == "0":
        _fail(_ULN, value, Reason.RANGE, "the first digit is 0")

    remainder = _uln_remainder(uln)
    if remainder == 0:
        _fail(
            _ULN,
            value,
            Reason.CHECK_CHARACTER,
            "no check digit can follow the first nine digits, because their"
            " weighted sum is a multiple of 11",
        )
    if int(uln[9]) != 10 - remainder:
        _fail(
            _ULN,
            value,
            Reason.CHECK_CHARACTER,
            "the check digit does not match the first nine digits",
        )
    return uln


def is_valid_uln(value: str) -> bool:
    """Return whether ``value`` is a valid Unique Learner Number."""
    return _is_valid(validate_uln, value)


# --- UPN ------------------------------------------------------------------

# The 23 letters A-Z without I, O and S, in order: the check letter for a
# remainder r is _UPN_LETTERS[r], and a temporary UPN's final letter counts as
# its index here.
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def _upn_check_letter(body: str) -> str:
    """Compute the check letter for characters 2-13 of a UPN."""
    total = 0
    for position, character in enumerate(body, start=2):
        if character in _DIGITS:
            value = int(character)
        else:
            value = _UPN_LETTERS.index(character)
        total += position * value
    return _UPN_LETTERS[total % 23]


def validate_upn(value: str) -> str:
    """Validate a Unique Pupil Number and return it stripped and upper-cased.

    The DfE rule multiplies each of characters 2-13 by its position (2 to 13),
    sums the products and takes the remainder modulo 23. The remainder indexes
    the letters A-Z without I, O and S, and that letter must be character 1.
    """
    upn = _prepare(_UPN, value)
    _require_length(_UPN, value, upn, 13)
    if upn[0] not in _UPN_LETTERS:
        _fail(
            _UPN,
            value,
            Reason.CHARACTERS,
            "character 1 must be a check letter A-Z other than I, O or S",
        )

    # Characters 2-12 are the LA number, establishment number, year and serial.
    # NOTE: the LA number is checked for digits only, not against the DfE list
    # of LA codes, because that list changes as authorities are reorganised.
    _require_digits(_UPN, value, upn, 1, 12)
    if upn[12] not in _DIGITS and upn[12] not in _UPN_LETTERS:
        _fail(
            _UPN,
            value,
            Reason.CHARACTERS,
            "character 13 must be a digit or a letter other than I, O or S",
        )

    if _upn_check_letter(upn[1:]) != upn[0]:
        _fail(
            _UPN,
            value,
            Reason.CHECK_CHARACTER,
            "the check letter does not match characters 2-13",
        )
    return upn


def is_valid_upn(value: str) -> bool:
    """Return whether ``value`` is a valid Unique Pupil Number."""
    return _is_valid(validate_upn, value)


# --- National Insurance number ----------------------------------------------

# HMRC National Insurance Manual NIM39110.
_NINO_BARRED_FIRST = frozenset("DFIQUV")
_NINO_BARRED_SECOND = frozenset("DFIOQUV")
_NINO_UNUSED_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
# Administrative reference numbers that NIM39110 lists as not valid NINO
# prefixes. Its OO prefix is already barred by the second-letter rule.
_NINO_ADMINISTRATIVE_PREFIXES = frozenset({"CR", "FY", "MW", "NC"})
_NINO_REJECTED_PREFIXES = _NINO_UNUSED_PREFIXES | _NINO_ADMINISTRATIVE_PREFIXES
_NINO_SUFFIXES = frozenset("ABCD")
_NINO_WITHOUT_SUFFIX = re.compile(r"[A-Z]{2}[0-9]{6}")
# A NINO without spaces whose prefix letters pass the barred-letter rules, so
# only the unused and administrative prefixes remain to be checked.
_NINO_PLAIN = re.compile(r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]")


def validate_nino(value: str) -> str:
    """Validate a National Insurance number and return it without spaces.

    Spaces are removed because HMRC prints NINOs in groups (``AB 12 34 56 C``).
    The suffix letter is required, as NIM39110 states that it is always A, B, C
    or D.
    """
    if isinstance(value, str) and _NINO_PLAIN.fullmatch(value):
        if value[:2] not in _NINO_REJECTED_PREFIXES:
            return value

    nino = _prepare(_NINO, value).replace(" ", "")
    if _NINO_WITHOUT_SUFFIX.fullmatch(nino):
        _fail(_NINO, value, Reason.SUFFIX, "the suffix letter is missing")
    _require_length(_NINO, value, nino, 9)

    if nino[0] not in _LETTERS or nino[1] not in _LETTERS:
        _fail(_NINO, value, Reason.CHARACTERS, "characters 1 and 2 must be letters")
    _require_digits(_NINO, value, nino, 2, 8)

    prefix = nino[:2]
    if prefix[0] in _NINO_BARRED_FIRST:
        _fail(
            _NINO,
            value,
            Reason.PREFIX,
            "the first prefix letter cannot be D, F, I, Q, U or V",
        )
    if prefix[1] in _NINO_BARRED_SECOND:
        _fail(
            _NINO,
            value,
            Reason.PREFIX,
            "the second prefix letter cannot be D, F, I, O, Q, U or V",
        )
    if prefix in _NINO_UNUSED_PREFIXES:
        _fail(
            _NINO,
            value,
            Reason.PREFIX,
            "the prefixes BG, GB, KN, NK, NT, TN and ZZ are not allocated",
        )
    if prefix in _NINO_ADMINISTRATIVE_PREFIXES:
        _fail(
            _NINO,
            value,
            Reason.PREFIX,
            "the prefixes CR, FY, MW and NC mark administrative reference"
            " numbers, not NINOs",
        )

    if nino[8] not in _NINO_SUFFIXES:
        _fail(_NINO, value, Reason.SUFFIX, "the suffix letter must be A, B, C or D")
    return nino


def is_valid_nino(value: str) -> bool:
    """Return whether ``value`` is a valid National Insurance number."""
    return _is_valid(validate_nino, value)


# --- Format-only schemes ------------------------------------------------------


def validate_ucas_personal_id(value: str) -> str:
    """Validate the format of a UCAS Personal ID and return its 10 digits.

    UCAS shows the ID as 3-3-4 digits joined by hyphens, which are removed.
    UCAS publishes no check digit, so this checks the format only.
    """
    text = _prepare(_UCAS, value)
    digits = text.replace("-", "")
    _require_length(_UCAS, value, digits, 10)
    _require_digits(_UCAS, value, digits)
    _check_separators(
        _UCAS,
        value,
        text,
        (digits, f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"),
        "hyphens may only follow the third and sixth digits",
    )

    # The ILR and HESA specifications accept 0000000001 to 9999999999.
    if digits == "0000000000":
        _fail(_UCAS, value, Reason.RANGE, "every digit is 0")
    return digits


def is_valid_ucas_personal_id(value: str) -> bool:
    """Return whether ``value`` has the format of a UCAS Personal ID."""
    return _is_valid(validate_ucas_personal_id, value)


_UKPRN_PLAIN = re.compile(r"[1-9][0-9]{7}")


def validate_ukprn(value: str) -> str:
    """Validate the format of a UK Provider Reference Number and return it stripped.

    The ILR specification accepts 10000000 to 99999999. UKRLP publishes no
    check digit, so this checks the format only.
    """
    if isinstance(value, str) and _UKPRN_PLAIN.fullmatch(value):
        return value
    ukprn = _prepare(_UKPRN, value)
    _require_length(_UKPRN, value, ukprn, 8)
    _require_digits(_UKPRN, value, ukprn)
    if ukprn[0] == "0":
        _fail(_UKPRN, value, Reason.RANGE, "the first digit is 0")
    return ukprn


def is_valid_ukprn(value: str) -> bool:
    """Return whether ``value`` has the format of a UKPRN."""
    return _is_valid(validate_ukprn, value)


def validate_urn(value: str) -> str:
    """Validate the format of a school Unique Reference Number and return it stripped.

    URNs are 6 digits with no published check digit, so this checks the
    format only.
    """
    urn = _prepare(_URN, value)
    _require_length(_URN, value, urn, 6)
    _require_digits(_URN, value, urn)
    # NOTE: no published rule states the lower bound 100000. It is kept so
    # that a URN whose leading digit was lost is caught as out of range.
    if urn[0] == "0":
        _fail(_URN, value, Reason.RANGE, "the first digit is 0")
    return urn


def is_valid_urn(value: str) -> bool:
    """Return whether ``value`` has the format of a URN."""
    return _is_valid(validate_urn, value)


_QN_SLASHED = re.compile(r"[0-9]{3}/[0-9]{4}/[0-9X]")


def validate_qn(value: str) -> str:
    """Validate the format of an Ofqual qualification number, returning NNN/NNNN/C.

    The final character is a check character, but Ofqual publishes no rule
    for computing it, so this checks the format only. Input without slashes
    is accepted.
    """
    if isinstance(value, str) and _QN_SLASHED.fullmatch(value):
        return value
    text = _prepare(_QN, value)
    compact = text.replace("/", "")
    _require_length(_QN, value, compact, 8)
    _require_digits(_QN, value, compact, 0, 7)
    if compact[7] not in _DIGITS and compact[7] != "X":
        _fail(_QN, value, Reason.CHARACTERS, "character 8 must be a digit or X")

    slashed = f"{compact[:3]}/{compact[3:7]}/{compact[7]}"
    _check_separators(
        _QN,
        value,
        text,
        (compact, slashed),
        "slashes may only follow the third and seventh digits",
    )
    return slashed


def is_valid_qn(value: str) -> bool:
    """Return whether ``value`` has the format of an Ofqual qualification number."""
    return _is_valid(validate_qn, value)


def validate_husid(value: str) -> str:
    """Validate the format of a HESA unique student identifier and return it stripped.

    A HUSID is 13 digits. HESA's data collection rejects one whose digits are
    all 0, and so does this function.
    """
    husid = _prepare(_HUSID, value)
    _require_length(_HUSID, value, husid, 13)
    _require_digits(_HUSID, value, husid)
    if husid == "0" * 13:
        _fail(_HUSID, value, Reason.RANGE, "every digit is 0")

    # TODO: check the final digit once HESA's HUSID weights are confirmed.
    # HESA computes the SID check digit as 10 minus the last digit of a
    # weighted sum, but HUSIDs made from UCAS numbers before 2007/08 may follow
    # another rule, so a guessed rule could reject real HUSIDs.
    return husid


def is_valid_husid(value: str) -> bool:
    """Return whether ``value`` has the format of a HUSID."""
    return _is_valid(validate_husid, value)


def validate_hesa_instid(value: str) -> str:
    """Validate the format of a HESA institution identifier and return it stripped.

    HESA lists these as 4 digits with leading zeros kept, such as 0037. The
    check is of the format only, not of HESA's list of institutions.
    """
    instid = _prepare(_HESA_INSTID, value)
    _require_length(_HESA_INSTID, value, instid, 4)
    _require_digits(_HESA_INSTID, value, instid)
    return instid


def is_valid_hesa_instid(value: str) -> bool:
    """Return whether ``value`` has the format of a HESA institution identifier."""
    return _is_valid(validate_hesa_instid, value)


# Read-only, so no caller can swap a validator for every other caller.
SCHEMES: Mapping[str, Validator] = MappingProxyType(
    {
        _ULN.name: validate_uln,
        _UPN.name: validate_upn,
        _NINO.name: validate_nino,
        _UCAS.name: validate_ucas_personal_id,
        _UKPRN.name: validate_ukprn,
        _URN.name: validate_urn,
        _QN.name: validate_qn,
        _HUSID.name: validate_husid,
        _HESA_INSTID.name: validate_hesa_instid,
    }
)
