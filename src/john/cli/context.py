"""Shared state for the commands: settings, logging and the store."""

from __future__ import annotations

import sys
from functools import lru_cache

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from john.config import Settings, get_settings
from john.db import make_engine, make_session_factory, migrate
from john.logs import configure_logging

console = Console()
error_console = Console(stderr=True)


def console_error(message: str) -> None:
    """Print a message on standard error without markup interpretation."""
    error_console.print(message, markup=False, highlight=False)


def settings() -> Settings:
    """Return the settings and set up logging once."""
    current = get_settings()
    _configure_logging_once(current.log_level, current.log_json)
    return current


@lru_cache(maxsize=1)
def _configure_logging_once(level: str, json_lines: bool) -> None:
    configure_logging(level, json_lines)


@lru_cache(maxsize=1)
def engine() -> Engine:
    """Return the store's engine with the schema migrated."""
    created = make_engine(settings().sqlalchemy_url)
    migrate(created)
    return created


def sessions() -> sessionmaker[Session]:
    """Return a session factory for the store."""
    return make_session_factory(engine())


def is_interactive() -> bool:
    """Return whether progress bars should be drawn."""
    return sys.stderr.isatty()
