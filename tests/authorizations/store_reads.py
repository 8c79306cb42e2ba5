"""The few lifecycle facts no route shows, read straight from the database.

Kept in one module on purpose: when the store changes shape, only this file follows it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.authorizations import FOLLOW_UP
from app.notifications.events import FAN_OUT
from app.store.models import Authorization, Job


@dataclass(frozen=True, slots=True)
class FollowUp:
    state: str
    action: str | None
    run_at: datetime


async def follow_ups(engine: AsyncEngine, authorization_id: uuid.UUID) -> list[FollowUp]:
    """The authorization's follow-up jobs, oldest first."""
    statement = (
        select(Job.state, Job.payload, Job.run_at)
        .where(Job.kind == FOLLOW_UP, Job.authorization_id == authorization_id)
        .order_by(Job.id)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return [FollowUp(state, (payload or {}).get("action"), run_at) for state, payload, run_at in rows]


async def queued_follow_up(engine: AsyncEngine, authorization_id: uuid.UUID) -> FollowUp | None:
    queued = [job for job in await follow_ups(engine, authorization_id) if job.state == "queued"]
    assert len(queued) <= 1, f"more than one queued follow-up: {queued}"
    return queued[0] if queued else None


async def published(engine: AsyncEngine, authorization_id: uuid.UUID | None = None) -> list[str]:
    """Event types handed to the notification fan-out (queued notifications), in order."""
    statement = select(Job.payload).where(Job.kind == FAN_OUT).order_by(Job.id)
    if authorization_id is not None:
        statement = statement.where(Job.authorization_id == authorization_id)
    async with engine.connect() as connection:
        payloads: list[dict[str, Any]] = list((await connection.execute(statement)).scalars())
    return [payload["event_type"] for payload in payloads]


async def authorization_count(engine: AsyncEngine) -> int:
    """Every stored authorization, replaced versions included (the worklist hides those by default)."""
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(Authorization))).scalar_one())
