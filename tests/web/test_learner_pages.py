"""The learner search, learner record and feed pages, rendered on the server."""

from __future__ import annotations

import pytest

from john.auth.testing import add_user, sign_in
from sample_learners import seed


@pytest.fixture
def seeded(session_factory, client):
    # These pages are for staff; sign the client in as a curator.
    add_user(session_factory, "curator", "curator")
    sign_in(client, "curator")
    return seed(session_factory)


def test_search_page_shows_form(client, seeded) -> None:
    response = client.get("/learners")
    assert response.status_code == 200
    assert '<label class="label" for="q">' in response.text
    assert 'aria-describedby="q-hint"' in response.text
    assert "There is a problem" not in response.text


def test_search_page_lists_results(client, seeded) -> None:
    response = client.get("/learners", params={"q": "ada"})
    assert response.status_code == 200
    assert 'href="/learners/L-joined"' in response.text
    assert "1 learner found" in response.text
    assert "<caption" in response.text


def test_search_page_no_learners_found(client, seeded) -> None:
    response = client.get("/learners", params={"q": "zzzz"})
    assert response.status_code == 200
    assert "No learners found" in response.text


@pytest.mark.parametrize("query", ["", " ", "a"])
def test_search_page_short_query_error(client, seeded, query) -> None:
    response = client.get("/learners", params={"q": query})
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert 'href="#q"' in response.text
    assert "too short" in response.text
    assert "<title>Error: Search learners" in response.text


def test_search_page_bad_identifier_error(client, seeded) -> None:
    response = client.get("/learners", params={"q": "12345"})
    assert response.status_code == 422
    assert "not a full identifier" in response.text


def test_learner_page_shows_both_sources(client, seeded) -> None:
    response = client.get("/learners/L-joined")
    assert response.status_code == 200
    assert "From The Open University (UKPRN 10007773)" in response.text
    assert "From Cranfield University (UKPRN 10007822)" in response.text
    assert "MSc Aerospace Dynamics" in response.text
    assert "BSc (Hons) Mathematics" in response.text
    assert 'href="/feeds/F-b"' in response.text
    assert "Differs between sources" in response.text


def test_learner_page_merged_id_notice(client, seeded) -> None:
    response = client.get("/learners/L-old")
    assert response.status_code == 200
    assert "has been merged into this learner" in response.text
    assert "L-joined" in response.text


def test_learner_page_unknown_is_404(client, seeded) -> None:
    response = client.get("/learners/L-nobody")
    assert response.status_code == 404
    assert "L-nobody" in response.text


def test_feeds_page_lists_counts(client, seeded) -> None:
    response = client.get("/feeds")
    assert response.status_code == 200
    assert 'href="/feeds/F-a"' in response.text
    assert "Cranfield University (UKPRN 10007822)" in response.text


def test_feed_page_shows_quarantine(client, seeded) -> None:
    response = client.get("/feeds/F-b")
    assert response.status_code == 200
    assert "date of birth 1890-01-01 is before 1900" in response.text
    assert "date_of_birth" in response.text


def test_feed_page_unknown_is_404(client, seeded) -> None:
    response = client.get("/feeds/F-nothing")
    assert response.status_code == 404
