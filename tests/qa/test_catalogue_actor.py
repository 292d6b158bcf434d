"""Who a catalogue revision names as its actor.

The revision history is the catalogue's audit trail, so it records the
signed-in user or the token's client, never a name the caller sends.
"""

from __future__ import annotations

from john.auth.testing import add_user, bearer_headers, page_csrf, sign_in

API = "/api/v1/catalogue"


def test_actor_header_ignored(client, session_factory) -> None:
    headers = bearer_headers(client, session_factory, "curator")
    subject = client.get("/api/v1/whoami", headers=headers).json()["subject"]
    created = client.post(
        f"{API}/services",
        json={"name": "Homework club", "description": "Quiet study."},
        headers={**headers, "X-John-Actor": "Somebody Else"},
    )
    service_id = created.json()["id"]
    history = client.get(f"{API}/revisions/service/{service_id}", headers=headers)
    assert created.status_code == 201
    assert subject.startswith("client:C-")
    assert history.json()[0]["actor"] == subject


def test_page_edit_names_user(client, session_factory) -> None:
    user_id = add_user(session_factory, "qa-curator", "curator")
    sign_in(client, "qa-curator")
    created = client.post(
        "/catalogue/services",
        data={
            "name": "Reading club",
            "description": "Books.",
            "csrf_token": page_csrf(client, "/catalogue/services/new"),
        },
        follow_redirects=False,
    )
    service_id = created.headers["location"].rsplit("/", 1)[-1]
    headers = bearer_headers(client, session_factory, "curator")
    history = client.get(f"{API}/revisions/service/{service_id}", headers=headers)
    assert created.status_code == 303
    assert history.json()[0]["actor"] == f"user:{user_id}"
