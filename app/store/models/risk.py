"""`risk_models`: the denial-risk models, versioned, as data (the counts of the rates model, JSON; no pickles).

One row per training of one scope: a client's own history (`client_id`), or every client's pooled
(`client_id` NULL, trained only when the operator enables pooled rates). The newest version answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.domain import bounds
from app.store.models.base import Base, BigIntId
from app.store.types import UTCDateTime


class RiskModelVersion(Base):
    """One trained denial-risk model: its scope, version, the history it counted and the counts themselves."""

    __tablename__ = "risk_models"
    __table_args__ = (Index("ix_risk_models_client_version", "client_id", "version"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    client_id: Mapped[str | None] = mapped_column(String(bounds.CLIENT_ID_LENGTH))  # None: pooled
    version: Mapped[int] = mapped_column(Integer)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime())
    items: Mapped[int] = mapped_column(Integer)  # decided items counted
    history_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the newest request counted
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # RiskModel.to_data()
