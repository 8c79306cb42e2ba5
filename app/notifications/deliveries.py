"""Webhook deliveries: one row per (event, endpoint) with its job, the delivery log, and redelivery.

A delivery's `message_id` is its `webhook-id`: the same on every attempt and on a redelivery,
so receivers use it as their idempotency key.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound
from app.jobs import repository as jobs
from app.notifications.events import WEBHOOK_DELIVER
from app.notifications.ordering import PENDING
from app.store.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

MAX_PAGE = 200


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def webhook_payload(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The Standard Webhooks payload shape: type, timestamp, data."""
    return {"type": event_type, "timestamp": occurred_at.isoformat(), "data": data}


async def add_delivery(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    *,
    event_type: str,
    occurred_at: datetime,
    data: dict[str, Any],
    authorization_id: uuid.UUID | None,
    now: datetime,
    event_seq: int | None = None,
) -> WebhookDelivery:
    """A pending delivery and its job, in the caller's transaction."""
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        client_id=endpoint.client_id,
        message_id=new_message_id(),
        event_type=event_type,
        authorization_id=authorization_id,
        event_seq=event_seq,
        payload=webhook_payload(event_type, occurred_at, data),
        occurred_at=occurred_at,
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    await session.flush()
    await _schedule(session, delivery, now=now)
    return delivery


async def _schedule(session: AsyncSession, delivery: WebhookDelivery, *, now: datetime) -> None:
    job = jobs.enqueue(
        session,
        WEBHOOK_DELIVER,
        {"delivery_id": delivery.id},
        now=now,
        client_id=delivery.client_id,
        authorization_id=delivery.authorization_id,
    )
    await session.flush()
    delivery.job_id = job.id


class WebhookDeliveries:
    """The delivery log a caller may see, and redelivery."""

    def __init__(self, session: AsyncSession, client_id: str | None) -> None:
        self.session = session
        self.client_id = client_id

    async def for_endpoint(
        self, endpoint_id: uuid.UUID, *, state: str | None = None, before: int | None = None, limit: int = 50
    ) -> list[WebhookDelivery]:
        """Newest first; `before` (a delivery id) pages further back."""
        statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        if self.client_id is not None:
            statement = statement.where(WebhookDelivery.client_id == self.client_id)
        if state is not None:
            statement = statement.where(WebhookDelivery.state == state)
        if before is not None:
            statement = statement.where(WebhookDelivery.id < before)
        statement = statement.order_by(WebhookDelivery.id.desc()).limit(min(max(limit, 1), MAX_PAGE))
        return list((await self.session.scalars(statement)).all())

    async def get(self, delivery_id: int, *, for_update: bool = False) -> WebhookDelivery:
        delivery = await self.session.get(WebhookDelivery, delivery_id, with_for_update=for_update)
        if delivery is None or (self.client_id is not None and delivery.client_id != self.client_id):
            raise NotFound(f"webhook delivery {delivery_id} not found")
        return delivery

    async def attempts(self, delivery_id: int) -> list[WebhookAttempt]:
        statement = select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
        return list((await self.session.scalars(statement)).all())

    async def redeliver(self, delivery_id: int, *, now: datetime) -> WebhookDelivery:
        """Send a settled delivery again (same `webhook-id`, a fresh retry schedule)."""
        delivery = await self.get(delivery_id, for_update=True)
        if delivery.state == PENDING:
            raise Conflict(f"webhook delivery {delivery_id} is still pending")
        delivery.state = PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.delivered_at = None
        await _schedule(self.session, delivery, now=now)
        return delivery
