"""The exception tree shared by every capability.

::

    JohnError                      a bug or an unexpected failure (HTTP 500, exit 1)
    └── UserError                  the caller can fix it; shown without a traceback
        ├── InvalidInput           422  malformed or out-of-range input
        │   └── FeedError          422  a feed that cannot be read at all
        ├── NotFound               404  no such object, or not visible to the caller
        ├── Conflict               409  the request clashes with stored state
        ├── Unauthorised           401  no or bad credentials
        ├── Forbidden              403  authenticated but not allowed
        ├── TooManyRequests        429  rate limit reached
        └── ConfigurationError     exit 3  settings or environment are wrong
    StoreUnavailable               503  the database could not be reached

Each user error carries the problem type for RFC 9457 problem details, the
HTTP status and the CLI exit code, so the API and the CLI map errors the same
way from the one table below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_BASE = "https://john.example/problems/"


class JohnError(Exception):
    """Raised for failures that are not the caller's to fix."""

    status: int = 500
    exit_code: int = 1
    problem: str = "internal-error"
    title: str = "Internal error"


@dataclass
class FieldProblem:
    """One problem with one field, as reported in a problem detail."""

    field: str
    message: str
    row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON shape used in problem details."""
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out


class UserError(JohnError):
    """Raised when the caller can fix the request; never logged with a traceback."""

    status = 400
    exit_code = 2
    problem = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, problems: list[FieldProblem] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.problems: list[FieldProblem] = problems or []


class InvalidInput(UserError):
    """Raised when input is malformed, out of range or fails validation."""

    status = 422
    exit_code = 4
    problem = "invalid-input"
    title = "Invalid input"


class FeedError(InvalidInput):
    """Raised when a feed file cannot be read at all (encoding, empty, no header)."""

    problem = "invalid-feed"
    title = "Feed cannot be read"


class NotFound(UserError):
    """Raised when an object does not exist or the caller may not see it."""

    status = 404
    exit_code = 5
    problem = "not-found"
    title = "Not found"


class Conflict(UserError):
    """Raised when a request clashes with stored state."""

    status = 409
    exit_code = 6
    problem = "conflict"
    title = "Conflict"


class Unauthorised(UserError):
    """Raised when credentials are missing or invalid."""

    status = 401
    exit_code = 7
    problem = "unauthorised"
    title = "Unauthorised"


class Forbidden(UserError):
    """Raised when the caller is known but lacks the role, scope or consent."""

    status = 403
    exit_code = 8
    problem = "forbidden"
    title = "Forbidden"


class TooManyRequests(UserError):
    """Raised when a client passes its rate limit."""

    status = 429
    exit_code = 9
    problem = "too-many-requests"
    title = "Too many requests"


class ConfigurationError(UserError):
    """Raised when settings or the environment are wrong."""

    status = 500
    exit_code = 3
    problem = "configuration"
    title = "Configuration error"


class StoreUnavailable(JohnError):
    """Raised when the database cannot be reached or refuses the connection."""

    status = 503
    exit_code = 10
    problem = "store-unavailable"
    title = "Store unavailable"


@dataclass
class ErrorRow:
    """One row of the error table: how an exception class reaches users."""

    name: str
    status: int
    exit_code: int
    problem_type: str
    user_error: bool = field(default=True)


def error_table() -> list[ErrorRow]:
    """Return every exception class with its HTTP status, exit code and problem type."""
    classes: list[type[JohnError]] = [
        JohnError,
        UserError,
        InvalidInput,
        FeedError,
        NotFound,
        Conflict,
        Unauthorised,
        Forbidden,
        TooManyRequests,
        ConfigurationError,
        StoreUnavailable,
    ]
    return [
        ErrorRow(
            name=cls.__name__,
            status=cls.status,
            exit_code=cls.exit_code,
            problem_type=PROBLEM_BASE + cls.problem,
            user_error=issubclass(cls, UserError),
        )
        for cls in classes
    ]


def problem_details(exc: JohnError, instance: str | None = None) -> dict[str, Any]:
    """Build an RFC 9457 problem details body for an exception."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + exc.problem,
        "title": exc.title,
        "status": exc.status,
    }
    if isinstance(exc, UserError):
        body["detail"] = exc.detail
        if exc.problems:
            body["errors"] = [p.as_dict() for p in exc.problems]
    else:
        body["detail"] = (
            "The server failed to complete the request; it has been logged."
        )
    if instance:
        body["instance"] = instance
    return body
