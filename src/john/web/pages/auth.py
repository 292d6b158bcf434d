"""Sign-in and sign-out pages: password sign-in and OpenID Connect."""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from john.auth import oidc, service
from john.auth.deps import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    auth_settings,
    cookie_serializer,
    secret_key,
    session_token,
)
from john.auth.models import User
from john.auth.settings import AuthSettings
from john.errors import NotFound, Unauthorised
from john.web.templating import templates

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

OIDC_COOKIE = "john_oidc"
_OIDC_COOKIE_SECONDS = 600


def safe_next(value: str | None) -> str:
    """Return ``value`` when it is a path on this site, else ``/``.

    Rejecting ``//host`` and absolute URLs stops the sign-in page being used
    as an open redirect.
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(char) < 32 for char in value):
        return "/"
    return value


def _render_signin(
    request: Request, next_path: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    settings = auth_settings(request)
    response = templates.TemplateResponse(
        request,
        "signin.html",
        {
            "title": "Sign in",
            "next_path": next_path,
            "error": error,
            "oidc_enabled": settings.oidc_enabled,
        },
        status_code=status,
    )
    return response


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str | None = None) -> Response:
    """Show the sign-in form, setting a pre-session cookie for its CSRF token."""
    if not request.cookies.get(PRESESSION_COOKIE) and not request.cookies.get(
        SESSION_COOKIE
    ):
        # The CSRF token is derived from this cookie, so the form rendered
        # below must see it already.
        request.cookies[PRESESSION_COOKIE] = secrets.token_urlsafe(24)
        response = _render_signin(request, safe_next(next))
        _set_cookie(
            response,
            auth_settings(request),
            PRESESSION_COOKIE,
            request.cookies[PRESESSION_COOKIE],
        )
        return response
    return _render_signin(request, safe_next(next))


def _set_cookie(
    response: Response,
    settings: AuthSettings,
    name: str,
    value: str,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def _signed_in_response(request: Request, user_id: str, next_path: str) -> Response:
    settings = auth_settings(request)
    with request.app.state.sessions() as db:
        user = db.get(User, user_id)
        token = service.start_session(db, settings, user)
        db.commit()
    response = RedirectResponse(next_path, status_code=303)
    _set_cookie(
        response,
        settings,
        SESSION_COOKIE,
        cookie_serializer(request).dumps(token),
        max_age=int(settings.session_hours * 3600),
    )
    response.delete_cookie(PRESESSION_COOKIE, path="/")
    log.info("user %s signed in", user_id)
    return response


@router.post("/signin", response_class=HTMLResponse)
def signin(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password and start a session, or show the form with the error."""
    next_path = safe_next(next)
    settings = auth_settings(request)
    with request.app.state.sessions() as db:
        try:
            user = service.authenticate_user(db, settings, username, password)
            db.commit()
        except Unauthorised as error:
            return _render_signin(request, next_path, error.detail, status=401)
        user_id = user.id
    return _signed_in_response(request, user_id, next_path)


@router.post("/signout")
def signout(request: Request) -> Response:
    """End the session and return to the start page."""
    token = session_token(request)
    if token:
        with request.app.state.sessions() as db:
            service.end_session(db, token)
            db.commit()
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _redirect_uri(request: Request, settings: AuthSettings) -> str:
    return settings.oidc_redirect_uri or str(request.url_for("oidc_callback"))


def _oidc_signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(request), salt="john-oidc")


@router.get("/signin/oidc")
def oidc_start(request: Request, next: str | None = None) -> Response:
    """Send the browser to the OpenID Connect provider."""
    settings = auth_settings(request)
    if not settings.oidc_enabled:
        raise NotFound("sign-in with an organisation account is not set up on this hub")
    provider = oidc.discover(settings)
    url, pending = oidc.start(
        settings, provider, _redirect_uri(request, settings), safe_next(next)
    )
    response = RedirectResponse(url, status_code=303)
    _set_cookie(
        response,
        settings,
        OIDC_COOKIE,
        _oidc_signer(request).dumps(asdict(pending)),
        max_age=_OIDC_COOKIE_SECONDS,
    )
    return response


@router.get("/signin/oidc/callback", name="oidc_callback")
def oidc_callback(
    request: Request,
    settings: Annotated[AuthSettings, Depends(auth_settings)],
    code: str = "",
    state: str = "",
) -> Response:
    """Finish the code flow and start a session for the linked account."""
    raw = request.cookies.get(OIDC_COOKIE, "")
    try:
        saved = _oidc_signer(request).loads(raw, max_age=_OIDC_COOKIE_SECONDS)
    except BadSignature as error:
        raise Unauthorised(
            "sign-in took too long or its cookie is missing; start signing in again"
        ) from error
    pending = oidc.PendingSignIn(**saved)
    if not code:
        raise Unauthorised("the sign-in provider returned no code; try again")
    provider = oidc.discover(settings)
    subject = oidc.finish(
        settings,
        provider,
        pending,
        code=code,
        state=state,
        redirect_uri=_redirect_uri(request, settings),
    )
    with request.app.state.sessions() as db:
        user_id = service.find_user_by_subject(db, subject).id
    response = _signed_in_response(request, user_id, pending.next_path)
    response.delete_cookie(OIDC_COOKIE, path="/")
    return response
