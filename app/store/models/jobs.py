"""`jobs`: the queue. One row per unit of background work (kind, payload, run time, attempts, lease),
written in the same transaction as the change it follows. `worker_heartbeats`: each worker's last
sign of life, written while it is idle too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.domain import bounds
from app.store.models.base import Base, BigIntId
from app.store.types import UTCDateTime


class Job(Base):
    """A unit of background work, written in the same transaction as the change it follows."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_run_at", "state", "run_at"),
        Index("ix_jobs_state_lease", "state", "lease_until"),
        Index("ix_jobs_authorization_id", "authorization_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # queued | running | done | dead
    client_id: Mapped[str | None] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    authorization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=20)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WorkerHeartbeat(Base):
    """One row per worker process: when it started and when it last said it was alive (even idle)."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
