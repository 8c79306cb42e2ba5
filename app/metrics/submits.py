"""Counts one `$submit` answer by payer and the request's status (read back by primary key)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.metrics.instruments import Instruments
from app.store.models import Authorization

REPLAYED = "replayed"


async def record_submit(
    instruments: Instruments,
    sessions: async_sessionmaker[AsyncSession],
    authorization_id: uuid.UUID,
    *,
    replayed: bool,
) -> None:
    """`epa_submit_outcomes{payer, decision}`: decision is the stored status, or "replayed" for a repeat."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(Authorization.payer_id, Authorization.status).where(Authorization.id == authorization_id)
            )
        ).one_or_none()
    if row is None:
        return
    payer_id, status = row
    instruments.submit_outcomes.labels(payer_id, REPLAYED if replayed else status).inc()
