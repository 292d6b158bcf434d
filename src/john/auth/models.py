"""Tables for users, their sign-in sessions and machine clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from john.db import Base, UTCDateTime, utcnow


class User(Base):
    """A person who signs in to the pages, with one role.

    ``learner_id`` binds a learner, ``ukprn`` a provider's staff and
    ``organisation`` a verifier, adviser or sponsor. ``external_subject`` links
    an OpenID Connect subject (``issuer|sub``) to this account.
    """

    __tablename__ = "auth_users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    learner_id: Mapped[str | None] = mapped_column(String(40), index=True)
    ukprn: Mapped[str | None] = mapped_column(String(8))
    organisation: Mapped[str | None] = mapped_column(String(300))
    external_subject: Mapped[str | None] = mapped_column(String(500), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebSession(Base):
    """A server-side sign-in session; the cookie holds the token, we its hash."""

    __tablename__ = "auth_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("auth_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiClient(Base):
    """A machine client using OAuth 2 client credentials (RFC 6749 §4.4)."""

    __tablename__ = "auth_clients"

    client_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    ukprn: Mapped[str | None] = mapped_column(String(8))
    organisation: Mapped[str | None] = mapped_column(String(300))
    learner_id: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
