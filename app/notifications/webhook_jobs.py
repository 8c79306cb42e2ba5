"""The `webhook.deliver` job: sign and POST one delivery, record the attempt, decide what next.

- 2xx: delivered. 410: the endpoint is disabled, the delivery failed. Anything else (timeout,
  connection error, other status): retried on the schedule (`webhook_retry_schedule`, jittered),
  or after `Retry-After` on 429/503, until the schedule is spent, then failed.
- Every attempt is a `webhook_attempts` row. The job commits the attempt and its outcome in one
  transaction; a worker that dies after sending and before committing leaves the job's lease to
  expire, and the next worker sends again with the same `webhook-id` (at least once).
- A delivery waits while an earlier delivery for the same endpoint and authorization is pending.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import orjson

from app.jobs.contract import Handler, JobContext, JobError, JobOutcome, Reschedule
from app.notifications import outbound
from app.notifications.context import OutboundDeps
from app.notifications.endpoints import active_secrets
from app.notifications.ordering import wait_for_earlier, wake_next
from app.notifications.repository import WebhookRepository
from app.notifications.schedule import retry_delay
from app.notifications.secret_box import SecretBox
from app.notifications.signing import signed_headers
from app.notifications.states import DELIVERED, FAILED, PENDING, SKIPPED
from app.store.database import commit_before_outbound_call

log = logging.getLogger(__name__)


def webhook_delivery_handler(deps: OutboundDeps) -> Handler:
    settings = deps.settings
    budget = timedelta(seconds=settings.webhook_timeout_seconds + 1)

    async def deliver(job: JobContext) -> JobOutcome | None:
        delivery_id = job.payload.get("delivery_id")
        if not isinstance(delivery_id, int):
            raise JobError("webhook.deliver without a delivery_id", permanent=True)
        session = job.session
        repository = WebhookRepository(session, job.client_id)
        found = await repository.delivery_with_endpoint(delivery_id)  # the delivery and its endpoint in one statement
        if found is None or found[0].state != PENDING:
            return None
        delivery, endpoint = found
        now = job.now()
        if endpoint is None or not endpoint.enabled:
            delivery.state, delivery.last_error = SKIPPED, "endpoint disabled"
            await wake_next(session, delivery, now=now)
            return None
        wait = await wait_for_earlier(session, delivery, now=now, attempt_budget=budget)
        if wait is not None:
            return Reschedule(after=wait)
        body = orjson.dumps(delivery.payload)
        headers = signed_headers(active_secrets(endpoint, now, SecretBox(settings)), delivery.message_id, now, body)
        url, message_id = endpoint.url, delivery.message_id
        await commit_before_outbound_call(session)
        result = await outbound.post(
            deps.http,
            url,
            body,
            headers,
            attempt_seconds=settings.webhook_timeout_seconds,
            development=settings.development,
            allow_private=settings.webhook_allow_private_targets,
            now=now,
        )
        done = job.now()
        repository.add_attempt(delivery, result, at=now)
        delivery.attempts += 1
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error
        if result.delivered:
            delivery.state, delivery.delivered_at, delivery.next_attempt_at = DELIVERED, done, None
            await wake_next(session, delivery, now=done)
            return None
        if result.gone:
            endpoint.enabled = False
            endpoint.disabled_reason = "the receiver answered 410 Gone"
            endpoint.updated_at = done
            log.warning("webhook endpoint disabled after 410", extra={"endpoint_id": str(endpoint.id)})
        delay = (
            None if result.gone or result.refused else retry_delay(delivery.attempts, settings.webhook_retry_schedule)
        )
        if delay is None:
            delivery.state, delivery.next_attempt_at = FAILED, None
            await wake_next(session, delivery, now=done)
            log.info("webhook delivery failed", extra={"delivery_id": delivery.id, "message_id": message_id})
            return None
        if result.retry_after is not None:
            delay = max(result.retry_after, timedelta(0))
        delivery.next_attempt_at = done + delay
        return Reschedule(after=delay)

    return deliver
