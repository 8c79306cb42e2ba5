"""SubscriptionRepository: every statement on FHIR Subscriptions and their notifications, and on the jobs
that send them (a notification's job, the heartbeat, the handshake's immediate claim, the wake-up of
events queued behind a handshake).

Scoped to one client (`client_id=None`: an admin, every client), as `WebhookRepository` is.
Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs import repository as jobs
from app.jobs.repository import JobState
from app.notifications.events import SUBSCRIPTION_HEARTBEAT, SUBSCRIPTION_NOTIFY
from app.notifications.states import EVENT, LIVE, PENDING
from app.store.models import Authorization, FhirSubscription, Job, SubscriptionNotification

_Statement = TypeVar("_Statement", bound=Select[*tuple[Any, ...]])


class SubscriptionRepository:
    def __init__(self, session: AsyncSession, client_id: str | None) -> None:
        self.session = session
        self.client_id = client_id

    def _scoped(self, statement: _Statement, column: Any) -> _Statement:
        return statement if self.client_id is None else statement.where(column == self.client_id)

    async def flush(self) -> None:
        await self.session.flush()

    # Subscriptions

    async def add(self, subscription: FhirSubscription) -> FhirSubscription:
        self.session.add(subscription)
        await self.session.flush()
        return subscription

    async def get(self, subscription_id: uuid.UUID, *, for_update: bool = False) -> FhirSubscription | None:
        subscription = await self.session.get(FhirSubscription, subscription_id, with_for_update=for_update)
        if subscription is None or (self.client_id is not None and subscription.client_id != self.client_id):
            return None
        return subscription

    async def page(self, *, limit: int, offset: int = 0) -> tuple[list[FhirSubscription], int]:
        """The Subscriptions in scope (oldest first) and how many there are."""
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

    async def live(self) -> list[FhirSubscription]:
        """The Subscriptions in scope that still receive events (requested, active, error), in id order."""
        statement = self._scoped(select(FhirSubscription), FhirSubscription.client_id)
        statement = statement.where(FhirSubscription.status.in_(LIVE)).order_by(FhirSubscription.id)
        return list((await self.session.scalars(statement)).all())

    async def live_for(self, authorization_id: uuid.UUID) -> list[tuple[FhirSubscription, str | None]]:
        """`live` for the client that owns the authorization, each with the authorization's provider
        identifier (their org filters match it), in one statement; none when the authorization is gone."""
        statement = (
            select(FhirSubscription, Authorization.provider_identifier)
            .join(Authorization, Authorization.client_id == FhirSubscription.client_id)
            .where(Authorization.id == authorization_id, FhirSubscription.status.in_(LIVE))
            .order_by(FhirSubscription.id)
        )
        rows = await self.session.execute(self._scoped(statement, FhirSubscription.client_id))
        return [(subscription, provider) for subscription, provider in rows.all()]

    async def with_headers_for_update(self) -> list[FhirSubscription]:
        """The Subscriptions in scope, locked, for re-encrypting their channel headers after a key rotation."""
        statement = self._scoped(select(FhirSubscription), FhirSubscription.client_id)
        return list((await self.session.scalars(statement.order_by(FhirSubscription.id).with_for_update())).all())

    async def delete(self, subscription: FhirSubscription) -> None:
        """The Subscription and (by cascade) its notifications."""
        await self.session.delete(subscription)
        await self.session.flush()

    async def number_event(self, subscription_id: uuid.UUID) -> int:
        """The Subscription's next event number (atomic: concurrent senders never share a number)."""
        number = (
            await self.session.execute(
                update(FhirSubscription)
                .where(FhirSubscription.id == subscription_id)
                .values(events_since_start=FhirSubscription.events_since_start + 1)
                .returning(FhirSubscription.events_since_start)
                .execution_options(synchronize_session=False)
            )
        ).scalar_one()
        return int(number)

    def schedule_heartbeat(self, subscription: FhirSubscription, *, now: datetime) -> None:
        """The Subscription's next heartbeat job, when it asked for heartbeats."""
        if subscription.heartbeat_seconds:
            jobs.enqueue(
                self.session,
                SUBSCRIPTION_HEARTBEAT,
                {"subscription_id": str(subscription.id), "version": subscription.version},
                now=now,
                run_at=now + timedelta(seconds=subscription.heartbeat_seconds),
                client_id=subscription.client_id,
            )

    # Notifications

    async def add_notification(self, notification: SubscriptionNotification, *, now: datetime) -> None:
        """A pending notification and its `subscription.notify` job (named by its `job_id`)."""
        self.session.add(notification)
        await self.session.flush()
        job = jobs.enqueue(
            self.session,
            SUBSCRIPTION_NOTIFY,
            {"notification_id": notification.id},
            now=now,
            client_id=notification.client_id,
            authorization_id=notification.authorization_id,
        )
        await self.session.flush()
        notification.job_id = job.id

    async def notification_with_subscription(
        self, notification_id: int
    ) -> tuple[SubscriptionNotification, FhirSubscription | None] | None:
        """The notification and its Subscription in one statement: the notify job's look-up."""
        statement = (
            select(SubscriptionNotification, FhirSubscription)
            .outerjoin(FhirSubscription, FhirSubscription.id == SubscriptionNotification.subscription_id)
            .where(SubscriptionNotification.id == notification_id)
        )
        found = (await self.session.execute(self._scoped(statement, SubscriptionNotification.client_id))).one_or_none()
        return None if found is None else (found[0], found[1])

    async def wake_waiting_events(self, subscription_id: uuid.UUID, *, now: datetime) -> None:
        """Run now the jobs of the event notifications queued behind the Subscription's handshake."""
        waiting = select(SubscriptionNotification.job_id).where(
            SubscriptionNotification.subscription_id == subscription_id,
            SubscriptionNotification.state == PENDING,
            SubscriptionNotification.kind == EVENT,
        )
        await self.session.execute(
            update(Job)
            .where(Job.id.in_(waiting.scalar_subquery()), Job.state == JobState.QUEUED.value, Job.run_at > now)
            .values(run_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )


async def claim_notify_job(
    session: AsyncSession, job_id: int, *, worker_id: str, now: datetime, lease: timedelta
) -> Job | None:
    """Lease this queued `subscription.notify` job as a worker would; None when a worker has it already."""
    return (
        await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.QUEUED.value, Job.kind == SUBSCRIPTION_NOTIFY)
            .values(
                state=JobState.RUNNING.value,
                attempts=Job.attempts + 1,
                lease_until=now + lease,
                locked_by=worker_id,
                updated_at=now,
            )
            .returning(Job)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
