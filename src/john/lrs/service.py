"""Store and read statements: the Statement Resource's logic, without HTTP."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from john.db import utcnow
from john.errors import Conflict, NotFound
from john.lrs import learning
from john.lrs.attachments import Part
from john.lrs.clients import ClientIdentity
from john.lrs.models import (
    LrsActivity,
    LrsAttachment,
    LrsStatement,
    LrsStatementTerm,
)
from john.lrs.sql import (
    copy_rows,
    insert_ignoring_conflicts,
    is_postgresql,
    next_sequence_values,
)
from john.lrs.statements import (
    activities_with_definitions,
    agent_ifi,
    attachment_hashes,
    content_hash,
    format_datetime,
    index_key,
    normalise,
    statement_terms,
    to_datetime,
)
from john.lrs.validation import VOIDED_VERB, StatementInvalid, check_statements

log = logging.getLogger(__name__)


@dataclass
class StoreResult:
    """The ids of a stored batch, in request order, and how many were new."""

    ids: list[str]
    created: int = 0


def store_statements(
    session: Session,
    client: ClientIdentity,
    statements: list[Any],
    version: str,
    parts: list[Part] | None = None,
    *,
    validated: bool = False,
) -> StoreResult:
    """Validate and store a batch, and return the statement ids in order.

    A statement whose id is already stored with the same content is skipped.
    One whose id is stored with different content raises :class:`Conflict`
    (409), and then nothing in the batch is stored. ``validated`` skips the
    validation when the caller has already run :func:`check_statements`.
    """
    if not validated:
        check_statements(statements, version)
    ids = [s.get("id", "").lower() for s in statements if "id" in s]
    if len(ids) != len(set(ids)):
        raise StatementInvalid(
            "the batch repeats a statement id; give each statement its own id"
        )

    now = utcnow()
    prepared = [_prepare(s, client, version, now) for s in statements]
    try:
        created = _store_new(session, client, prepared, parts)
    except IntegrityError:
        # Another request stored one of these ids after our check. Checking
        # again separates a concurrent copy of the same statement (skipped, as
        # the specification asks) from a different one (409).
        session.rollback()
        try:
            created = _store_new(session, client, prepared, parts)
        except IntegrityError as error:
            session.rollback()
            raise Conflict(
                "a statement in the batch was stored by another request at the "
                "same time; send the batch again"
            ) from error
    return StoreResult(ids=[p.statement_id for p in prepared], created=created)


def _store_new(
    session: Session,
    client: ClientIdentity,
    prepared: list[_Prepared],
    parts: list[Part] | None,
) -> int:
    """Store the statements whose ids are new, commit, and return their count."""
    existing = _existing_hashes(session, [p.statement_id for p in prepared])
    fresh = []
    for item in prepared:
        known = existing.get(item.statement_id)
        if known is None:
            fresh.append(item)
        elif known != item.content_hash:
            raise Conflict(
                f"statement {item.statement_id} is already stored with different "
                "content; statements cannot be changed, send a new id"
            )
    if not fresh:
        return 0

    try:
        _insert(session, client, fresh)
        _store_parts(session, parts or [])
        _merge_activities(session, [p.document for p in fresh])
        _apply_voiding(session, fresh)
        learning.link_statements(session, client, [p.document for p in fresh])
        session.commit()
    except DataError as error:
        session.rollback()
        raise StatementInvalid(
            "the statement holds a value the store cannot keep, such as a NUL "
            "character (\\u0000) in a string; remove it and send again"
        ) from error
    log.info("stored %d statements for client %s", len(fresh), client.id)
    return len(fresh)


@dataclass
class _Prepared:
    statement_id: str
    document: dict[str, Any]
    content_hash: str


def _prepare(
    raw: dict[str, Any], client: ClientIdentity, version: str, now: Any
) -> _Prepared:
    statement = normalise(raw, version)
    statement_id = str(statement.get("id") or uuid.uuid4()).lower()
    statement["id"] = statement_id
    digest = content_hash(statement)
    stored = format_datetime(now)
    statement["stored"] = stored
    statement.setdefault("timestamp", stored)
    statement["authority"] = client.authority
    statement.setdefault("version", "2.0.0" if version.startswith("2") else "1.0.0")
    return _Prepared(statement_id, statement, digest)


def _existing_hashes(session: Session, ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(LrsStatement.statement_id, LrsStatement.content_hash).where(
                LrsStatement.statement_id.in_(ids[start : start + 500])
            )
        )
        found.update({row[0]: row[1] for row in rows})
    return found


def _insert(session: Session, client: ClientIdentity, fresh: list[_Prepared]) -> None:
    rows = [_statement_row(client, item) for item in fresh]
    targets = {r["ref_target"] for r in rows if r["ref_target"]}
    inherited = _terms_of_targets(session, targets)

    if is_postgresql(session):
        seqs = next_sequence_values(session, "lrs_statements", "seq", len(rows))
        for seq, row in zip(seqs, rows, strict=True):
            row["seq"] = seq
        copy_rows(
            session,
            "lrs_statements",
            STATEMENT_COLUMNS,
            [tuple(row[name] for name in STATEMENT_COLUMNS) for row in rows],
        )
    else:
        # A plain executemany and one lookup of the new sequence numbers cost
        # far less than INSERT ... RETURNING, which SQLAlchemy splits into many
        # small statements on SQLite.
        connection = session.connection()
        connection.execute(insert(LrsStatement), rows)
        by_id = dict(
            connection.execute(
                select(LrsStatement.statement_id, LrsStatement.seq).where(
                    LrsStatement.statement_id.in_([r["statement_id"] for r in rows])
                )
            ).all()
        )
        for row in rows:
            row["seq"] = by_id[row["statement_id"]]

    terms: list[tuple[int, str, str, Any]] = []
    for item, row in zip(fresh, rows, strict=True):
        own = {(kind, index_key(term)) for kind, term in statement_terms(item.document)}
        own |= inherited.get(row["ref_target"] or "", set())
        terms.extend((row["seq"], kind, term, row["stored"]) for kind, term in own)
    if is_postgresql(session):
        copy_rows(session, "lrs_statement_terms", TERM_COLUMNS, terms)
    elif terms:
        session.connection().execute(
            insert(LrsStatementTerm),
            [dict(zip(TERM_COLUMNS, term, strict=True)) for term in terms],
        )


STATEMENT_COLUMNS = (
    "seq",
    "statement_id",
    "client_id",
    "actor_ifi",
    "verb_id",
    "activity_id",
    "registration",
    "ref_target",
    "stored",
    "timestamp",
    "voided",
    "is_voiding",
    "content_hash",
    "attachment_hashes",
    "document",
)
TERM_COLUMNS = ("statement_seq", "kind", "term", "stored")


def _statement_row(client: ClientIdentity, item: _Prepared) -> dict[str, Any]:
    document = item.document
    target = document["object"]
    kind = target.get("objectType")
    context = document.get("context") or {}
    return {
        "statement_id": item.statement_id,
        "client_id": client.id,
        "actor_ifi": index_key(agent_ifi(document["actor"]) or "") or None,
        "verb_id": index_key(document["verb"]["id"]),
        "activity_id": index_key(target["id"]) if kind == "Activity" else None,
        "registration": (context.get("registration") or "").lower() or None,
        "ref_target": target["id"].lower() if kind == "StatementRef" else None,
        "stored": to_datetime(document["stored"]),
        "timestamp": to_datetime(document["timestamp"]),
        "voided": False,
        "is_voiding": document["verb"]["id"] == VOIDED_VERB,
        "content_hash": item.content_hash,
        "attachment_hashes": " ".join(attachment_hashes(document)) or None,
        "document": document,
    }


def _terms_of_targets(session: Session, ids: set[str]) -> dict[str, set]:
    """Return the filter terms of StatementRef targets, by target id.

    A statement that refers to another is found by the filters its target
    matches (xAPI 2.0 §4.1.6.1, filter conditions for StatementRefs). Only the
    target's terms pass on, so voiding and time filters still apply to the
    referring statement itself.
    """
    if not ids:
        return {}
    rows = session.execute(
        select(LrsStatement.statement_id, LrsStatementTerm.kind, LrsStatementTerm.term)
        .join(LrsStatementTerm, LrsStatementTerm.statement_seq == LrsStatement.seq)
        .where(LrsStatement.statement_id.in_(ids))
    )
    found: dict[str, set] = {}
    for statement_id, kind, term in rows:
        found.setdefault(statement_id, set()).add((kind, term))
    return found


def _store_parts(session: Session, parts: list[Part]) -> None:
    seen: set[str] = set()
    for part in parts:
        if part.sha2 in seen or session.get(LrsAttachment, part.sha2) is not None:
            continue
        seen.add(part.sha2)
        session.add(
            LrsAttachment(
                sha2=part.sha2,
                content_type=part.content_type,
                length=len(part.content),
                content=part.content,
            )
        )


def _merge_activities(session: Session, documents: list[dict[str, Any]]) -> None:
    latest: dict[str, dict[str, Any]] = {}
    for document in documents:
        for activity in activities_with_definitions(document):
            merged = latest.setdefault(index_key(activity["id"]), {})
            _merge_definition(merged, activity["definition"])
    if not latest:
        return
    stored = {
        row.activity_id: row
        for row in session.scalars(
            select(LrsActivity).where(LrsActivity.activity_id.in_(latest))
        )
    }
    missing = [
        {"activity_id": activity_id, "definition": definition, "updated": utcnow()}
        for activity_id, definition in latest.items()
        if activity_id not in stored
    ]
    # Two batches may define the same new activity at once; the first insert
    # wins and the other batch's definition is merged on its next mention.
    insert_ignoring_conflicts(session, LrsActivity.__table__, missing)
    for activity_id, definition in latest.items():
        row = stored.get(activity_id)
        if row is not None:
            combined = dict(row.definition or {})
            _merge_definition(combined, definition)
            if combined != row.definition:
                row.definition = combined
                row.updated = utcnow()


def _merge_definition(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if key in ("name", "description") and isinstance(value, dict):
            into[key] = {**into.get(key, {}), **value}
        else:
            into[key] = value


def _apply_voiding(session: Session, fresh: list[_Prepared]) -> None:
    targets = [
        p.document["object"]["id"].lower()
        for p in fresh
        if p.document["verb"]["id"] == VOIDED_VERB
    ]
    if not targets:
        return
    # A voiding statement cannot void another voiding statement (xAPI 2.0
    # §4.2.5), so those targets stay as they are.
    session.execute(
        update(LrsStatement)
        .where(
            LrsStatement.statement_id.in_(targets),
            LrsStatement.is_voiding.is_(False),
        )
        .values(voided=True)
    )


def get_statement(
    session: Session, statement_id: str, *, voided: bool
) -> tuple[dict[str, Any], list[str]]:
    """Return one statement and its attachment hashes.

    ``voided`` selects the ``voidedStatementId`` lookup, which finds only
    voided statements; ``statementId`` finds only statements not voided.
    """
    row = session.execute(
        select(
            LrsStatement.document, LrsStatement.voided, LrsStatement.attachment_hashes
        ).where(LrsStatement.statement_id == statement_id.lower())
    ).first()
    if row is None or row.voided != voided:
        raise NotFound(
            f"no {'voided ' if voided else ''}statement with id {statement_id}"
        )
    return row.document, (row.attachment_hashes or "").split()


def load_parts(session: Session, hashes: list[str]) -> list[Part]:
    """Return the stored attachment parts for ``hashes``, each once."""
    wanted = list(dict.fromkeys(hashes))
    if not wanted:
        return []
    rows = session.scalars(select(LrsAttachment).where(LrsAttachment.sha2.in_(wanted)))
    return [Part(row.sha2, row.content_type, row.content) for row in rows]


def get_activity(session: Session, activity_id: str) -> dict[str, Any]:
    """Return the Activity object with its canonical definition."""
    row = session.get(LrsActivity, index_key(activity_id))
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if row is not None and row.definition:
        activity["definition"] = row.definition
    return activity


def get_person(agent: dict[str, Any]) -> dict[str, Any]:
    """Return the Person object for an agent: its identifiers as arrays."""
    person: dict[str, Any] = {"objectType": "Person"}
    for key in ("name", "mbox", "mbox_sha1sum", "openid", "account"):
        if key in agent:
            person[key] = [agent[key]]
    return person
