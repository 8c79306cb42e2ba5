"""The appeals of a decision: `appeals` (channel, reason, the status appealed, deadline, the payer's
outcome and peer-to-peer state) and `appeal_documents` (what was sent with each, size-limited and hashed).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain import bounds
from app.domain.codes import AuthorizationStatus
from app.store.models.base import Base, BigIntId
from app.store.types import UTCDateTime, enum_column


class Appeal(Base):
    """An appeal of an authorization's decision: its channel, reason, deadline and the payer's outcome."""

    __tablename__ = "appeals"
    __table_args__ = (
        Index("ix_appeals_authorization_submitted", "authorization_id", "submitted_at"),
        UniqueConstraint("client_id", "request_identifier", name="uq_appeals_client_request"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    authorization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorizations.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    channel: Mapped[str] = mapped_column(String(16))  # pas-update | operations
    expedited: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(bounds.APPEAL_REASON_LENGTH))
    appealed_status: Mapped[AuthorizationStatus] = mapped_column(enum_column(AuthorizationStatus, 32))
    outcome: Mapped[str | None] = mapped_column(String(16))  # approved | denied; None while the payer reviews
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payer_reference: Mapped[str | None] = mapped_column(String(bounds.PAYER_REFERENCE_LENGTH))
    peer_to_peer: Mapped[str | None] = mapped_column(String(16))  # requested | held, as the payer last said
    # PAS: "system|value" of the appealing update's Bundle identifier (the same Bundle again is a replay)
    request_identifier: Mapped[str | None] = mapped_column(String(bounds.IDENTIFIER_KEY_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    documents: Mapped[list[AppealDocument]] = relationship(
        back_populates="appeal", order_by="AppealDocument.id", cascade="all, delete-orphan"
    )


class AppealDocument(Base):
    """A document sent with an appeal (size-limited, content hashed; never logged)."""

    __tablename__ = "appeal_documents"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    content_type: Mapped[str] = mapped_column(String(bounds.APPEAL_DOCUMENT_TYPE_LENGTH))
    title: Mapped[str | None] = mapped_column(String(bounds.APPEAL_DOCUMENT_TITLE_LENGTH))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    appeal: Mapped[Appeal] = relationship(back_populates="documents")
