"""The `subscription.notify` and `subscription.heartbeat` jobs.

`subscription.notify` POSTs one history Bundle (handshake, heartbeat or event-notification) to
the Subscription's endpoint with its custom headers. A delivered handshake makes the
Subscription `active` (and starts heartbeats if asked); `subscription_handshake_attempts` failed
handshakes make it `error`. Event notifications retry on the webhook schedule; one that is never
delivered makes the Subscription `error` (it keeps receiving events, and a later success makes it
`active` again). Notifications for one authorization go out in event order. Events of a
Subscription whose handshake is not delivered yet (`requested`) wait; the delivered handshake
wakes them, and they go out in order after it.

`send_now` runs one `subscription.notify` job in the calling process (the API, right after it
committed a new Subscription), leased like a worker would lease it, so the handshake does not
wait for the next poll; a worker that polls meanwhile skips the leased job.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import orjson

from app.fhir.notification import NotificationEvent, notification_bundle, subscription_status
from app.jobs import repository as jobs
from app.jobs.contract import Handler, JobContext, JobError, JobOutcome, Reschedule
from app.notifications import outbound, queries
from app.notifications.context import OutboundDeps
from app.notifications.events import SUBSCRIPTION_NOTIFY
from app.notifications.ordering import wait_for_earlier, wake_next
from app.notifications.schedule import retry_delay
from app.notifications.states import (
    ACTIVE,
    DELIVERED,
    ERROR,
    EVENT,
    FAILED,
    HANDSHAKE,
    HEARTBEAT,
    OFF,
    PENDING,
    REQUESTED,
    SKIPPED,
)
from app.notifications.subscription_repository import SubscriptionRepository, claim_notify_job
from app.notifications.subscriptions import add_notification
from app.store.database import commit_before_outbound_call
from app.store.models import FhirSubscription, SubscriptionNotification

log = logging.getLogger(__name__)


def _headers(subscription: FhirSubscription) -> dict[str, str]:
    headers = {"content-type": "application/fhir+json"}
    for header in subscription.headers:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    return headers


async def _body(
    deps: OutboundDeps, job: JobContext, subscription: FhirSubscription, row: SubscriptionNotification
) -> bytes:
    base_url = deps.settings.base_url
    subscription_url = f"{base_url}/fhir/Subscription/{subscription.id}"
    events: list[NotificationEvent] = []
    response: dict[str, Any] | None = None
    if row.kind == EVENT and row.authorization_id is not None and row.event_number is not None:
        events = [NotificationEvent(row.event_number, row.occurred_at, str(row.authorization_id))]
        if subscription.content == "full-resource":
            document = await queries.response_document(job.session, row.authorization_id)
            if document:
                response = orjson.loads(document)
    status = subscription_status(
        subscription_url=subscription_url,
        status=subscription.status,
        notification_type=row.kind,
        events_since_start=row.event_number if row.event_number is not None else subscription.events_since_start,
        events=events,
        base_url=base_url,
    )
    bundle = notification_bundle(
        status,
        subscription_url=subscription_url,
        timestamp=job.now(),
        content=subscription.content,
        base_url=base_url,
        events=events,
        response_bundle=response,
    )
    return orjson.dumps(bundle)


def subscription_notify_handler(deps: OutboundDeps) -> Handler:
    settings = deps.settings
    budget = timedelta(seconds=settings.webhook_timeout_seconds + 1)

    async def notify(job: JobContext) -> JobOutcome | None:
        notification_id = job.payload.get("notification_id")
        if not isinstance(notification_id, int):
            raise JobError("subscription.notify without a notification_id", permanent=True)
        session = job.session
        repository = SubscriptionRepository(session, job.client_id)
        found = await repository.notification_with_subscription(notification_id)  # in one statement
        if found is None or found[0].state != PENDING:
            return None
        row, subscription = found
        now = job.now()
        if subscription is None or subscription.status == OFF or (subscription.end_at and subscription.end_at <= now):
            if subscription is not None:
                subscription.status = OFF
            row.state = SKIPPED
            await wake_next(session, row, now=now)
            return None
        if row.kind != HANDSHAKE and subscription.status == REQUESTED:
            return Reschedule(after=budget)  # the delivered handshake wakes it; this only bounds a lost wake-up
        wait = await wait_for_earlier(session, row, now=now, attempt_budget=budget)
        if wait is not None:
            return Reschedule(after=wait)
        if row.kind == EVENT and row.event_number is None:  # numbered once, at the first try: in event order
            row.event_number = await repository.number_event(subscription.id)
        body = await _body(deps, job, subscription, row)
        url, headers = subscription.endpoint, _headers(subscription)
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
        row.attempts += 1
        row.last_status_code, row.last_error = result.status_code, result.error
        if result.delivered:
            row.state, row.delivered_at, row.next_attempt_at = DELIVERED, done, None
            if subscription.status in (REQUESTED, ERROR):
                if subscription.status == REQUESTED:
                    repository.schedule_heartbeat(subscription, now=done)
                    await repository.wake_waiting_events(subscription.id, now=done)
                subscription.status, subscription.error, subscription.updated_at = ACTIVE, None, done
            await wake_next(session, row, now=done)
            return None
        if row.kind == HANDSHAKE:
            spent = row.attempts >= settings.subscription_handshake_attempts
            delay = None if spent or result.gone else retry_delay(row.attempts, settings.webhook_retry_schedule)
        else:
            delay = (
                None if result.gone or result.refused else retry_delay(row.attempts, settings.webhook_retry_schedule)
            )
        if delay is None:
            row.state, row.next_attempt_at = FAILED, None
            subscription.status, subscription.updated_at = ERROR, done
            subscription.error = f"{row.kind} not delivered: {result.error}"
            await wake_next(session, row, now=done)
            log.info("subscription notification failed", extra={"subscription_id": str(subscription.id)})
            return None
        if result.retry_after is not None:
            delay = result.retry_after
        row.next_attempt_at = done + delay
        return Reschedule(after=delay)

    return notify


async def send_now(deps: OutboundDeps, job_id: int | None) -> None:
    """Run this queued `subscription.notify` job here and now (see the module docstring); never raises."""
    if job_id is None:
        return
    worker_id = f"api-{uuid.uuid4().hex[:16]}"
    lease = timedelta(seconds=2 * deps.settings.webhook_timeout_seconds + 5)
    try:
        async with deps.sessions() as session, session.begin():
            now = deps.clock()
            job = await claim_notify_job(session, job_id, worker_id=worker_id, now=now, lease=lease)
            claimed = (
                None if job is None else (job.id, dict(job.payload), job.attempts, job.max_attempts, job.client_id)
            )
        if claimed is None:
            return  # a worker has it already
        async with deps.sessions() as session:
            context = JobContext(
                job_id=claimed[0],
                kind=SUBSCRIPTION_NOTIFY,
                payload=claimed[1],
                attempt=claimed[2],
                max_attempts=claimed[3],
                client_id=claimed[4],
                authorization_id=None,
                session=session,
                clock=deps.clock,
            )
            outcome = await subscription_notify_handler(deps)(context)
            now = deps.clock()
            if outcome is None:
                kept = await jobs.complete(session, job_id, worker_id=worker_id, now=now)
            else:
                kept = await jobs.reschedule(session, job_id, worker_id=worker_id, now=now, run_at=now + outcome.after)
            await (session.commit() if kept else session.rollback())
    except Exception as exc:  # the worker takes it from here once the lease ends
        log.warning("immediate subscription notification failed", extra={"error_type": type(exc).__name__})


def subscription_heartbeat_handler(deps: OutboundDeps) -> Handler:
    async def heartbeat(job: JobContext) -> JobOutcome | None:
        try:
            subscription_id = uuid.UUID(str(job.payload.get("subscription_id")))
        except ValueError:
            raise JobError("subscription.heartbeat without a subscription_id", permanent=True) from None
        repository = SubscriptionRepository(job.session, job.client_id)
        subscription = await repository.get(subscription_id)
        if (
            subscription is None
            or subscription.version != job.payload.get("version")
            or not subscription.heartbeat_seconds
            or subscription.status != ACTIVE
        ):
            return None  # gone, replaced (the new version schedules its own), or not active
        await add_notification(repository, subscription, kind=HEARTBEAT, now=job.now())
        return Reschedule(after=timedelta(seconds=subscription.heartbeat_seconds))

    return heartbeat
