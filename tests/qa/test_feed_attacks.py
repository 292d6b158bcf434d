"""Hostile feed files: each is rejected with a named problem or quarantined."""

from __future__ import annotations

import io

import pytest

from john.errors import FeedError
from john.records.service import ingest_feed

SOURCE = "10000001"
HEADER = "source_person_ref,given_name,family_name,date_of_birth,kind,title,awarded_on"
ROW = "QA{n},Zelphine,Quorrabar,2001-02-03,award,Certificate in Things,2019-08-20"


def ingest(session_factory, content: bytes, file_format: str):
    return ingest_feed(
        session_factory,
        SOURCE,
        "achievements",
        io.BytesIO(content),
        file_format=file_format,
    )


def test_deeply_nested_array_rejected(session_factory) -> None:
    content = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(FeedError) as raised:
        ingest(session_factory, content, "json")
    assert "too deeply" in raised.value.detail
    assert raised.value.problems[0].field == "file"


def test_deeply_nested_line_quarantined(session_factory) -> None:
    good = (
        '{"source_person_ref": "QA1", "given_name": "Zelphine", "family_name": '
        '"Quorrabar", "date_of_birth": "2001-02-03", "kind": "award", '
        '"title": "Certificate in Things", "awarded_on": "2019-08-20"}'
    )
    deep = "[" * 100_000 + "]" * 100_000
    report = ingest(session_factory, f"{good}\n{deep}\n".encode(), "json")
    assert report.rows_read == 2
    assert report.rows_accepted == 1
    assert report.rows_quarantined == 1


def test_huge_field_quarantines_row(session_factory) -> None:
    huge = ROW.format(n=2).replace("Zelphine", "Z" * 200_000)
    lines = [HEADER, ROW.format(n=1), huge, ROW.format(n=3)]
    report = ingest(session_factory, "\n".join(lines).encode() + b"\n", "csv")
    assert report.delimiter == ","
    assert report.rows_read == 3
    assert report.rows_accepted == 2
    assert report.rows_quarantined == 1


def test_binary_file_named_binary(session_factory) -> None:
    content = bytes(range(256)) * 400
    with pytest.raises(FeedError) as raised:
        ingest(session_factory, content, "csv")
    assert "NUL bytes" in raised.value.detail
    assert raised.value.problems[0].field == "header"


def test_utf16_file_named_binary(session_factory) -> None:
    content = (HEADER + "\n" + ROW.format(n=1) + "\n").encode("utf-16")
    with pytest.raises(FeedError) as raised:
        ingest(session_factory, content, "csv")
    assert "UTF-16" in raised.value.detail
