"""Figures read from the database at scrape time: the same in every process, however many run.

Jobs by kind and state, the age of the oldest due job, how long ago a worker last touched a
job, webhook and Subscription deliveries by state, webhook attempts by outcome, the end-to-end
delay of delivered notifications (a histogram summed in SQL), and authorizations overdue or
expiring soon per payer. The statements are `app.metrics.queries`; this shapes their rows into
metric families.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession

from app.metrics import queries
from app.metrics.queries import DELAY_BUCKETS
from app.store.models import SubscriptionNotification, WebhookDelivery


def _gauge(name: str, documentation: str, labels: Sequence[str], rows: Iterable[Sequence[Any]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for *values, number in rows:
        family.add_metric([str(v) for v in values], float(number or 0))
    return family


async def _jobs(session: AsyncSession, now: datetime) -> list[Metric]:
    counts = await queries.jobs_by_kind_and_state(session)
    oldest = await queries.oldest_due_by_kind(session, now)
    return [
        _gauge("epa_jobs", "Jobs by kind and state (queued, running, dead).", ["kind", "state"], counts),
        _gauge(
            "epa_jobs_oldest_queued_age_seconds",
            "How long the oldest due, unclaimed job of each kind has waited.",
            ["kind"],
            [(kind, max((now - first).total_seconds(), 0.0)) for kind, first in oldest],
        ),
    ]


async def _worker(session: AsyncSession, now: datetime) -> list[Metric]:
    last = await queries.last_worker_activity(session)
    family = GaugeMetricFamily(
        "epa_worker_last_activity_age_seconds",
        "Seconds since a worker was last seen alive: its heartbeat (every <= 15 s, idle too) or a job it ran.",
    )
    if last is not None:
        family.add_metric([], max((now - last).total_seconds(), 0.0))
    return [family]


async def _deliveries(session: AsyncSession) -> list[Metric]:
    webhook = await queries.webhook_deliveries_by_state(session)
    subscription = await queries.subscription_notifications_by_state(session)
    attempts = await queries.webhook_attempts_by_outcome(session)
    return [
        _gauge(
            "epa_webhook_deliveries",
            "Webhook deliveries by state (pending, delivered, failed, skipped).",
            ["state"],
            webhook,
        ),
        _gauge(
            "epa_subscription_notifications",
            "FHIR Subscription notifications by state (pending, delivered, failed, skipped).",
            ["state"],
            subscription,
        ),
        _gauge(
            "epa_webhook_attempts",
            "Webhook HTTP attempts by outcome (2xx, 3xx, 4xx, 5xx, transport-error).",
            ["outcome"],
            attempts,
        ),
    ]


async def _delay_histogram(session: AsyncSession, channel: str, model: Any, family: HistogramMetricFamily) -> None:
    total, seconds, *cumulative = await queries.delivery_delays(session, model)
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
    overdue = await queries.overdue_by_payer(session, now)
    expiring = await queries.expiring_by_payer(session, now)
    return [
        _gauge(
            "epa_authorizations_overdue",
            "Open requests (received, pended) past their decision due time, by payer.",
            ["payer"],
            overdue,
        ),
        _gauge(
            "epa_authorizations_expiring_soon",
            "Approvals whose validity ends within 14 days, by payer.",
            ["payer"],
            expiring,
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
