"""Webhook deliveries: one row per (event, endpoint) with its job, the delivery log, redelivery, ping, and
"send now" (a pending delivery, or every pending delivery of an endpoint, attempted at once).

A delivery's `message_id` is its `webhook-id`: the same on every attempt and on a redelivery,
so receivers use it as their idempotency key. Answers are views; the statements are
`WebhookRepository`'s, and nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from app.errors import Conflict, NotFound
from app.jobs import repository as jobs
from app.jobs.contract import ClaimedJob, HandOver
from app.jobs.repository.enqueue_many import NewJob, enqueue_many
from app.notifications.endpoints import owned_endpoint
from app.notifications.events import PING, WEBHOOK_DELIVER
from app.notifications.ordering import holds_for_new_deliveries
from app.notifications.repository.webhooks import MAX_PAGE, WebhookRepository
from app.notifications.states import PENDING
from app.notifications.views import WebhookDeliveryView
from app.store.models import WebhookDelivery, WebhookEndpoint

MAX_PENDING_DRAINED = 10_000  # deliveries one "send pending now" moves

__all__ = [
    "MAX_PAGE",
    "WebhookDeliveries",
    "Written",
    "add_delivery",
    "add_event_deliveries",
    "new_message_id",
    "webhook_payload",
]


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
    return await WebhookRepository(session, endpoint.client_id).add_delivery(delivery, now=now)


@dataclass(frozen=True, slots=True)
class Written:
    """A delivery its fan-out wrote and handed over, with its endpoint as the fan-out read it: the delivery
    job's first run sends it without looking it up (`webhook_jobs`). Both are detached, as if loaded."""

    row: WebhookDelivery
    endpoint: WebhookEndpoint


async def add_event_deliveries(
    session: AsyncSession,
    endpoints_ahead: Sequence[tuple[WebhookEndpoint, int, datetime | None]],
    *,
    event_type: str,
    occurred_at: datetime,
    data: dict[str, Any],
    authorization_id: uuid.UUID,
    event_seq: int,
    now: datetime,
    attempt_budget: timedelta,
    hand_over: HandOver | None = None,
) -> list[int]:
    """One event's pending delivery to each endpoint, with its job, in the caller's transaction: a few
    statements whatever the number of endpoints (the deliveries, their jobs, the jobs named on the rows).
    A delivery behind an earlier pending one to its endpoint gets a job held until that one wakes it
    (`ordering`). Given `hand_over`, the jobs of the deliveries that may go now are written claimed by
    the caller's worker, as many as it grants, and handed to it with their rows (`Written`): they
    start once the caller commits, without a wake-up, a claim or a look-up. `endpoints_ahead`: the enabled
    endpoints, each with the pending deliveries ahead of this event's (how many, the latest next attempt), as
    `WebhookRepository.enabled_endpoints_ahead` reads them. Returns the delivery ids."""
    if not endpoints_ahead:
        return []
    repository = WebhookRepository(session, None)  # the endpoints were read in the job's client scope
    endpoints = [endpoint for endpoint, _count, _due in endpoints_ahead]
    holds, clear = await holds_for_new_deliveries(
        session,
        {endpoint.id: (count, due) for endpoint, count, due in endpoints_ahead},
        authorization_id,
        event_seq=event_seq,
        now=now,
        attempt_budget=attempt_budget,
    )
    payload = webhook_payload(event_type, occurred_at, data)
    messages = [(new_message_id(), endpoint) for endpoint in endpoints]
    columns: dict[str, Any] = {
        "event_type": event_type,
        "authorization_id": authorization_id,
        "event_seq": event_seq,
        "payload": payload,
        "occurred_at": occurred_at,
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    ids = await repository.insert_deliveries(
        [
            {"endpoint_id": endpoint.id, "client_id": endpoint.client_id, "message_id": message_id, **columns}
            for message_id, endpoint in messages
        ]
    )
    # Handed over (no look-up before the POST): only to an endpoint clear in the read of the rows ahead; the
    # others' jobs look the endpoint up, and skip a delivery to one disabled meanwhile.
    go_now = [message_id for message_id, endpoint in messages if endpoint.id in clear]
    claimed = set(go_now[: hand_over.reserve(len(go_now))] if hand_over is not None else ())
    jobs_written = await enqueue_many(
        session,
        WEBHOOK_DELIVER,
        [
            NewJob(
                {"delivery_id": ids[message_id]},
                run_at=holds.get(endpoint.id, now),
                client_id=endpoint.client_id,
                authorization_id=authorization_id,
                claimed=message_id in claimed,
            )
            for message_id, endpoint in messages
        ],
        now=now,
        lease=hand_over.lease if hand_over is not None else None,
    )
    job_ids = {int(payload["delivery_id"]): job_id for job_id, payload in jobs_written}
    await repository.name_jobs(list(job_ids.items()))
    if hand_over is not None:
        for message_id, endpoint in messages:
            if message_id not in claimed:
                continue
            delivery_id = ids[message_id]
            row = WebhookDelivery(
                id=delivery_id, endpoint_id=endpoint.id, client_id=endpoint.client_id, message_id=message_id,
                job_id=job_ids[delivery_id], last_status_code=None, last_error=None, delivered_at=None, **columns,
            )  # fmt: skip
            make_transient_to_detached(row)  # as its look-up would load it (every column set), in no session
            hand_over.take(
                ClaimedJob(
                    job_ids[delivery_id],
                    WEBHOOK_DELIVER,
                    {"delivery_id": delivery_id},
                    attempt=1,
                    max_attempts=jobs.DEFAULT_MAX_ATTEMPTS,
                    client_id=endpoint.client_id,
                    authorization_id=authorization_id,
                    preloaded=Written(row, endpoint),
                )
            )
    return [ids[message_id] for message_id, _endpoint in messages]


class WebhookDeliveries:
    """The delivery log a caller may see, redelivery, and pings."""

    def __init__(self, session: AsyncSession, client_id: str | None) -> None:
        self.repository = WebhookRepository(session, client_id)

    async def _get(self, delivery_id: int, *, for_update: bool = False) -> WebhookDelivery:
        delivery = await self.repository.delivery(delivery_id, for_update=for_update)
        if delivery is None:
            raise NotFound(f"webhook delivery {delivery_id} not found")
        return delivery

    async def for_endpoint(
        self, endpoint_id: uuid.UUID, *, state: str | None = None, before: int | None = None, limit: int = 50
    ) -> list[WebhookDeliveryView]:
        """Newest first; `before` (a delivery id) pages further back."""
        rows = await self.repository.deliveries(endpoint_id, state=state, before=before, limit=limit)
        return [WebhookDeliveryView.of(row) for row in rows]

    async def detail(self, delivery_id: int) -> WebhookDeliveryView:
        """One delivery with every attempt."""
        delivery = await self._get(delivery_id)
        return WebhookDeliveryView.of(delivery, await self.repository.attempts(delivery.id))

    async def redeliver(self, delivery_id: int, *, now: datetime) -> WebhookDeliveryView:
        """Send a settled delivery again (same `webhook-id`, a fresh retry schedule)."""
        delivery = await self._get(delivery_id, for_update=True)
        if delivery.state == PENDING:
            raise Conflict(f"webhook delivery {delivery_id} is still pending")
        delivery.state = PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.delivered_at = None
        await self.repository.schedule(delivery, now=now)
        return WebhookDeliveryView.of(delivery)

    async def send_now(self, delivery_id: int, *, now: datetime) -> WebhookDeliveryView:
        """A pending delivery is attempted at once, its backoff skipped (409 unless pending and waiting)."""
        delivery = await self._get(delivery_id, for_update=True)
        if delivery.state != PENDING:
            raise Conflict(f"webhook delivery {delivery_id} is {delivery.state}; redeliver it instead")
        moved = await jobs.run_queued_now(
            self.repository.session, [delivery.job_id] if delivery.job_id else [], now=now
        )
        if not moved:
            raise Conflict(f"webhook delivery {delivery_id} is being attempted right now")
        delivery.next_attempt_at = now
        return WebhookDeliveryView.of(delivery)

    async def send_pending_now(self, endpoint_id: uuid.UUID, *, now: datetime) -> int:
        """Every pending delivery of the endpoint is attempted at once (a receiver fixed: drain it now).

        Deliveries keep their order per authorization; returns how many were moved."""
        await owned_endpoint(self.repository, endpoint_id)
        pending: list[WebhookDelivery] = []
        while len(pending) < MAX_PENDING_DRAINED:
            before = pending[-1].id if pending else None
            page = await self.repository.deliveries(endpoint_id, state=PENDING, before=before, limit=MAX_PAGE)
            pending += page
            if len(page) < MAX_PAGE:
                break
        moved = await jobs.run_queued_now(self.repository.session, [d.job_id for d in pending if d.job_id], now=now)
        for delivery in pending:
            delivery.next_attempt_at = now
        return moved

    async def ping(self, endpoint_id: uuid.UUID, *, now: datetime) -> WebhookDeliveryView:
        """Queue a signed `webhook.ping` to the endpoint (never ordered, always sent)."""
        endpoint = await owned_endpoint(self.repository, endpoint_id)
        delivery = await add_delivery(
            self.repository.session,
            endpoint,
            event_type=PING,
            occurred_at=now,
            data={"endpoint_id": str(endpoint.id)},
            authorization_id=None,
            now=now,
        )
        return WebhookDeliveryView.of(delivery)
