"""Tables of the Learning Record Store: clients, statements, their filter
terms, attachments and documents.

Statements keep their full JSON (JSONB on PostgreSQL) beside extracted
columns, so every filter of the Statement Resource reads an index, never the
JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from john.db import Base, UTCDateTime, utcnow

# SQLite only autoincrements an INTEGER PRIMARY KEY, so the 64-bit sequence
# falls back to INTEGER there (which is 64-bit in SQLite anyway).
SEQUENCE = BigInteger().with_variant(Integer, "sqlite")
JSON_DOCUMENT = JSON().with_variant(JSONB(), "postgresql")


class LrsClient(Base):
    """A machine client of the LRS with its Basic credentials and scopes."""

    __tablename__ = "lrs_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    source_ukprn: Mapped[str] = mapped_column(String(8), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    scopes: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LrsStatement(Base):
    """One stored statement: its JSON and the values extracted from it.

    Filters read :class:`LrsStatementTerm`, so only the sequence number, the
    statement id and the stored time are indexed here.
    """

    __tablename__ = "lrs_statements"
    __table_args__ = (Index("ix_lrs_statements_stored_seq", "stored", "seq"),)

    seq: Mapped[int] = mapped_column(SEQUENCE, primary_key=True, autoincrement=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("lrs_clients.id"), index=True)
    actor_ifi: Mapped[str | None] = mapped_column(Text)
    verb_id: Mapped[str] = mapped_column(Text)
    activity_id: Mapped[str | None] = mapped_column(Text)
    registration: Mapped[str | None] = mapped_column(String(36))
    ref_target: Mapped[str | None] = mapped_column(String(36))
    stored: Mapped[datetime] = mapped_column(UTCDateTime)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    is_voiding: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    attachment_hashes: Mapped[str | None] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)


class LrsStatementTerm(Base):
    """One value a statement can be found by (agent, verb, activity...).

    ``kind`` is one of ``agent`` (actor or object), ``related_agent``,
    ``verb``, ``activity`` (object), ``related_activity`` and
    ``registration``. A statement whose object is a StatementRef also carries
    the terms of its target, because a filter matches statements that refer to
    a matching statement.
    """

    __tablename__ = "lrs_statement_terms"
    __table_args__ = (
        Index(
            "ix_lrs_statement_terms_lookup", "kind", "term", "stored", "statement_seq"
        ),
    )

    statement_seq: Mapped[int] = mapped_column(
        SEQUENCE, ForeignKey("lrs_statements.seq"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    term: Mapped[str] = mapped_column(Text, primary_key=True)
    # A copy of the statement's stored time, so that one index range serves
    # a filter with since and until in stored-time order.
    stored: Mapped[datetime] = mapped_column(UTCDateTime)


class LrsAttachment(Base):
    """The raw content of an attachment, stored once per SHA-256 hash."""

    __tablename__ = "lrs_attachments"

    sha2: Mapped[str] = mapped_column(String(128), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(255))
    length: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    stored: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LrsActivity(Base):
    """The canonical definition of an activity, merged from statements."""

    __tablename__ = "lrs_activities"

    activity_id: Mapped[str] = mapped_column(Text, primary_key=True)
    definition: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LrsDocument(Base):
    """A State, Activity Profile or Agent Profile document.

    ``scope`` packs what identifies the document within its resource: the
    activity id, the agent's inverse functional identifier and the
    registration, as the resource uses them.
    """

    __tablename__ = "lrs_documents"
    __table_args__ = (UniqueConstraint("resource", "scope", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(Text, index=True)
    document_id: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(64))
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LrsLearningLink(Base):
    """A statement joined to a person record, and the experience it made.

    Provenance runs both ways: ``experience_id`` names the row added to
    ``experiences`` and ``statement_id`` names the statement it came from.
    """

    __tablename__ = "lrs_learning_links"

    statement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_record_id: Mapped[int] = mapped_column(
        ForeignKey("person_records.id"), index=True
    )
    learner_id: Mapped[str | None] = mapped_column(String(40), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    experience_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiences.id"), nullable=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
