"""The error table: each user error maps to a status, problem type and exit code."""

from __future__ import annotations

import pytest

from john import errors


def test_error_table_lists_every_class() -> None:
    names = {row.name for row in errors.error_table()}
    expected = {
        cls.__name__
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.JohnError)
    }
    assert names == expected


def test_error_table_exit_codes_unique() -> None:
    codes = [row.exit_code for row in errors.error_table() if row.name != "FeedError"]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(
    ("cls", "status", "exit_code"),
    [
        (errors.InvalidInput, 422, 4),
        (errors.FeedError, 422, 4),
        (errors.NotFound, 404, 5),
        (errors.Conflict, 409, 6),
        (errors.Unauthorised, 401, 7),
        (errors.Forbidden, 403, 8),
        (errors.TooManyRequests, 429, 9),
    ],
)
def test_user_error_status_and_exit(
    cls: type[errors.UserError], status: int, exit_code: int
) -> None:
    error = cls("value x is wrong; send y")
    body = errors.problem_details(error, instance="/api/v1/thing")
    assert body["status"] == status
    assert error.exit_code == exit_code
    assert body["type"].endswith(cls.problem)
    assert body["detail"] == "value x is wrong; send y"


def test_internal_error_hides_detail() -> None:
    body = errors.problem_details(errors.JohnError("secret internals"))
    assert body["status"] == 500
    assert "secret" not in body["detail"]
