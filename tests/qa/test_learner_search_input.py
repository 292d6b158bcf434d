"""Learner search queries holding control characters.

PostgreSQL cannot compare text that holds NUL, so SQLite and PostgreSQL
must reject such a query alike with 422 rather than answer it on one.
"""

from __future__ import annotations

import pytest

from john.auth.testing import bearer_headers


@pytest.mark.parametrize("query", ["\x00\x00", "mich\x00", "neum\x1bmich"])
def test_learner_search_control_characters(client, session_factory, query) -> None:
    headers = bearer_headers(client, session_factory, "curator")
    response = client.get("/api/v1/learners", params={"q": query}, headers=headers)
    assert response.status_code == 422
    assert "control characters" in response.json()["detail"]
