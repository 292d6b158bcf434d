"""The linkage API and the review pages."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from tests.identity.conftest import person

from john.auth.testing import add_user, bearer_headers, csrf_from, sign_in
from john.identity import service
from john.identity.linkage import Thresholds
from john.identity.models import MatchReview, PersonRecord

WIDE_REVIEW = Thresholds(match=0.999999999, review=0.01)


@pytest.fixture
def api(client, session_factory):
    """Return the test client carrying a curator's bearer token."""
    client.headers.update(bearer_headers(client, session_factory, "curator"))
    return client


@pytest.fixture
def pages(client, session_factory):
    """Return the test client signed in to the pages as a curator."""
    add_user(session_factory, "reviewer", "curator")
    sign_in(client, "reviewer")
    return client


def _queued_review(session_factory, add_records) -> int:
    add_records(
        person("Ada", "Lovelace", date(2001, 5, 6), "AB1 2CD"),
        person("Ada", "Lovelace", date(2001, 6, 5), "ZZ9 9ZZ", source_ukprn="10000002"),
    )
    service.run_linkage(session_factory, thresholds=WIDE_REVIEW)
    with session_factory() as session:
        reviews = session.scalars(select(MatchReview.id)).all()
    return max(reviews)


def test_post_run_returns_report(api, add_records) -> None:
    add_records(person("Ada", "Lovelace", date(2001, 5, 6)))
    response = api.post("/api/v1/linkage/runs")
    assert response.status_code == 200
    assert response.json()["records"] == 1
    assert response.json()["learners_created"] == 1


def test_post_incremental_run(api, session_factory, add_records) -> None:
    add_records(person("Ada", "Lovelace", date(2001, 5, 6)))
    api.post("/api/v1/linkage/runs")
    add_records(person("Grace", "Hopper", date(1985, 12, 9)))
    response = api.post("/api/v1/linkage/runs", params={"incremental": "true"})
    assert response.status_code == 200
    assert response.json()["learners_created"] == 1
    with session_factory() as session:
        assert service.list_runs(session)[0].settings["new_records"] == 1


def test_review_detail_shows_address(api, session_factory, add_records, crowd) -> None:
    add_records(
        person("Ada", "Lovelace", date(2001, 5, 6), "AB1 2CD", locality="Leeds"),
        person(
            "Ada",
            "Lovelace",
            date(2001, 6, 5),
            "ZZ9 9ZZ",
            locality="Leeds",
            source_ukprn="10000002",
        ),
    )
    service.run_linkage(session_factory, thresholds=WIDE_REVIEW)
    with session_factory() as session:
        review_id = max(session.scalars(select(MatchReview.id)).all())
    body = api.get(f"/api/v1/reviews/{review_id}").json()
    fields = {row["field"]: row for row in body["comparison"]}
    assert body["record_a"]["locality"] == "Leeds"
    assert fields["locality"]["level"] == "Exact match on locality"


def test_list_runs_after_run(api, add_records) -> None:
    add_records(person("Ada", "Lovelace", date(2001, 5, 6)))
    api.post("/api/v1/linkage/runs")
    runs = api.get("/api/v1/linkage/runs").json()
    assert len(runs) == 1
    assert runs[0]["match_threshold"] == Thresholds().match
    assert "model" not in runs[0]


def test_review_detail_compares_records(
    api, session_factory, add_records, crowd
) -> None:
    review_id = _queued_review(session_factory, add_records)
    body = api.get(f"/api/v1/reviews/{review_id}").json()
    assert body["record_a"]["given_name"] == "Ada"
    assert body["record_b"]["date_of_birth"] == "2001-06-05"
    by_field = {row["field"]: row for row in body["comparison"]}
    assert by_field["dob"]["level"] == "Day and month swapped"
    assert by_field["given_name"]["match_weight"] > 0


def test_pending_reviews_listed(api, session_factory, add_records, crowd) -> None:
    review_id = _queued_review(session_factory, add_records)
    ids = [review["id"] for review in api.get("/api/v1/reviews").json()]
    assert review_id in ids


def test_decision_endpoint_accepts(api, session_factory, add_records, crowd) -> None:
    review_id = _queued_review(session_factory, add_records)
    response = api.post(
        f"/api/v1/reviews/{review_id}/decision",
        json={"decision": "accept", "reason": "same learner, dates swapped"},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response.json()["decided_by"].startswith("client:")


def test_bad_decision_is_problem(api) -> None:
    response = api.post("/api/v1/reviews/1/decision", json={"decision": "maybe"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_missing_review_is_404(api) -> None:
    response = api.get("/api/v1/reviews/4040")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_history_lists_events(api, session_factory, add_records) -> None:
    (record_id,) = add_records(person("Ada", "Lovelace", date(2001, 5, 6)))
    api.post("/api/v1/linkage/runs")
    with session_factory() as session:
        learner_id = session.get(PersonRecord, record_id).learner_id
    body = api.get(f"/api/v1/learners/{learner_id}/history").json()
    assert body["status"] == "active"
    assert body["resolved_id"] == learner_id
    assert [event["kind"] for event in body["events"]] == ["assign"]


def test_review_queue_page_lists(pages, session_factory, add_records, crowd) -> None:
    review_id = _queued_review(session_factory, add_records)
    page = pages.get("/reviews")
    assert page.status_code == 200
    assert f'href="/reviews/{review_id}"' in page.text


def test_review_page_has_form(pages, session_factory, add_records, crowd) -> None:
    review_id = _queued_review(session_factory, add_records)
    page = pages.get(f"/reviews/{review_id}")
    assert page.status_code == 200
    assert f'action="/reviews/{review_id}/decision"' in page.text
    assert 'value="accept"' in page.text
    assert 'value="reject"' in page.text
    assert "<script" not in page.text


def test_page_form_rejects_review(pages, session_factory, add_records, crowd) -> None:
    review_id = _queued_review(session_factory, add_records)
    token = csrf_from(pages.get(f"/reviews/{review_id}").text)
    response = pages.post(
        f"/reviews/{review_id}/decision",
        data={"decision": "reject", "reason": "different people", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with session_factory() as session:
        review = session.get(MatchReview, review_id)
        assert review.status == "rejected"
        assert review.decided_by.startswith("user:")


def test_api_needs_staff_token(client) -> None:
    response = client.get("/api/v1/reviews")
    assert response.status_code == 401


def test_learner_token_is_forbidden(client, session_factory) -> None:
    headers = bearer_headers(client, session_factory, "learner", learner_id="L-x")
    response = client.get("/api/v1/reviews", headers=headers)
    assert response.status_code == 403


def test_review_page_needs_sign_in(client) -> None:
    response = client.get("/reviews", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_form_without_csrf_rejected(pages, session_factory, add_records, crowd) -> None:
    review_id = _queued_review(session_factory, add_records)
    response = pages.post(
        f"/reviews/{review_id}/decision",
        data={"decision": "reject"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    with session_factory() as session:
        assert session.get(MatchReview, review_id).status == "pending"
