"""Helpers that create users and clients and sign them in, for tests and demos.

They drive the real endpoints (the token endpoint and the sign-in form), so a
test that uses them also exercises sign-in.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from john.auth import service

TEST_PASSWORD = "correct horse battery staple"

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def add_client(
    session_factory: sessionmaker[Session], role: str, **binding: Any
) -> tuple[str, str]:
    """Register a client with ``role`` and return ``(client_id, secret)``."""
    with session_factory() as db:
        created = service.create_client(db, name=f"{role} client", role=role, **binding)
        db.commit()
        return created.client.client_id, created.secret


def bearer_headers(
    http: Any, session_factory: sessionmaker[Session], role: str, **binding: Any
) -> dict[str, str]:
    """Return an ``Authorization`` header for a new client with ``role``."""
    client_id, secret = add_client(session_factory, role, **binding)
    response = http.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def add_user(
    session_factory: sessionmaker[Session], username: str, role: str, **binding: Any
) -> str:
    """Add a user with the test password and return the user id."""
    with session_factory() as db:
        user = service.create_user(
            db, username=username, role=role, password=TEST_PASSWORD, **binding
        )
        db.commit()
        return user.id


def csrf_from(html: str) -> str:
    """Return the CSRF token in a rendered form."""
    found = _CSRF_FIELD.search(html)
    if found is None:
        raise AssertionError("no csrf_token field in the page")
    return found.group(1)


def sign_in(http: Any, username: str, password: str = TEST_PASSWORD) -> Any:
    """Sign in through the form, leaving the session cookie on ``http``."""
    form = http.get("/signin")
    return http.post(
        "/signin",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(form.text),
            "next": "/",
        },
        follow_redirects=False,
    )


def page_csrf(http: Any, path: str = "/") -> str:
    """Return the CSRF token a signed-in page carries."""
    return csrf_from(http.get(path).text)
