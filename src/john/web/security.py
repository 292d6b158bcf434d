"""Install sign-in support into the application: CSRF checks and page helpers."""

from __future__ import annotations

from fastapi import FastAPI, Request

from john.auth.csrf import CsrfMiddleware
from john.auth.deps import csrf_token, current_principal
from john.auth.principal import Principal
from john.errors import UserError
from john.web.templating import templates


def signed_in_principal(request: Request) -> Principal | None:
    """Return the signed-in caller for the page header, or ``None``."""
    try:
        return current_principal(request)
    except UserError:
        return None


def install(app: FastAPI) -> None:
    """Add the CSRF middleware and the template helpers every page uses."""
    app.add_middleware(CsrfMiddleware)
    templates.env.globals["csrf_token"] = csrf_token
    templates.env.globals["current_principal"] = signed_in_principal
