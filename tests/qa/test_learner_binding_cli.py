"""Accounts bound to a learner id that no learner has are rejected."""

from __future__ import annotations

from pathlib import Path

from cli_support import run_john
from sqlalchemy import func, select

from john.auth.models import ApiClient, User
from john.identity.models import Learner


def test_client_unknown_learner_rejected(
    database_url: str, tmp_path: Path, session
) -> None:
    result = run_john(
        {"JOHN_DATABASE_URL": database_url, "JOHN_DATA_DIR": str(tmp_path)},
        *["clients", "add", "Phone app", "--role", "learner", "--learner-id", "L-typo"],
    )
    assert result.returncode == 5
    assert "learner L-typo not found" in " ".join(result.stderr.split())
    assert session.scalar(select(func.count()).select_from(ApiClient)) == 0


def test_user_unknown_learner_rejected(
    database_url: str, tmp_path: Path, session
) -> None:
    # The check comes before the password prompt, so no input is needed.
    result = run_john(
        {"JOHN_DATABASE_URL": database_url, "JOHN_DATA_DIR": str(tmp_path)},
        *["users", "add", "zelphine", "--role", "learner", "--learner-id", "L-typo"],
    )
    assert result.returncode == 5
    assert "learner L-typo not found" in " ".join(result.stderr.split())
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_client_known_learner_added(database_url: str, tmp_path: Path, session) -> None:
    session.add(Learner(id="L-qa"))
    session.commit()
    result = run_john(
        {"JOHN_DATABASE_URL": database_url, "JOHN_DATA_DIR": str(tmp_path)},
        *["clients", "add", "Phone app", "--role", "learner", "--learner-id", "L-qa"],
    )
    assert result.returncode == 0
    assert "client_secret=" in result.stdout


def test_user_unknown_role_rejected_before_prompt(
    database_url: str, tmp_path: Path, session
) -> None:
    result = run_john(
        {"JOHN_DATABASE_URL": database_url, "JOHN_DATA_DIR": str(tmp_path)},
        *["users", "add", "zelphine", "--role", "king"],
    )
    assert result.returncode == 4
    assert "role 'king' is unknown" in " ".join(result.stderr.split())
    assert "Password" not in result.stderr
    assert session.scalar(select(func.count()).select_from(User)) == 0
