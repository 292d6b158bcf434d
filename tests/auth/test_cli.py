"""The ``john users`` and ``john clients`` commands."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from john.cli import app
from john.config import get_settings


@pytest.fixture
def runner(monkeypatch, database_url, tmp_path) -> CliRunner:
    monkeypatch.setenv("JOHN_DATABASE_URL", database_url)
    monkeypatch.setenv("JOHN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JOHN_NEW_PASSWORD", "a long enough password")
    get_settings.cache_clear()
    from john.cli import context

    context.engine.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
    context.engine.cache_clear()


def test_users_add_creates_curator(runner) -> None:
    result = runner.invoke(app, ["users", "add", "cara", "--role", "curator"])
    assert result.exit_code == 0, result.output
    assert "added as curator" in result.output
    listed = runner.invoke(app, ["users", "list"])
    assert listed.output.split()[:2] == ["cara", "curator"]


def test_clients_add_prints_secret_once(runner, session_factory) -> None:
    from john.auth.models import ApiClient
    from john.auth.passwords import verify_secret

    result = runner.invoke(
        app,
        [
            "clients",
            "add",
            "Example College",
            "--role",
            "provider",
            "--ukprn",
            "10000001",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = dict(
        line.split("=", 1) for line in result.output.splitlines() if "=" in line
    )
    with session_factory() as db:
        stored = db.get(ApiClient, lines["client_id"])
    assert stored.ukprn == "10000001"
    assert verify_secret(stored.secret_hash, lines["client_secret"])
    assert lines["client_secret"] not in stored.secret_hash
