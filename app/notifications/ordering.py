"""Per-target ordering: a delivery waits while an earlier one for the same target and authorization is pending.

Deliveries (webhook) and notifications (Subscription) carry `event_seq`, the id of the fan-out
job of their event: ids grow in the order the events of one authorization were committed.

- Fan-outs of one authorization run in that order (`fan_out_turn`): a later one waits while an
  earlier one is queued or running, and each wakes the next when it is done. So when a fan-out
  writes its rows, every earlier event's rows exist already.
- A row waits while an earlier sibling row is pending: its job is held until that sibling is
  next tried (plus the longest attempts ahead, capped). When a row settles (delivered, failed or
  skipped) or is written, the next pending sibling's job is woken at once (`app.jobs` rings).

No wake-up is lost to a race: the check ("is an earlier one pending? then hold") and the wake-up
("I settled: run the next") take the same transaction lock (`app.store.locks`: an advisory lock
per target and authorization on PostgreSQL, the write lock on SQLite), so one of them always sees
what the other committed. The holds only bound a worker that died between the two.
The statements are in `repository.ordering`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.repository import ordering as rows
from app.notifications.repository.ordering import Row

Behind = tuple[bool, bool]
"""(an earlier event's fan-out is still to run, an earlier sibling is pending), read without the lock."""

MIN_WAIT = timedelta(milliseconds=50)
MAX_WAIT = timedelta(minutes=5)  # a waiting job looks again at least this often


async def wait_for_earlier(
    session: AsyncSession, row: Row, *, now: datetime, attempt_budget: timedelta, behind: Behind | None = None
) -> timedelta | None:
    """How long to wait for an earlier pending sibling, or None when this row may go now.

    Until the sibling's next attempt is due plus the longest the attempts ahead take: the sibling
    wakes this job as soon as it settles, so the wait only matters if that worker died.
    Checked once without the lock (a read that may be stale only ever sees a sibling still
    pending, so "go" is safe), and again under it before deciding to wait. `behind`: that first,
    unlocked answer when the row's look-up gave it already.
    """
    if row.authorization_id is None:
        return None  # pings, handshakes and heartbeats are not ordered
    if await _wait(session, row, now=now, attempt_budget=attempt_budget, behind=behind) is None:
        return None
    await rows.lock_siblings(session, row)
    return await _wait(session, row, now=now, attempt_budget=attempt_budget)


async def _wait(
    session: AsyncSession, row: Row, *, now: datetime, attempt_budget: timedelta, behind: Behind | None = None
) -> timedelta | None:
    # The common case in one statement: is an earlier event's fan-out still to run, is an earlier row pending?
    fan_out_pending, sibling_pending = behind if behind is not None else await rows.behind(session, row)
    if fan_out_pending:
        return attempt_budget  # that fan-out wakes this job once it has written its rows
    if not sibling_pending:
        return None
    earlier = await rows.nearest_earlier(session, row)
    if earlier is None:
        return None
    # The nearest earlier row wakes this one when it settles; rows further back wake theirs in
    # turn, so the wait grows with the queue ahead (it only bounds a lost worker).
    ahead = await rows.earlier_count(session, row)
    due = max(earlier.next_attempt_at or now, now)
    return min(due - now + attempt_budget * max(ahead, 1) + MIN_WAIT, MAX_WAIT)


async def wake_next(session: AsyncSession, row: Row, *, now: datetime) -> None:
    """Run the next pending sibling's job now (the row just settled, or was written): one UPDATE of
    the job the nearest later pending row names, which rings the workers on commit.

    On SQLite that UPDATE is itself the lock (a write takes the database's one write lock before it
    reads), so the lock is taken `before_a_write` and sends nothing there."""
    if row.authorization_id is None:
        return  # pings, handshakes and heartbeats are not ordered
    await rows.lock_siblings(session, row, before_a_write=True)
    await rows.wake_next_job(session, row, now=now)


async def hold_if_behind(session: AsyncSession, row: Row, *, now: datetime, attempt_budget: timedelta) -> None:
    """A row just written behind a pending sibling: its job waits to be woken instead of running now."""
    wait = await wait_for_earlier(session, row, now=now, attempt_budget=attempt_budget)
    if wait is not None and row.job_id is not None:
        await rows.hold_job(session, row.job_id, until=now + wait)


async def holds_for_new_deliveries(
    session: AsyncSession,
    found: Mapping[uuid.UUID, tuple[int, datetime | None]],
    authorization_id: uuid.UUID,
    *,
    event_seq: int,
    now: datetime,
    attempt_budget: timedelta,
) -> tuple[dict[uuid.UUID, datetime], set[uuid.UUID]]:
    """`hold_if_behind` for an event's deliveries before they are written, all endpoints at once: until
    when each new delivery waits (absent: it may go now), and the endpoints clear for a hand-over: with
    nothing ahead. `found`: per enabled endpoint, the rows ahead (how many, the latest next attempt) as the
    read of the endpoints gave them (`WebhookRepository.enabled_endpoints_ahead`), in one snapshot (an
    outcome that settled the row ahead and disabled the endpoint is seen whole or not at all), so a
    delivery sent without a look-up goes only to an endpoint enabled and clear in it. Read without the
    locks, then again under the locks of the endpoints found behind; the wait is as `wait_for_earlier`'s,
    counted from the latest next attempt among the rows ahead."""
    clear = {endpoint_id for endpoint_id, (count, _due) in found.items() if not count}
    unlocked = [endpoint_id for endpoint_id, (count, _due) in found.items() if count]
    if not unlocked:
        return {}, clear
    for endpoint_id in sorted(unlocked):
        await rows.lock_endpoint_siblings(session, endpoint_id, authorization_id)
    behind = await rows.pending_ahead(session, sorted(unlocked), authorization_id, event_seq)
    holds = {}
    for endpoint_id, (ahead, latest) in behind.items():
        due = max(latest or now, now)
        holds[endpoint_id] = now + min(due - now + attempt_budget * max(ahead, 1) + MIN_WAIT, MAX_WAIT)
    return holds, clear


async def fan_out_turn(session: AsyncSession, authorization_id: uuid.UUID, job_id: int, *, now: datetime) -> bool:
    """Whether this fan-out may write its rows now (no earlier one of this authorization is pending); if so,
    the next fan-out of the authorization is woken, to run once this one commits.

    Holds the authorization's fan-out lock for the rest of the transaction, so an earlier fan-out
    that is still writing is waited for here, and a later one waits for this one's commit."""
    await rows.lock_fan_outs(session, authorization_id)
    return await rows.take_fan_out_turn(session, authorization_id, job_id, now=now)
