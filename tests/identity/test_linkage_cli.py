"""The ``john link`` and ``john review`` commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from tests.identity.conftest import person
from typer.testing import CliRunner

from john.cli import app, context
from john.config import get_settings
from john.errors import NotFound
from john.identity import service
from john.identity.linkage import Thresholds
from john.identity.models import MatchReview


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """Return a CLI runner whose commands use the test's store."""
    monkeypatch.setenv("JOHN_DATABASE_URL", database_url)
    get_settings.cache_clear()
    context.engine.cache_clear()
    yield CliRunner()
    context.engine().dispose()
    context.engine.cache_clear()
    get_settings.cache_clear()


def test_link_prints_counts(runner, add_records) -> None:
    add_records(
        person("Ada", "Lovelace", date(2001, 5, 6), uln="1234567899"),
        person("Ada", "King", date(2001, 5, 6), uln="1234567899"),
    )
    result = runner.invoke(app, ["link"])
    assert result.exit_code == 0
    assert "2 records" in result.output
    assert "deterministic links:  1" in result.output
    assert "learners created:     1" in result.output


def test_link_incremental_joins_new_record(runner, add_records) -> None:
    add_records(person("Ada", "Lovelace", date(2001, 5, 6), uln="1234567899"))
    runner.invoke(app, ["link"])
    add_records(person("Ada", "King", date(2001, 5, 6), uln="1234567899"))
    result = runner.invoke(app, ["link", "--incremental"])
    assert result.exit_code == 0
    assert "2 records" in result.output
    assert "deterministic links:  1" in result.output
    assert "learners created:     0" in result.output


def test_review_list_and_accept(runner, session_factory, add_records, crowd) -> None:
    add_records(
        person("Ada", "Lovelace", date(2001, 5, 6), "AB1 2CD"),
        person("Ada", "Lovelace", date(2001, 6, 5), "ZZ9 9ZZ"),
    )
    service.run_linkage(session_factory, thresholds=Thresholds(0.999999999, 0.01))
    with session_factory() as session:
        review_id = max(session.scalars(select(MatchReview.id)).all())

    listed = runner.invoke(app, ["review", "list"])
    assert listed.exit_code == 0
    assert "pending reviews" in listed.output

    accepted = runner.invoke(app, ["review", "accept", str(review_id)])
    assert accepted.exit_code == 0
    assert f"match review {review_id} accepted" in accepted.output
    with session_factory() as session:
        assert session.get(MatchReview, review_id).decided_by.startswith("cli")


def test_review_reject_unknown_fails(runner) -> None:
    result = runner.invoke(app, ["review", "reject", "4040"])
    assert isinstance(result.exception, NotFound)
