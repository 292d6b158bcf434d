"""ASGI middleware that checks the CSRF token on form posts.

A browser sends cookies with cross-site form posts, so a form-encoded or
multipart request must carry ``csrf_token`` equal to the HMAC of the caller's
session (or pre-session) cookie. JSON requests need no token: a cross-site
page cannot send them without a CORS preflight, which the hub never allows.
Exempt are the token endpoint, the LRS under ``/xapi/``, and requests with an
``Authorization`` header and no session cookie.
"""

from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.formparsers import MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from john.auth.settings import load_secret_key

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# The token endpoint authenticates the client itself (RFC 6749 §2.3) and reads
# no cookies, so it needs no CSRF token.
EXEMPT_PATHS = ("/api/v1/oauth/token",)

# The LRS authenticates every request with Basic credentials and xAPI 1.0.3
# mandates form posts for its alternate request syntax, which carry no token.
EXEMPT_PREFIXES = ("/xapi/",)


class CsrfMiddleware:
    """Reject form posts whose ``csrf_token`` does not match the caller's cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in UNSAFE_METHODS
            or scope["path"] in EXEMPT_PATHS
            or scope["path"].startswith(EXEMPT_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in FORM_TYPES:
            await self.app(scope, receive, send)
            return

        from john.auth.deps import PRESESSION_COOKIE, SESSION_COOKIE, expected_csrf

        cookies = SimpleCookie()
        cookies.load(headers.get("cookie", ""))

        # A bearer client sends no session cookie, so a forged cross-site form
        # has nothing to ride on; its multipart feed uploads pass unchecked.
        has_session = SESSION_COOKIE in cookies or PRESESSION_COOKIE in cookies
        if not has_session and headers.get("authorization"):
            await self.app(scope, receive, send)
            return

        body = await _read_body(receive)
        submitted = await _form_token(headers, content_type, body)
        basis = ""
        for name in (SESSION_COOKIE, PRESESSION_COOKIE):
            if name in cookies:
                basis = cookies[name].value
                break
        key = _app_key(scope)
        if (
            not basis
            or not submitted
            or not hmac.compare_digest(submitted, expected_csrf(key, basis))
        ):
            await _reject(send)
            return
        await self.app(scope, _replay(body, receive), send)


def _app_key(scope: Scope) -> bytes:
    state = scope["app"].state
    if getattr(state, "secret_key", None) is None:
        state.secret_key = load_secret_key(state.settings)
    key: bytes = state.secret_key
    return key


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _form_token(headers: Headers, content_type: str, body: bytes) -> str:
    if content_type == "application/x-www-form-urlencoded":
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True)
        return values.get("csrf_token", [""])[0]

    async def stream() -> Any:
        yield body

    try:
        form = await MultiPartParser(headers, stream()).parse()
    except Exception:  # noqa: BLE001 - any unreadable body simply has no token
        return ""
    value = form.get("csrf_token")
    return value if isinstance(value, str) else ""


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _reject(send: Send) -> None:
    body = json.dumps(
        {
            "type": "https://john.example/problems/forbidden",
            "title": "Forbidden",
            "status": 403,
            "detail": "the form's CSRF token is missing or stale; reload the page "
            "and submit the form again",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
