"""Build the FastAPI application.

Errors leave as RFC 9457 problem details (``application/problem+json``):
JOHN's user errors with their own status, request validation errors as 422
naming each field, and anything unexpected as a 500 with no internals.
"""

from __future__ import annotations

import gc
import importlib
import logging
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy import exc as sqlalchemy_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from john import __version__
from john.config import Settings
from john.db import make_engine, make_session_factory
from john.errors import PROBLEM_BASE, JohnError, UserError, problem_details

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# Routers mounted by the application, as (module, attribute). A capability
# adds its router here, so the web face imports capabilities and never the
# other way round.
ROUTERS: list[tuple[str, str]] = [
    ("john.web.pages.hub", "router"),
    ("john.records.learner_api", "router"),
    ("john.web.pages.learners", "router"),
    ("john.lrs.api", "router"),
    ("john.catalogue.api", "oruk_router"),
    ("john.catalogue.api", "router"),
    ("john.auth.api", "router"),
    ("john.web.pages.auth", "router"),
    ("john.records.api", "router"),
    ("john.identity.api", "router"),
    ("john.web.pages.reviews", "router"),
    ("john.consent.api", "router"),
    ("john.web.pages.catalogue", "router"),
    ("john.web.pages.account", "router"),
]

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """Create the application bound to one store."""
    app = FastAPI(
        title="JOHN",
        version=__version__,
        description="Joint Occupational Hosting Network learner record hub.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    bound = engine or make_engine(settings.sqlalchemy_url)
    app.state.settings = settings
    app.state.engine = bound
    app.state.sessions = make_session_factory(bound)

    _add_error_handlers(app)
    _add_timing_middleware(app, settings.slow_request_ms)
    for module_name, attribute in ROUTERS:
        module = importlib.import_module(module_name)
        app.include_router(getattr(module, attribute))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    importlib.import_module("john.web.security").install(app)
    app.router.on_startup.append(_freeze_startup_objects)
    return app


async def _freeze_startup_objects() -> None:
    # Modules, ORM mappers and cached statements live as long as the server.
    # Freezing them keeps later collections short: without it a full
    # collection under load held every request back for tens of milliseconds.
    gc.collect()
    gc.freeze()


def _problem(
    body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(JohnError)
    async def handle_john_error(request: Request, error: JohnError) -> JSONResponse:
        if not isinstance(error, UserError):
            log.error(
                "request %s %s failed", request.method, request.url.path, exc_info=error
            )
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return _problem(problem_details(error, instance=request.url.path), headers)

    @app.exception_handler(RequestValidationError)
    async def handle_validation(
        request: Request, error: RequestValidationError
    ) -> JSONResponse:
        problems = []
        for item in error.errors():
            location = ".".join(
                str(part) for part in item.get("loc", ()) if part != "body"
            )
            problems.append({"field": location, "message": item.get("msg", "invalid")})
        body = {
            "type": PROBLEM_BASE + "invalid-input",
            "title": "Invalid input",
            "status": 422,
            "detail": "; ".join(f"{p['field']}: {p['message']}" for p in problems),
            "errors": problems,
            "instance": request.url.path,
        }
        return _problem(body)

    @app.exception_handler(StarletteHTTPException)
    async def handle_http(
        request: Request, error: StarletteHTTPException
    ) -> JSONResponse:
        body = {
            "type": "about:blank",
            "title": str(error.detail) if error.status_code < 500 else "Error",
            "status": error.status_code,
            "detail": str(error.detail),
            "instance": request.url.path,
        }
        return _problem(body, dict(error.headers) if error.headers else None)

    @app.exception_handler(sqlalchemy_exc.DataError)
    async def handle_data_error(
        request: Request, error: sqlalchemy_exc.DataError
    ) -> JSONResponse:
        # SQLSTATE class 22 (NUL in text, numeric overflow): the value sent
        # cannot be stored, which the caller can fix.
        log.warning(
            "request %s %s sent a value the store rejects: %s",
            request.method,
            request.url.path,
            type(error.orig).__name__,
        )
        body = {
            "type": PROBLEM_BASE + "invalid-input",
            "title": "Invalid input",
            "status": 422,
            "detail": "a value is out of range or contains characters the store "
            "cannot hold (such as a NUL byte); correct it and send it again",
            "instance": request.url.path,
        }
        return _problem(body)

    @app.exception_handler(Exception)
    async def handle_unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error(
            "request %s %s failed", request.method, request.url.path, exc_info=error
        )
        return _problem(problem_details(JohnError(), instance=request.url.path))


class SlowRequestLog:
    """ASGI middleware that logs requests slower than ``slow_ms``.

    It is plain ASGI because Starlette's ``@app.middleware("http")`` runs each
    request through extra tasks and streams, about a millisecond of CPU each.
    """

    def __init__(self, app: ASGIApp, slow_ms: int) -> None:
        self.app = app
        self.slow_ms = slow_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            if elapsed_ms >= self.slow_ms:
                log.warning(
                    "slow request %s %s took %.0f ms",
                    scope["method"],
                    scope["path"],
                    elapsed_ms,
                )


def _add_timing_middleware(app: FastAPI, slow_ms: int) -> None:
    app.add_middleware(SlowRequestLog, slow_ms=slow_ms)
