"""The security tables: `client_registrations` (SMART Backend Services clients: keys and scopes),
`used_assertions` (client assertion `jti`s kept until they expire, so none is accepted twice) and
`audit_records` (who did what to which resources, when, with what outcome; ids and codes only) and
`revoked_console_sessions` (console sessions ended by logout, kept until their cookie would expire).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.domain import bounds
from app.store.models.base import Base, BigIntId
from app.store.types import UTCDateTime


class ClientRegistration(Base):
    """A registered SMART Backend Services client: its keys (inline JWKS or a URL) and allowed scopes."""

    __tablename__ = "client_registrations"

    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH), primary_key=True)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    jwks_url: Mapped[str | None] = mapped_column(String(2048))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    admin: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UsedAssertion(Base):
    """A client assertion's `jti`, kept until the assertion expires so it is never accepted twice."""

    __tablename__ = "used_assertions"
    __table_args__ = (UniqueConstraint("client_id", "jti", name="uq_used_assertions_client_jti"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    jti: Mapped[str] = mapped_column(String(256))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class RevokedConsoleSession(Base):
    """A console session ended by logout (its id: a hash of the session's random token), refused by every
    process until the cookie would have expired anyway."""

    __tablename__ = "revoked_console_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AuditRecord(Base):
    """Who did what to which resources, when, with what outcome. Ids and codes only: never PHI."""

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_client_id", "client_id", "id"),
        Index("ix_audit_records_operation_id", "operation", "id"),
        Index("ix_audit_records_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    operation: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_ids: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[int] = mapped_column(Integer)  # the HTTP status answered
    request_id: Mapped[str | None] = mapped_column(String(128))
