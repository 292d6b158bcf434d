"""Stand-in for ``john.identity.identifiers`` until that module is on this branch.

It follows the same API (``validate_<scheme>(value) -> str`` raising
``InvalidIdentifier`` with ``scheme``, ``reason`` and ``safe_message``) and the
published check rules, so feeds validate the same way before and after the
identity module arrives. ``john.records.validation`` imports the real module
when it exists.
"""

from __future__ import annotations

import re

# TODO: delete this module once john.identity.identifiers is merged from main.


class InvalidIdentifier(ValueError):
    """Raised when a value breaks its scheme's format or check-digit rule."""

    def __init__(self, scheme: str, reason: str):
        super().__init__(f"invalid {scheme}: {reason}")
        self.scheme = scheme
        self.reason = reason
        self.safe_message = f"invalid {scheme}: {reason}"


_SEPARATORS = re.compile(r"[\s/-]")


def _compact(value: str) -> str:
    if value.isalnum():
        return value.upper()
    return _SEPARATORS.sub("", value).upper()


def validate_uln(value: str) -> str:
    """Check a Unique Learner Number: 10 digits, mod-11 check digit (LRS rules)."""
    uln = _compact(value)
    if len(uln) != 10 or not uln.isdecimal() or not uln.isascii() or uln[0] == "0":
        raise InvalidIdentifier("ULN", "must be 10 digits not starting with 0")
    d = [ord(c) - 48 for c in uln]
    total = (
        10 * d[0] + 9 * d[1] + 8 * d[2] + 7 * d[3] + 6 * d[4]
        + 5 * d[5] + 4 * d[6] + 3 * d[7] + 2 * d[8]
    )  # fmt: skip
    check = 10 - total % 11
    if check == 10 or check != d[9]:
        raise InvalidIdentifier("ULN", "check digit does not match")
    return uln


_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def validate_upn(value: str) -> str:
    """Check a Unique Pupil Number: check letter then 12 characters (DfE rules)."""
    upn = _compact(value)
    if not re.fullmatch(r"[A-Z]\d{11}[0-9A-Z]", upn):
        raise InvalidIdentifier("UPN", "must be a letter, 11 digits and a character")
    last = upn[12]
    values = [int(c) for c in upn[1:12]]
    values.append(int(last) if last.isdigit() else _UPN_LETTERS.find(last))
    if values[-1] < 0:
        raise InvalidIdentifier("UPN", "last character is not allowed")
    total = sum(v * w for v, w in zip(values, range(2, 14), strict=True))
    if _UPN_LETTERS[total % 23] != upn[0]:
        raise InvalidIdentifier("UPN", "check letter does not match")
    return upn


_NINO = re.compile(
    r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]"
)


def validate_ni_number(value: str) -> str:
    """Check a National Insurance number's prefix, digits and suffix (HMRC rules)."""
    nino = _compact(value)
    if not _NINO.fullmatch(nino):
        raise InvalidIdentifier("NI number", "must be two letters, six digits, A-D")
    return nino


def validate_ucas_id(value: str) -> str:
    """Check a UCAS Personal ID: 10 digits."""
    ucas = _compact(value)
    if not re.fullmatch(r"\d{10}", ucas):
        raise InvalidIdentifier("UCAS Personal ID", "must be 10 digits")
    return ucas


def validate_ukprn(value: str) -> str:
    """Check a UK Provider Reference Number: 8 digits starting with 1."""
    ukprn = _compact(value)
    if not re.fullmatch(r"1\d{7}", ukprn):
        raise InvalidIdentifier("UKPRN", "must be 8 digits starting with 1")
    return ukprn


def validate_urn(value: str) -> str:
    """Check a school Unique Reference Number: 6 digits."""
    urn = _compact(value)
    if not re.fullmatch(r"\d{6}", urn):
        raise InvalidIdentifier("URN", "must be 6 digits")
    return urn


def validate_qualification_number(value: str) -> str:
    """Check an Ofqual qualification number such as 601/8830/6."""
    number = _compact(value)
    if not re.fullmatch(r"\d{3}[0-9A-Z]{4}[0-9X]", number):
        raise InvalidIdentifier("qualification number", "must look like 601/8830/6")
    return f"{number[:3]}/{number[3:7]}/{number[7]}"


def validate_husid(value: str) -> str:
    """Check a HESA unique student identifier: 13 digits with a check digit."""
    husid = _compact(value)
    if not re.fullmatch(r"\d{13}", husid):
        raise InvalidIdentifier("HUSID", "must be 13 digits")
    weights = (1, 3, 7) * 4
    total = sum(int(d) * w for d, w in zip(husid[:12], weights, strict=True))
    if (10 - total % 10) % 10 != int(husid[12]):
        raise InvalidIdentifier("HUSID", "check digit does not match")
    return husid
