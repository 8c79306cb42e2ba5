"""The `webhook.deliver` job: the webhook channel of the delivery skeleton (`app.notifications.delivery`).

- The message: the delivery's payload, signed with the endpoint's secrets (Standard Webhooks,
  `webhook-id` = the delivery's message id, the same on every attempt).
- 2xx: delivered. 410: the endpoint is disabled, the delivery failed. Anything else (timeout,
  connection error, other status): retried on the schedule (`webhook_retry_schedule`, jittered),
  or after `Retry-After` on 429/503, until the schedule is spent, then failed. A refused target
  (SSRF check) fails at once.
- Every attempt is a `webhook_attempts` row, committed with the delivery's outcome (at least once:
  see the skeleton). An outcome that settles the delivery (delivered, failed for good) is written with
  the job's completion and the next sibling's wake-up in one statement on PostgreSQL, after the
  ordering lock (`repository.outcome`); a retry is written by the session with the job's reschedule.
- A delivery to a disabled or deleted endpoint is skipped. A delivery waits while an earlier
  delivery for the same endpoint and authorization is pending.
- A delivery its fan-out handed over (`deliveries.Written`) is sent on its first run from the rows the
  fan-out wrote, without a look-up. Any other is read by the claim that leases its job, with the
  other deliveries of the batch, in one statement that answers their ordering checks too
  (`preload_deliveries`, `Preloaded`): the job's own look-up, and the transaction it opened before the
  POST, are saved. A job claimed without it (another worker, a handler not preloading) looks it up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from app.jobs.contract import ClaimedJob, Completed, Handler, JobContext, Preloading
from app.notifications.context import OutboundDeps
from app.notifications.deliveries import Written
from app.notifications.delivery import Message, delivery_handler
from app.notifications.endpoints import active_secrets
from app.notifications.events import WEBHOOK_DELIVER
from app.notifications.ordering import Behind
from app.notifications.outbound import AttemptResult
from app.notifications.repository.outcome import write_settled
from app.notifications.repository.webhooks import WebhookRepository
from app.notifications.secret_box import SecretBox
from app.notifications.signing import signed_headers
from app.settings import Settings
from app.store.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Preloaded:
    """A claimed delivery as its claim read it: the row, its endpoint (None once deleted), and whether it is
    behind (`ordering.behind`, read without the lock). Detached, as if loaded; the endpoint is the job's own."""

    row: WebhookDelivery
    endpoint: WebhookEndpoint | None
    behind: Behind


async def preload_deliveries(session: AsyncSession, jobs: Sequence[ClaimedJob]) -> dict[int, Preloaded]:
    """The deliveries of claimed `webhook.deliver` jobs, by job id, in one statement of the claim's
    transaction; each job sees only a delivery of its own client (else it looks up, and finds nothing)."""
    wanted: dict[int, ClaimedJob] = {}
    for job in jobs:
        row_id = job.payload.get(WebhookChannel.id_key)
        if isinstance(row_id, int):
            wanted[row_id] = job
    if not wanted:
        return {}
    preloaded: dict[int, Preloaded] = {}
    endpoints_seen: set[object] = set()
    for row, endpoint, behind in await WebhookRepository(session, None).deliveries_with_endpoints(list(wanted)):
        job = wanted[row.id]
        if job.client_id is not None and row.client_id != job.client_id:
            continue
        if endpoint is not None:
            if endpoint.id in endpoints_seen:  # one object per job: each job's session takes its own
                endpoint = _detached_copy(endpoint)
            endpoints_seen.add(endpoint.id)
        preloaded[job.id] = Preloaded(row, endpoint, behind)
    return preloaded


def _detached_copy(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    copy = WebhookEndpoint(**{key: getattr(endpoint, key) for key in _ENDPOINT_ATTRIBUTES})
    make_transient_to_detached(copy)
    return copy


_ENDPOINT_ATTRIBUTES = tuple(attribute.key for attribute in inspect(WebhookEndpoint).column_attrs)


class WebhookChannel:
    kind = WEBHOOK_DELIVER
    id_key = "delivery_id"

    def __init__(self, settings: Settings) -> None:
        self.box = SecretBox(settings)

    async def load(
        self, job: JobContext, row_id: int
    ) -> tuple[WebhookDelivery, WebhookEndpoint | None, Behind | None] | None:
        written = job.preloaded
        if isinstance(written, Written) and written.row.id == row_id:
            # Handed over by its fan-out, which wrote it to go now (nothing of its endpoint and
            # authorization pending ahead, every earlier fan-out done): no look-up.
            job.session.add_all((written.row, written.endpoint))
            return written.row, written.endpoint, (False, False)
        if isinstance(written, Preloaded) and written.row.id == row_id:
            job.session.add(written.row)
            if written.endpoint is not None:
                job.session.add(written.endpoint)
            return written.row, written.endpoint, written.behind
        return await WebhookRepository(job.session, job.client_id).delivery_with_endpoint(row_id)

    def accepts(self, target: WebhookEndpoint, now: datetime) -> bool:
        return target.enabled

    def skipped(self, row: WebhookDelivery, target: WebhookEndpoint | None) -> None:
        row.last_error = "endpoint disabled"

    def held(self, row: WebhookDelivery, target: WebhookEndpoint) -> bool:
        return False

    async def message(self, job: JobContext, row: WebhookDelivery, target: WebhookEndpoint, now: datetime) -> Message:
        body = orjson.dumps(row.payload)
        return Message(
            target.url, body, signed_headers(active_secrets(target, now, self.box), row.message_id, now, body)
        )

    def attempted(self, job: JobContext, row: WebhookDelivery, result: AttemptResult, *, started: datetime) -> None:
        if not result.delivered:  # every failed attempt, not only the last: a receiver down is visible at once
            log.warning(
                "webhook attempt failed",
                extra={
                    "delivery_id": row.id,
                    "endpoint_id": str(row.endpoint_id),
                    "attempt": row.attempts + 1,
                    "status_code": result.status_code,
                    "error": result.error,
                },
            )

    async def record(
        self,
        job: JobContext,
        row: WebhookDelivery,
        result: AttemptResult,
        *,
        started: datetime,
        at: datetime,
        settled: bool,
    ) -> Completed | None:
        if not settled:  # a retry: the attempt and the row flushed at commit, with the job's reschedule
            WebhookRepository(job.session, job.client_id).add_attempt(row, result, at=started)
            return None
        completion = job.completion(at)
        written = await write_settled(job.session, row, result, started=started, at=at, completion=completion)
        return None if written.completed is None else Completed(written.completed)

    async def delivered(self, job: JobContext, row: WebhookDelivery, target: WebhookEndpoint, *, at: datetime) -> None:
        return None

    def gives_up(self, row: WebhookDelivery, result: AttemptResult) -> bool:
        return result.gone or result.refused

    def failed(self, row: WebhookDelivery, target: WebhookEndpoint, result: AttemptResult, *, at: datetime) -> None:
        if result.gone:
            target.enabled = False
            target.disabled_reason = "the receiver answered 410 Gone"
            target.updated_at = at
            log.warning("webhook endpoint disabled after 410", extra={"endpoint_id": str(target.id)})
        log.warning(
            "webhook delivery failed for good",
            extra={"delivery_id": row.id, "message_id": row.message_id, "error": result.error},
        )


def webhook_delivery_handler(deps: OutboundDeps) -> Handler:
    return Preloading(delivery_handler(deps, WebhookChannel(deps.settings)), preload_deliveries)
