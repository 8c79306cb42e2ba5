"""Figures read from the database at scrape time: the same in every process, however many run.

Jobs by kind and state, the age of the oldest due job, how long ago a worker last touched a
job, webhook and Subscription deliveries by state, webhook attempts by outcome, the end-to-end
delay of delivered notifications (a histogram summed in SQL), and authorizations overdue or
expiring soon per payer. Each is one aggregate statement over indexed or pruned tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import and_, case, func, literal, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.repository import JobState
from app.operations import OPEN_STATUSES
from app.store.durations import seconds_between
from app.store.models import Authorization, Job, SubscriptionNotification, WebhookAttempt, WebhookDelivery

DELAY_BUCKETS = (0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0, 86400.0)
EXPIRING_LEAD = timedelta(days=14)  # as the clock jobs' "expiring" event
APPROVED_STATUSES = ("approved", "partially-approved", "modified")
VISIBLE_JOB_STATES = (JobState.QUEUED.value, JobState.RUNNING.value, JobState.DEAD.value)


def _gauge(name: str, documentation: str, labels: Sequence[str], rows: Iterable[Sequence[Any]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for *values, number in rows:
        family.add_metric([str(v) for v in values], float(number or 0))
    return family


async def _jobs(session: AsyncSession, now: datetime) -> list[Metric]:
    counts = await session.execute(
        select(Job.kind, Job.state, func.count())
        .where(Job.state.in_(VISIBLE_JOB_STATES))
        .group_by(Job.kind, Job.state)
        .order_by(Job.kind, Job.state)
    )
    oldest = await session.execute(
        select(Job.kind, func.min(Job.run_at))
        .where(Job.state == JobState.QUEUED.value, Job.run_at <= now)
        .group_by(Job.kind)
        .order_by(Job.kind)
    )
    return [
        _gauge("epa_jobs", "Jobs by kind and state (queued, running, dead).", ["kind", "state"], counts.all()),
        _gauge(
            "epa_jobs_oldest_queued_age_seconds",
            "How long the oldest due, unclaimed job of each kind has waited.",
            ["kind"],
            [(kind, max((now - first).total_seconds(), 0.0)) for kind, first in oldest.all()],
        ),
    ]


async def last_worker_activity(session: AsyncSession) -> datetime | None:
    """When a worker last claimed, heartbeat, finished or failed a job (a job only enqueued is not counted)."""
    fresh = and_(Job.state == JobState.QUEUED.value, Job.updated_at == Job.created_at)
    result: datetime | None = await session.scalar(select(func.max(Job.updated_at)).where(not_(fresh)))
    return result


async def oldest_due_job(session: AsyncSession, now: datetime) -> datetime | None:
    """The run_at of the oldest queued job that is due (the head of the queue)."""
    result: datetime | None = await session.scalar(
        select(func.min(Job.run_at)).where(Job.state == JobState.QUEUED.value, Job.run_at <= now)
    )
    return result


async def _worker(session: AsyncSession, now: datetime) -> list[Metric]:
    last = await last_worker_activity(session)
    family = GaugeMetricFamily(
        "epa_worker_last_activity_age_seconds",
        "Seconds since a worker last claimed, heartbeat or finished a job (absent before any job ran).",
    )
    if last is not None:
        family.add_metric([], max((now - last).total_seconds(), 0.0))
    return [family]


def _attempt_outcome() -> Any:
    code = WebhookAttempt.status_code
    return case(
        (code.is_(None), literal("transport-error")),
        (code < 300, literal("2xx")),
        (code < 400, literal("3xx")),
        (code < 500, literal("4xx")),
        else_=literal("5xx"),
    )


async def _deliveries(session: AsyncSession) -> list[Metric]:
    webhook = await session.execute(
        select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state).order_by(WebhookDelivery.state)
    )
    subscription = await session.execute(
        select(SubscriptionNotification.state, func.count())
        .group_by(SubscriptionNotification.state)
        .order_by(SubscriptionNotification.state)
    )
    outcome = _attempt_outcome().label("outcome")
    attempts = await session.execute(select(outcome, func.count()).group_by(outcome).order_by(outcome))
    return [
        _gauge(
            "epa_webhook_deliveries",
            "Webhook deliveries by state (pending, delivered, failed, skipped).",
            ["state"],
            webhook.all(),
        ),
        _gauge(
            "epa_subscription_notifications",
            "FHIR Subscription notifications by state (pending, delivered, failed, skipped).",
            ["state"],
            subscription.all(),
        ),
        _gauge(
            "epa_webhook_attempts",
            "Webhook HTTP attempts by outcome (2xx, 3xx, 4xx, 5xx, transport-error).",
            ["outcome"],
            attempts.all(),
        ),
    ]


async def _delay_histogram(session: AsyncSession, channel: str, model: Any, family: HistogramMetricFamily) -> None:
    dialect = session.get_bind().dialect.name
    delay = seconds_between(model.delivered_at, model.occurred_at, dialect)
    columns = [func.sum(case((delay <= bound, 1), else_=0)) for bound in DELAY_BUCKETS]
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(delay), 0.0), *columns).where(
                model.state == "delivered", model.delivered_at.is_not(None)
            )
        )
    ).one()
    total, seconds, *cumulative = row
    buckets = [(str(bound), float(n or 0)) for bound, n in zip(DELAY_BUCKETS, cumulative, strict=True)]
    family.add_metric([channel], [*buckets, ("+Inf", float(total or 0))], float(seconds or 0.0))


async def _delays(session: AsyncSession) -> list[Metric]:
    family = HistogramMetricFamily(
        "epa_notification_delivery_delay_seconds",
        "From the event to its successful delivery, by channel (webhook, subscription).",
        labels=["channel"],
    )
    await _delay_histogram(session, "webhook", WebhookDelivery, family)
    await _delay_histogram(session, "subscription", SubscriptionNotification, family)
    return [family]


async def _clocks(session: AsyncSession, now: datetime) -> list[Metric]:
    a = Authorization
    current = a.replaced_by_id.is_(None)
    overdue = await session.execute(
        select(a.payer_id, func.count())
        .where(current, a.status.in_(OPEN_STATUSES), a.due_at <= now)
        .group_by(a.payer_id)
        .order_by(a.payer_id)
    )
    expiring = await session.execute(
        select(a.payer_id, func.count())
        .where(
            current,
            a.status.in_(APPROVED_STATUSES),
            a.expires_at > now,
            a.expires_at <= now + EXPIRING_LEAD,
        )
        .group_by(a.payer_id)
        .order_by(a.payer_id)
    )
    return [
        _gauge(
            "epa_authorizations_overdue",
            "Open requests (received, pended) past their decision due time, by payer.",
            ["payer"],
            overdue.all(),
        ),
        _gauge(
            "epa_authorizations_expiring_soon",
            "Approvals whose validity ends within 14 days, by payer.",
            ["payer"],
            expiring.all(),
        ),
    ]


async def read_figures(session: AsyncSession, now: datetime) -> list[Metric]:
    """Every database-derived family, read in one (read-only) session."""
    return [
        *await _jobs(session, now),
        *await _worker(session, now),
        *await _deliveries(session),
        *await _delays(session),
        *await _clocks(session, now),
    ]


class Snapshot(Collector):
    """Hands prometheus_client families read beforehand (its collectors are synchronous)."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return iter(self.families)
