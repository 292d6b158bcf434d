"""No log line carries a name, date of birth or identifier from a feed row."""

from __future__ import annotations

import json

import pytest
from feed_samples import SOURCE, achievement_row, csv_bytes

from john.auth.testing import bearer_headers
from john.errors import FeedError
from john.records.synthetic import uln_with_check


@pytest.fixture(autouse=True)
def as_administrator(client, session_factory) -> None:
    # These endpoints need a signed-in role; an administrator passes them all.
    client.headers.update(bearer_headers(client, session_factory, "administrator"))


VALID_ULN = uln_with_check("998877665") or "9988776650"
SENTINELS = {
    "given_name": "Zorbalinda",
    "family_name": "Quenbyworth",
    "source_person_ref": "REFSENTINEL77",
    "date_of_birth": "1987-07-13",
    "postcode": "EH99 1SP",
    "email": "zorbalinda.q@example.org",
    "uln": VALID_ULN,
    "ni_number": "JG103759A",
}
BAD_ULN = "9911223344"


def sentinel_rows() -> list[dict[str, str]]:
    good = achievement_row(**SENTINELS)
    bad = achievement_row(**{**SENTINELS, "uln": BAD_ULN, "awarded_on": "2999-01-01"})
    bad["source_person_ref"] = "REFSENTINEL78"
    return [good, bad]


def assert_no_sentinel(records: list) -> None:
    values = [*SENTINELS.values(), BAD_ULN, "REFSENTINEL78"]
    for record in records:
        line = record.getMessage() + (record.exc_text or "")
        for value in values:
            assert value not in line, f"{record.name} logged a row value"


def test_ingest_logs_no_row_values(
    ingest, captured_logs: pytest.LogCaptureFixture
) -> None:
    content = csv_bytes(sentinel_rows())
    content += b"REFSENTINEL79,Zorbalinda,Quenbyworth\xff,1987-07-13\n"
    report = ingest(content)
    ingest(content)
    lines = "\n".join(json.dumps(row) for row in sentinel_rows()).encode()
    ingest(lines, filename="feed.jsonl")

    assert report.rows_quarantined == 2
    assert len(captured_logs.records) > 0
    assert_no_sentinel(captured_logs.records)


def test_rejected_feed_logs_no_values(
    ingest, captured_logs: pytest.LogCaptureFixture
) -> None:
    content = csv_bytes(sentinel_rows(), columns=["source_person_ref", "given_name"])
    with pytest.raises(FeedError):
        ingest(content)
    assert_no_sentinel(captured_logs.records)


def test_api_logs_no_row_values(
    client, session_factory, captured_logs: pytest.LogCaptureFixture
) -> None:
    client.headers.update(bearer_headers(client, session_factory, "administrator"))
    response = client.post(
        "/api/v1/feeds",
        params={"source": SOURCE, "type": "achievements"},
        content=csv_bytes(sentinel_rows()),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201
    assert_no_sentinel(captured_logs.records)
