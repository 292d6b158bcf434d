"""JSON feeds whose strings escape lone UTF-16 surrogates, such as "\\ud800"."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy.orm import Session, sessionmaker

from john.records.service import ingest_feed
from john.records.synthetic import synthetic_rows

SOURCE = "10012345"


def json_lines(rows: list[dict[str, str]]) -> bytes:
    # json.dumps writes a lone surrogate as its \uXXXX escape, which is valid
    # JSON text but decodes to a Python string that cannot be encoded as UTF-8.
    return b"".join(json.dumps(row).encode("ascii") + b"\n" for row in rows)


@pytest.mark.parametrize("field", ["title", "given_name"])
def test_lone_surrogate_row_quarantined(
    session_factory: sessionmaker[Session], field: str
) -> None:
    rows = list(synthetic_rows(10, seed=5))
    rows[3][field] = "\ud800" + rows[3][field]

    report = ingest_feed(
        session_factory,
        SOURCE,
        "achievements",
        io.BytesIO(json_lines(rows)),
        filename="feed.jsonl",
    )

    assert report.rows_read == 10
    assert report.rows_accepted == 9
    assert report.rows_quarantined == 1
    assert report.rows_duplicate == 0
