"""A webhook delivery's settled outcome (delivered, or failed for good) in as few statements as the backend takes.

An attempt that settles a delivery writes four things in its job's second transaction: the delivery row
(state, attempts, the last answer, `delivered_at`, no next attempt), the attempt (`webhook_attempts`),
the job's completion (`app.jobs.repository.COMPLETE`, with the values `JobContext.completion` gives) and,
for an ordered delivery, the wake-up of the next pending sibling's job (`ordering.wake_next_statement`),
under the ordering lock (`ordering.lock_siblings`).
- PostgreSQL: the lock, then ONE statement: the row's UPDATE, the attempt's INSERT, the completion and
  the wake-up as data-modifying common table expressions, answering whether the completion matched (the
  lease was still the worker's) and whether a job was woken. The lock stays a statement of its own: a
  statement reads with the snapshot taken when it starts, so a wake-up in the statement that waited for
  the lock would not see what the transaction it waited for committed (a sibling's hold, a fan-out's rows).
- SQLite (no data-modifying common table expressions, no round trips): the same four statements one
  after the other; the first write takes the database's one write lock, the ordering lock there.
Each is built once and sent as driver SQL (`app.store.prepared`). The row's new values are those set on
the ORM object, which then leaves the session (its changes are written here, not flushed again). All of
it is in the caller's transaction: a rollback (a lease lost) undoes it whole. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Table, Update, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs import repository as jobs
from app.notifications.outbound import AttemptResult
from app.notifications.repository import ordering
from app.store.models import WebhookAttempt, WebhookDelivery
from app.store.prepared import Prepared

_DELIVERIES = cast("Table", WebhookDelivery.__table__)
_ATTEMPTS = cast("Table", WebhookAttempt.__table__)
_ROW_COLUMNS = ("state", "attempts", "next_attempt_at", "last_status_code", "last_error", "delivered_at")

_ROW: Update = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("row"))
    .values({column: bindparam(column) for column in _ROW_COLUMNS})
)
_ATTEMPT: Insert = insert(_ATTEMPTS).values(
    delivery_id=bindparam("row"),
    at=bindparam("started"),
    status_code=bindparam("status_code"),
    latency_ms=bindparam("latency_ms"),
    error=bindparam("error"),
)
_WAKE: Update = ordering.wake_next_statement(WebhookDelivery)


@dataclass(frozen=True, slots=True)
class Settled:
    """What the outcome's statements found: whether the job's completion matched (None: none was written),
    whether the next sibling's job was woken."""

    completed: bool | None
    woken: bool


@cache
def _one_statement(*, wake: bool, complete: bool) -> Prepared:
    """The outcome on PostgreSQL as one statement, per shape (ordered or not, completion written or not)."""
    parts = [_ROW.cte("settled"), _ATTEMPT.cte("attempt")]
    answers = []
    for name, statement, wanted in (("done", jobs.COMPLETE, complete), ("woken", _WAKE, wake)):
        if wanted:
            cte = statement.returning(jobs.JOBS.c.id).cte(name)
            answers.append(select(func.count()).select_from(cte).scalar_subquery().label(name))
    if not answers:
        return Prepared(select(func.count()).select_from(parts[0]).add_cte(parts[1]))
    return Prepared(select(*answers).add_cte(*parts))


_SQLITE_ROW, _SQLITE_ATTEMPT = Prepared(_ROW), Prepared(_ATTEMPT)
_SQLITE_COMPLETE, _SQLITE_WAKE = Prepared(jobs.COMPLETE), Prepared(_WAKE)


async def write_settled(
    session: AsyncSession,
    row: WebhookDelivery,
    attempt: AttemptResult,
    *,
    started: datetime,
    at: datetime,
    completion: Mapping[str, Any] | None,
) -> Settled:
    """Write the settled row (its values as set on it), its attempt begun at `started`, and, given its values,
    the job's completion; for an ordered row, wake the next sibling's job at `at` (ringing on commit)."""
    wake = row.authorization_id is not None  # pings are not ordered
    values: dict[str, Any] = {column: getattr(row, column) for column in _ROW_COLUMNS}
    values.update(row=row.id, started=started, status_code=attempt.status_code, latency_ms=attempt.latency_ms)
    values["error"] = attempt.error
    if completion is not None:
        values.update(completion)
    if wake:
        values.update(ordering.wake_next_values(row, now=at))
    if row in session:
        session.expunge(row)  # written here: not flushed again
    if wake:
        await ordering.lock_siblings(session, row, before_a_write=True)
    if session.get_bind().dialect.name == "postgresql":
        found = (await _one_statement(wake=wake, complete=completion is not None).execute(session, values)).one()
        completed = bool(found.done) if completion is not None else None
        woken = bool(found.woken) if wake else False
    else:
        await _SQLITE_ROW.execute(session, values)
        await _SQLITE_ATTEMPT.execute(session, values)
        completed = None
        if completion is not None:
            completed = (await _SQLITE_COMPLETE.execute(session, values)).rowcount == 1
        woken = wake and (await _SQLITE_WAKE.execute(session, values)).rowcount > 0
    if woken:
        jobs.became_due(session)
    return Settled(completed, woken)
