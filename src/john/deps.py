"""FastAPI request dependencies that every router, in any capability, may use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Path, Query, Request
from sqlalchemy.orm import Session

from john.config import Settings
from john.db import MAX_INTEGER_KEY, MAX_ROW_OFFSET
from john.errors import Forbidden


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session for one request; the caller commits what it writes."""
    factory = request.app.state.sessions
    with factory() as session:
        yield session


def get_settings(request: Request) -> Settings:
    """Return the settings the application was created with."""
    settings: Settings = request.app.state.settings
    return settings


def access_check(name: str) -> Callable[[Request], None]:
    """Build a dependency that runs the access check installed under ``name``.

    Capabilities below ``consent`` cannot import it, so their routers name a
    check and the web face installs the implementation in
    ``app.state.access_checks``. A missing check rejects the request, so a
    router mounted without the checks fails closed.
    """

    def dependency(request: Request) -> None:
        checks = getattr(request.app.state, "access_checks", {})
        check = checks.get(name)
        if check is None:
            raise Forbidden(f"access check {name!r} is not installed; no access")
        check(request)

    dependency.john_access_check = name  # type: ignore[attr-defined]
    return dependency


# Integer keys are 32-bit on PostgreSQL and offsets 64-bit on both stores, so
# a larger value is invalid input (422) rather than a driver overflow (500).
MAX_DATABASE_ID = MAX_INTEGER_KEY
DatabaseId = Annotated[int, Path(ge=1, le=MAX_DATABASE_ID)]
RowOffset = Annotated[int, Query(ge=0, le=MAX_ROW_OFFSET)]
