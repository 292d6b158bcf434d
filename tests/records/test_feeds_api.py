"""The feeds API: sending feeds as a body or an upload, reports, quarantine pages."""

from __future__ import annotations

import json

import pytest
from feed_samples import SOURCE, ULN_CHECK_DIGIT, achievement_row, csv_bytes

from john.auth.testing import bearer_headers, csrf_from


@pytest.fixture(autouse=True)
def signed_in(client, session_factory) -> None:
    """Send every request of these tests as an administrator's client."""
    client.headers.update(bearer_headers(client, session_factory, "administrator"))


def sample_feed() -> bytes:
    return csv_bytes(
        [
            achievement_row(source_person_ref="L1"),
            achievement_row(source_person_ref="L2", uln="1234567890"),
        ]
    )


def post_csv(client, content: bytes, **params: str):
    query = {"source": SOURCE, "type": "achievements", **params}
    return client.post(
        "/api/v1/feeds",
        params=query,
        content=content,
        headers={"Content-Type": "text/csv"},
    )


def test_post_csv_body_returns_201(client) -> None:
    response = post_csv(client, sample_feed())
    body = response.json()
    assert response.status_code == 201
    assert body["rows_read"] == 2
    assert body["rows_accepted"] == 1
    assert body["rows_quarantined"] == 1
    assert body["already_ingested"] is False
    assert body["delimiter"] == ","
    assert response.headers["location"] == f"/api/v1/feeds/{body['feed_id']}"


def test_repeat_post_returns_200(client) -> None:
    first = post_csv(client, sample_feed())
    again = post_csv(client, sample_feed())
    assert again.status_code == 200
    assert again.json()["already_ingested"] is True
    assert again.json()["feed_id"] == first.json()["feed_id"]
    assert client.get("/api/v1/feeds").json()["total"] == 1


def test_post_ndjson_body(client) -> None:
    lines = "\n".join(json.dumps(achievement_row(source_person_ref=r)) for r in "AB")
    response = client.post(
        "/api/v1/feeds",
        params={"source": SOURCE, "type": "achievements"},
        content=lines.encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 201
    assert response.json()["file_format"] == "json"
    assert response.json()["rows_accepted"] == 2


def form_token(client) -> str:
    """Return the CSRF token that form posts from this client must carry."""
    return csrf_from(client.get("/signin").text)


def test_post_multipart_upload(client) -> None:
    response = client.post(
        "/api/v1/feeds",
        params={"source": SOURCE, "type": "achievements"},
        files={"file": ("feed.csv", sample_feed(), "text/csv")},
        data={"csrf_token": form_token(client)},
    )
    assert response.status_code == 201
    assert response.json()["filename"] == "feed.csv"


def test_multipart_mapping_part_used(client) -> None:
    content = b"Ref,Type,Name\nL1,award,Award in First Aid\n"
    mapping = b'[columns]\nRef = "source_person_ref"\nType = "kind"\nName = "title"\n'
    response = client.post(
        "/api/v1/feeds",
        params={"source": SOURCE, "type": "achievements"},
        files={
            "file": ("feed.csv", content, "text/csv"),
            "mapping": ("college.toml", mapping, "application/toml"),
        },
        data={"csrf_token": form_token(client)},
    )
    assert response.status_code == 201
    assert response.json()["mapping"] == "college"
    assert response.json()["rows_accepted"] == 1


def test_missing_columns_problem_details(client) -> None:
    response = post_csv(client, b"source_person_ref,kind\nL1,award\n")
    body = response.json()
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert body["type"].endswith("/invalid-feed")
    assert [error["field"] for error in body["errors"]] == ["title"]


def test_empty_body_problem_details(client) -> None:
    response = post_csv(client, b"")
    assert response.status_code == 422
    assert "empty" in response.json()["detail"]


def test_bad_source_names_field(client) -> None:
    response = post_csv(client, sample_feed(), source="123")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "source"


def test_bad_type_names_field(client) -> None:
    response = post_csv(client, sample_feed(), type="grades")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "type"


def test_missing_source_names_field(client) -> None:
    response = client.post(
        "/api/v1/feeds",
        params={"type": "achievements"},
        content=sample_feed(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.source"


def test_unsupported_content_type(client) -> None:
    response = client.post(
        "/api/v1/feeds",
        params={"source": SOURCE, "type": "achievements"},
        content=b"<feed/>",
        headers={"Content-Type": "application/xml"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "content-type"


def test_named_mapping_rejected(client) -> None:
    response = post_csv(client, sample_feed(), mapping="/etc/passwd")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mapping"


def test_feed_report_read_back(client) -> None:
    feed_id = post_csv(client, sample_feed()).json()["feed_id"]
    response = client.get(f"/api/v1/feeds/{feed_id}")
    assert response.status_code == 200
    assert response.json()["quarantine_reasons"] == {"uln": {ULN_CHECK_DIGIT: 1}}


def test_unknown_feed_is_404(client) -> None:
    response = client.get("/api/v1/feeds/F-none")
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "feed_id"


def test_quarantine_is_paged(client) -> None:
    rows = [achievement_row(source_person_ref=f"L{i}", uln="1") for i in range(5)]
    feed_id = post_csv(client, csv_bytes(rows)).json()["feed_id"]
    first = client.get(f"/api/v1/feeds/{feed_id}/quarantine", params={"limit": 2})
    last = client.get(
        f"/api/v1/feeds/{feed_id}/quarantine", params={"limit": 2, "offset": 4}
    )
    assert first.json()["total"] == 5
    assert [item["row_number"] for item in first.json()["items"]] == [1, 2]
    assert [item["row_number"] for item in last.json()["items"]] == [5]
    assert first.json()["items"][0]["field"] == "uln"
    assert first.json()["items"][0]["raw"].startswith("L0,")


def test_feed_list_filters_source(client) -> None:
    post_csv(client, sample_feed())
    assert client.get("/api/v1/feeds", params={"source": SOURCE}).json()["total"] == 1
    assert (
        client.get("/api/v1/feeds", params={"source": "10000009"}).json()["total"] == 0
    )


def test_multipart_bearer_needs_no_token(client) -> None:
    response = client.post(
        "/api/v1/feeds",
        params={"source": SOURCE, "type": "achievements"},
        files={"file": ("feed.csv", sample_feed(), "text/csv")},
    )
    assert response.status_code == 201
    assert client.get("/api/v1/feeds").json()["total"] == 1


def test_multipart_with_cookie_needs_token(client) -> None:
    form_token(client)  # sets the pre-session cookie a browser would carry
    response = client.post(
        "/api/v1/feeds",
        params={"source": SOURCE, "type": "achievements"},
        files={"file": ("feed.csv", sample_feed(), "text/csv")},
    )
    assert response.status_code == 403
    assert client.get("/api/v1/feeds").json()["total"] == 0
