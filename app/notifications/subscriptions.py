"""FHIR Subscriptions: the rows behind `/fhir/Subscription`, which events they match, their notifications.

A new (or replaced) Subscription starts `requested` and gets a handshake notification, sent at
once by the API process after its commit (the worker is the fallback); the `subscription.notify`
job makes it `active` when the handshake is delivered. Events reach the client's `requested`,
`active` (and `error`, which keep trying) Subscriptions whose org filter matches the
authorization's provider identifier: those of a `requested` one wait, queued in order, until
its handshake is delivered, and then go out. Reads are scoped to the client (`client_id=None`: admin).
Answers are views; the statements are `SubscriptionRepository`'s, and nothing here commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.fhir.subscription import PAS_TOPIC, SubscriptionRequest, masked_headers
from app.notifications.repository.subscriptions import SubscriptionRepository
from app.notifications.secret_box import SecretBox, seal_headers
from app.notifications.states import EVENT, HANDSHAKE, PENDING, REQUESTED
from app.notifications.targets import check_url
from app.notifications.views import SubscriptionView
from app.settings import Settings
from app.store.models import FhirSubscription, SubscriptionNotification


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
    repository: SubscriptionRepository,
    subscription: FhirSubscription,
    *,
    kind: str,
    now: datetime,
    event_type: str | None = None,
    authorization_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
    event_seq: int | None = None,
) -> SubscriptionNotification:
    """A pending notification and its `subscription.notify` job, in the caller's transaction. An event's is
    numbered when first sent (`SubscriptionRepository.number_event`), so numbers follow event order."""
    notification = SubscriptionNotification(
        subscription_id=subscription.id,
        client_id=subscription.client_id,
        kind=kind,
        event_number=None,
        event_type=event_type,
        authorization_id=authorization_id,
        event_seq=event_seq,
        occurred_at=occurred_at or now,
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    await repository.add_notification(notification, now=now)
    return notification


async def matching_subscriptions(session: AsyncSession, authorization_id: uuid.UUID) -> list[FhirSubscription]:
    """The live Subscriptions of the client that owns the authorization whose org filter matches its provider
    (none when the authorization is gone): an event's audience, in one statement."""
    live = await SubscriptionRepository(session, None).live_for(authorization_id)
    return [s for s, provider in live if org_matches(s.org_identifier, provider)]


async def add_event_notification(
    session: AsyncSession,
    subscription: FhirSubscription,
    authorization_id: uuid.UUID,
    *,
    event_type: str,
    occurred_at: datetime,
    event_seq: int,
    now: datetime,
) -> SubscriptionNotification:
    """The event's notification for one Subscription (a fan-out writes one per matching Subscription)."""
    return await add_notification(
        SubscriptionRepository(session, subscription.client_id),
        subscription,
        kind=EVENT,
        now=now,
        event_type=event_type,
        authorization_id=authorization_id,
        occurred_at=occurred_at,
        event_seq=event_seq,
    )


class FhirSubscriptions:
    """The Subscriptions a caller may see and change."""

    def __init__(self, session: AsyncSession, client_id: str | None, settings: Settings) -> None:
        self.repository = SubscriptionRepository(session, client_id)
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
        subscription.headers = seal_headers(SecretBox(self.settings), request.headers)
        subscription.heartbeat_seconds = request.heartbeat_seconds
        subscription.end_at = request.end
        subscription.reason = str(request.resource.get("reason") or "") or None
        subscription.resource = masked_headers(request.resource)
        subscription.status, subscription.error = REQUESTED, None
        subscription.updated_at = now

    async def _get(self, subscription_id: uuid.UUID, *, for_update: bool = False) -> FhirSubscription:
        subscription = await self.repository.get(subscription_id, for_update=for_update)
        if subscription is None:
            raise NotFound(f"Subscription/{subscription_id} not found")
        return subscription

    async def _handshake(self, subscription: FhirSubscription, now: datetime) -> None:
        handshake = await add_notification(self.repository, subscription, kind=HANDSHAKE, now=now)
        self.handshake_job_id = handshake.job_id

    async def create(self, request: SubscriptionRequest, *, client_id: str, now: datetime) -> SubscriptionView:
        """A `requested` Subscription and its handshake notification (`handshake_job_id` names its job)."""
        subscription = FhirSubscription(id=uuid.uuid4(), client_id=client_id, events_since_start=0, version=1)
        subscription.created_at = now
        self._apply(subscription, request, now)
        await self.repository.add(subscription)
        await self._handshake(subscription, now)
        return SubscriptionView.of(subscription)

    async def owned(self, *, limit: int, offset: int = 0) -> tuple[list[SubscriptionView], int]:
        """The caller's Subscriptions (oldest first) and how many there are."""
        rows, total = await self.repository.page(limit=limit, offset=offset)
        return [SubscriptionView.of(row) for row in rows], total

    async def get(self, subscription_id: uuid.UUID, *, for_update: bool = False) -> SubscriptionView:
        return SubscriptionView.of(await self._get(subscription_id, for_update=for_update))

    async def replace(
        self, subscription_id: uuid.UUID, request: SubscriptionRequest, *, now: datetime
    ) -> SubscriptionView:
        """PUT: new settings, back to `requested`, a new handshake (events-since-start is kept)."""
        subscription = await self._get(subscription_id, for_update=True)
        self._apply(subscription, request, now)
        subscription.version += 1
        await self.repository.flush()
        await self._handshake(subscription, now)
        return SubscriptionView.of(subscription)

    async def delete(self, subscription_id: uuid.UUID) -> None:
        await self.repository.delete(await self._get(subscription_id))


async def reencrypt_headers(session: AsyncSession, box: SecretBox) -> int:
    """Every Subscription's channel headers sealed with the newest key (plaintext ones from before
    encryption are sealed too, their stored resource masked); how many Subscriptions."""
    repository = SubscriptionRepository(session, None)
    subscriptions = await repository.with_headers_for_update()
    for subscription in subscriptions:
        subscription.headers = [box.seal(h) if ":" in h else box.reseal(h) for h in subscription.headers]
        subscription.resource = masked_headers(subscription.resource)
    await repository.flush()
    return len(subscriptions)
