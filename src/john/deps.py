"""FastAPI request dependencies that every router, in any capability, may use."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from john.config import Settings


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session for one request; the caller commits what it writes."""
    factory = request.app.state.sessions
    with factory() as session:
        yield session


def get_settings(request: Request) -> Settings:
    """Return the settings the application was created with."""
    settings: Settings = request.app.state.settings
    return settings
