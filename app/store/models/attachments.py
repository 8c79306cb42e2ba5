"""`attachments`: the documents a provider sent for an authorization (CDex `$submit-attachment` or a
PAS update), stored once per authorization by sha256, and when each was forwarded to the payer.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.domain import bounds
from app.store.models.base import Base, BigIntId
from app.store.types import UTCDateTime


class Attachment(Base):
    """A document the provider sent for an authorization (CDex `$submit-attachment`), stored once by hash."""

    __tablename__ = "attachments"
    __table_args__ = (
        UniqueConstraint("authorization_id", "sha256", name="uq_attachments_authorization_sha256"),
        Index("ix_attachments_client_received", "client_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    authorization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorizations.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    resource_type: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
