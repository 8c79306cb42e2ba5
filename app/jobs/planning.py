"""The one helper for "plan, move or settle the job of this kind for this authorization".

Lifecycle features keep at most one queued job of a kind per authorization (the follow-up, the
appeal follow-up) or plan one job per clock event (overdue, expiry, information due, appeal
deadline). Every one of them is planned, moved and settled here, so no feature writes its own
job statement or spells a job state: the statements are in `app.jobs.repository`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs import repository
from app.store.models import Job


class Owner(Protocol):
    """What a job is planned for: an authorization row (its id and its client)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def client_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class AuthorizationJobs:
    """The queued jobs of one kind for authorizations: `FOLLOW_UP = AuthorizationJobs("authorization.follow_up")`."""

    kind: str

    def plan(
        self, session: AsyncSession, owner: Owner, payload: Mapping[str, Any], *, now: datetime, run_at: datetime
    ) -> Job:
        """Queue one (in the caller's unit of work)."""
        return repository.enqueue(
            session, self.kind, payload, now=now, run_at=run_at, client_id=owner.client_id, authorization_id=owner.id
        )

    async def replan(
        self,
        session: AsyncSession,
        authorization_id: uuid.UUID,
        payload: Mapping[str, Any],
        *,
        now: datetime,
        run_at: datetime,
    ) -> int:
        """Move the queued ones to `run_at` with `payload`; how many moved (0: none was queued)."""
        return await repository.move_queued(
            session, self.kind, authorization_id, payload=payload, now=now, run_at=run_at
        )

    async def plan_or_replan(
        self, session: AsyncSession, owner: Owner, payload: Mapping[str, Any], *, now: datetime, run_at: datetime
    ) -> None:
        """Move the queued one, or queue one when none is."""
        if not await self.replan(session, owner.id, payload, now=now, run_at=run_at):
            self.plan(session, owner, payload, now=now, run_at=run_at)

    async def settle(self, session: AsyncSession, authorization_id: uuid.UUID, *, now: datetime) -> None:
        """No longer needed: the queued ones are done."""
        await repository.settle_queued(session, self.kind, authorization_id, now=now)

    async def queued(self, session: AsyncSession, authorization_id: uuid.UUID) -> Job | None:
        """The next queued one (for polling hints and "follow up now")."""
        return await repository.next_queued(session, self.kind, authorization_id)
