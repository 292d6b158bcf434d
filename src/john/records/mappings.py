"""Column mappings: which source column of a feed fills which field.

A mapping belongs to one feed type. The built-in ``standard`` mapping of each
type expects the field names themselves as column names. A provider whose
files use other headings writes a mapping file (TOML or JSON)::

    feed_type = "achievements"
    name = "college-mis-export"

    [columns]
    "Learner Ref" = "source_person_ref"
    "Surname" = "family_name"

Column names are matched after trimming spaces and ignoring case, so
``ULN`` and ``uln`` are the same column.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from john.errors import FeedError, FieldProblem, InvalidInput

PERSON_FIELDS: tuple[str, ...] = (
    "source_person_ref",
    "given_name",
    "family_name",
    "date_of_birth",
    "postcode",
    "email",
    "uln",
    "upn",
    "ni_number",
    "ucas_id",
    "husid",
    "address_line_1",
    "address_line_2",
    "locality",
    "region",
    "other_identifier",
    "other_identifier_scheme",
)

RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "achievements": (
        "kind",
        "qualification_number",
        "title",
        "level",
        "grade",
        "awarded_on",
        "awarding_body",
        "provider_ukprn",
    ),
    "experiences": (
        "kind",
        "organisation",
        "role",
        "started_on",
        "ended_on",
        "hours",
    ),
}

# A row cannot be stored without these: the person reference keys the person
# record, and the store's columns for title and organisation are NOT NULL.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "achievements": ("source_person_ref", "kind", "title"),
    "experiences": ("source_person_ref", "kind", "organisation"),
}

FEED_TYPES: tuple[str, ...] = tuple(RECORD_FIELDS)


def check_feed_type(feed_type: str) -> str:
    """Return ``feed_type`` if it is known, else raise InvalidInput naming it."""
    if feed_type not in RECORD_FIELDS:
        raise InvalidInput(
            f"feed type {feed_type!r} is not known; use one of {', '.join(FEED_TYPES)}",
            problems=[FieldProblem("type", "must be achievements or experiences")],
        )
    return feed_type


def fields_for(feed_type: str) -> tuple[str, ...]:
    """Return every field a row of ``feed_type`` can carry, person fields first."""
    return PERSON_FIELDS + RECORD_FIELDS[check_feed_type(feed_type)]


def normalise_column(name: str) -> str:
    """Return the form in which column names are compared."""
    return name.strip().casefold()


@dataclass(frozen=True)
class Mapping:
    """A declared mapping from source column names to fields of one feed type."""

    name: str
    feed_type: str
    columns: dict[str, str]

    def bind(self, header: Sequence[str]) -> BoundMapping:
        """Match this mapping to a feed's header.

        Raises FeedError naming every required column the header lacks; extra
        columns are ignored and listed on the result.
        """
        by_name = {
            normalise_column(source): target for source, target in self.columns.items()
        }
        positions: dict[str, int] = {}
        ignored: list[str] = []
        for index, column in enumerate(header):
            target = by_name.get(normalise_column(column))
            if target is None or target in positions:
                ignored.append(column)
                continue
            positions[target] = index

        missing = [f for f in REQUIRED_FIELDS[self.feed_type] if f not in positions]
        if missing:
            source_of = {target: source for source, target in self.columns.items()}
            columns = ", ".join(source_of.get(f, f) for f in missing)
            raise FeedError(
                f"feed lacks required column(s) {columns} of mapping {self.name!r} "
                f"({self.feed_type}); add them to the file or use a mapping that "
                "names the file's headings",
                problems=[
                    FieldProblem(
                        source_of.get(f, f), f"required column missing (field {f})"
                    )
                    for f in missing
                ],
            )
        return BoundMapping(mapping=self, positions=positions, ignored=ignored)


@dataclass(frozen=True)
class BoundMapping:
    """A mapping matched to one header: each field's column position."""

    mapping: Mapping
    positions: dict[str, int]
    ignored: list[str] = field(default_factory=list)


def standard_mapping(feed_type: str) -> Mapping:
    """Return the built-in mapping whose column names are the field names."""
    return Mapping(
        name="standard",
        feed_type=feed_type,
        columns={name: name for name in fields_for(feed_type)},
    )


def load_mapping(spec: str | Path, feed_type: str) -> Mapping:
    """Return the ``standard`` mapping or one read from a TOML or JSON file.

    Raises InvalidInput when the file cannot be read, names another feed type
    or maps a column to a field the feed type does not have.
    """
    check_feed_type(feed_type)
    if str(spec) == "standard":
        return standard_mapping(feed_type)

    path = Path(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(
            f"mapping file {path} cannot be read ({error.__class__.__name__}); "
            "pass 'standard' or the path of a TOML or JSON mapping file",
            problems=[FieldProblem("mapping", "file cannot be read")],
        ) from error

    return load_mapping_text(text, feed_type, name=path.stem, suffix=path.suffix)


def load_mapping_text(
    text: str, feed_type: str, *, name: str, suffix: str = ".toml"
) -> Mapping:
    """Return the mapping in ``text``: JSON when ``suffix`` is ``.json``, else TOML.

    Raises InvalidInput when the text does not parse or names unknown fields.
    """
    kind = "JSON" if suffix.lower() == ".json" else "TOML"
    try:
        document = json.loads(text) if kind == "JSON" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(
            f"mapping {name!r} is not valid {kind}: {error}",
            problems=[FieldProblem("mapping", f"not valid {kind}")],
        ) from error
    return parse_mapping(document, feed_type, default_name=name)


def parse_mapping(document: object, feed_type: str, *, default_name: str) -> Mapping:
    """Build a mapping from a parsed TOML or JSON document, checking each entry."""
    if not isinstance(document, dict) or not isinstance(document.get("columns"), dict):
        raise InvalidInput(
            "mapping has no [columns] table; write one line per source column: "
            '"Source heading" = "field_name"',
            problems=[FieldProblem("mapping.columns", "missing table")],
        )

    declared_type = document.get("feed_type", feed_type)
    if declared_type != feed_type:
        raise InvalidInput(
            f"mapping is for feed type {declared_type!r} but the feed is "
            f"{feed_type!r}; pass a mapping written for this feed type",
            problems=[
                FieldProblem("mapping.feed_type", "does not match the feed type")
            ],
        )

    known = set(fields_for(feed_type))
    problems = []
    columns: dict[str, str] = {}
    for source, target in document["columns"].items():
        if not isinstance(target, str) or target not in known:
            problems.append(
                FieldProblem(f"mapping.columns.{source}", f"{target!r} is not a field")
            )
            continue
        columns[str(source)] = target
    if problems:
        raise InvalidInput(
            f"mapping names unknown fields; the fields of {feed_type} are "
            f"{', '.join(sorted(known))}",
            problems=problems,
        )

    # Headings are matched ignoring case and surrounding spaces, so two keys
    # that differ only so would map one column to two fields.
    first_key: dict[str, str] = {}
    for source, target in columns.items():
        earlier = first_key.setdefault(normalise_column(source), source)
        if earlier != source and columns[earlier] != target:
            problems.append(
                FieldProblem(
                    f"mapping.columns.{source}",
                    f"is the same heading as {earlier!r} but maps to {target!r}",
                )
            )
    if problems:
        raise InvalidInput(
            "mapping names one heading twice with different fields; headings "
            "are compared ignoring case and spaces, so keep one of each",
            problems=problems,
        )

    name = str(document.get("name") or default_name)[:60]
    return Mapping(name=name, feed_type=feed_type, columns=columns)
