"""The linkage API and the review pages."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from tests.identity.conftest import person

from john.auth.testing import bearer_headers
from john.identity import service
from john.identity.linkage import Thresholds
from john.identity.models import MatchReview, PersonRecord


@pytest.fixture(autouse=True)
def as_administrator(client, session_factory) -> None:
    # These endpoints need a signed-in role; an administrator passes them all.
    client.headers.update(bearer_headers(client, session_factory, "administrator"))


WIDE_REVIEW = Thresholds(match=0.999999999, review=0.01)


def _queued_review(session_factory, add_records) -> int:
    add_records(
        person("Ada", "Lovelace", date(2001, 5, 6), "AB1 2CD"),
        person("Ada", "Lovelace", date(2001, 6, 5), "ZZ9 9ZZ", source_ukprn="10000002"),
    )
    service.run_linkage(session_factory, thresholds=WIDE_REVIEW)
    with session_factory() as session:
        reviews = session.scalars(select(MatchReview.id)).all()
    return max(reviews)


def test_post_run_returns_report(client, add_records) -> None:
    add_records(person("Ada", "Lovelace", date(2001, 5, 6)))
    response = client.post("/api/v1/linkage/runs")
    assert response.status_code == 200
    assert response.json()["records"] == 1
    assert response.json()["learners_created"] == 1


def test_list_runs_after_run(client, add_records) -> None:
    add_records(person("Ada", "Lovelace", date(2001, 5, 6)))
    client.post("/api/v1/linkage/runs")
    runs = client.get("/api/v1/linkage/runs").json()
    assert len(runs) == 1
    assert runs[0]["match_threshold"] == Thresholds().match
    assert "model" not in runs[0]


def test_review_detail_compares_records(
    client, session_factory, add_records, crowd
) -> None:
    review_id = _queued_review(session_factory, add_records)
    body = client.get(f"/api/v1/reviews/{review_id}").json()
    assert body["record_a"]["given_name"] == "Ada"
    assert body["record_b"]["date_of_birth"] == "2001-06-05"
    by_field = {row["field"]: row for row in body["comparison"]}
    assert by_field["dob"]["level"] == "Day and month swapped"
    assert by_field["given_name"]["match_weight"] > 0


def test_pending_reviews_listed(client, session_factory, add_records, crowd) -> None:
    review_id = _queued_review(session_factory, add_records)
    ids = [review["id"] for review in client.get("/api/v1/reviews").json()]
    assert review_id in ids


def test_decision_endpoint_accepts(client, session_factory, add_records, crowd) -> None:
    review_id = _queued_review(session_factory, add_records)
    response = client.post(
        f"/api/v1/reviews/{review_id}/decision",
        json={"decision": "accept", "reason": "same learner, dates swapped"},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response.json()["decided_by"] == "staff"


def test_bad_decision_is_problem(client) -> None:
    response = client.post("/api/v1/reviews/1/decision", json={"decision": "maybe"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_missing_review_is_404(client) -> None:
    response = client.get("/api/v1/reviews/4040")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_history_lists_events(client, session_factory, add_records) -> None:
    (record_id,) = add_records(person("Ada", "Lovelace", date(2001, 5, 6)))
    client.post("/api/v1/linkage/runs")
    with session_factory() as session:
        learner_id = session.get(PersonRecord, record_id).learner_id
    body = client.get(f"/api/v1/learners/{learner_id}/history").json()
    assert body["status"] == "active"
    assert body["resolved_id"] == learner_id
    assert [event["kind"] for event in body["events"]] == ["assign"]


def test_review_queue_page_lists(client, session_factory, add_records, crowd) -> None:
    review_id = _queued_review(session_factory, add_records)
    page = client.get("/reviews")
    assert page.status_code == 200
    assert f'href="/reviews/{review_id}"' in page.text


def test_review_page_has_form(client, session_factory, add_records, crowd) -> None:
    review_id = _queued_review(session_factory, add_records)
    page = client.get(f"/reviews/{review_id}")
    assert page.status_code == 200
    assert f'action="/reviews/{review_id}/decision"' in page.text
    assert 'value="accept"' in page.text
    assert 'value="reject"' in page.text
    assert "<script" not in page.text


def test_page_form_rejects_review(client, session_factory, add_records, crowd) -> None:
    review_id = _queued_review(session_factory, add_records)
    response = client.post(
        f"/reviews/{review_id}/decision",
        data={"decision": "reject", "reason": "different people"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with session_factory() as session:
        assert session.get(MatchReview, review_id).status == "rejected"
