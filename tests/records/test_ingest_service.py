"""Ingesting feeds into the store: counts, provenance, duplicates, registers."""

from __future__ import annotations

import io
import logging
from datetime import date

import pytest
from feed_samples import (
    SOURCE,
    ULN_CHECK_DIGIT,
    achievement_row,
    count_rows,
    csv_bytes,
    experience_row,
)
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from john.errors import FeedError, InvalidInput, NotFound
from john.identity.models import PersonRecord
from john.records import pipeline, store
from john.records.mappings import load_mapping_text
from john.records.models import Achievement, Experience, Feed, QuarantinedRow
from john.records.service import (
    get_feed_report,
    ingest_feed,
    list_feeds,
    quarantine_page,
)
from john.reference.models import RegisteredProvider, RegisteredQualification


def three_people() -> list[dict[str, str]]:
    return [
        achievement_row(source_person_ref="L1"),
        achievement_row(source_person_ref="L2", uln="1234567890"),
        achievement_row(source_person_ref="L3", given_name="Sam", grade="Pass"),
    ]


def test_counts_add_up(ingest) -> None:
    report = ingest(csv_bytes(three_people()))
    assert report.rows_read == 3
    assert report.rows_accepted == 2
    assert report.rows_quarantined == 1
    assert report.rows_duplicate == 0
    assert report.quarantine_reasons == {"uln": {ULN_CHECK_DIGIT: 1}}


def test_report_names_delimiter_and_mapping(ingest) -> None:
    report = ingest(csv_bytes(three_people(), delimiter="|"))
    assert report.delimiter == "|"
    assert report.mapping == "standard"
    assert report.file_format == "csv"


def test_accepted_rows_have_provenance(ingest, session: Session) -> None:
    report = ingest(csv_bytes(three_people()))
    people = session.scalars(
        select(PersonRecord).order_by(PersonRecord.source_person_ref)
    ).all()
    achievements = session.scalars(
        select(Achievement).order_by(Achievement.row_number)
    ).all()
    assert [p.source_person_ref for p in people] == ["L1", "L3"]
    assert {p.source_ukprn for p in people} == {SOURCE}
    assert {p.feed_id for p in people} == {report.feed_id}
    assert [p.row_number for p in people] == [1, 3]
    assert {p.received_at for p in people} == {report.received_at}
    assert [a.row_number for a in achievements] == [1, 3]
    assert {a.feed_id for a in achievements} == {report.feed_id}
    assert {a.source_ukprn for a in achievements} == {SOURCE}
    assert {a.received_at for a in achievements} == {report.received_at}
    assert achievements[0].person_record_id == people[0].id


def test_stored_values_normalised(ingest, session: Session) -> None:
    ingest(csv_bytes([achievement_row(ni_number="ab123456c", postcode="ls14ap")]))
    person = session.scalars(select(PersonRecord)).one()
    achievement = session.scalars(select(Achievement)).one()
    assert person.ni_number == "AB123456C"
    assert person.postcode == "LS1 4AP"
    assert person.date_of_birth.isoformat() == "2001-02-03"
    assert achievement.awarded_on.isoformat() == "2019-08-20"
    assert achievement.qualification_number == "601/8830/6"


ADDRESS_MAPPING = """
feed_type = "achievements"
name = "address-export"

[columns]
"Ref" = "source_person_ref"
"Forename" = "given_name"
"Surname" = "family_name"
"Address line 1" = "address_line_1"
"Address line 2" = "address_line_2"
"Town or city" = "locality"
"County" = "region"
"Candidate number" = "other_identifier"
"Number issuer" = "other_identifier_scheme"
"Type" = "kind"
"Title" = "title"
"""


def test_mapped_address_columns_stored(ingest, session: Session) -> None:
    mapping = load_mapping_text(ADDRESS_MAPPING, "achievements", name="address")
    content = (
        b"Ref,Forename,Surname,Address line 1,Address line 2,Town or city,County,"
        b"Candidate number,Number issuer,Type,Title\n"
        b"L9,Alex,Archer,12 Pinkerton Circuit,Bega Flats,Richlands,West Yorkshire,"
        b"40 66 625,awarding-body-a,qualification,Certificate in Science\n"
    )
    report = ingest(content, mapping=mapping)
    person = session.scalars(select(PersonRecord)).one()
    assert report.rows_accepted == 1
    assert person.address_line_1 == "12 Pinkerton Circuit"
    assert person.address_line_2 == "Bega Flats"
    assert person.locality == "Richlands"
    assert person.region == "West Yorkshire"
    assert person.other_identifier == "40 66 625"
    assert person.other_identifier_scheme == "awarding-body-a"


def test_quarantine_keeps_raw_field_reason(ingest, session_factory) -> None:
    report = ingest(csv_bytes(three_people()))
    page = quarantine_page(session_factory, report.feed_id)
    assert page.total == 1
    item = page.items[0]
    assert item.row_number == 2
    assert item.field == "uln"
    assert item.reason == ULN_CHECK_DIGIT
    assert item.raw is not None
    assert item.raw.startswith("L2,Alex,Archer,")


def test_same_file_again_changes_nothing(ingest, session_factory) -> None:
    content = csv_bytes(three_people())
    first = ingest(content)
    again = ingest(content)
    assert again.already_ingested is True
    assert again.feed_id == first.feed_id
    assert again.rows_accepted == first.rows_accepted
    assert again.quarantine_reasons == first.quarantine_reasons
    assert count_rows(session_factory, "feeds") == 1
    assert count_rows(session_factory, "achievements") == 2
    assert count_rows(session_factory, "quarantined_rows") == 1


def test_duplicates_across_feeds_counted(ingest, session_factory) -> None:
    ingest(csv_bytes(three_people()))
    rows = [*three_people(), achievement_row(source_person_ref="L4")]
    report = ingest(csv_bytes(rows, delimiter=";"))
    assert report.rows_read == 4
    assert report.rows_duplicate == 2
    assert report.rows_quarantined == 1
    assert report.rows_accepted == 1
    assert count_rows(session_factory, "achievements") == 3


def test_duplicates_within_feed_counted(ingest, session_factory) -> None:
    row = achievement_row()
    report = ingest(csv_bytes([row, row, row]))
    assert report.rows_accepted == 1
    assert report.rows_duplicate == 2
    assert count_rows(session_factory, "person_records") == 1


def test_person_with_two_achievements(ingest, session_factory) -> None:
    rows = [achievement_row(), achievement_row(title="Award in First Aid")]
    report = ingest(csv_bytes(rows))
    assert report.rows_accepted == 2
    assert count_rows(session_factory, "person_records") == 1
    assert count_rows(session_factory, "achievements") == 2


def test_later_feed_updates_person(ingest, session: Session) -> None:
    ingest(csv_bytes([achievement_row(postcode="LS1 4AP")]))
    second = ingest(csv_bytes([achievement_row(postcode="M1 1AE", grade="Pass")]))
    person = session.scalars(select(PersonRecord)).one()
    assert person.postcode == "M1 1AE"
    assert person.feed_id == second.feed_id


def test_experiences_feed_stored(ingest, session: Session) -> None:
    rows = [experience_row(), experience_row(source_person_ref="L2", hours="-3")]
    report = ingest(csv_bytes(rows, feed_type="experiences"), feed_type="experiences")
    stored = session.scalars(select(Experience)).one()
    assert report.rows_accepted == 1
    assert report.rows_quarantined == 1
    assert stored.organisation == "Riverside Library"
    assert stored.hours == 120.0
    assert stored.feed_id == report.feed_id


def test_header_only_gives_zero_rows(ingest, session_factory) -> None:
    report = ingest(csv_bytes([]))
    assert report.rows_read == 0
    assert report.rows_accepted == 0
    assert count_rows(session_factory, "feeds") == 1


def test_empty_file_rejected(ingest, session_factory) -> None:
    with pytest.raises(FeedError) as raised:
        ingest(b"")
    assert "empty" in raised.value.detail
    assert count_rows(session_factory, "feeds") == 0


def test_missing_columns_reject_whole_feed(ingest, session_factory) -> None:
    columns = ["source_person_ref", "given_name", "kind"]
    with pytest.raises(FeedError) as raised:
        ingest(csv_bytes(three_people(), columns=columns))
    assert "title" in raised.value.detail
    assert count_rows(session_factory, "feeds") == 0


def test_extra_columns_listed(ingest) -> None:
    rows = [{**achievement_row(), "shoe_size": "9"}]
    columns = ["source_person_ref", "kind", "title", "shoe_size"]
    report = ingest(csv_bytes(rows, columns=columns))
    assert report.columns_ignored == ["shoe_size"]
    assert report.rows_accepted == 1


def test_bad_bytes_quarantined_not_fatal(ingest, session_factory) -> None:
    content = csv_bytes(three_people()).replace(b"L3,Sam", b"L3,S\xe9m")
    report = ingest(content)
    page = quarantine_page(session_factory, report.feed_id)
    reasons = {item.field: item.reason for item in page.items}
    assert report.rows_quarantined == 2
    assert reasons["row"].startswith("contains bytes that are not valid utf-8")
    assert "byte offset" in reasons["row"]
    assert report.quarantine_reasons["row"] == {
        "contains bytes that are not valid utf-8; save the file as UTF-8 or pass "
        "the encoding it uses": 1
    }


def test_cp1252_encoding_accepts_row(ingest, session: Session) -> None:
    content = csv_bytes(three_people()).replace(b"L3,Sam", b"L3,S\xe9m")
    report = ingest(content, encoding="cp1252")
    assert report.rows_accepted == 2
    names = set(session.scalars(select(PersonRecord.given_name)))
    assert "Sém" in names


def test_json_lines_feed_stored(ingest) -> None:
    import json

    lines = "\n".join(json.dumps(row) for row in three_people()).encode()
    report = ingest(lines, filename="feed.jsonl")
    assert report.file_format == "json"
    assert report.delimiter is None
    assert report.rows_accepted == 2


def test_invalid_source_rejected(ingest) -> None:
    with pytest.raises(FeedError) as raised:
        ingest(csv_bytes(three_people()), source="ABC")
    assert raised.value.problems[0].field == "source"


def test_unknown_type_rejected(ingest) -> None:
    with pytest.raises(InvalidInput):
        ingest(csv_bytes(three_people()), feed_type="grades")


def load_registers(session: Session, providers: list[str], numbers: list[str]) -> None:
    for ukprn in providers:
        session.add(RegisteredProvider(ukprn=ukprn, name="Example", register="test"))
    for number in numbers:
        session.add(RegisteredQualification(qualification_number=number, title="X"))
    session.commit()


def test_source_off_register_rejected(ingest, session: Session) -> None:
    load_registers(session, ["10000002"], [])
    with pytest.raises(FeedError) as raised:
        ingest(csv_bytes(three_people()))
    assert "not on the provider register" in raised.value.detail


def test_unknown_codes_quarantined(ingest, session: Session) -> None:
    load_registers(session, [SOURCE, "10000002"], ["601/8830/6"])
    rows = [
        achievement_row(source_person_ref="L1"),
        achievement_row(source_person_ref="L2", provider_ukprn="10000009"),
        achievement_row(source_person_ref="L3", qualification_number="500/1234/5"),
    ]
    report = ingest(csv_bytes(rows))
    assert report.rows_accepted == 1
    assert report.quarantine_reasons == {
        "provider_ukprn": {"is not on the provider register": 1},
        "qualification_number": {"is not on the qualification register": 1},
    }
    assert report.notes == []


def test_empty_registers_noted(ingest) -> None:
    report = ingest(csv_bytes(three_people()))
    assert len(report.notes) == 2
    assert report.notes[0].startswith("provider register not loaded")


def test_unseekable_stream_spooled(session_factory) -> None:
    class Unseekable(io.RawIOBase):
        def __init__(self, data: bytes):
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            data = self.inner.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)

    stream = io.BufferedReader(Unseekable(csv_bytes(three_people())))
    report = ingest_feed(session_factory, SOURCE, "achievements", stream)
    assert report.rows_accepted == 2


def test_process_writer_stores_feed(
    ingest, session_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "PROCESS_THRESHOLD_BYTES", 0)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 2)
    rows = [achievement_row(source_person_ref=f"L{i}") for i in range(7)]
    rows.append(achievement_row(source_person_ref="L0"))
    rows.append(achievement_row(source_person_ref="L9", uln="1"))
    report = ingest(csv_bytes(rows))
    assert report.rows_accepted == 7
    assert report.rows_duplicate == 1
    assert report.rows_quarantined == 1
    assert count_rows(session_factory, "achievements") == 7
    assert count_rows(session_factory, "quarantined_rows") == 1
    assert get_feed_report(session_factory, report.feed_id).rows_accepted == 7


def index_definitions(session_factory: sessionmaker[Session]) -> set[str]:
    tables = "('person_records', 'achievements')"
    with session_factory() as session:
        assert session.bind is not None
        if session.bind.dialect.name == "sqlite":
            sql = (
                "SELECT sql FROM sqlite_master WHERE type = 'index' "
                f"AND tbl_name IN {tables} AND sql IS NOT NULL"
            )
        else:
            sql = f"SELECT indexdef FROM pg_indexes WHERE tablename IN {tables}"
        return set(session.scalars(text(sql)))


def test_large_load_keeps_every_index(
    ingest, session_factory, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    monkeypatch.setattr(store, "INDEX_REBUILD_MIN_ROWS", 0)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 2)
    before = index_definitions(session_factory)
    rows = [achievement_row(source_person_ref=f"L{i}") for i in range(7)]
    with caplog.at_level(logging.INFO, logger="john.records.store"):
        report = ingest(csv_bytes(rows))
    assert report.rows_accepted == 7
    assert count_rows(session_factory, "achievements") == 7
    assert count_rows(session_factory, "person_records") == 7
    assert index_definitions(session_factory) == before
    with session_factory() as session:
        assert session.bind is not None
        dialect = session.bind.dialect.name
    if dialect == "sqlite":
        assert "indexes dropped for a load" in caplog.text


def test_compact_date_stored_normalised(ingest, session: Session) -> None:
    ingest(csv_bytes([achievement_row(date_of_birth="20010203")]))
    person = session.scalars(select(PersonRecord)).one()
    assert person.date_of_birth == date(2001, 2, 3)


def test_feed_listing_and_lookup(ingest, session_factory) -> None:
    first = ingest(csv_bytes(three_people()))
    second = ingest(csv_bytes([achievement_row(source_person_ref="L7")]))
    total, reports = list_feeds(session_factory)
    assert total == 2
    assert {r.feed_id for r in reports} == {first.feed_id, second.feed_id}
    assert get_feed_report(session_factory, first.feed_id).rows_read == 3


def test_unknown_feed_not_found(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(NotFound):
        get_feed_report(session_factory, "F-missing")


def test_failed_feed_leaves_no_trace(ingest, session_factory) -> None:
    good = "\n".join(
        f'{{"source_person_ref": "L{i}", "kind": "award", "title": "T"}}'
        for i in range(3)
    )
    content = ("[" + good.replace("\n", ",") + ", {broken").encode()
    with pytest.raises(FeedError):
        ingest(content, filename="feed.json")
    assert count_rows(session_factory, "feeds") == 0
    assert count_rows(session_factory, "person_records") == 0
    with session_factory() as session:
        assert session.scalars(select(Feed)).first() is None
        assert session.scalars(select(QuarantinedRow)).first() is None


@pytest.mark.parametrize("threshold", [0, 1 << 40], ids=["process", "inline"])
def test_clash_with_stored_rows_is_looked_up(
    ingest,
    session_factory,
    monkeypatch: pytest.MonkeyPatch,
    threshold: int,
) -> None:
    monkeypatch.setattr(pipeline, "PROCESS_THRESHOLD_BYTES", threshold)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 2)
    first = ingest(
        csv_bytes(
            [
                achievement_row(source_person_ref="L1", grade="Pass"),
                achievement_row(source_person_ref="L2"),
            ]
        )
    )
    assert first.rows_accepted == 2

    second = ingest(
        csv_bytes(
            [
                # A first chunk of new people goes in without lookups.
                achievement_row(source_person_ref="L3", grade="Pass"),
                achievement_row(source_person_ref="L3", grade="Merit"),
                # This chunk names a stored person and repeats a stored row.
                achievement_row(
                    source_person_ref="L1", grade="Distinction", postcode="M1 1AE"
                ),
                achievement_row(source_person_ref="L2"),
                # The same person again in a later chunk.
                achievement_row(source_person_ref="L3", grade="Distinction"),
            ]
        )
    )
    assert (second.rows_read, second.rows_accepted, second.rows_duplicate) == (5, 4, 1)
    assert count_rows(session_factory, "achievements") == 6
    assert count_rows(session_factory, "person_records") == 3
    with session_factory() as session:
        people = {
            person.source_person_ref: person
            for person in session.scalars(select(PersonRecord))
        }
        grades = sorted(
            (achievement.person_record_id, achievement.grade)
            for achievement in session.scalars(select(Achievement))
        )
    assert people["L1"].postcode == "M1 1AE"
    assert people["L1"].feed_id == second.feed_id
    assert people["L2"].feed_id == first.feed_id
    l1, l2, l3 = (people[ref].id for ref in ("L1", "L2", "L3"))
    assert grades == sorted(
        [
            (l1, "Pass"),
            (l1, "Distinction"),
            (l2, "Merit"),
            (l3, "Pass"),
            (l3, "Merit"),
            (l3, "Distinction"),
        ]
    )


def test_repeated_row_in_one_chunk_is_a_duplicate(
    ingest, session_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 3)
    row = achievement_row(source_person_ref="L1")
    report = ingest(csv_bytes([row, achievement_row(source_person_ref="L2"), row]))
    assert (report.rows_accepted, report.rows_duplicate) == (2, 1)
    assert count_rows(session_factory, "achievements") == 2
    assert count_rows(session_factory, "person_records") == 2


def test_quarantine_keeps_file_order(
    ingest, session_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 4)
    good = csv_bytes(
        [
            achievement_row(source_person_ref="L1", uln="1"),
            achievement_row(source_person_ref="L2"),
            achievement_row(source_person_ref="L3"),
        ]
    )
    # A fourth row with one field too many: the reader, not the validator,
    # finds its problem, between rows the validator checks a chunk at a time.
    content = good + b"L4,extra" + b",x" * 19 + b"\n"
    content += csv_bytes([achievement_row(source_person_ref="L5", uln="2")]).split(
        b"\n", 1
    )[1]
    report = ingest(content)
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (
        5,
        2,
        3,
    )
    page = quarantine_page(session_factory, report.feed_id)
    assert [(item.row_number, item.field) for item in page.items] == [
        (1, "uln"),
        (4, "row"),
        (5, "uln"),
    ]


def test_huge_quarantined_row_cut(ingest, session_factory) -> None:
    header_and_row = csv_bytes([achievement_row(source_person_ref="L1")])
    huge = b"L2," + b"x" * (100 * 1024) + b"\n"
    report = ingest(header_and_row + huge)
    assert (report.rows_accepted, report.rows_quarantined) == (1, 1)
    page = quarantine_page(session_factory, report.feed_id)
    raw = page.items[0].raw
    assert raw is not None
    assert raw.startswith("L2,xxx")
    assert raw.endswith(f"[cut at {pipeline.MAX_RAW_BYTES} of {len(huge)} bytes]")
    assert len(raw) < pipeline.MAX_RAW_BYTES + 100


def test_alternating_reader_problems_counted(
    ingest, session_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 3)
    good = csv_bytes(
        [achievement_row(source_person_ref=f"L{number}") for number in range(4)]
    )
    header, *lines = good.splitlines(keepends=True)
    content = header
    for line in lines:
        content += line + b"too,few\n"
    report = ingest(content)
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (
        8,
        4,
        4,
    )
    page = quarantine_page(session_factory, report.feed_id)
    assert [item.row_number for item in page.items] == [2, 4, 6, 8]
