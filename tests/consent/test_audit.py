"""The audit trail: chaining, tamper detection and the learner's view."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from john.auth.principal import Principal
from john.consent.audit import AuditEvent, EventType, append, verify_chain

ACTOR = Principal(subject="user:U-1", kind="user", role="curator")


@pytest.fixture
def five_entries(session_factory) -> None:
    with session_factory() as db:
        for index in range(5):
            append(
                db,
                AuditEvent.by(
                    ACTOR,
                    EventType.RECORD_READ,
                    "read record",
                    learner_id=f"L-{index}",
                    purpose="case review",
                    object_ids=(f"achievement:{index}",),
                ),
            )
        db.commit()


def _problems(session_factory) -> list[str]:
    with session_factory() as db:
        return verify_chain(db).problems


def test_untouched_chain_is_intact(session_factory, five_entries) -> None:
    with session_factory() as db:
        report = verify_chain(db)
    assert report.intact
    assert report.entries == 5
    assert report.head_seq == 5


def test_edited_entry_is_found(session_factory, five_entries, engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE consent_audit_entries SET purpose = 'x' WHERE seq = 3")
        )
    assert _problems(session_factory) == ["entry 3 was changed after writing"]


def test_rehashed_edit_breaks_next_link(session_factory, five_entries, engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE consent_audit_entries SET sha256 = :h WHERE seq = 2"),
            {"h": "f" * 64},
        )
    problems = _problems(session_factory)
    assert "entry 2 was changed after writing" in problems
    assert "entry 3 does not follow the entry before it" in problems


def test_deleted_middle_entry_is_found(session_factory, five_entries, engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM consent_audit_entries WHERE seq = 2"))
    problems = _problems(session_factory)
    assert "entries 2 to 2 are missing" in problems
    assert "entry 3 does not follow the entry before it" in problems


def test_deleted_newest_entry_is_found(session_factory, five_entries, engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM consent_audit_entries WHERE seq = 5"))
    problems = _problems(session_factory)
    assert len(problems) == 1
    assert "newest entries were deleted" in problems[0]


def test_entries_carry_no_names(client, store, as_role, session_factory) -> None:
    client.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("curator")
    )
    with session_factory() as db:
        rows = db.execute(text("SELECT * FROM consent_audit_entries")).all()
    assert rows
    assert "Testperson" not in str(rows)
    assert "1234567890" not in str(rows)


def test_learner_sees_who_looked(client, store, as_role) -> None:
    client.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("provider")
    )
    entries = client.get(
        f"/api/v1/learners/{store.ada}/audit", headers=as_role("learner")
    ).json()
    reads = [e for e in entries if e["event_type"] == "record_read"]
    assert len(reads) == 1
    assert reads[0]["role"] == "provider"
    assert reads[0]["organisation"] == "10000001"


def test_denied_read_is_audited(client, store, as_role, session_factory) -> None:
    client.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("verifier")
    )
    with session_factory() as db:
        outcomes = db.execute(
            text("SELECT event_type, outcome FROM consent_audit_entries")
        ).all()
    assert ("access_denied", "denied") in [tuple(row) for row in outcomes]


def test_cli_verify_reports_tampering(
    monkeypatch, database_url, tmp_path, five_entries, engine
) -> None:
    from john.cli import app, context
    from john.config import get_settings

    monkeypatch.setenv("JOHN_DATABASE_URL", database_url)
    monkeypatch.setenv("JOHN_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    context.engine.cache_clear()
    runner = CliRunner()
    intact = runner.invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "intact=true" in intact.output
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM consent_audit_entries WHERE seq = 4"))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "intact=false" in broken.output
    get_settings.cache_clear()
    context.engine.cache_clear()


def test_api_verify_for_staff_only(client, store, as_role) -> None:
    assert client.get("/api/v1/audit/verify", headers=as_role("curator")).json()[
        "intact"
    ]
    denied = client.get("/api/v1/audit/verify", headers=as_role("verifier"))
    assert denied.status_code == 403


def test_concurrent_appends_keep_chain_linear(session_factory, engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from john.db import make_engine, make_session_factory

    # Two engines stand for two server processes: the process lock of one does
    # not cover the other, so only the database's own locking orders them.
    other = make_engine(engine.url.render_as_string(hide_password=False))
    factories = [session_factory, make_session_factory(other)]

    def append_some(worker: int) -> None:
        for index in range(10):
            with factories[worker % 2]() as db:
                append(
                    db,
                    AuditEvent.by(
                        ACTOR,
                        EventType.RECORD_READ,
                        "read record",
                        learner_id=f"L-{worker}-{index}",
                    ),
                )
                db.commit()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(append_some, range(6)))
    other.dispose()

    with session_factory() as db:
        report = verify_chain(db)
    assert report.problems == []
    assert report.entries == 60
    assert report.head_seq == 60
