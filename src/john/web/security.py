"""Install sign-in support into the application: CSRF checks and page helpers."""

from __future__ import annotations

from inspect import isawaitable

from fastapi import FastAPI, Request
from fastapi.responses import Response

from john.auth.csrf import CsrfMiddleware
from john.auth.deps import csrf_token, current_principal
from john.auth.principal import Principal
from john.consent.deps import ACCESS_CHECKS
from john.errors import JohnError, UserError
from john.web.templating import templates


def signed_in_principal(request: Request) -> Principal | None:
    """Return the signed-in caller for the page header, or ``None``."""
    try:
        return current_principal(request)
    except UserError:
        return None


# Paths whose errors are always problem details for machines, never pages.
MACHINE_PREFIXES = ("/api/", "/xapi/", "/oruk/", "/.well-known/")


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith(MACHINE_PREFIXES) and (
        "text/html" in request.headers.get("accept", "")
    )


def _add_page_errors(app: FastAPI) -> None:
    # A browser asking for a page gets a page for 403 and 404, not JSON; the
    # API keeps its problem details from the application's own handler.
    problem_handler = app.exception_handlers[JohnError]

    async def page_or_problem(request: Request, error: Exception) -> Response:
        if isinstance(error, UserError) and _wants_page(request):
            return templates.TemplateResponse(
                request,
                "error.html",
                {
                    "title": error.title,
                    "heading": error.title,
                    "detail": error.detail,
                    "status": error.status,
                },
                status_code=error.status,
            )
        handled = problem_handler(request, error)
        response: Response = await handled if isawaitable(handled) else handled
        return response

    app.add_exception_handler(JohnError, page_or_problem)


def install(app: FastAPI) -> None:
    """Add the CSRF middleware, the access checks and the page template helpers."""
    app.add_middleware(CsrfMiddleware)
    app.state.access_checks = dict(ACCESS_CHECKS)
    _add_page_errors(app)
    templates.env.globals["csrf_token"] = csrf_token
    templates.env.globals["current_principal"] = signed_in_principal
