"""What flags an authorization for an operator whatever its clock (the "needs attention" worklist's
flagged few), and the time margin of the look-ups in the partitioned timeline.

`flagged()` is a set of authorization ids, each reason found from its own index; the operations'
worklist reads the authorizations it names by id (`app.operations.queries`, this package).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Boolean, ColumnElement, CompoundSelect, and_, literal_column, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.domain.codes import PAYER_ERROR_EVENTS
from app.store.models import Event, Job, WebhookDelivery

# Timeline entries are recorded at or after their authorization's receipt; the look-ups below bound
# `Event.at` from there (less a day's margin for clocks), so PostgreSQL reads only the months since
# then of the partitioned events table (docs/architecture.md, Storage).
EVENT_MARGIN = timedelta(days=1)


def failing_delivery(authorization_id: Any) -> ColumnElement[bool]:
    """A webhook delivery about the authorization that failed, or is being retried."""
    return and_(WebhookDelivery.authorization_id == authorization_id, _failing())


def _failing() -> ColumnElement[bool]:
    d = WebhookDelivery
    return or_(d.state == "failed", and_(d.state == "pending", d.attempts > 0))


def flagged() -> CompoundSelect[*tuple[Any, ...]]:
    """The authorizations flagged for an operator whatever their clock: the latest timeline entry is a
    failed payer call, a webhook delivery about it failed (or is being retried), or a job of it is dead.

    Each reason is a small set found from its own index: the payer errors' partial index (migration
    0022; the later entry that would clear one is looked for from the error's month on), the dead jobs'
    state; the failing deliveries are scanned (a month of deliveries at most, kept by retention)."""
    later = aliased(Event)
    latest_payer_error = select(Event.authorization_id).where(
        Event.type.in_([literal_column(f"'{kind}'") for kind in PAYER_ERROR_EVENTS]),  # constants: the index's own
        # no later entry: asked per error as a scalar subquery (PostgreSQL would turn a NOT EXISTS into an
        # anti-join hashing every entry), which reads the months from the error's on and stops at the first
        select(literal_column("1"))
        .where(
            later.authorization_id == Event.authorization_id,
            later.id > Event.id,
            _not_before_less_margin(later.at, Event.at),
        )
        .limit(1)
        .scalar_subquery()
        .is_(None),
    )
    d = WebhookDelivery
    failing = select(d.authorization_id).where(d.authorization_id.is_not(None), _failing())
    dead = select(Job.authorization_id).where(Job.state == "dead", Job.authorization_id.is_not(None))
    return union_all(latest_payer_error, failing, dead)


class _not_before_less_margin(FunctionElement[bool]):
    """`later >= earlier - EVENT_MARGIN` on PostgreSQL, so a look for later timeline entries reads only the
    months from the earlier one's (the events table is partitioned by month); true elsewhere (SQLite keeps
    one table). Entries are recorded in order; the margin allows for the clocks of different processes."""

    type = Boolean()
    inherit_cache = True
    name = "not_before_less_margin"


@compiles(_not_before_less_margin)
def _anywhere(element: _not_before_less_margin, compiler: SQLCompiler, **kw: Any) -> str:
    return "1 = 1"


@compiles(_not_before_less_margin, "postgresql")
def _on_postgresql(element: _not_before_less_margin, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    margin = f"INTERVAL '{int(EVENT_MARGIN.total_seconds())} seconds'"
    return f"{compiler.process(later, **kw)} >= {compiler.process(earlier, **kw)} - {margin}"
