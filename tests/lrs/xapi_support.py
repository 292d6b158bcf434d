"""Request helpers and sample statements for the LRS tests."""

from __future__ import annotations

import base64
from typing import Any


class Xapi:
    """A test client that sends xAPI headers and Basic credentials."""

    def __init__(self, client: Any, key: str, secret: str, version: str) -> None:
        self.client = client
        self.key = key
        self.version = version
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.auth = f"Basic {token}"

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Return the headers every request carries, plus ``extra``."""
        base = {"Authorization": self.auth, "X-Experience-API-Version": self.version}
        return {**base, **(extra or {})}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request to ``/xapi/{path}``."""
        headers = self.headers(kwargs.pop("headers", None))
        return self.client.request(method, f"/xapi/{path}", headers=headers, **kwargs)

    def post_statements(self, body: Any, **kwargs: Any) -> Any:
        """POST one statement or a batch as JSON."""
        return self.request("POST", "statements", json=body, **kwargs)

    def get_statements(self, **params: Any) -> Any:
        """GET statements with query parameters."""
        return self.request("GET", "statements", params=params)


def with_version(xapi: Xapi, version: str) -> Xapi:
    copy = Xapi.__new__(Xapi)
    copy.client, copy.key, copy.auth, copy.version = (
        xapi.client,
        xapi.key,
        xapi.auth,
        version,
    )
    return copy


def statement(**overrides: Any) -> dict[str, Any]:
    """Return a valid statement, with top-level properties replaced."""
    body: dict[str, Any] = {
        "actor": {"objectType": "Agent", "mbox": "mailto:ada@example.com"},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/experienced",
            "display": {"en-GB": "experienced"},
        },
        "object": {
            "objectType": "Activity",
            "id": "http://example.com/activities/first-aid",
            "definition": {"name": {"en-GB": "First aid"}},
        },
    }
    body.update(overrides)
    return body
