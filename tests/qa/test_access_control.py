"""Who may call the feed, linkage and review endpoints and pages.

Quarantined rows and match reviews carry names, dates of birth and postcodes,
and a review decision merges or splits learners, so none of them may be open
to an anonymous caller or to another provider.
"""

from __future__ import annotations

import io

from john.auth.testing import bearer_headers
from john.records.service import ingest_feed

OWN_UKPRN = "10000001"
OTHER_UKPRN = "10000002"
FEED = (
    b"source_person_ref,given_name,family_name,date_of_birth,kind,title\n"
    b"QA1,Zelphine,Quorrabar,not-a-date,award,Certificate in Things\n"
)


def stored_feed(session_factory, source: str = OWN_UKPRN) -> str:
    report = ingest_feed(session_factory, source, "achievements", io.BytesIO(FEED))
    return report.feed_id


def test_anonymous_quarantine_read_refused(client, session_factory) -> None:
    feed_id = stored_feed(session_factory)
    response = client.get(f"/api/v1/feeds/{feed_id}/quarantine")
    assert response.status_code == 401


def test_anonymous_feed_list_refused(client, session_factory) -> None:
    stored_feed(session_factory)
    response = client.get("/api/v1/feeds")
    assert response.status_code == 401


def test_anonymous_feed_post_refused(client) -> None:
    response = client.post(
        "/api/v1/feeds",
        params={"source": OWN_UKPRN, "type": "achievements"},
        content=FEED,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 401


def test_provider_reads_other_quarantine(client, session_factory) -> None:
    feed_id = stored_feed(session_factory, source=OTHER_UKPRN)
    headers = bearer_headers(client, session_factory, "provider", ukprn=OWN_UKPRN)
    response = client.get(f"/api/v1/feeds/{feed_id}/quarantine", headers=headers)
    # Another provider's feed is hidden as if it did not exist.
    assert response.status_code == 404


def test_provider_posts_as_other(client, session_factory) -> None:
    headers = bearer_headers(client, session_factory, "provider", ukprn=OWN_UKPRN)
    response = client.post(
        "/api/v1/feeds",
        params={"source": OTHER_UKPRN, "type": "achievements"},
        content=FEED,
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 403


def test_anonymous_review_list_refused(client) -> None:
    response = client.get("/api/v1/reviews")
    assert response.status_code == 401


def test_anonymous_review_detail_refused(client) -> None:
    response = client.get("/api/v1/reviews/1")
    assert response.status_code == 401


def test_anonymous_decision_refused(client) -> None:
    response = client.post("/api/v1/reviews/1/decision", json={"decision": "accept"})
    assert response.status_code == 401


def test_anonymous_linkage_run_refused(client) -> None:
    response = client.post("/api/v1/linkage/runs")
    assert response.status_code == 401


def test_anonymous_learner_history_refused(client) -> None:
    response = client.get("/api/v1/learners/L-unknown/history")
    assert response.status_code == 401


def test_reviews_page_redirects_anonymous(client) -> None:
    response = client.get("/reviews", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_anonymous_learner_search_refused(client) -> None:
    response = client.get("/api/v1/learners", params={"q": "Quorrabar"})
    assert response.status_code == 401


def test_provider_learner_search_refused(client, session_factory) -> None:
    headers = bearer_headers(client, session_factory, "provider", ukprn=OWN_UKPRN)
    response = client.get(
        "/api/v1/learners", params={"q": "Quorrabar"}, headers=headers
    )
    assert response.status_code == 403


def test_learners_page_redirects_anonymous(client) -> None:
    response = client.get("/learners", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")
