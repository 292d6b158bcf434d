"""``john subject export`` and ``john review``: bad paths and ids named."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import run_john
from sqlalchemy import select

from john.consent.models import AuditEntry
from john.identity.models import Learner


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"JOHN_DATABASE_URL": database_url, "JOHN_DATA_DIR": str(tmp_path)}


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("missing-folder/export.json", "missing-folder does not exist"),
        (".", "is a folder; give a file name for --output"),
    ],
)
def test_export_bad_output_named(
    environment, tmp_path: Path, session, output: str, message: str
) -> None:
    session.add(Learner(id="L-qa"))
    session.commit()
    result = run_john(
        environment, "subject", "export", "L-qa", "--output", str(tmp_path / output)
    )
    assert result.returncode == 4
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    # Nothing was exported, so the audit trail records no export.
    assert session.scalars(select(AuditEntry)).all() == []


@pytest.mark.parametrize("review_id", ["0", "99999999999999999999"])
def test_review_id_out_of_range(environment, review_id: str) -> None:
    result = run_john(environment, "review", "accept", review_id)
    assert result.returncode == 5
    assert f"match review {review_id} not found" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
