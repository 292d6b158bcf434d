"""The learner search and record API."""

from __future__ import annotations

import pytest

from john.auth.testing import bearer_headers
from sample_learners import CRANFIELD, OPEN_UNIVERSITY, seed


@pytest.fixture
def seeded(session_factory, client):
    # The learner API is for staff and consented callers; a curator sees all.
    client.headers.update(bearer_headers(client, session_factory, "curator"))
    return seed(session_factory)


@pytest.fixture
def staff(client, session_factory) -> dict[str, str]:
    return bearer_headers(client, session_factory, "curator")


def test_api_search_by_name(client, seeded, staff) -> None:
    response = client.get("/api/v1/learners", params={"q": "quell"}, headers=staff)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    assert body["matched_on"] == "name"
    assert body["items"][0]["id"] == "L-joined"
    assert body["items"][0]["url"] == "/api/v1/learners/L-joined"


def test_api_search_by_uln(client, seeded, staff) -> None:
    response = client.get("/api/v1/learners", params={"q": seeded.uln}, headers=staff)
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == ["L-joined"]


def test_api_short_query_is_problem(client, seeded, staff) -> None:
    response = client.get("/api/v1/learners", params={"q": "a"}, headers=staff)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "too short" in response.json()["detail"]


def test_api_missing_query_is_problem(client, seeded, staff) -> None:
    response = client.get("/api/v1/learners", headers=staff)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.q"


def test_api_limit_out_of_range(client, seeded, staff) -> None:
    response = client.get(
        "/api/v1/learners", params={"q": "ada", "limit": 101}, headers=staff
    )
    assert response.status_code == 422


def test_api_record_has_provenance(client, seeded, staff) -> None:
    response = client.get("/api/v1/learners/L-joined", headers=staff)
    assert response.status_code == 200
    body = response.json()
    assert body["merged"] is False
    assert body["source_ukprns"] == [OPEN_UNIVERSITY, CRANFIELD]
    sources = {row["provenance"]["source_name"] for row in body["achievements"]}
    assert sources == {"The Open University", "Cranfield University"}
    assert body["persons"][1]["identifiers"] == {
        "uln": "9990000017",
        "ni_number": "QQ123456C",
    }
    assert body["disagreements"] == ["date_of_birth"]


def test_api_merged_id_returns_survivor(client, seeded, staff) -> None:
    response = client.get("/api/v1/learners/L-old", headers=staff)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "L-joined"
    assert body["requested_id"] == "L-old"
    assert body["merged"] is True
    assert response.headers["content-location"] == "/api/v1/learners/L-joined"


def test_api_unknown_learner_is_404(client, seeded, staff) -> None:
    response = client.get("/api/v1/learners/L-nobody", headers=staff)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "L-nobody" in response.json()["detail"]


def test_api_anonymous_is_unauthorised(client, seeded) -> None:
    # The seeded client carries a curator's token; send none.
    response = client.get("/api/v1/learners/L-joined", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_api_adviser_cannot_search(client, session_factory, seeded) -> None:
    headers = bearer_headers(client, session_factory, "adviser", organisation="Hub")
    response = client.get("/api/v1/learners", params={"q": "ada"}, headers=headers)
    assert response.status_code == 403


def test_api_learner_reads_own_record(client, session_factory, seeded) -> None:
    headers = bearer_headers(client, session_factory, "learner", learner_id="L-joined")
    own = client.get("/api/v1/learners/L-old", headers=headers)
    other = client.get("/api/v1/learners/L-single", headers=headers)
    assert own.status_code == 200
    assert own.json()["id"] == "L-joined"
    # Another learner's record is reported missing, so ids cannot be probed.
    assert other.status_code == 404
