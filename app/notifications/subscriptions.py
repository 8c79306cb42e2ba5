"""FHIR Subscriptions: the rows behind `/fhir/Subscription`, which events they match, their notifications.

A new (or replaced) Subscription starts `requested` and gets a handshake notification, sent at
once by the API process after its commit (the worker is the fallback); the `subscription.notify`
job makes it `active` when the handshake is delivered. Events reach the client's `requested`,
`active` (and `error`, which keep trying) Subscriptions whose org filter matches the
authorization's provider identifier: those of a `requested` one wait, queued in order, until
its handshake is delivered, and then go out. Reads are scoped to the client (`client_id=None`: admin).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.fhir.subscription import PAS_TOPIC, SubscriptionRequest
from app.jobs import repository as jobs
from app.notifications.events import SUBSCRIPTION_HEARTBEAT, SUBSCRIPTION_NOTIFY
from app.notifications.ordering import PENDING
from app.notifications.targets import check_url
from app.settings import Settings
from app.store.models import Authorization, FhirSubscription, SubscriptionNotification

REQUESTED, ACTIVE, ERROR, OFF = "requested", "active", "error", "off"
HANDSHAKE, HEARTBEAT, EVENT = "handshake", "heartbeat", "event-notification"


def org_matches(org_filter: str | None, provider_identifier: str | None) -> bool:
    """`system|value` matches exactly; a bare `value` matches that value in any system."""
    if org_filter is None:
        return True
    if provider_identifier is None:
        return False
    if "|" in org_filter:
        return org_filter == provider_identifier
    return provider_identifier.rpartition("|")[2] == org_filter


async def add_notification(
    session: AsyncSession,
    subscription: FhirSubscription,
    *,
    kind: str,
    now: datetime,
    event_number: int | None = None,
    event_type: str | None = None,
    authorization_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
    event_seq: int | None = None,
) -> SubscriptionNotification:
    """A pending notification and its `subscription.notify` job, in the caller's transaction."""
    notification = SubscriptionNotification(
        subscription_id=subscription.id,
        client_id=subscription.client_id,
        kind=kind,
        event_number=event_number,
        event_type=event_type,
        authorization_id=authorization_id,
        event_seq=event_seq,
        occurred_at=occurred_at or now,
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(notification)
    await session.flush()
    job = jobs.enqueue(
        session,
        SUBSCRIPTION_NOTIFY,
        {"notification_id": notification.id},
        now=now,
        client_id=subscription.client_id,
        authorization_id=authorization_id,
    )
    await session.flush()
    notification.job_id = job.id
    return notification


async def add_event_notification(
    session: AsyncSession,
    subscription: FhirSubscription,
    authorization: Authorization,
    *,
    event_type: str,
    occurred_at: datetime,
    event_seq: int,
    now: datetime,
) -> SubscriptionNotification:
    """The event's notification; it is numbered when first sent (`number_event`), so numbers follow event order."""
    return await add_notification(
        session,
        subscription,
        kind=EVENT,
        now=now,
        event_type=event_type,
        authorization_id=authorization.id,
        occurred_at=occurred_at,
        event_seq=event_seq,
    )


async def number_event(session: AsyncSession, subscription_id: uuid.UUID) -> int:
    """The Subscription's next event number (atomic: concurrent senders never share a number)."""
    number = (
        await session.execute(
            update(FhirSubscription)
            .where(FhirSubscription.id == subscription_id)
            .values(events_since_start=FhirSubscription.events_since_start + 1)
            .returning(FhirSubscription.events_since_start)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    return int(number)


async def matching_subscriptions(session: AsyncSession, authorization: Authorization) -> list[FhirSubscription]:
    """The client's live Subscriptions whose org filter matches the authorization."""
    rows = await session.scalars(
        select(FhirSubscription)
        .where(
            FhirSubscription.client_id == authorization.client_id,
            FhirSubscription.status.in_((REQUESTED, ACTIVE, ERROR)),
        )
        .order_by(FhirSubscription.id)
    )
    return [s for s in rows.all() if org_matches(s.org_identifier, authorization.provider_identifier)]


def schedule_heartbeat(session: AsyncSession, subscription: FhirSubscription, *, now: datetime) -> None:
    if subscription.heartbeat_seconds:
        jobs.enqueue(
            session,
            SUBSCRIPTION_HEARTBEAT,
            {"subscription_id": str(subscription.id), "version": subscription.version},
            now=now,
            run_at=now + timedelta(seconds=subscription.heartbeat_seconds),
            client_id=subscription.client_id,
        )


class FhirSubscriptions:
    """The Subscriptions a caller may see and change."""

    def __init__(self, session: AsyncSession, client_id: str | None, settings: Settings) -> None:
        self.session = session
        self.client_id = client_id
        self.settings = settings
        self.handshake_job_id: int | None = None

    def _apply(self, subscription: FhirSubscription, request: SubscriptionRequest, now: datetime) -> None:
        subscription.endpoint = check_url(
            request.endpoint,
            development=self.settings.development,
            allow_private=self.settings.webhook_allow_private_targets,
        )
        subscription.topic = PAS_TOPIC
        subscription.org_identifier = request.org_identifier
        subscription.content = request.content
        subscription.content_type = "application/fhir+json"
        subscription.headers = request.headers
        subscription.heartbeat_seconds = request.heartbeat_seconds
        subscription.end_at = request.end
        subscription.reason = str(request.resource.get("reason") or "") or None
        subscription.resource = request.resource
        subscription.status, subscription.error = REQUESTED, None
        subscription.updated_at = now

    async def create(self, request: SubscriptionRequest, *, client_id: str, now: datetime) -> FhirSubscription:
        """A `requested` Subscription and its handshake notification (`handshake_job_id` names its job)."""
        subscription = FhirSubscription(id=uuid.uuid4(), client_id=client_id, events_since_start=0, version=1)
        subscription.created_at = now
        self._apply(subscription, request, now)
        self.session.add(subscription)
        await self.session.flush()
        handshake = await add_notification(self.session, subscription, kind=HANDSHAKE, now=now)
        self.handshake_job_id = handshake.job_id
        return subscription

    async def owned(self, *, limit: int, offset: int = 0) -> tuple[list[FhirSubscription], int]:
        """The caller's Subscriptions (oldest first) and how many there are."""
        scope = [FhirSubscription.client_id == self.client_id] if self.client_id is not None else []
        total = await self.session.scalar(select(func.count()).select_from(FhirSubscription).where(*scope))
        rows = await self.session.scalars(
            select(FhirSubscription)
            .where(*scope)
            .order_by(FhirSubscription.created_at, FhirSubscription.id)
            .offset(offset)
            .limit(limit)
        )
        return list(rows.all()), int(total or 0)

    async def get(self, subscription_id: uuid.UUID, *, for_update: bool = False) -> FhirSubscription:
        subscription = await self.session.get(FhirSubscription, subscription_id, with_for_update=for_update)
        if subscription is None or (self.client_id is not None and subscription.client_id != self.client_id):
            raise NotFound(f"Subscription/{subscription_id} not found")
        return subscription

    async def replace(
        self, subscription_id: uuid.UUID, request: SubscriptionRequest, *, now: datetime
    ) -> FhirSubscription:
        """PUT: new settings, back to `requested`, a new handshake (events-since-start is kept)."""
        subscription = await self.get(subscription_id, for_update=True)
        self._apply(subscription, request, now)
        subscription.version += 1
        await self.session.flush()
        handshake = await add_notification(self.session, subscription, kind=HANDSHAKE, now=now)
        self.handshake_job_id = handshake.job_id
        return subscription

    async def delete(self, subscription_id: uuid.UUID) -> None:
        await self.session.delete(await self.get(subscription_id))
        await self.session.flush()
