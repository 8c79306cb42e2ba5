"""The `subscription.notify` and `subscription.heartbeat` jobs.

`subscription.notify` is the Subscription channel of the delivery skeleton (`app.notifications.delivery`):
it POSTs one history Bundle (handshake, heartbeat or event-notification) to the Subscription's
endpoint with its custom headers, unsigned (receivers authenticate the hub by those headers, e.g.
a bearer token they issued). A delivered handshake makes the
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
from datetime import datetime, timedelta
from typing import Any

import orjson

from app.fhir.notification import NotificationEvent, notification_bundle, subscription_status
from app.jobs.contract import Completed, Handler, JobContext, JobError, JobOutcome, Reschedule
from app.jobs.outcomes import write_outcome
from app.notifications import queries
from app.notifications.context import OutboundDeps
from app.notifications.delivery import Message, delivery_handler
from app.notifications.events import SUBSCRIPTION_NOTIFY
from app.notifications.ordering import Behind, wake_next
from app.notifications.outbound import AttemptResult
from app.notifications.repository.subscriptions import SubscriptionRepository, claim_notify_job
from app.notifications.secret_box import SecretBox, open_headers
from app.notifications.states import ACTIVE, ERROR, EVENT, HANDSHAKE, HEARTBEAT, OFF, REQUESTED
from app.notifications.subscriptions import add_notification
from app.settings import Settings
from app.store.models import FhirSubscription, SubscriptionNotification

log = logging.getLogger(__name__)


def _headers(settings: Settings, subscription: FhirSubscription) -> dict[str, str]:
    headers = {"content-type": "application/fhir+json"}
    for header in open_headers(SecretBox(settings), subscription.headers):  # sealed at rest
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    return headers


async def _body(
    settings: Settings, job: JobContext, subscription: FhirSubscription, row: SubscriptionNotification
) -> bytes:
    base_url = settings.base_url
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


class SubscriptionChannel:
    kind = SUBSCRIPTION_NOTIFY
    id_key = "notification_id"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def load(
        self, job: JobContext, row_id: int
    ) -> tuple[SubscriptionNotification, FhirSubscription | None, Behind | None] | None:
        found = await SubscriptionRepository(job.session, job.client_id).notification_with_subscription(row_id)
        return None if found is None else (found[0], found[1], None)

    def accepts(self, target: FhirSubscription, now: datetime) -> bool:
        return target.status != OFF and not (target.end_at and target.end_at <= now)

    def skipped(self, row: SubscriptionNotification, target: FhirSubscription | None) -> None:
        if target is not None:
            target.status = OFF

    def held(self, row: SubscriptionNotification, target: FhirSubscription) -> bool:
        return row.kind != HANDSHAKE and target.status == REQUESTED  # the delivered handshake wakes it

    async def message(
        self, job: JobContext, row: SubscriptionNotification, target: FhirSubscription, now: datetime
    ) -> Message:
        if row.kind == EVENT and row.event_number is None:  # numbered once, at the first try: in event order
            row.event_number = await SubscriptionRepository(job.session, job.client_id).number_event(target.id)
        return Message(target.endpoint, await _body(self.settings, job, target, row), _headers(self.settings, target))

    def attempted(
        self, job: JobContext, row: SubscriptionNotification, result: AttemptResult, *, started: datetime
    ) -> None:
        return None

    async def record(
        self,
        job: JobContext,
        row: SubscriptionNotification,
        result: AttemptResult,
        *,
        started: datetime,
        at: datetime,
        settled: bool,
    ) -> Completed | None:
        # A notification keeps its last answer only (set on the row, flushed at commit); the worker completes.
        if settled:
            await wake_next(job.session, row, now=at)
        return None

    async def delivered(
        self, job: JobContext, row: SubscriptionNotification, target: FhirSubscription, *, at: datetime
    ) -> None:
        if target.status in (REQUESTED, ERROR):
            if target.status == REQUESTED:
                repository = SubscriptionRepository(job.session, job.client_id)
                repository.schedule_heartbeat(target, now=at)
                await repository.wake_waiting_events(target.id, now=at)
            target.status, target.error, target.updated_at = ACTIVE, None, at

    def gives_up(self, row: SubscriptionNotification, result: AttemptResult) -> bool:
        if row.kind == HANDSHAKE:
            return row.attempts >= self.settings.subscription_handshake_attempts or result.gone
        return result.gone or result.refused

    def failed(
        self, row: SubscriptionNotification, target: FhirSubscription, result: AttemptResult, *, at: datetime
    ) -> None:
        target.status, target.updated_at = ERROR, at
        target.error = f"{row.kind} not delivered: {result.error}"
        log.warning(
            "subscription notification failed", extra={"subscription_id": str(target.id), "error": result.error}
        )


def subscription_notify_handler(deps: OutboundDeps) -> Handler:
    return delivery_handler(deps, SubscriptionChannel(deps.settings))


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
            kept = await write_outcome(session, job_id, outcome, worker_id=worker_id, now=deps.clock())
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
