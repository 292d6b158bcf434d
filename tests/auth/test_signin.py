"""Password sign-in, sessions, lockout and CSRF checks on the pages."""

from __future__ import annotations

import pytest

from john.auth.deps import SESSION_COOKIE
from john.auth.testing import TEST_PASSWORD, add_user, csrf_from, sign_in


@pytest.fixture
def curator(session_factory) -> str:
    return add_user(session_factory, "cara", "curator")


def test_signin_sets_session_cookie(client, curator) -> None:
    response = sign_in(client, "cara")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert SESSION_COOKIE in response.cookies


def test_signed_in_page_names_user(client, curator) -> None:
    sign_in(client, "cara")
    page = client.get("/")
    assert "Sign out" in page.text
    assert "cara (curator)" in page.text


def test_session_cookie_authenticates_api(client, curator) -> None:
    sign_in(client, "cara")
    response = client.get("/api/v1/whoami")
    assert response.status_code == 200
    assert response.json()["kind"] == "user"


def test_wrong_password_rerenders_form(client, curator) -> None:
    response = sign_in(client, "cara", "not the password")
    assert response.status_code == 401
    assert "There is a problem" in response.text
    assert SESSION_COOKIE not in response.cookies


def test_unknown_user_same_message(client, curator) -> None:
    unknown = sign_in(client, "nobody", "whatever password")
    wrong = sign_in(client, "cara", "not the password")
    assert unknown.status_code == wrong.status_code
    assert "username or password is wrong" in unknown.text


def test_lockout_after_five_failures(client, curator) -> None:
    for _ in range(5):
        sign_in(client, "cara", "not the password")
    response = sign_in(client, "cara", TEST_PASSWORD)
    assert response.status_code == 401
    assert SESSION_COOKIE not in response.cookies


def test_lockout_ends_after_its_time(client, curator, session_factory) -> None:
    from datetime import timedelta

    from john.auth.models import User
    from john.db import utcnow

    for _ in range(5):
        sign_in(client, "cara", "not the password")
    with session_factory() as db:
        db.get(User, curator).locked_until = utcnow() - timedelta(seconds=1)
        db.commit()
    response = sign_in(client, "cara", TEST_PASSWORD)
    assert response.status_code == 303


def test_form_post_without_csrf_rejected(client, curator) -> None:
    client.get("/signin")
    response = client.post(
        "/signin", data={"username": "cara", "password": TEST_PASSWORD}
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_form_post_with_foreign_csrf_rejected(client, curator) -> None:
    client.get("/signin")
    response = client.post(
        "/signin",
        data={"username": "cara", "password": TEST_PASSWORD, "csrf_token": "0" * 64},
    )
    assert response.status_code == 403


def test_signout_ends_session(client, curator) -> None:
    sign_in(client, "cara")
    token = csrf_from(client.get("/").text)
    response = client.post(
        "/signout", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    client.cookies.clear()
    assert client.get("/api/v1/whoami").status_code == 401


def test_stolen_cookie_dies_with_signout(client, curator) -> None:
    sign_in(client, "cara")
    stolen = client.cookies.get(SESSION_COOKIE)
    token = csrf_from(client.get("/").text)
    client.post("/signout", data={"csrf_token": token})
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, stolen)
    assert client.get("/api/v1/whoami").status_code == 401


def test_next_rejects_other_hosts(client, curator) -> None:
    form = client.get("/signin")
    response = client.post(
        "/signin",
        data={
            "username": "cara",
            "password": TEST_PASSWORD,
            "csrf_token": csrf_from(form.text),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_password_stored_as_argon2(session_factory, curator) -> None:
    from john.auth.models import User

    with session_factory() as db:
        stored = db.get(User, curator).password_hash
    assert stored.startswith("$argon2id$")
    assert TEST_PASSWORD not in stored


def test_learner_user_needs_learner_id(session_factory) -> None:
    from john.errors import InvalidInput

    with pytest.raises(InvalidInput):
        add_user(session_factory, "lee", "learner")
