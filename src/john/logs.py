"""Logging set-up for the faces (CLI and web); capabilities only get loggers.

Log records carry internal ids, counts and timings. Personal data (names,
dates of birth, identifiers) must never be formatted into a message; the
test suite plants sentinel values and checks every captured line.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload)


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    """Attach one stderr handler to the root logger, replacing earlier ones."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())

    # Splink and SQLAlchemy are chatty at INFO; their SQL may echo row values.
    # Alembic's INFO lines repeat on every command; JOHN logs the migration.
    noisy_loggers = (
        "splink",
        "sqlalchemy.engine",
        "httpx",
        "uvicorn.access",
        "alembic",
    )
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)
