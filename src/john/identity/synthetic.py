"""Generate synthetic UK people and their provider records, with known truth.

The records carry the errors UK learner data shows: nicknames, family names
changed on marriage, day and month of birth swapped, typing errors, missing
or mistyped identifiers, and house moves. Every person is invented; emails use
the reserved ``example.org`` domain. Used by the tests and the UK benchmark.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from john.identity.linkage import uln_check_digit

NICKNAMES = {
    "robert": ["bob", "rob", "bobby"],
    "elizabeth": ["liz", "beth", "lizzie"],
    "william": ["bill", "will", "billy"],
    "margaret": ["maggie", "peggy", "meg"],
    "james": ["jim", "jimmy", "jamie"],
    "katherine": ["kate", "katie", "kathy"],
    "richard": ["rich", "dick", "richie"],
    "thomas": ["tom", "tommy"],
    "edward": ["ed", "ted", "eddie"],
    "jennifer": ["jenny", "jen"],
    "michael": ["mike", "mick"],
    "alexander": ["alex", "sandy"],
    "christopher": ["chris", "kit"],
    "daniel": ["dan", "danny"],
    "samuel": ["sam", "sammy"],
    "rebecca": ["becky", "becca"],
    "victoria": ["vicky", "tori"],
    "susan": ["sue", "susie"],
    "deborah": ["debbie", "deb"],
    "anthony": ["tony"],
    "joseph": ["joe", "joey"],
    "matthew": ["matt"],
    "nicholas": ["nick", "nicky"],
    "patricia": ["pat", "trish"],
    "jonathan": ["jon", "jonny"],
    "benjamin": ["ben", "benny"],
    "charlotte": ["lottie", "charlie"],
    "abigail": ["abby", "gail"],
}
OTHER_GIVEN = [
    "oliver",
    "george",
    "harry",
    "jack",
    "jacob",
    "noah",
    "charlie",
    "muhammad",
    "oscar",
    "leo",
    "freddie",
    "arthur",
    "archie",
    "amelia",
    "olivia",
    "isla",
    "ava",
    "emily",
    "sophie",
    "grace",
    "mia",
    "poppy",
    "ella",
    "lily",
    "evie",
    "aisha",
    "priya",
    "fatima",
    "zara",
    "chloe",
    "megan",
    "hannah",
    "lucy",
    "ewan",
    "rhys",
    "owen",
    "ffion",
    "seren",
    "niamh",
    "siobhan",
    "callum",
    "kieran",
    "connor",
    "declan",
    "amir",
    "hamza",
    "yusuf",
    "ravi",
    "arjun",
    "tomasz",
    "piotr",
    "agnieszka",
    "kwame",
    "chidi",
    "adaeze",
    "mei",
    "wei",
]
FAMILY_NAMES = [
    "smith",
    "jones",
    "taylor",
    "williams",
    "brown",
    "davies",
    "evans",
    "wilson",
    "thomas",
    "roberts",
    "johnson",
    "lewis",
    "walker",
    "robinson",
    "wood",
    "thompson",
    "white",
    "watson",
    "jackson",
    "wright",
    "green",
    "harris",
    "cooper",
    "king",
    "lee",
    "martin",
    "clarke",
    "james",
    "morgan",
    "hughes",
    "edwards",
    "hill",
    "moore",
    "clark",
    "harrison",
    "scott",
    "young",
    "morris",
    "hall",
    "ward",
    "turner",
    "carter",
    "phillips",
    "mitchell",
    "patel",
    "adams",
    "campbell",
    "anderson",
    "allen",
    "cook",
    "bailey",
    "parker",
    "miller",
    "davis",
    "murphy",
    "price",
    "bell",
    "baker",
    "griffiths",
    "kelly",
    "simpson",
    "marshall",
    "collins",
    "bennett",
    "cox",
    "richardson",
    "fox",
    "gray",
    "rose",
    "chapman",
    "hunt",
    "robertson",
    "shaw",
    "reynolds",
    "lloyd",
    "ellis",
    "richards",
    "russell",
    "wilkinson",
    "khan",
    "graham",
    "stewart",
    "reid",
    "murray",
    "powell",
    "palmer",
    "holmes",
    "rogers",
    "stevens",
    "walsh",
    "hunter",
    "thomson",
    "matthews",
    "ross",
    "owen",
    "mason",
    "knight",
    "kennedy",
    "butler",
    "saunders",
    "ahmed",
    "begum",
    "hussain",
    "ali",
    "singh",
    "kaur",
    "nguyen",
    "okafor",
    "mensah",
    "kowalski",
    "nowak",
    "obrien",
    "macdonald",
    "fraser",
    "mckenzie",
    "gallagher",
    "doyle",
    "quinn",
    "sharma",
    "chowdhury",
    "rahman",
    "osei",
    "adeyemi",
    "novak",
    "silva",
]
OUTWARD_CODES = [
    "SW1A",
    "EC1V",
    "N7",
    "E17",
    "SE15",
    "M1",
    "M14",
    "LS6",
    "B15",
    "B29",
    "BS8",
    "CF10",
    "CF24",
    "EH3",
    "G12",
    "NE1",
    "L17",
    "S10",
    "NG7",
    "LE1",
    "CB2",
    "OX4",
    "PL4",
    "EX4",
    "SO17",
    "BN2",
    "CT1",
    "YO10",
    "DH1",
    "SA2",
    "BT9",
    "AB24",
    "DD1",
    "IV2",
    "LL57",
    "TR1",
    "HU6",
    "ST4",
    "CV4",
    "WV1",
]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
NI_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NI_SECOND = "ABCEGHJKLMNPRSTWXYZ"
UKPRNS = [f"1000{index:04d}" for index in range(1, 13)]


@dataclass(frozen=True)
class ErrorRates:
    """Chances that a duplicate record carries each kind of error."""

    nickname: float = 0.2
    marriage: float = 0.25
    swapped_day_month: float = 0.06
    date_typo: float = 0.06
    given_typo: float = 0.08
    family_typo: float = 0.08
    moved: float = 0.3
    postcode_typo: float = 0.04
    uln_missing: float = 0.35
    uln_mistyped: float = 0.05
    ni_missing: float = 0.6
    email_missing: float = 0.4
    email_changed: float = 0.3


def valid_uln(rng: random.Random) -> str:
    """Return a random ULN whose check digit is valid."""
    while True:
        first_nine = str(rng.randint(1, 9)) + "".join(rng.choices(string.digits, k=8))
        check = uln_check_digit(first_nine)
        if check is not None:
            return first_nine + str(check)


def valid_ni_number(rng: random.Random) -> str:
    """Return a random NI number in a valid format (not a real allocation)."""
    while True:
        prefix = rng.choice(NI_FIRST) + rng.choice(NI_SECOND)
        if (
            prefix not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
            and prefix[0] != "O"
        ):
            break
    digits = "".join(rng.choices(string.digits, k=6))
    return f"{prefix}{digits}{rng.choice('ABCD')}"


def postcode(rng: random.Random) -> str:
    """Return a random postcode-shaped string from common outward codes."""
    inward = (
        f"{rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
    )
    return f"{rng.choice(OUTWARD_CODES)} {inward}"


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    position = rng.randrange(1, len(text))
    action = rng.choice(("replace", "delete", "transpose", "insert"))
    letters = string.ascii_lowercase
    if action == "replace":
        return text[:position] + rng.choice(letters) + text[position + 1 :]
    if action == "delete":
        return text[:position] + text[position + 1 :]
    if action == "insert":
        return text[:position] + rng.choice(letters) + text[position:]
    if position < len(text) - 1:
        return (
            text[:position] + text[position + 1] + text[position] + text[position + 2 :]
        )
    return text


def _digit_typo(rng: random.Random, value: str) -> str:
    position = rng.randrange(len(value))
    replacement = rng.choice([d for d in string.digits if d != value[position]])
    return value[:position] + replacement + value[position + 1 :]


def _date_typo(rng: random.Random, born: date) -> date:
    for _ in range(10):
        text = _digit_typo(rng, born.strftime("%Y%m%d"))
        try:
            changed = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            continue
        if changed != born and 1940 < changed.year < 2015:
            return changed
    return born + timedelta(days=1)


def _new_person(rng: random.Random, key: int) -> dict[str, Any]:
    given_pool = list(NICKNAMES) + OTHER_GIVEN
    given = rng.choice(given_pool)
    family = rng.choice(FAMILY_NAMES)
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 48))
    return {
        "person_key": key,
        "given_name": given,
        "family_name": family,
        "date_of_birth": born,
        "postcode": postcode(rng),
        "email": f"{given}.{family}{rng.randint(1, 999)}@example.org",
        "uln": valid_uln(rng),
        "ni_number": valid_ni_number(rng),
    }


def _variant(
    rng: random.Random, base: dict[str, Any], rates: ErrorRates
) -> dict[str, Any]:
    record = dict(base)
    if record["given_name"] in NICKNAMES and rng.random() < rates.nickname:
        record["given_name"] = rng.choice(NICKNAMES[record["given_name"]])
    elif rng.random() < rates.given_typo:
        record["given_name"] = _typo(rng, record["given_name"])
    if rng.random() < rates.marriage:
        record["family_name"] = rng.choice(FAMILY_NAMES)
    elif rng.random() < rates.family_typo:
        record["family_name"] = _typo(rng, record["family_name"])

    born: date = record["date_of_birth"]
    if (
        born.day <= 12
        and born.day != born.month
        and rng.random() < rates.swapped_day_month
    ):
        record["date_of_birth"] = date(born.year, born.day, born.month)
    elif rng.random() < rates.date_typo:
        record["date_of_birth"] = _date_typo(rng, born)

    if rng.random() < rates.moved:
        record["postcode"] = postcode(rng)
    elif rng.random() < rates.postcode_typo:
        record["postcode"] = _typo(rng, record["postcode"].lower()).upper()

    if rng.random() < rates.uln_missing:
        record["uln"] = None
    elif rng.random() < rates.uln_mistyped:
        record["uln"] = _digit_typo(rng, record["uln"])
    if rng.random() < rates.ni_missing:
        record["ni_number"] = None
    if rng.random() < rates.email_missing:
        record["email"] = None
    elif rng.random() < rates.email_changed:
        record["email"] = f"{record['given_name']}{rng.randint(1, 99)}@example.net"
    return record


def generate_people(
    people: int, *, seed: int = 7, rates: ErrorRates | None = None
) -> list[dict[str, Any]]:
    """Return provider records for ``people`` invented people, with truth.

    Each person has one to three records from different providers; each
    record has the PersonRecord fields plus ``person_key``, the true person.
    The first record of a person is the clean one.
    """
    rng = random.Random(seed)
    chosen_rates = rates or ErrorRates()
    records: list[dict[str, Any]] = []
    for key in range(people):
        base = _new_person(rng, key)
        copies = rng.choices((1, 2, 3), weights=(0.35, 0.45, 0.2))[0]
        providers = rng.sample(UKPRNS, copies)
        for index, ukprn in enumerate(providers):
            record = dict(base) if index == 0 else _variant(rng, base, chosen_rates)
            if index == 0 and rng.random() < chosen_rates.uln_missing:
                record["uln"] = None
            if index == 0 and rng.random() < chosen_rates.ni_missing:
                record["ni_number"] = None
            record["source_ukprn"] = ukprn
            record["source_person_ref"] = f"S{key}-{index}"
            record["given_name"] = record["given_name"].title()
            record["family_name"] = record["family_name"].title()
            records.append(record)
    return records
