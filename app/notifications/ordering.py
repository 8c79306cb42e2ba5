"""Per-target ordering: a delivery waits while an earlier one for the same target and authorization is pending.

Deliveries (webhook) and notifications (Subscription) carry `event_seq`, the id of the fan-out
job of their event: ids grow in the order the events of one authorization were committed. A row
waits (1) while an earlier event's fan-out job has not run yet (its rows do not exist yet), and
(2) while an earlier sibling row is pending: it reschedules itself to when that sibling is next
tried. When a row is written by a fan-out or settles (delivered, failed or skipped), the next
pending sibling's job is woken at once; the waits only bound a wake-up lost to a race. Retries
of an earlier event therefore keep later events waiting, and nothing polls in a tight loop.
The statements are in `repository.ordering`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.repository import JobState
from app.jobs.wakeups import ring_on_commit
from app.notifications.repository import ordering as rows
from app.notifications.repository.ordering import Row

MIN_WAIT = timedelta(milliseconds=50)
MAX_WAIT = timedelta(minutes=5)  # a waiting job looks again at least this often
IN_FLIGHT_RECHECK = timedelta(milliseconds=500)  # behind a row whose attempt is under way


async def wait_for_earlier(
    session: AsyncSession, row: Row, *, now: datetime, attempt_budget: timedelta
) -> timedelta | None:
    """How long to wait for an earlier pending sibling, or None when this row may go now.

    Until the sibling's next attempt is due plus the longest an attempt takes: it wakes this job
    as soon as it settles, so the wait only matters if that wake-up raced with this check.
    """
    if row.authorization_id is None:
        return None  # pings, handshakes and heartbeats are not ordered
    # The common case in one statement: is an earlier event's fan-out still to run, is an earlier row pending?
    fan_out_pending, sibling_pending = await rows.behind(session, row)
    if fan_out_pending:
        return attempt_budget  # that fan-out wakes this job once it has written its rows
    if not sibling_pending:
        return None
    earlier = await rows.nearest_earlier(session, row)
    if earlier is None:
        return None
    if earlier.job_id is not None and await rows.job_state(session, earlier.job_id) == JobState.RUNNING.value:
        # It is being sent right now and may settle before this job's reschedule commits; its
        # wake-up (which only moves queued jobs) would then be lost. Look again shortly instead.
        return IN_FLIGHT_RECHECK
    # The nearest earlier row wakes this one when it settles; rows further back wake theirs in
    # turn, so the wait grows with the queue ahead (it only bounds a wake-up lost to a race).
    ahead = await rows.earlier_count(session, row)
    due = max(earlier.next_attempt_at or now, now)
    return min(due - now + attempt_budget * max(ahead, 1) + MIN_WAIT, MAX_WAIT)


async def wake_next(session: AsyncSession, row: Row, *, now: datetime) -> None:
    """Run the next pending sibling's job now (the row just settled): one UPDATE of the job the nearest
    later pending row names."""
    if row.authorization_id is None:
        return  # pings, handshakes and heartbeats are not ordered
    if await rows.wake_next_job(session, row, now=now):
        ring_on_commit(session)


async def hold_if_behind(session: AsyncSession, row: Row, *, now: datetime, attempt_budget: timedelta) -> None:
    """A row just written behind a pending sibling: its job waits to be woken instead of running now."""
    wait = await wait_for_earlier(session, row, now=now, attempt_budget=attempt_budget)
    if wait is not None and row.job_id is not None:
        await rows.hold_job(session, row.job_id, until=now + wait)
