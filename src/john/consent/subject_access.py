"""Subject access (UK GDPR Art. 15), rectification (Art. 16) and erasure (Art. 17).

Export and erasure walk every table in the schema rather than a fixed list,
so a capability that adds a table with a ``learner_id`` or
``person_record_id`` column is covered without changes here.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, select, update
from sqlalchemy.orm import Session

from john.auth.principal import Principal
from john.consent.access import require_visibility
from john.consent.audit import AuditEvent, EventType, append
from john.consent.models import Erasure, RectificationRequest
from john.db import Base, import_all_models, new_public_id, utcnow
from john.errors import Forbidden, InvalidInput, NotFound
from john.identity.models import Learner, PersonRecord
from john.records.models import Achievement, Experience

log = logging.getLogger(__name__)

# Columns never shown in an export: credentials, not personal data about the
# learner, and useless to them.
HIDDEN_COLUMNS = frozenset({"password_hash", "secret_hash", "token_sha256"})

# Tables erasure keeps, each with the reason, because the hub must still be
# able to show what it did (UK GDPR Art. 5(2) accountability, Art. 7(1) proof of
# consent) or because an employer must keep the record by law.
KEPT_ON_ERASURE: dict[str, str] = {
    "learners": "the learner id stays, marked erased, so links and the audit "
    "trail resolve; it holds no personal data",
    "consent_audit_entries": "the audit trail keeps ids, purposes and hashes to "
    "show who saw what (Art. 5(2)); it holds no names",
    "consent_grants": "proof of what was consented to and when (Art. 7(1))",
    "consent_requests": "proof of what was asked and answered (Art. 7(1))",
    "consent_erasures": "the report of this erasure",
    "consent_right_to_work_checks": "employers must keep right-to-work records "
    "for the employment and two years after (Immigration, Asylum and "
    "Nationality Act 2006)",
    "consent_verifications": "verifiers' signed answers, which hold claim "
    "outcomes and no identity data",
    "consent_fraud_signals": "fraud prevention (Art. 17(3)(e), legal claims)",
    "consent_rectification_requests": "the requests already sent to providers",
    "linkage_events": "linkage history holds internal ids only",
}


def _tables() -> list[Table]:
    import_all_models()
    return list(Base.metadata.sorted_tables)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(session: Session, table: Table, column: str, values: list[Any]) -> list[Any]:
    if not values:
        return []
    shown = [c for c in table.columns if c.name not in HIDDEN_COLUMNS]
    result = session.execute(select(*shown).where(table.c[column].in_(values)))
    return [{k: _plain(v) for k, v in row._mapping.items()} for row in result]


def export_learner(
    session: Session, principal: Principal, learner_id: str
) -> dict[str, Any]:
    """Return everything held about a learner, table by table, and audit it."""
    seen = require_visibility(session, principal, learner_id, "subject access export")
    if not seen.whole_record:
        raise NotFound(f"learner {learner_id} not found")
    if principal.role not in ("learner", "administrator"):
        raise Forbidden(
            "subject access exports are for the learner or an administrator"
        )

    record_ids = list(
        session.scalars(
            select(PersonRecord.id).where(PersonRecord.learner_id == learner_id)
        )
    )
    tables: dict[str, list[Any]] = {}
    for table in _tables():
        if table.name == "learners":
            tables[table.name] = _rows(session, table, "id", [learner_id])
        elif "learner_id" in table.c:
            tables[table.name] = _rows(session, table, "learner_id", [learner_id])
        elif "person_record_id" in table.c:
            tables[table.name] = _rows(session, table, "person_record_id", record_ids)
    append(
        session,
        AuditEvent.by(
            principal,
            EventType.SUBJECT_ACCESS_EXPORTED,
            "export learner data",
            learner_id=learner_id,
            purpose="subject access request",
            detail={"rows": sum(len(rows) for rows in tables.values())},
        ),
    )
    session.commit()
    return {
        "learner_id": learner_id,
        "exported_at": utcnow().isoformat(),
        "tables": {name: rows for name, rows in tables.items() if rows},
    }


def request_rectification(
    session: Session,
    learner: Principal,
    *,
    object_kind: str,
    object_id: int,
    message: str,
) -> RectificationRequest:
    """Route a correction request to the provider that sent the row."""
    if learner.role != "learner" or not learner.learner_id:
        raise Forbidden("only the learner can ask for their record to be corrected")
    models = {"achievement": Achievement, "experience": Experience, "person": None}
    if object_kind not in models:
        raise InvalidInput(
            f"object_kind {object_kind!r} is unknown; use achievement, experience "
            "or person"
        )
    if not message.strip():
        raise InvalidInput("say what is wrong and what it should be")
    if object_kind == "person":
        record = session.get(PersonRecord, object_id)
        owner, ukprn = (
            (record.learner_id, record.source_ukprn) if record else (None, "")
        )
    else:
        model = Achievement if object_kind == "achievement" else Experience
        row = session.execute(
            select(PersonRecord.learner_id, model.source_ukprn)
            .join(model, model.person_record_id == PersonRecord.id)
            .where(model.id == object_id)
        ).first()
        owner, ukprn = (row[0], row[1]) if row else (None, "")
    if owner != learner.learner_id:
        raise NotFound(f"{object_kind} {object_id} is not in your record")

    request = RectificationRequest(
        id=new_public_id("Q"),
        learner_id=learner.learner_id,
        source_ukprn=ukprn,
        object_kind=object_kind,
        object_id=object_id,
        message=message.strip(),
        created_at=utcnow(),
    )
    session.add(request)
    session.flush()
    append(
        session,
        AuditEvent.by(
            learner,
            EventType.RECTIFICATION_REQUESTED,
            "request rectification",
            learner_id=learner.learner_id,
            purpose="rectification request",
            object_ids=(request.id, f"{object_kind}:{object_id}"),
            detail={"routed_to_ukprn": ukprn},
        ),
    )
    return request


def rectifications_for_provider(
    session: Session, ukprn: str
) -> list[RectificationRequest]:
    """Return the open correction requests routed to one provider."""
    return list(
        session.scalars(
            select(RectificationRequest)
            .where(
                RectificationRequest.source_ukprn == ukprn,
                RectificationRequest.status == "open",
            )
            .order_by(RectificationRequest.created_at)
        )
    )


def erase_learner(session: Session, principal: Principal, learner_id: str) -> Erasure:
    """Remove a learner's personal data, keep what must be kept, and report both."""
    if principal.role != "administrator":
        raise Forbidden("erasure is carried out by an administrator")
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFound(f"learner {learner_id} not found")
    if learner.status == "erased":
        raise InvalidInput(f"learner {learner_id} was already erased")

    record_ids = list(
        session.scalars(
            select(PersonRecord.id).where(PersonRecord.learner_id == learner_id)
        )
    )
    removed: dict[str, int] = {}
    for table in reversed(_tables()):
        if table.name in KEPT_ON_ERASURE or table.name == "person_records":
            continue
        count = _erase_from(session, table, learner_id, record_ids)
        if count:
            removed[table.name] = count
    if record_ids:
        result = session.execute(
            delete(PersonRecord).where(PersonRecord.id.in_(record_ids))
        )
        removed["person_records"] = int(result.rowcount or 0)  # type: ignore[attr-defined]

    learner.status = "erased"
    learner.updated_at = utcnow()
    kept = {
        name: reason
        for name, reason in KEPT_ON_ERASURE.items()
        if name in {t.name for t in _tables()}
    }
    erasure = Erasure(
        id=new_public_id("E"),
        learner_id=learner_id,
        requested_by=principal.subject,
        removed=removed,
        kept=kept,
        created_at=utcnow(),
    )
    session.add(erasure)
    session.flush()
    append(
        session,
        AuditEvent.by(
            principal,
            EventType.ERASURE_COMPLETED,
            "erase learner data",
            learner_id=learner_id,
            purpose="erasure request",
            object_ids=(erasure.id,),
            detail={"removed": removed},
        ),
    )
    session.commit()
    log.info("learner %s erased: %d rows removed", learner_id, sum(removed.values()))
    return erasure


def _erase_from(
    session: Session, table: Table, learner_id: str, record_ids: list[int]
) -> int:
    conditions: list[ColumnElement[bool]] = []
    if "person_record_id" in table.c and record_ids:
        conditions.append(table.c.person_record_id.in_(record_ids))
    for column in table.c:
        for key in column.foreign_keys:
            if key.column.table.name == "person_records" and record_ids:
                conditions.append(column.in_(record_ids))
    if table.name == "auth_sessions":
        users = select(Base.metadata.tables["auth_users"].c.id).where(
            Base.metadata.tables["auth_users"].c.learner_id == learner_id
        )
        result = session.execute(delete(table).where(table.c.user_id.in_(users)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
    if table.name == "auth_users":
        # Accounts are disabled, not deleted, so sessions and audit actors resolve.
        result = session.execute(
            update(table)
            .where(table.c.learner_id == learner_id)
            .values(active=False, display_name="erased", username=learner_id)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
    if "learner_id" in table.c:
        conditions.append(table.c.learner_id == learner_id)
    if not conditions:
        return 0
    from sqlalchemy import or_

    result = session.execute(delete(table).where(or_(*conditions)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
