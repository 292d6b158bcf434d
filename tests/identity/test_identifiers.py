"""Tests for identifier validation against each scheme's published rules.

The tables read as the specification: each row names where its example comes
from. Property tests check the claims the check-character rules support, and
python-stdnum serves as an independent implementation of the UPN rule.
"""

from __future__ import annotations

import ast
import pickle
import string
import sys
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from stdnum.exceptions import InvalidComponent, ValidationError
from stdnum.gb import upn as stdnum_upn

from john.errors import InvalidInput
from john.identity import identifiers
from john.identity.identifiers import (
    SCHEMES,
    InvalidIdentifier,
    Reason,
    is_valid_nino,
    is_valid_uln,
    is_valid_upn,
    validate_uln,
    validate_upn,
)

# Each row: scheme, input, normalised output.
VALID_CASES = [
    # HESA Student record coding manual, ULN field: worked checksum example.
    ("uln", "9276308686", "9276308686"),
    ("uln", " 9276308686\t", "9276308686"),
    # Constructed: 1 x 10 + 4 x 2 = 18, remainder 7, check digit 10 - 7 = 3.
    ("uln", "1000000043", "1000000043"),
    # School census error 1510 help (Arbor, Juniper) works on 207000016049:
    # its products add up to 266, remainder 13, so the check letter is P.
    ("upn", "P207000016049", "P207000016049"),
    ("upn", "p207000016049 ", "P207000016049"),
    # python-stdnum 2.2, stdnum.gb.upn documentation example.
    ("upn", "B801200005001", "B801200005001"),
    # Temporary UPN: the final B counts as 1, like the digit 1 above.
    ("upn", "B80120000500B", "B80120000500B"),
    # Constructed from letters that HMRC NIM39110 allows in a prefix.
    ("nino", "AB123456C", "AB123456C"),
    # NIM39110 prints NINOs in groups separated by spaces.
    ("nino", "ab 12 34 56 c", "AB123456C"),
    # NIM39110 bars O only as the second letter, so it may come first.
    ("nino", "OA123456D", "OA123456D"),
    # HESA and ILR UCASPERID notes: hyphens after characters 3 and 6.
    ("ucas_personal_id", "123-456-7890", "1234567890"),
    ("ucas_personal_id", "1234567890", "1234567890"),
    # ILR UCASPERID notes: leading zeros are kept, as in 0000123456.
    ("ucas_personal_id", "0000123456", "0000123456"),
    # ILR specification, PartnerUKPRN field: valid range 10000000 to 99999999.
    ("ukprn", "10000000", "10000000"),
    ("ukprn", "99999999", "99999999"),
    # 360Giving guidance on identifying schools: Wakefield Girls' High School.
    ("urn", "108305", "108305"),
    ("urn", "100000", "100000"),
    # Ofqual vocational quarterly file format (2023): example QAN.
    ("qn", "601/2977/3", "601/2977/3"),
    ("qn", "60129773", "601/2977/3"),
    # Ofqual vocational quarterly file format (2026): example QAN.
    ("qn", "123/1234/1", "123/1234/1"),
    # Constructed: the check character may be X, given in either case.
    ("qn", "500/1234/x", "500/1234/X"),
    # Constructed: 2-digit year, 4-digit institution part, serial, check digit.
    ("husid", "0712345678901", "0712345678901"),
    # HESA derived field XINSTID01 valid entries: 0037 and 0184.
    ("hesa_instid", "0037", "0037"),
    ("hesa_instid", "0184", "0184"),
]

# Each row: scheme, input, reason it fails.
INVALID_CASES = [
    # Constructed: 1 x 10 + 6 x 2 = 22, remainder 0, so no check digit fits.
    ("uln", "1000000063", Reason.CHECK_CHARACTER),
    ("uln", "9276308687", Reason.CHECK_CHARACTER),
    ("uln", "0276308686", Reason.RANGE),
    ("uln", "927630868", Reason.LENGTH),
    ("uln", "92763086866", Reason.LENGTH),
    ("uln", "92763O8686", Reason.CHARACTERS),
    ("uln", "9276 308686", Reason.LENGTH),
    # Arabic-Indic digits pass str.isdigit() but are not ULN digits.
    ("uln", "\u0669276308686", Reason.CHARACTERS),
    ("uln", "", Reason.LENGTH),
    # School census error 1510 help: B207000016049 is its invalid example, and
    # Q207000016049 is the letter it proposes after an arithmetic slip.
    ("upn", "B207000016049", Reason.CHECK_CHARACTER),
    ("upn", "Q207000016049", Reason.CHECK_CHARACTER),
    # python-stdnum documentation: A801200005001 has the wrong check letter.
    ("upn", "A801200005001", Reason.CHECK_CHARACTER),
    ("upn", "B80120000500", Reason.LENGTH),
    ("upn", "1801200005001", Reason.CHARACTERS),
    ("upn", "I801200005001", Reason.CHARACTERS),
    # python-stdnum documentation: characters 2-12 must be digits.
    ("upn", "X80120000A001", Reason.CHARACTERS),
    ("upn", "B80120000500O", Reason.CHARACTERS),
    ("upn", "B80120000500S", Reason.CHARACTERS),
    # HMRC NIM39110 example, marked as not a real number: Q is barred.
    ("nino", "QQ 12 34 56 A", Reason.PREFIX),
    # DWP "Introduction to National Insurance Number (NINo) Allocation" gives
    # FH123456A as an example, but NIM39110 bars F as a prefix letter.
    ("nino", "FH123456A", Reason.PREFIX),
    ("nino", "DA123456A", Reason.PREFIX),
    ("nino", "AO123456A", Reason.PREFIX),
    ("nino", "AV123456A", Reason.PREFIX),
    ("nino", "GB123456A", Reason.PREFIX),
    ("nino", "ZZ123456A", Reason.PREFIX),
    # NIM39110 administrative prefixes: OO fails the second-letter rule.
    ("nino", "OO123456A", Reason.PREFIX),
    ("nino", "CR123456A", Reason.PREFIX),
    ("nino", "MW123456A", Reason.PREFIX),
    ("nino", "AB123456E", Reason.SUFFIX),
    ("nino", "AB123456", Reason.SUFFIX),
    ("nino", "AB 12 34 56", Reason.SUFFIX),
    ("nino", "AB12345C", Reason.LENGTH),
    ("nino", "A1123456C", Reason.CHARACTERS),
    ("nino", "AB12345XC", Reason.CHARACTERS),
    # HMRC NIM39110: a Temporary Reference Number (11 a1 11 11) is not a NINO.
    ("nino", "11 a1 11 11", Reason.LENGTH),
    ("ucas_personal_id", "123456789", Reason.LENGTH),
    ("ucas_personal_id", "12345678A0", Reason.CHARACTERS),
    ("ucas_personal_id", "12-3456-7890", Reason.CHARACTERS),
    ("ucas_personal_id", "123-4567890", Reason.CHARACTERS),
    ("ucas_personal_id", "123 456 7890", Reason.LENGTH),
    # ILR UCASPERID valid entries start at 0000000001.
    ("ucas_personal_id", "0000000000", Reason.RANGE),
    ("ukprn", "09999999", Reason.RANGE),
    ("ukprn", "1000000", Reason.LENGTH),
    ("ukprn", "1000000A", Reason.CHARACTERS),
    ("urn", "099999", Reason.RANGE),
    ("urn", "10830", Reason.LENGTH),
    ("urn", "10830A", Reason.CHARACTERS),
    # Ofsted early-years registration numbers carry an EY prefix.
    ("urn", "EY123456", Reason.LENGTH),
    ("qn", "601/2977/33", Reason.LENGTH),
    ("qn", "601/2977/A", Reason.CHARACTERS),
    ("qn", "60A/2977/3", Reason.CHARACTERS),
    ("qn", "6012/977/3", Reason.CHARACTERS),
    ("qn", "601/29773", Reason.CHARACTERS),
    # HESA validation rejects a HUSID whose digits are all 0.
    ("husid", "0000000000000", Reason.RANGE),
    ("husid", "071234567890", Reason.LENGTH),
    ("husid", "07123456789O1", Reason.CHARACTERS),
    ("hesa_instid", "37", Reason.LENGTH),
    ("hesa_instid", "00A7", Reason.CHARACTERS),
]

ALL_SCHEMES = [
    "uln",
    "upn",
    "nino",
    "ucas_personal_id",
    "ukprn",
    "urn",
    "qn",
    "husid",
    "hesa_instid",
]

UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
UPN_FINAL_CHARACTERS = string.digits + UPN_LETTERS
DIGITS = string.digits


def case_id(case: tuple[str, str, object]) -> str:
    """Name a table row by scheme and input so a failure points at the row."""
    return f"{case[0]}:{case[1]!r}"


# --- Tables -----------------------------------------------------------------


@pytest.mark.parametrize("case", VALID_CASES, ids=case_id)
def test_valid_value_normalises(case: tuple[str, str, str]) -> None:
    scheme, raw, normalised = case
    validate = SCHEMES[scheme]
    is_valid = getattr(identifiers, f"is_valid_{scheme}")

    assert validate(raw) == normalised
    assert is_valid(raw) is True


@pytest.mark.parametrize("case", INVALID_CASES, ids=case_id)
def test_invalid_value_gives_reason(case: tuple[str, str, Reason]) -> None:
    scheme, raw, reason = case
    validate = SCHEMES[scheme]
    is_valid = getattr(identifiers, f"is_valid_{scheme}")

    with pytest.raises(InvalidIdentifier) as caught:
        validate(raw)

    assert caught.value.reason is reason
    assert caught.value.scheme == scheme
    assert caught.value.value == raw
    assert is_valid(raw) is False


def test_uln_reasons_differ_by_fault() -> None:
    reasons = set()
    for raw in ("927630868", "0276308686", "92763O8686", "9276308687"):
        with pytest.raises(InvalidIdentifier) as caught:
            validate_uln(raw)
        reasons.add(caught.value.reason)

    assert reasons == {
        Reason.LENGTH,
        Reason.RANGE,
        Reason.CHARACTERS,
        Reason.CHECK_CHARACTER,
    }


# HMRC NIM39110: D, F, I, Q, U and V never appear in a prefix, and O never
# appears as its second letter. The partner letter A is allowed in both places.
@pytest.mark.parametrize("letter", string.ascii_uppercase)
def test_nino_first_letter_rule(letter: str) -> None:
    assert is_valid_nino(f"{letter}A123456A") == (letter not in "DFIQUV")


@pytest.mark.parametrize("letter", string.ascii_uppercase)
def test_nino_second_letter_rule(letter: str) -> None:
    assert is_valid_nino(f"A{letter}123456A") == (letter not in "DFIOQUV")


# --- Registry and exception ---------------------------------------------------


def test_schemes_lists_every_validator() -> None:
    assert sorted(SCHEMES) == sorted(ALL_SCHEMES)
    for scheme in ALL_SCHEMES:
        assert SCHEMES[scheme] is getattr(identifiers, f"validate_{scheme}")
        assert callable(getattr(identifiers, f"is_valid_{scheme}"))


def test_schemes_mapping_is_read_only() -> None:
    with pytest.raises(TypeError):
        SCHEMES["uln"] = validate_upn  # type: ignore[index]


def test_every_validator_has_valid_example() -> None:
    covered = {case[0] for case in VALID_CASES}
    assert covered == set(ALL_SCHEMES)


def test_every_reason_has_invalid_example() -> None:
    covered = {case[2] for case in INVALID_CASES}
    assert covered == set(Reason)


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_non_string_raises_type_error(scheme: str) -> None:
    with pytest.raises(TypeError):
        SCHEMES[scheme](1234567890)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        getattr(identifiers, f"is_valid_{scheme}")(None)


def test_exception_fits_error_tree() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_uln("9276308687")

    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.status == 422
    assert caught.value.detail == str(caught.value)


# One rejected value per scheme, each long enough not to occur by chance in
# the wording of a message.
SENTINELS = {
    "uln": "9276308687",
    "upn": "B207000016049",
    "nino": "QQ987654A",
    "ucas_personal_id": "98-7654-3210",
    "ukprn": "098765432",
    "urn": "0987654",
    "qn": "987/6543/Y",
    "husid": "98765432109",
    "hesa_instid": "98A76",
}


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_safe_message_omits_value(scheme: str) -> None:
    raw = SENTINELS[scheme]
    with pytest.raises(InvalidIdentifier) as caught:
        SCHEMES[scheme](raw)
    error = caught.value

    assert raw not in error.safe_message
    assert error.label in error.safe_message
    assert error.explanation in error.safe_message
    assert error.expected in error.safe_message
    assert repr(raw) in str(error)


def test_exception_survives_pickling() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_upn("B207000016049")

    copy = pickle.loads(pickle.dumps(caught.value))

    assert type(copy) is InvalidIdentifier
    assert copy.scheme == "upn"
    assert copy.value == "B207000016049"
    assert copy.reason is Reason.CHECK_CHARACTER
    assert str(copy) == str(caught.value)


def test_module_imports_stdlib_and_errors() -> None:
    source = Path(identifiers.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)

    outside_stdlib = {
        name for name in imported if name.split(".")[0] not in sys.stdlib_module_names
    }
    assert outside_stdlib == {"john.errors"}


# --- ULN properties -----------------------------------------------------------


def hesa_uln_rule(uln: str) -> bool:
    """Apply the HESA coding manual's wording of the ULN rule.

    HESA weights all ten digits 10 down to 1 and requires a remainder of 10
    modulo 11. The module follows the LRS wording (nine digits, check digit
    10 minus the remainder), so agreement checks one against the other.
    """
    weighted = zip(uln, range(10, 0, -1), strict=True)
    return uln[0] != "0" and sum(int(d) * w for d, w in weighted) % 11 == 10


ten_digits = st.text(alphabet=DIGITS, min_size=10, max_size=10)


@st.composite
def valid_ulns(draw: st.DrawFn) -> str:
    """Draw nine digits and append the one check digit that fits, if any."""
    body = draw(st.text(alphabet=DIGITS, min_size=9, max_size=9))
    assume(body[0] != "0")
    candidates = [body + digit for digit in DIGITS if hesa_uln_rule(body + digit)]
    assume(candidates)
    return candidates[0]


@given(ten_digits)
@example("9276308686")
@example("1000000063")
def test_uln_rule_matches_hesa_wording(uln: str) -> None:
    assert is_valid_uln(uln) == hesa_uln_rule(uln)


@given(valid_ulns())
def test_generated_uln_validates(uln: str) -> None:
    assert validate_uln(uln) == uln


# Changing digit i by d (1 <= |d| <= 9) changes the HESA sum by w_i * d, with
# w_i in 1..10. As 11 is prime and divides neither factor, it cannot divide
# the product, so the remainder moves off 10: every single substitution,
# check digit included, is caught.
@given(valid_ulns(), st.integers(0, 9), st.integers(1, 9))
def test_uln_one_digit_change_invalidates(uln: str, position: int, shift: int) -> None:
    digit = str((int(uln[position]) + shift) % 10)
    changed = uln[:position] + digit + uln[position + 1 :]

    assert not is_valid_uln(changed)


# Swapping unequal neighbours a, b changes the sum by (a - b)(w_i - w_{i+1}),
# and neighbouring weights differ by 1, so the change is a - b, which 11
# cannot divide.
@given(valid_ulns(), st.integers(0, 8))
def test_uln_adjacent_swap_invalidates(uln: str, position: int) -> None:
    assume(uln[position] != uln[position + 1])
    swapped = uln[:position] + uln[position + 1] + uln[position] + uln[position + 2 :]

    assert not is_valid_uln(swapped)


# --- UPN properties and the stdnum cross-check -------------------------------


def upn_character_value(character: str) -> int:
    """Return a character's value in the DfE sum: digits as themselves, letters
    as their index in A-Z without I, O and S."""
    if character in DIGITS:
        return int(character)
    return UPN_LETTERS.index(character)


@st.composite
def valid_upns(draw: st.DrawFn) -> str:
    """Draw a UPN body and prefix the check letter that stdnum computes."""
    middle = draw(st.text(alphabet=DIGITS, min_size=11, max_size=11))
    final = draw(st.sampled_from(UPN_FINAL_CHARACTERS))
    body = middle + final
    return stdnum_upn.calc_check_digit(body) + body


def stdnum_upn_accepts(value: str) -> bool:
    """Return stdnum's verdict on a UPN, leaving out its LA code list.

    stdnum 2.2 also rejects LA numbers missing from a 2011 list, but JOHN
    checks only that they are digits, so for those the check letter decides.
    """
    try:
        stdnum_upn.validate(value)
    except InvalidComponent:
        compact = stdnum_upn.compact(value)
        return stdnum_upn.calc_check_digit(compact[1:]) == compact[0]
    except ValidationError:
        return False
    return True


any_thirteen = st.text(
    alphabet=string.ascii_letters + string.digits, min_size=13, max_size=13
)
upn_shaped = st.builds(
    lambda first, middle, final: first + middle + final,
    st.sampled_from(string.ascii_uppercase),
    st.text(alphabet=DIGITS, min_size=11, max_size=11),
    st.sampled_from(string.ascii_uppercase + string.digits),
)
one_character_off = st.builds(
    lambda upn, position, character: upn[:position] + character + upn[position + 1 :],
    valid_upns(),
    st.integers(0, 12),
    st.sampled_from(string.ascii_uppercase + string.digits),
)


@given(st.one_of(any_thirteen, upn_shaped, one_character_off, valid_upns()))
@example("B801200005001")
@example("E000200005001")
def test_upn_agrees_with_stdnum(value: str) -> None:
    assert is_valid_upn(value) == stdnum_upn_accepts(value)


@given(valid_upns())
def test_generated_upn_validates(upn: str) -> None:
    assert validate_upn(upn) == upn
    assert validate_upn(upn.lower()) == upn


# Weights 2..12 and digit changes of 1..9 are all below the prime 23, so a
# changed digit in characters 2-12 always moves the remainder.
@given(valid_upns(), st.integers(1, 11), st.integers(1, 9))
def test_upn_one_digit_change_invalidates(upn: str, position: int, shift: int) -> None:
    digit = str((int(upn[position]) + shift) % 10)
    changed = upn[:position] + digit + upn[position + 1 :]

    assert not is_valid_upn(changed)


@given(valid_upns(), st.sampled_from(UPN_LETTERS))
def test_upn_other_check_letter_invalidates(upn: str, letter: str) -> None:
    assume(letter != upn[0])

    assert not is_valid_upn(letter + upn[1:])


# Character 13 may be a digit or a letter, and the digit d and the d-th letter
# (A=0 to K=9) have the same value, so swapping one for the other leaves the
# check letter right. Only a change of value is caught.
@given(valid_upns(), st.sampled_from(UPN_FINAL_CHARACTERS))
def test_upn_final_character_change(upn: str, replacement: str) -> None:
    assume(replacement != upn[12])
    changed = upn[:12] + replacement
    same_value = upn_character_value(replacement) == upn_character_value(upn[12])

    assert is_valid_upn(changed) == same_value


# --- Normalisation ------------------------------------------------------------

padding = st.sampled_from(["", " ", "  ", "\t", "\n", "\u00a0"])


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
@given(data=st.data())
def test_normalisation_is_idempotent(scheme: str, data: st.DataObject) -> None:
    validate = SCHEMES[scheme]
    raw = data.draw(st.sampled_from([c[1] for c in VALID_CASES if c[0] == scheme]))
    lower = data.draw(st.booleans())
    decorated = (
        data.draw(padding) + (raw.lower() if lower else raw) + data.draw(padding)
    )

    once = validate(decorated)

    assert validate(once) == once


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
@given(text=st.text(max_size=20))
def test_any_text_validates_or_raises(scheme: str, text: str) -> None:
    validate = SCHEMES[scheme]
    try:
        once = validate(text)
    except InvalidIdentifier as error:
        assert error.scheme == scheme
        return

    assert validate(once) == once


def check_outcome(scheme: str, value: str) -> str | Reason:
    """Return the normalised value, or the reason the check rejects it."""
    try:
        return SCHEMES[scheme](value)
    except InvalidIdentifier as error:
        return error.reason


# Values close to the plain written forms (ULN, NINO, UKPRN, QN) that the
# validators accept without their slower steps, valid or not.
near_plain = st.text(alphabet=string.digits + "ABCDGKNOQTXZ/", min_size=7, max_size=11)


# Each row: scheme, a value in the plain form or one character off it.
PLAIN_FORM_EDGES = [
    ("uln", "9276308686"),
    ("uln", "9276308687"),
    ("uln", "0276308686"),
    ("nino", "AB123456C"),
    ("nino", "DA123456C"),
    ("nino", "AO123456C"),
    ("nino", "NT123456C"),
    ("nino", "CR123456C"),
    ("nino", "AB123456E"),
    ("qn", "601/8830/6"),
    ("qn", "601/8830/X"),
    ("ukprn", "10000001"),
    ("ukprn", "01000001"),
]


@pytest.mark.parametrize(("scheme", "value"), PLAIN_FORM_EDGES)
def test_plain_form_edge_agrees_with_padded(scheme: str, value: str) -> None:
    # A leading space rules out the plain form, so the padded value takes
    # every step of the check. Both must give the same value or reason.
    assert check_outcome(scheme, value) == check_outcome(scheme, f" {value}")


@pytest.mark.parametrize("scheme", ["uln", "nino", "ukprn", "qn"])
@given(value=near_plain)
def test_plain_form_agrees_with_padded(scheme: str, value: str) -> None:
    assert check_outcome(scheme, value) == check_outcome(scheme, f" {value}")
