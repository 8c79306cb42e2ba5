"""WebhookRepository: every statement on webhook endpoints, their deliveries and the attempts of each.

Scoped to one client (`client_id=None`: an admin, every client): another client's row is simply
not found. The worker scopes by its job's client. Repositories add, flush and execute; they
never commit (the caller's unit of work does). The Subscription tables have their own
(`repository.subscriptions`), the order of delivery rows too (`repository.ordering`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import BigInteger, Select, Table, Uuid, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs import repository as jobs
from app.notifications.events import WEBHOOK_DELIVER
from app.notifications.outbound import AttemptResult
from app.notifications.repository.ordering import ahead_columns, behind_columns
from app.notifications.states import PENDING
from app.store.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

MAX_PAGE = 200
_BEHIND = behind_columns(WebhookDelivery)
_DELIVERIES = cast("Table", WebhookDelivery.__table__)
_NAME_JOB = (  # Core, not the ORM's bulk update: the rows are named by id alone, whatever the primary key
    update(_DELIVERIES).where(_DELIVERIES.c.id == bindparam("delivery")).values(job_id=bindparam("job"))
)

_ENABLED_AHEAD = (
    select(WebhookEndpoint, *ahead_columns(bindparam("authorization", type_=Uuid), bindparam("seq", type_=BigInteger)))
    .where(WebhookEndpoint.enabled.is_(True))
    .order_by(WebhookEndpoint.id)
)  # built once: every fan-out reads it
_ENABLED_AHEAD_SCOPED = _ENABLED_AHEAD.where(WebhookEndpoint.client_id == bindparam("client"))

_Statement = TypeVar("_Statement", bound=Select[*tuple[Any, ...]])


class WebhookRepository:
    def __init__(self, session: AsyncSession, client_id: str | None) -> None:
        self.session = session
        self.client_id = client_id

    def _mine(self, row: WebhookEndpoint | WebhookDelivery | None) -> bool:
        return row is not None and (self.client_id is None or row.client_id == self.client_id)

    def _scoped(self, statement: _Statement, column: Any) -> _Statement:
        return statement if self.client_id is None else statement.where(column == self.client_id)

    async def flush(self) -> None:
        await self.session.flush()

    # Endpoints

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self.session.add(endpoint)
        await self.session.flush()
        return endpoint

    async def endpoints(self) -> list[WebhookEndpoint]:
        """Oldest first."""
        statement = select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        return list((await self.session.scalars(self._scoped(statement, WebhookEndpoint.client_id))).all())

    async def health(self, endpoint_id: uuid.UUID) -> tuple[datetime | None, int, int]:
        """(last successful attempt, failed attempts since then, pending deliveries) of one endpoint."""
        of_endpoint = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id)
        delivered = WebhookAttempt.status_code.between(200, 299)
        last_success: datetime | None = await self.session.scalar(
            select(func.max(WebhookAttempt.at)).where(WebhookAttempt.delivery_id.in_(of_endpoint), delivered)
        )
        failed = select(func.count()).where(
            WebhookAttempt.delivery_id.in_(of_endpoint), ~delivered | WebhookAttempt.status_code.is_(None)
        )
        if last_success is not None:
            failed = failed.where(WebhookAttempt.at > last_success)
        pending = select(func.count()).where(
            WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.state == PENDING
        )
        return last_success, int(await self.session.scalar(failed) or 0), int(await self.session.scalar(pending) or 0)

    async def endpoints_for_update(self) -> list[WebhookEndpoint]:
        """Every endpoint in scope, locked (re-encrypting their secrets)."""
        statement = self._scoped(select(WebhookEndpoint), WebhookEndpoint.client_id).with_for_update()
        return list((await self.session.scalars(statement)).all())

    async def enabled_endpoints_ahead(
        self, authorization_id: uuid.UUID, event_seq: int
    ) -> list[tuple[WebhookEndpoint, int, datetime | None]]:
        """The enabled endpoints in scope, in id order (an event's fan-out), each with the pending deliveries to
        it for the authorization from events up to `event_seq` (how many, the latest next attempt): the rows
        the event's new deliveries would queue behind, read in the same statement (`ordering.ahead_columns`)."""
        statement = _ENABLED_AHEAD if self.client_id is None else _ENABLED_AHEAD_SCOPED
        values = {"authorization": authorization_id, "seq": event_seq, "client": self.client_id}
        rows = (await self.session.execute(statement, values)).all()
        return [(endpoint, int(count or 0), due) for endpoint, count, due in rows]

    async def endpoint(self, endpoint_id: uuid.UUID, *, for_update: bool = False) -> WebhookEndpoint | None:
        endpoint = await self.session.get(WebhookEndpoint, endpoint_id, with_for_update=for_update)
        return endpoint if self._mine(endpoint) else None

    async def delete_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """The endpoint and (by cascade) its delivery log."""
        await self.session.delete(endpoint)
        await self.session.flush()

    # Deliveries

    async def add_delivery(self, delivery: WebhookDelivery, *, now: datetime) -> WebhookDelivery:
        """A pending delivery and its `webhook.deliver` job, in the caller's transaction."""
        self.session.add(delivery)
        await self.session.flush()
        await self.schedule(delivery, now=now)
        return delivery

    async def insert_deliveries(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """Pending deliveries (column values, `job_id` left empty) in one multi-row INSERT; their ids by
        `message_id` (RETURNING keeps no order on every backend)."""
        result = await self.session.execute(
            insert(WebhookDelivery).returning(WebhookDelivery.message_id, WebhookDelivery.id), list(rows)
        )
        return {message_id: delivery_id for message_id, delivery_id in result.all()}

    async def name_jobs(self, delivery_jobs: Sequence[tuple[int, int]]) -> None:
        """Set each (delivery id, job id)'s `job_id`: one statement, executed for many rows."""
        await self.session.execute(_NAME_JOB, [{"delivery": d, "job": j} for d, j in delivery_jobs])

    async def schedule(self, delivery: WebhookDelivery, *, now: datetime) -> None:
        """A `webhook.deliver` job for the delivery, named by its `job_id`."""
        job = jobs.enqueue(
            self.session,
            WEBHOOK_DELIVER,
            {"delivery_id": delivery.id},
            now=now,
            client_id=delivery.client_id,
            authorization_id=delivery.authorization_id,
        )
        await self.session.flush()
        delivery.job_id = job.id

    async def deliveries(
        self, endpoint_id: uuid.UUID, *, state: str | None = None, before: int | None = None, limit: int = 50
    ) -> list[WebhookDelivery]:
        """Newest first; `before` (a delivery id) pages further back."""
        statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        statement = self._scoped(statement, WebhookDelivery.client_id)
        if state is not None:
            statement = statement.where(WebhookDelivery.state == state)
        if before is not None:
            statement = statement.where(WebhookDelivery.id < before)
        statement = statement.order_by(WebhookDelivery.id.desc()).limit(min(max(limit, 1), MAX_PAGE))
        return list((await self.session.scalars(statement)).all())

    async def delivery(self, delivery_id: int, *, for_update: bool = False) -> WebhookDelivery | None:
        delivery = await self.session.get(WebhookDelivery, delivery_id, with_for_update=for_update)
        return delivery if self._mine(delivery) else None

    async def delivery_with_endpoint(
        self, delivery_id: int
    ) -> tuple[WebhookDelivery, WebhookEndpoint | None, tuple[bool, bool]] | None:
        """The delivery, its endpoint (None once deleted) and whether it is behind (`ordering.behind`: an
        earlier event's fan-out still to run, an earlier sibling pending) in one statement: the delivery
        job's look-up."""
        statement = (
            select(WebhookDelivery, WebhookEndpoint, *_BEHIND)
            .outerjoin(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id == delivery_id)
        )
        found = (await self.session.execute(self._scoped(statement, WebhookDelivery.client_id))).one_or_none()
        return None if found is None else (found[0], found[1], (bool(found[2]), bool(found[3])))

    async def deliveries_with_endpoints(
        self, delivery_ids: Sequence[int]
    ) -> list[tuple[WebhookDelivery, WebhookEndpoint | None, tuple[bool, bool]]]:
        """`delivery_with_endpoint` for many deliveries in one statement (the claim that leases their jobs);
        in no particular order, the deliveries not found left out. Two rows to one endpoint share its object."""
        statement = (
            select(WebhookDelivery, WebhookEndpoint, *_BEHIND)
            .outerjoin(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id.in_(delivery_ids))
        )
        found = (await self.session.execute(self._scoped(statement, WebhookDelivery.client_id))).all()
        return [(row, endpoint, (bool(fan_out), bool(sibling))) for row, endpoint, fan_out, sibling in found]

    # Attempts

    async def attempts(self, delivery_id: int) -> list[WebhookAttempt]:
        statement = select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
        return list((await self.session.scalars(statement)).all())

    def add_attempt(self, delivery: WebhookDelivery, result: AttemptResult, *, at: datetime) -> None:
        """One attempt of the delivery, written with the delivery's outcome."""
        self.session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                at=at,
                status_code=result.status_code,
                latency_ms=result.latency_ms,
                error=result.error,
            )
        )
