"""Page numbers and offsets too large for a 64-bit row offset.

SQLite and PostgreSQL take OFFSET as a signed 64-bit integer, so a page far
past the end must be answered as invalid input (422), never as a 500.
"""

from __future__ import annotations

import io

import pytest

from john.auth.testing import add_user, bearer_headers, sign_in
from john.records.service import ingest_feed

HUGE = "99999999999999999999"
# A page whose row offset passes 2**63 - 1 even at 20 rows a page, the
# smallest default page size, though the page number itself fits in 64 bits.
OVERFLOWING_PAGE = str(2**63 // 20 + 2)
FEED = (
    b"source_person_ref,given_name,family_name,date_of_birth,kind,title\n"
    b"QA1,Zelphine,Quorrabar,not-a-date,award,Certificate in Things\n"
)


@pytest.mark.parametrize(
    "path",
    [
        "/oruk/services",
        "/oruk/service_at_locations",
        "/oruk/taxonomies",
        "/oruk/taxonomy_terms",
        "/oruk/organizations",
        "/api/v1/catalogue/search",
    ],
)
@pytest.mark.parametrize("page", [HUGE, OVERFLOWING_PAGE])
def test_catalogue_page_overflow(client, path: str, page: str) -> None:
    response = client.get(path, params={"page": page})
    assert response.status_code == 422
    assert "page" in response.json()["detail"]


def test_learner_search_offset_overflow(client, session_factory) -> None:
    headers = bearer_headers(client, session_factory, "curator")
    response = client.get(
        "/api/v1/learners", params={"q": "mich", "offset": HUGE}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.offset"


def test_learner_search_page_overflow(client, session_factory) -> None:
    add_user(session_factory, "qa-curator", "curator")
    sign_in(client, "qa-curator")
    response = client.get("/learners", params={"q": "mich", "page": HUGE})
    assert response.status_code == 422


def test_feed_page_overflow(client, session_factory) -> None:
    report = ingest_feed(session_factory, "10000001", "achievements", io.BytesIO(FEED))
    add_user(session_factory, "qa-curator", "curator")
    sign_in(client, "qa-curator")
    response = client.get(f"/feeds/{report.feed_id}", params={"page": HUGE})
    assert response.status_code == 422
