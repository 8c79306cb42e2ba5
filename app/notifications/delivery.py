"""One delivery skeleton for both channels: a webhook delivery and a FHIR Subscription notification.

A delivery job loads its row and target, skips the row if the target takes no more deliveries,
waits behind an earlier pending sibling (`ordering`), then sends ONE attempt and settles:
delivered, retried later (the schedule, `webhook_retry_schedule` jittered, or the receiver's
`Retry-After` on 429/503) or failed; a settled row wakes the next sibling's job at once.

Why a commit in the middle of a job: the transaction that claimed and read the row ends
(`commit_before_outbound_call`) before the POST, so no lock or pooled connection is held while
a receiver answers, within `webhook_timeout_seconds`. What the attempt gave (its outcome, and the
job's completion or reschedule) is written in the job's second transaction. A worker that dies
between the POST and that commit leaves the job's lease to expire; the next worker sends the same
row again (same `webhook-id`): delivery is at least once, and receivers deduplicate.

What differs per channel is a `Channel` (webhooks: `webhook_jobs`, Subscriptions:
`subscription_jobs`): how to load the row and its target, when a target refuses or holds
deliveries, the message (body, headers, signature), what a delivered or failed attempt means for
the target, and how the outcome is written (`record`: the row, the attempt log, the next sibling's
wake-up; the webhook channel writes the job's completion in the same statement, the worker's one
statement fewer per delivery).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from app.jobs.contract import Completed, Handler, JobContext, JobError, JobOutcome, Reschedule
from app.notifications import outbound
from app.notifications.context import OutboundDeps
from app.notifications.ordering import Behind, wait_for_earlier, wake_next
from app.notifications.outbound import AttemptResult
from app.notifications.schedule import retry_delay
from app.notifications.states import DELIVERED, FAILED, PENDING, SKIPPED
from app.store.database import commit_before_outbound_call
from app.store.models import SubscriptionNotification, WebhookDelivery

RowT = TypeVar("RowT", WebhookDelivery, SubscriptionNotification)
TargetT = TypeVar("TargetT")


@dataclass(frozen=True, slots=True)
class Message:
    """One attempt's request: where, what, with which headers (signature included)."""

    url: str
    body: bytes
    headers: Mapping[str, str]


class Channel(Protocol[RowT, TargetT]):
    """What one channel does differently; the skeleton does the rest."""

    @property
    def kind(self) -> str:
        """The job kind (`webhook.deliver`)."""

    @property
    def id_key(self) -> str:
        """The payload key naming the row (`delivery_id`)."""

    async def load(self, job: JobContext, row_id: int) -> tuple[RowT, TargetT | None, Behind | None] | None:
        """The row, its target (None once deleted) and, when the same statement can tell, whether the row
        is behind (`ordering.behind`; None: ask); or None when the row is gone."""

    def accepts(self, target: TargetT, now: datetime) -> bool:
        """Whether the target still takes deliveries (else the row is skipped)."""

    def skipped(self, row: RowT, target: TargetT | None) -> None:
        """Mark why the row was skipped (on the row or the target)."""

    def held(self, row: RowT, target: TargetT) -> bool:
        """Whether the row waits for its target (a Subscription's handshake) before it may go."""

    async def message(self, job: JobContext, row: RowT, target: TargetT, now: datetime) -> Message:
        """The request to send (written before the commit that precedes it)."""

    def attempted(self, job: JobContext, row: RowT, result: AttemptResult, *, started: datetime) -> None:
        """Told of the attempt before the row's counters move (e.g. to log a failed one)."""

    async def record(
        self, job: JobContext, row: RowT, result: AttemptResult, *, started: datetime, at: datetime, settled: bool
    ) -> Completed | None:
        """Write what the attempt gave: the row's new values (set on it), the attempt log if the channel keeps
        one and, when the row `settled` (delivered, or failed for good), the wake-up of the next sibling's job
        (`ordering.wake_next`). A channel that writes the job's completion with them (`job.completion`)
        answers `Completed`; None leaves the job's end to the worker."""

    async def delivered(self, job: JobContext, row: RowT, target: TargetT, *, at: datetime) -> None:
        """What a delivered row means for its target."""

    def gives_up(self, row: RowT, result: AttemptResult) -> bool:
        """Whether this failed attempt is the last (no retry, whatever the schedule says)."""

    def failed(self, row: RowT, target: TargetT, result: AttemptResult, *, at: datetime) -> None:
        """What a failed row (retries spent or given up) means for its target; logs it."""


def delivery_handler(deps: OutboundDeps, channel: Channel[RowT, TargetT]) -> Handler:
    """The job handler sending one row of `channel`."""
    settings = deps.settings
    budget = timedelta(seconds=settings.webhook_timeout_seconds + 1)

    async def deliver(job: JobContext) -> JobOutcome | None:
        row_id = job.payload.get(channel.id_key)
        if not isinstance(row_id, int):
            raise JobError(f"{channel.kind} without a {channel.id_key}", permanent=True)
        session = job.session
        found = await channel.load(job, row_id)
        if found is None or found[0].state != PENDING:
            return None
        row, target, behind = found
        now = job.now()
        if target is None or not channel.accepts(target, now):
            row.state = SKIPPED
            channel.skipped(row, target)
            await wake_next(session, row, now=now)
            return None
        if channel.held(row, target):
            return Reschedule(after=budget)  # its target wakes it; this only bounds a lost wake-up
        wait = await wait_for_earlier(session, row, now=now, attempt_budget=budget, behind=behind)
        if wait is not None:
            return Reschedule(after=wait)
        message = await channel.message(job, row, target, now)
        await commit_before_outbound_call(session)
        result = await outbound.post(
            deps.http,
            message.url,
            message.body,
            message.headers,
            attempt_seconds=settings.webhook_timeout_seconds,
            development=settings.development,
            allow_private=settings.webhook_allow_private_targets,
            now=now,
        )
        done = job.now()
        channel.attempted(job, row, result, started=now)
        row.attempts += 1
        row.last_status_code, row.last_error = result.status_code, result.error
        if result.delivered:
            row.state, row.delivered_at, row.next_attempt_at = DELIVERED, done, None
            await channel.delivered(job, row, target, at=done)
            return await channel.record(job, row, result, started=now, at=done, settled=True)
        gives_up = channel.gives_up(row, result)
        delay = None if gives_up else retry_delay(row.attempts, settings.webhook_retry_schedule)
        if delay is None:
            row.state, row.next_attempt_at = FAILED, None
            channel.failed(row, target, result, at=done)
            return await channel.record(job, row, result, started=now, at=done, settled=True)
        if result.retry_after is not None:
            delay = max(result.retry_after, timedelta(0))
        row.next_attempt_at = done + delay
        await channel.record(job, row, result, started=now, at=done, settled=False)
        return Reschedule(after=delay)

    return deliver
